// Client-side routing over the History API: parses the address into a
// route, intercepts plain left clicks on console links, and replays
// Back/Forward (popstate). Every bit of view state lives in the URL.

let handler = () => {};

/** Parses a location into {view, params, number?, savedId?}. */
export function parseRoute(loc = window.location) {
  const url = new URL(loc.href || String(loc), window.location.origin);
  const path = url.pathname.replace(/\/+$/, '') || '/';
  const params = url.searchParams;
  const notFound = { view: 'notfound', params, path };
  let match;
  if (path === '/') return { view: 'search', params, path };
  if ((match = path.match(/^\/orders\/([^/]+)$/))) {
    const number = decodeSegment(match[1]);
    return number === null ? notFound : { view: 'order', number, params, path };
  }
  if ((match = path.match(/^\/saved\/([^/]+)$/))) {
    const savedId = decodeSegment(match[1]);
    return savedId === null ? notFound : { view: 'search', savedId, params, path };
  }
  if (path === '/reports') return { view: 'reports', params, path };
  if (path === '/admin') return { view: 'admin', params, path };
  return notFound;
}

/** A decoded path segment, or null when it is not valid percent-encoding (/orders/%E0). */
function decodeSegment(segment) {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}

/** Whether a path is one the console routes itself. */
export function isConsolePath(pathname) {
  return /^\/(orders\/[^/]+|saved\/[^/]+|reports|admin)?\/?$/.test(pathname);
}

/** Registers the function that renders a route. */
export function onRoute(fn) {
  handler = fn;
}

/** The current in-app state of this history entry. */
export function entryState() {
  return window.history.state || {};
}

/** Goes to a URL inside the console (push, or replace). */
export function navigate(url, { replace = false, state = {} } = {}) {
  const target = new URL(url, window.location.origin);
  const current = window.location.pathname + window.location.search;
  const next = target.pathname + target.search;
  const entry = { ...state, at: Date.now() };
  if (replace || next === current) window.history.replaceState(entry, '', next);
  else window.history.pushState(entry, '', next);
  handler(parseRoute(window.location), { pop: false });
}

/** Changes the URL without rendering again (the view already shows it). */
export function setUrl(url, { replace = true, state } = {}) {
  const target = new URL(url, window.location.origin);
  const next = target.pathname + target.search;
  if (next === window.location.pathname + window.location.search) {
    if (state) window.history.replaceState({ ...entryState(), ...state }, '', next);
    return;
  }
  const entry = { ...(replace ? entryState() : {}), ...(state || {}), at: Date.now() };
  if (replace) window.history.replaceState(entry, '', next);
  else window.history.pushState(entry, '', next);
}

/** Renders the current address again. */
export function rerender() {
  handler(parseRoute(window.location), { pop: false });
}

/** Starts listening for Back/Forward and link clicks. */
export function startRouter() {
  window.addEventListener('popstate', () => handler(parseRoute(window.location), { pop: true }));
  document.addEventListener('click', (event) => {
    if (event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const link = event.target.closest && event.target.closest('a[href]');
    if (!link || link.target || link.hasAttribute('download')) return;
    const url = new URL(link.href, window.location.href);
    if (url.origin !== window.location.origin || !isConsolePath(url.pathname)) return;
    if (url.hash && url.pathname === window.location.pathname && url.search === window.location.search) return;
    event.preventDefault();
    const from = parseRoute(window.location);
    navigate(url.pathname + url.search, { state: { from: from.view, fromUrl: window.location.pathname + window.location.search } });
  });
}

/** Builds "/path?q=..&sort=.." leaving out empty values. */
export function buildUrl(path, params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params || {})) {
    if (value === undefined || value === null || value === '' || value === false) continue;
    search.set(name, String(value));
  }
  const text = search.toString();
  return text ? `${path}?${text}` : path;
}
