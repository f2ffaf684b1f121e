// The search view: search as you type (150 ms debounce, earlier requests
// aborted), sort, facets, "More" paging, saved-search tabs, export, j/k.
// q, sort, page and the saved tab live in the URL.

import { api, ApiError } from './api.js';
import { $ } from './dom.js';
import { buildUrl, setUrl, navigate, entryState } from './router.js';
import { can } from './session.js';
import { toggleQualifier, looksLikeIdentifier } from './hits.js';
import { paintHits, paintFailure, updateMore, appendHits, clearResults, hitLinks, markCursor, noteKeystroke, measureLatency } from './results.js';
import { loadSaved, fetchSaved, savedById, setActive, wireSaved, resetSaved } from './saved.js';
import { exportOrders } from './exporter.js';

const PAGE = 25;
const MAX_WINDOW = 10000;
const DEBOUNCE_MS = 150;
const RELEVANCE = 'relevance';

const st = {
  q: '', sort: '', savedId: null, page: 1,
  hits: [], total: 0, paintedKey: null,
  controller: null, seq: 0, pending: Promise.resolve(), cursor: -1,
};
let wired = false;
let debounceTimer = 0;
let firstEnter = true;
let moreSeq = 0;

const box = () => $('#q');
const results = () => $('#results');
const keyOf = (q, sort, savedId) => JSON.stringify([q, sort || '', savedId || null]);
const pathOf = (savedId) => (savedId ? `/saved/${encodeURIComponent(savedId)}` : '/');

function currentUrl(page = 1) {
  return buildUrl(pathOf(st.savedId), { q: st.q, sort: st.sort, page: page > 1 ? page : '' });
}

/** The whole query (a saved search's q plus the box), for export and saving. */
function fullQuery() {
  const saved = st.savedId ? savedById(st.savedId) : null;
  return [saved ? saved.q : '', box().value.trim()].filter(Boolean).join(' ');
}

async function fetchPage(q, sort, savedId, offset, limit, signal, withFacets) {
  const params = { q, sort, limit, offset, saved: savedId };
  if (withFacets) params.facets = 'status,category,store,country';
  const { data } = await api('/v1/orders/search', { params, signal });
  return data;
}

/** Runs a search for (q, sort, saved) showing `pages` pages; resolves when painted. */
function runSearch(q, sort, savedId, pages = 1) {
  clearTimeout(debounceTimer);
  if (st.controller) st.controller.abort();
  const controller = new AbortController();
  st.controller = controller;
  const seq = ++st.seq;
  const el = results();
  el.dataset.state = 'loading';
  el.setAttribute('aria-busy', 'true');
  delete el.dataset.latencyMs;
  const want = Math.min(pages * PAGE, MAX_WINDOW);
  if (!can.search()) {
    // A writer key may open orders but not search: say so without asking.
    paintError(q, sort, savedId, new ApiError(403, { detail: 'this key cannot search orders' }));
    st.controller = null;
    st.pending = Promise.resolve();
    return st.pending;
  }
  st.pending = (async () => {
    try {
      let first = null;
      const hits = [];
      while (hits.length < want) {
        const limit = Math.min(100, want - hits.length);
        const page = await fetchPage(q, sort, savedId, hits.length, limit, controller.signal, !first);
        if (!first) first = page;
        hits.push(...page.hits);
        if (page.hits.length < limit || hits.length >= page.total) break;
      }
      if (seq !== st.seq) return;
      paint(q, sort, savedId, first, hits, Math.max(1, Math.ceil(hits.length / PAGE)));
    } catch (error) {
      if (error.name === 'AbortError' || seq !== st.seq) return;
      paintError(q, sort, savedId, error);
    } finally {
      if (seq === st.seq) st.controller = null;
    }
  })();
  return st.pending;
}

function paint(q, sort, savedId, response, hits, page) {
  Object.assign(st, { q, sort, savedId, hits, total: response.total, page, cursor: -1, paintedKey: keyOf(q, sort, savedId) });
  paintHits({ q, sort, response, hits, onToggle: toggleFacet, fixedQ: savedId ? (savedById(savedId) || {}).q || '' : '' });
  updateMore(st.hits.length, st.total);
  const hint = $('#enter-hint');
  const single = response.total === 1 && hits.length === 1 && looksLikeIdentifier(q);
  hint.hidden = !single;
  hint.textContent = single ? `Press Enter to open #${hits[0].number}` : '';
  measureLatency(q, box().value);
}

