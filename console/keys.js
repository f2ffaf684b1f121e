// Keyboard shortcuts: "/" search, j/k move through hits, Enter opens,
// Esc goes back (or leaves the box), "?" lists the keys.

function typingIn(target) {
  if (!target || !(target instanceof Element)) return false;
  if (target.isContentEditable) return true;
  return target.matches('input, textarea, select');
}

export function startKeys({ search, order, currentView }) {
  document.addEventListener('keydown', (event) => {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (document.querySelector('dialog[open]')) return;
    const view = currentView();
    if (!view) return;
    const target = event.target;

    if (event.key === 'Escape') {
      if (typingIn(target)) {
        if (view === 'search' && target.id === 'q') {
          target.blur();
          event.preventDefault();
        } else if (view === 'order') {
          target.blur();
        }
        return;
      }
      if (view === 'order') {
        event.preventDefault();
        order.goBack();
      }
      return;
    }

    if (typingIn(target)) return;

    switch (event.key) {
      case '/':
        event.preventDefault();
        search.focusBox();
        break;
      case '?':
        event.preventDefault();
        document.getElementById('keys-help').showModal();
        break;
      case 'j':
      case 'k':
        if (view === 'search') {
          event.preventDefault();
          search.moveCursor(event.key === 'j' ? 1 : -1);
        }
        break;
      case 'Enter':
        if (view === 'search' && !(target instanceof Element && target.closest('a, button'))) {
          if (search.openCurrent()) event.preventDefault();
        }
        break;
      default:
        break;
    }
  });
}
