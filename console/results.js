// Painting search results into #results and its neighbours (count, index
// state, facets, More), with the readiness markers the tests wait on, and
// the keyboard cursor over the hits.

import { describe, ApiError } from './api.js';
import { h, $, $$, clear } from './dom.js';
import { count, millis } from './format.js';
import { renderHit, hitHeader, renderFacets } from './hits.js';

const MAX_WINDOW = 10000;
let lastKeystroke = null;

/** An input event in the box: the clock for the latency measure starts. */
export function noteKeystroke() {
  lastKeystroke = performance.now();
  delete $('#results').dataset.latencyMs;
}

/**
 * For the search-as-you-type bench: time from the last keystroke to the
 * results for that text painted (next animation frame), recorded as
 * performance.measure('search-latency') and #results[data-latency-ms].
 */
export function measureLatency(q, boxValue) {
  if (lastKeystroke === null || q !== boxValue) return;
  const start = lastKeystroke;
  lastKeystroke = null;
  requestAnimationFrame(() => {
    const end = performance.now();
    try {
      performance.measure('search-latency', { start, end, detail: { q } });
    } catch { /* the measure is optional */ }
    $('#results').dataset.latencyMs = String(Math.round(end - start));
  });
}

/** Marks #results as painted for exactly this q and sort. */
function markPainted(el, q, sort, state) {
  el.setAttribute('aria-busy', 'false');
  el.dataset.q = q;
  el.dataset.sort = sort || '';
  el.dataset.state = state;
}

export function paintIndexState(index, took) {
  const el = $('#index-state');
  if (!index) {
    el.textContent = '';
    return;
  }
  let text = `Index: ${index.backend} · ${count(index.pending_changes)} pending`;
  if (index.lag_ms > 0) text += ` · ${millis(index.lag_ms)} behind`;
  el.textContent = text;
  el.classList.toggle('index-behind', index.pending_changes > 0);
  el.title = typeof took === 'number' ? `Search took ${took} ms` : '';
}

/** Paints an answer: hits (or "No orders match"), count, index, facets. */
export function paintHits({ q, sort, response, hits, onToggle, fixedQ }) {
  const el = $('#results');
  if (hits.length) {
    el.replaceChildren(hitHeader(), h('ol', { class: 'hit-list' }, hits.map(renderHit)));
  } else {
    el.replaceChildren(h('div', { class: 'empty' },
      h('p', { class: 'empty-title' }, 'No orders match'),
      h('p', { class: 'muted' }, q || fixedQ ? 'Check the spelling, remove a filter, or try part of a number, email or phone.' : 'There are no orders yet.')));
  }
  const countEl = $('#result-count');
  countEl.textContent = `${count(response.total)} ${response.total === 1 ? 'order' : 'orders'}`;
  countEl.dataset.total = String(response.total);
  paintIndexState(response.index, response.took_ms);
  renderFacets($('#facets'), response.facets, q, onToggle, fixedQ);
  markPainted(el, q, sort, hits.length ? 'ready' : 'empty');
}

/** Paints a failed search with the problem's detail. */
export function paintFailure({ q, sort, savedId, error, searcher }) {
  const el = $('#results');
  let detail = describe(error);
  let hint = '';
  if (error instanceof ApiError && error.status === 403 && !searcher) {
    detail = 'This key cannot search orders.';
    hint = 'Type an order number and press Enter to open it.';
  } else if (error instanceof ApiError && error.status === 400) {
    hint = 'Check the query: qualifiers look like status:shipped, total:>100, created:-7d.';
  } else if (error instanceof ApiError && error.status === 404 && savedId) {
    detail = 'This saved search does not exist or is not shared with you.';
  }
  el.replaceChildren(h('div', { class: 'empty empty-error' },
    h('p', { class: 'empty-title' }, 'Search failed'),
    h('p', { class: 'error-detail' }, detail),
    hint ? h('p', { class: 'muted' }, hint) : null));
  const countEl = $('#result-count');
  countEl.textContent = '';
  delete countEl.dataset.total;
  $('#more').hidden = true;
  clear($('#facets'));
  markPainted(el, q, sort, 'error');
}

export function updateMore(shown, total) {
  const more = $('#more');
  more.hidden = shown >= total || shown >= MAX_WINDOW;
  more.disabled = false;
  more.textContent = 'More';
}

export function appendHits(hits) {
  $('#results .hit-list').append(...hits.map(renderHit));
}

export function clearResults() {
  const el = $('#results');
  el.replaceChildren();
  el.dataset.state = 'idle';
  delete el.dataset.q;
  delete el.dataset.sort;
  $('#result-count').textContent = '';
  $('#index-state').textContent = '';
  clear($('#facets'));
  $('#more').hidden = true;
}

export function hitLinks() {
  return $$('#results a.hit');
}

/** Puts aria-current on the index-th hit (scrolled into view); returns index. */
export function markCursor(index, focus) {
  const links = hitLinks();
  links.forEach((a, i) => (i === index ? a.setAttribute('aria-current', 'true') : a.removeAttribute('aria-current')));
  const link = links[index];
  if (link) {
    link.scrollIntoView({ block: 'nearest' });
    if (focus) link.focus({ preventScroll: true });
  }
  return index;
}