function paintError(q, sort, savedId, error) {
  Object.assign(st, { q, sort, savedId, hits: [], total: 0, cursor: -1, paintedKey: null });
  $('#enter-hint').hidden = true;
  paintFailure({ q, sort, savedId, error, searcher: can.search() });
}

/** "More": the next page of the painted search. Does nothing while a search
 *  is in flight, and drops its page if another search was painted meanwhile. */
async function loadMore() {
  if (st.controller || !st.paintedKey) return;
  const more = $('#more');
  const { q, sort, savedId, paintedKey, seq } = st;
  const offset = st.hits.length;
  const limit = Math.min(PAGE, MAX_WINDOW - offset);
  if (limit <= 0) return;
  more.disabled = true;
  more.textContent = 'Loading…';
  const token = ++moreSeq;
  const current = () => token === moreSeq && seq === st.seq && paintedKey === st.paintedKey && !st.controller;
  const el = results();
  el.dataset.state = 'loading';
  try {
    const page = await fetchPage(q, sort, savedId, offset, limit, undefined, false);
    if (!current()) return;
    st.hits.push(...page.hits);
    st.total = page.total;
    st.page += 1;
    appendHits(page.hits);
    setUrl(currentUrl(st.page));
    updateMore(st.hits.length, st.total);
    el.dataset.state = st.hits.length ? 'ready' : 'empty';
  } catch (error) {
    if (!current()) return;
    more.disabled = false;
    more.textContent = 'More';
    el.dataset.state = 'ready';
    $('#result-count').textContent += ` · more failed: ${error.message}`;
  }
}

/** After ~150 ms without typing: URL, then search. */
function commitTyping() {
  clearTimeout(debounceTimer);
  const q = box().value;
  const before = st.requestedQ ?? st.q;
  const state = entryState();
  // Within a typing burst, refining the text, or clearing it / typing into
  // an empty box (select-all, delete, retype), rewrites the entry in place.
  const refine = state.typing && (!before || !q || q.startsWith(before) || before.startsWith(q));
  st.requestedQ = q;
  setUrl(buildUrl(pathOf(st.savedId), { q, sort: st.sort }), { replace: !!refine || q === before, state: { typing: true } });
  return runSearch(q, st.sort, st.savedId, 1);
}

function toggleFacet(facet, value) {
  const next = toggleQualifier(box().value, facet, value);
  box().value = next;
  st.requestedQ = next;
  setUrl(buildUrl(pathOf(st.savedId), { q: next, sort: st.sort }), { replace: false, state: { typing: false } });
  runSearch(next, st.sort, st.savedId, 1);
}

async function onEnter() {
  const q = box().value;
  if (!can.search()) {
    const n = q.trim().replace(/^#/, '');
    if (/^\d+$/.test(n)) navigate(`/orders/${n}`, { state: { from: 'search' } });
    return;
  }
  if (q !== st.requestedQ || st.controller) await commitTyping();
  else await st.pending;
  if (st.paintedKey !== keyOf(q, st.sort, st.savedId)) return;
  if (st.total === 1 && st.hits.length === 1 && looksLikeIdentifier(q)) {
    openHit(st.hits[0].number);
  } else if (st.cursor >= 0) {
    openCurrent();
  }
}

function openHit(number) {
  navigate(`/orders/${encodeURIComponent(number)}`, { state: { from: 'search', fromUrl: window.location.pathname + window.location.search } });
}

function wireOnce() {
  if (wired) return;
  wired = true;
  const input = box();
  input.addEventListener('input', () => {
    noteKeystroke();
    clearTimeout(debounceTimer);
    debounceTimer = setTimeout(commitTyping, DEBOUNCE_MS);
  });
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') {
      event.preventDefault();
      onEnter();
    } else if (event.key === 'ArrowDown' && st.hits.length) {
      event.preventDefault();
      moveCursor(1);
    }
  });
  $('#sort').addEventListener('change', (event) => {
    // On a saved tab an empty sort means "the saved search's sort", so
    // Relevance is asked for by name (and kept in the URL).
    st.sort = event.target.value || (st.savedId ? RELEVANCE : '');
    setUrl(buildUrl(pathOf(st.savedId), { q: box().value, sort: st.sort }), { replace: false, state: { typing: false } });
    runSearch(box().value, st.sort, st.savedId, 1);
  });
  $('#more').addEventListener('click', loadMore);
  const exportQuery = () => ({ q: box().value.trim(), saved: st.savedId || undefined });
  $('#export-csv').addEventListener('click', (e) => exportOrders('csv', exportQuery(), e.currentTarget));
  $('#export-ndjson').addEventListener('click', (e) => exportOrders('ndjson', exportQuery(), e.currentTarget));
  wireSaved({
    current: () => ({ q: fullQuery(), sort: st.sort === RELEVANCE ? '' : st.sort || (st.savedId && savedById(st.savedId)?.sort) || '' }),
    saved: (saved) => navigate(`/saved/${encodeURIComponent(saved.id)}`),
    deleted: () => navigate('/'),
  });
}

