// Saved searches: the tabs above the results (with live counts), and the
// save / rename / delete dialogs (GET|POST|PATCH|DELETE /v1/saved-searches).

import { api, listAll, ApiError, describe } from './api.js';
import { h, $, notice, showFieldErrors, clearFieldErrors, confirmDialog } from './dom.js';
import { count } from './format.js';
import { can, session } from './session.js';

let list = [];
let available = true;
let loading = null;
let activeId = null;
let hooks = { current: () => ({ q: '', sort: '' }), saved: () => {}, deleted: () => {} };

export function savedById(id) {
  return list.find((saved) => String(saved.id) === String(id)) || null;
}

export function isAvailable() {
  return available && can.savedSearches();
}

const MAX_AGE_MS = 60000;
let loadedAt = 0;
let generation = 0;

/** The saved searches with counts (every page), drawn as tabs. The list is
 *  kept for the signed-in session and asked for again only when older than
 *  60 s, or when `fresh` (after a save, rename or delete; a request already
 *  under way is then followed by a new one). */
export function loadSaved({ fresh = false } = {}) {
  if (!can.savedSearches()) {
    available = false;
    renderTabs();
    return Promise.resolve([]);
  }
  if (loading && fresh) return loading.then(() => loadSaved({ fresh: true }));
  if (loading) return loading;
  if (!fresh && loadedAt && Date.now() - loadedAt < MAX_AGE_MS) {
    renderTabs();
    return Promise.resolve(list);
  }
  const mine = generation;
  // The server's own page size (50): each page's counts are computed per request.
  loading = listAll('/v1/saved-searches', { counts: 'true', limit: undefined })
    .then((all) => {
      if (mine !== generation) return;
      list = all;
      available = true;
      loadedAt = Date.now();
    })
    .catch((error) => {
      if (mine !== generation) return;
      if (error instanceof ApiError && [401, 403, 404, 405, 501].includes(error.status)) {
        available = false;
        loadedAt = Date.now();
        list = [];
      } else {
        loadedAt = 0; // a passing failure: keep what was shown, ask again next time
      }
    })
    .then(() => {
      if (mine !== generation) return [];
      loading = null;
      renderTabs();
      return list;
    });
  return loading;
}

/** One saved search, for a /saved/{id} URL that is not in the list. */
export async function fetchSaved(id) {
  const found = savedById(id);
  if (found) return found;
  const { data } = await api(`/v1/saved-searches/${encodeURIComponent(id)}`);
  list.push(data);
  renderTabs();
  return data;
}

export function setActive(id) {
  activeId = id === undefined ? null : id;
  renderTabs();
}

function renderTabs() {
  const nav = $('#saved-tabs');
  const show = isAvailable();
  nav.hidden = !show;
  $('#save-search').hidden = !show;
  const saved = activeId !== null ? savedById(activeId) : null;
  const mine = saved && (session.me?.role === 'admin' || saved.owner === session.me?.id);
  $('#rename-saved').hidden = !(show && saved && mine);
  $('#delete-saved').hidden = !(show && saved && mine);
  const info = $('#saved-info');
  info.hidden = !(show && saved);
  $('#q').placeholder = saved ? 'Narrow this saved search…' : 'Search orders: name, email, phone, #number, SKU, status:shipped …';
  if (saved) {
    info.replaceChildren('Saved search: ', h('code', null, saved.q || '(every order)'),
      saved.sort ? ` · sorted by ${saved.sort}` : '',
      saved.shared ? ' · shared with your team' : ' · only you see it',
      ' · text in the box narrows it');
  }
  if (!show) {
    nav.replaceChildren();
    return;
  }
  const tabs = [h('a', { class: 'tab', href: '/', 'aria-current': activeId === null ? 'page' : null }, 'All orders')];
  for (const item of list) {
    const current = activeId !== null && String(item.id) === String(activeId);
    tabs.push(h('a', {
      class: 'tab saved-tab',
      href: `/saved/${encodeURIComponent(item.id)}`,
      'data-id': item.id,
      'aria-current': current ? 'page' : null,
      title: `${item.q}${item.shared ? ' · shared with the team' : ''}`,
    },
    item.name,
    item.shared ? h('span', { class: 'tab-shared', title: 'Shared with your team' },
      h('span', { 'aria-hidden': 'true' }, ' ⇄'), h('span', { class: 'vh' }, ' (shared)')) : null,
    ' ',
    tabCount(item.count)));
  }
  nav.replaceChildren(...tabs);
}

