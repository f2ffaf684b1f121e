// Index health for admins (/admin): search status (backend, documents,
// backlog, lag, failures), refreshed every 5 s, and Reindex / Reconcile.

import { api, describe, ApiError } from './api.js';
import { h, $, notice } from './dom.js';
import { count, millis, dateTime } from './format.js';

let timer = 0;
let seq = 0;

const FIELDS = [
  ['backend', 'Backend', (v) => String(v)],
  ['reachable', 'Engine reachable', (v) => (v === undefined ? '—' : v ? 'yes' : 'NO')],
  ['documents', 'Documents', (v) => count(v)],
  ['pending_changes', 'Pending changes', (v) => count(v)],
  ['oldest_pending_age_ms', 'Oldest pending change', (v) => (v ? `${millis(v)} old` : 'none')],
  ['last_indexed_at', 'Last indexed', (v) => (v ? `${dateTime(v, 'UTC')} UTC` : 'never')],
];

function render(status) {
  const el = $('#index-health');
  const failed = status.failed || [];
  const behind = status.pending_changes > 0;
  el.replaceChildren(
    h('div', { class: 'health-head' },
      h('span', { class: `health-dot ${status.reachable === false ? 'is-down' : behind ? 'is-behind' : 'is-ok'}`, 'aria-hidden': 'true' }),
      h('strong', null, status.reachable === false ? 'Search engine unreachable' : behind ? 'Indexing changes' : 'Index up to date')),
    h('dl', { class: 'kv-list health-list' },
      FIELDS.map(([field, label, fmt]) => h('div', { class: 'kv' },
        h('dt', null, label),
        h('dd', { 'data-field': field, 'data-value': status[field] ?? '' }, fmt(status[field]))))),
    h('h2', { class: 'panel-title' }, `Failed documents (${failed.length})`),
    h('ul', { id: 'failed', class: 'failed-list' },
      failed.length
        ? failed.map((f) => h('li', { 'data-order-id': f.order_id },
          h('span', { class: 'mono' }, f.order_id), ' · ', `${f.attempts} attempts`, ' · ', h('span', { class: 'error-detail' }, f.error)))
        : h('li', { class: 'muted' }, 'None')));
  el.dataset.state = 'ready';
}

async function refresh() {
  const mine = ++seq;
  try {
    const { data } = await api('/v1/search/status');
    if (mine === seq) render(data);
  } catch (error) {
    if (mine !== seq) return;
    const el = $('#index-health');
    el.replaceChildren(h('p', { class: 'error-detail', role: 'alert' }, `Index status unavailable: ${describe(error)}`));
    el.dataset.state = 'error';
  }
}

async function act(button, path, describeOk) {
  const message = $('#admin-message');
  button.disabled = true;
  message.textContent = `${button.textContent}…`;
  try {
    const { data, status } = await api(path, { method: 'POST' });
    message.textContent = describeOk(data, status);
    notice(message.textContent);
  } catch (error) {
    message.textContent = error instanceof ApiError && error.status === 409
      ? describe(error)
      : `${button.textContent} failed: ${describe(error)}`;
  } finally {
    button.disabled = false;
    refresh();
  }
}

/** The buttons exist only for admins (rendered here, never in the page shell). */
function renderButtons() {
  const box = $('#admin-actions');
  if (box.firstChild) return;
  box.append(
    h('button', {
      type: 'button', id: 'reindex', class: 'btn btn-secondary',
      title: 'Rebuild the index from the database and swap it in',
      onclick: (e) => act(e.currentTarget, '/v1/search/reindex',
        () => 'Reindex started: the index is rebuilt in the background; search keeps answering from the current index until the new one is swapped in.'),
    }, 'Reindex'),
    h('button', {
      type: 'button', id: 'reconcile', class: 'btn btn-secondary',
      title: 'Compare the index with the database and re-queue what differs',
      onclick: (e) => act(e.currentTarget, '/v1/search/reconcile', (r) => (r
        ? `Reconciled: ${count(r.orders_checked)} orders and ${count(r.documents_checked)} documents checked; ${count(r.missing)} missing and ${count(r.stale)} stale re-queued, ${count(r.orphans)} orphans removed.`
        : 'Reconcile done.')),
    }, 'Reconcile'));
}

/** Removes the admin-only buttons (sign-out, or a key that is not admin). */
export function reset() {
  $('#admin-actions').replaceChildren();
  $('#admin-message').textContent = '';
  const el = $('#index-health');
  el.replaceChildren();
  el.dataset.state = 'loading';
}

export function enter() {
  renderButtons();
  const el = $('#index-health');
  el.dataset.state = 'loading';
  if (!el.firstChild) el.append(h('p', { class: 'muted' }, 'Loading index status…'));
  refresh();
  clearInterval(timer);
  timer = setInterval(() => {
    if (!document.hidden) refresh();
  }, 5000);
}

export function leave() {
  clearInterval(timer);
  seq += 1;
}