/** Shows the route: /?q=&sort=&page= or /saved/{id}?q=... */
export function enter(route, { pop } = {}) {
  wireOnce();
  const q = route.params.get('q') || '';
  const sort = route.params.get('sort') || '';
  const page = Math.max(1, Number.parseInt(route.params.get('page') || '1', 10) || 1);
  const savedId = route.savedId || null;
  const searcher = can.search();
  for (const id of ['export-csv', 'export-ndjson']) $(`#${id}`).hidden = !searcher;
  $('#facets').hidden = !searcher;
  setActive(savedId);
  loadSaved().then(() => {
    if (savedId && !savedById(savedId)) fetchSaved(savedId).catch(() => {});
    else if (savedId && !sort) $('#sort').value = savedById(savedId)?.sort || '';
  });
  const input = box();
  if (input.value !== q) input.value = q;
  const sel = $('#sort');
  sel.value = [...sel.options].some((o) => o.value === sort) ? sort : '';
  if (firstEnter) {
    firstEnter = false;
    input.focus();
  }
  st.requestedQ = q;
  st.sort = sort;
  st.savedId = savedId;
  const el = results();
  const unchanged = st.paintedKey === keyOf(q, sort, savedId) && page === st.page
    && (el.dataset.state === 'ready' || el.dataset.state === 'empty');
  if (unchanged) {
    restoreCursor();
    return;
  }
  runSearch(q, sort, savedId, page);
}

export function leave() {
  clearTimeout(debounceTimer);
}

export function reset() {
  clearTimeout(debounceTimer);
  if (st.controller) st.controller.abort();
  Object.assign(st, { q: '', sort: '', savedId: null, page: 1, hits: [], total: 0, paintedKey: null, controller: null, cursor: -1, requestedQ: undefined });
  st.seq += 1;
  firstEnter = true;
  resetSaved();
  clearResults();
  $('#enter-hint').hidden = true;
  box().value = '';
}

function restoreCursor() {
  const last = entryState().cursorNumber;
  if (last === undefined) return;
  const index = hitLinks().findIndex((a) => a.dataset.number === String(last));
  if (index >= 0) st.cursor = markCursor(index, false);
}

/** j/k: moves aria-current through the hits. */
export function moveCursor(delta) {
  const links = hitLinks();
  if (!links.length) return;
  const current = links.findIndex((a) => a.getAttribute('aria-current') === 'true');
  const next = current < 0 ? (delta > 0 ? 0 : links.length - 1) : Math.min(links.length - 1, Math.max(0, current + delta));
  st.cursor = markCursor(next, true);
  setUrl(window.location.href, { state: { cursorNumber: links[next].dataset.number } });
}

/** Enter: opens the keyboard-selected hit; true if one was opened. */
export function openCurrent() {
  const link = $('#results a.hit[aria-current="true"]');
  if (!link) return false;
  openHit(link.dataset.number);
  return true;
}

export function focusBox() {
  if (!document.getElementById('view-search').hidden) {
    box().focus();
    box().select();
  } else {
    navigate(lastSearchUrl());
    box().focus();
  }
}

/** The address of the search the user last saw, for "back to results". */
export function lastSearchUrl() {
  return st.paintedKey ? currentUrl(st.page) : '/';
}