/** A tab's count: the number, "–" when the API could not count it (null),
 *  "…" when the list was fetched without counts. */
function tabCount(value) {
  if (typeof value === 'number') return h('span', { class: 'tab-count' }, count(value));
  if (value === null) return h('span', { class: 'tab-count', title: 'Could not be counted right now' }, '–');
  return h('span', { class: 'tab-count' }, '…');
}

function problemToForm(form, error, generalEl) {
  const orphans = showFieldErrors(form, error.errors);
  if (error instanceof ApiError && error.status === 409 && !error.errors.length) {
    const nameError = form.querySelector('.field-error[data-field="name"]');
    nameError.textContent = error.problem.detail || 'That name is already used.';
    nameError.hidden = false;
    generalEl.textContent = '';
    return;
  }
  generalEl.textContent = orphans.length ? orphans.join('; ') : (error.errors.length ? '' : describe(error));
}

async function submitSave(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const name = $('#save-name').value.trim();
  const shared = $('#save-shared').checked;
  const { q, sort } = hooks.current();
  clearFieldErrors(form);
  $('#save-error').textContent = '';
  const body = { name, q, shared };
  if (sort) body.sort = sort;
  try {
    const { data } = await api('/v1/saved-searches', { method: 'POST', body });
    await loadSaved({ fresh: true });
    if (!savedById(data.id)) list.push(data);
    $('#save-dialog').close();
    notice(`Saved “${data.name}”`);
    hooks.saved(data);
  } catch (error) {
    problemToForm(form, error, $('#save-error'));
  }
}

async function submitRename(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const saved = savedById(activeId);
  if (!saved) return;
  clearFieldErrors(form);
  $('#rename-error').textContent = '';
  try {
    const { data } = await api(`/v1/saved-searches/${encodeURIComponent(saved.id)}`, {
      method: 'PATCH',
      body: { name: $('#rename-name').value.trim() },
    });
    Object.assign(saved, data || { name: $('#rename-name').value.trim() });
    $('#rename-dialog').close();
    notice('Renamed');
    renderTabs();
    loadSaved({ fresh: true });
  } catch (error) {
    problemToForm(form, error, $('#rename-error'));
  }
}

async function remove() {
  const saved = savedById(activeId);
  if (!saved) return;
  const yes = await confirmDialog({
    title: 'Delete saved search',
    message: `Delete the saved search “${saved.name}”${saved.shared ? ' for everyone it is shared with' : ''}? The orders are not touched.`,
    yes: 'Delete',
    no: 'Keep',
  });
  if (!yes) return;
  try {
    await api(`/v1/saved-searches/${encodeURIComponent(saved.id)}`, { method: 'DELETE' });
    list = list.filter((item) => item !== saved);
    notice(`Deleted “${saved.name}”`);
    hooks.deleted(saved);
    loadSaved({ fresh: true });
  } catch (error) {
    notice(`Not deleted: ${describe(error)}`);
  }
}

/** Wires the buttons and dialogs once. */
export function wireSaved(options) {
  hooks = { ...hooks, ...options };
  $('#save-search').addEventListener('click', () => {
    const form = $('#save-form');
    form.reset();
    clearFieldErrors(form);
    $('#save-error').textContent = '';
    $('#save-query').textContent = hooks.current().q || '(every order)';
    $('#save-dialog').showModal();
    $('#save-name').focus();
  });
  $('#save-form').addEventListener('submit', submitSave);
  $('#rename-saved').addEventListener('click', () => {
    const saved = savedById(activeId);
    if (!saved) return;
    const form = $('#rename-form');
    clearFieldErrors(form);
    $('#rename-error').textContent = '';
    $('#rename-name').value = saved.name;
    $('#rename-dialog').showModal();
    $('#rename-name').select();
  });
  $('#rename-form').addEventListener('submit', submitRename);
  $('#delete-saved').addEventListener('click', remove);
}

export function resetSaved() {
  generation += 1;
  loading = null;
  loadedAt = 0;
  list = [];
  available = true;
  activeId = null;
}
