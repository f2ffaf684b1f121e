// DOM helpers: build elements safely (textContent only, never innerHTML),
// split API highlights into text + <mark>, and show notices and errors.

const SVG_NS = 'http://www.w3.org/2000/svg';

function apply(el, attrs) {
  if (!attrs) return el;
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'style') throw new Error('inline styles are not allowed (CSP)');
    if (name === 'text') el.textContent = String(value);
    else if (name === 'class') el.setAttribute('class', value);
    else if (name === 'dataset') Object.assign(el.dataset, value);
    else if (name === 'hidden') el.hidden = true;
    else if (name.startsWith('on') && typeof value === 'function') el.addEventListener(name.slice(2), value);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** An HTML element: h('a', {href, class}, 'text', child, ...). */
export function h(tag, attrs, ...children) {
  return append(apply(document.createElement(tag), attrs), children);
}

/** An SVG element with presentation attributes. */
export function s(tag, attrs, ...children) {
  return append(apply(document.createElementNS(SVG_NS, tag), attrs), children);
}

export function $(selector, root = document) {
  return root.querySelector(selector);
}

export function $$(selector, root = document) {
  return Array.from(root.querySelectorAll(selector));
}

export function clear(el) {
  el.replaceChildren();
  return el;
}

const ENTITIES = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'", '&#x27;': "'", '&apos;': "'" };

/** Decodes the few entities the API escapes, as text (never parsed as HTML). */
export function unescapeText(text) {
  return text.replace(/&(?:amp|lt|gt|quot|apos|#39|#x27);/g, (m) => ENTITIES[m]);
}

/**
 * Turns an API highlight ("<em>Jane</em> Doe", HTML-escaped elsewhere) into
 * nodes: text nodes and <mark> elements. Nothing is parsed as HTML.
 */
export function highlightNodes(marked) {
  const nodes = [];
  const parts = String(marked).split(/(<em>|<\/em>)/);
  let inside = false;
  for (const part of parts) {
    if (part === '<em>') { inside = true; continue; }
    if (part === '</em>') { inside = false; continue; }
    if (!part) continue;
    const text = unescapeText(part);
    nodes.push(inside ? h('mark', null, text) : document.createTextNode(text));
  }
  return nodes;
}

/** A status badge: colour and the word itself. */
export function badge(status, extraClass) {
  return h('span', { class: `badge badge-${status}${extraClass ? ' ' + extraClass : ''}`, 'data-status': status }, status);
}

let noticeTimer = 0;
/** A transient message in #notice (role=status). */
export function notice(text) {
  const el = document.getElementById('notice');
  el.textContent = text;
  el.classList.add('toast-visible');
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => el.classList.remove('toast-visible'), 4000);
}

/** Clears #notice at once (before a new action reports). */
export function clearNotice() {
  const el = document.getElementById('notice');
  clearTimeout(noticeTimer);
  el.classList.remove('toast-visible');
  el.textContent = '';
}

/** Shows or hides the global #error-banner (role=alert). */
export function errorBanner(text) {
  const el = document.getElementById('error-banner');
  if (!text) {
    el.hidden = true;
    el.textContent = '';
    return;
  }
  el.replaceChildren(
    h('span', null, text),
    h('button', { type: 'button', class: 'btn btn-ghost btn-sm banner-close', 'aria-label': 'Dismiss', title: 'Dismiss', onclick: () => errorBanner('') }),
  );
  el.hidden = false;
}

/** Wires the [data-close] buttons of a dialog and returns it. */
export function wireDialog(dialog) {
  for (const button of $$('[data-close]', dialog)) {
    button.addEventListener('click', () => dialog.close());
  }
  return dialog;
}

/** Shows field errors from a problem's errors[] next to fields in `root`;
 *  returns the messages that had no field to sit beside. */
export function showFieldErrors(root, errors) {
  clearFieldErrors(root);
  const orphans = [];
  for (const { field, message } of errors || []) {
    const target = findFieldError(root, field);
    if (target) {
      target.textContent = target.textContent ? `${target.textContent}; ${message}` : message;
      target.hidden = false;
      const input = target.previousElementSibling;
      if (input && input.matches('input, textarea, select')) input.setAttribute('aria-invalid', 'true');
    } else {
      orphans.push(field ? `${field}: ${message}` : message);
    }
  }
  return orphans;
}

function findFieldError(root, field) {
  let name = field || '';
  while (name) {
    const el = root.querySelector(`.field-error[data-field="${CSS.escape(name)}"]`);
    if (el) return el;
    const stripped = name.replace(/\[\d+\]$/, '');
    if (stripped !== name) { name = stripped; continue; }
    const dot = name.lastIndexOf('.');
    if (dot < 0) break;
    name = name.slice(0, dot);
  }
  return null;
}

export function clearFieldErrors(root) {
  for (const el of $$('.field-error', root)) {
    el.textContent = '';
    el.hidden = true;
  }
  for (const el of $$('[aria-invalid]', root)) el.removeAttribute('aria-invalid');
}

/** Asks a yes/no question in #confirm-dialog; resolves true on yes. */
export function confirmDialog({ title, message, yes, no }) {
  const dialog = document.getElementById('confirm-dialog');
  document.getElementById('confirm-title').textContent = title || 'Are you sure?';
  document.getElementById('confirm-message').textContent = message;
  const yesButton = document.getElementById('confirm-yes');
  const noButton = document.getElementById('confirm-no');
  yesButton.textContent = yes || 'Confirm';
  noButton.textContent = no || 'Keep';
  return new Promise((resolve) => {
    const done = (answer) => {
      yesButton.removeEventListener('click', onYes);
      noButton.removeEventListener('click', onNo);
      dialog.removeEventListener('close', onClose);
      if (dialog.open) dialog.close();
      resolve(answer);
    };
    const onYes = () => done(true);
    const onNo = () => done(false);
    const onClose = () => done(false);
    yesButton.addEventListener('click', onYes);
    noButton.addEventListener('click', onNo);
    dialog.addEventListener('close', onClose);
    dialog.showModal();
    noButton.focus();
  });
}
