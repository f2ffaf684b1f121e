// The order view (/orders/{number}): items with their snapshot, totals,
// customer, address, tracking, tags, note, dates and the timeline.
// Actions (status, cancel, edit) come from orderactions.js.

import { api, describe, ApiError } from './api.js';
import { h, $, badge } from './dom.js';
import { money, timeEl, zoneOf, storeName, dateTime } from './format.js';
import { navigate, entryState } from './router.js';
import { lastSearchUrl } from './search.js';
import { renderActions, renderEditForm } from './orderactions.js';

const st = { number: null, order: null, events: [], seq: 0 };

function panel(title, id, ...children) {
  return h('section', { class: 'panel', 'aria-labelledby': id },
    h('h2', { class: 'panel-title', id }, title), ...children);
}

function line(label, value, extra) {
  return h('div', { class: 'kv' }, h('dt', null, label), h('dd', extra, value));
}

function customerBlock(customer) {
  const c = customer || {};
  return h('dl', { id: 'order-customer', class: 'kv-list' },
    line('Name', c.name || '—'),
    line('Email', c.email ? [h('a', { href: `mailto:${c.email}` }, c.email), ' ',
      h('a', { class: 'small', href: `/?q=${encodeURIComponent(`email:${c.email}`)}` }, 'Their orders')] : '—'),
    line('Phone', c.phone || '—'),
    c.id ? line('Customer id', c.id) : null);
}

function addressBlock(address) {
  if (!address) return h('p', { id: 'order-address', class: 'muted' }, 'No shipping address');
  const cityLine = [address.postal_code, address.city].filter(Boolean).join(' ');
  return h('address', { id: 'order-address', class: 'address' },
    [address.name, address.line1, address.line2, cityLine, address.region, address.country]
      .filter(Boolean).map((text) => h('span', { class: 'address-line' }, text)));
}

function trackingBlock(tracking) {
  if (!tracking) return h('p', { id: 'order-tracking', class: 'muted' }, 'No tracking yet');
  return h('p', { id: 'order-tracking' },
    h('span', { class: 'tracking-carrier' }, tracking.carrier), ' · ',
    h('span', { class: 'tracking-number' }, tracking.number));
}

function itemsTable(order) {
  const rows = order.items.map((item) => h('tr', { class: 'item', 'data-line': item.line },
    h('td', { class: 'item-sku mono', 'data-label': 'SKU' }, item.sku),
    h('td', { class: 'item-name', 'data-label': 'Product' }, item.name),
    h('td', { class: 'item-category', 'data-label': 'Category' }, item.category),
    h('td', { class: 'item-unit-price num', 'data-label': `Unit price (${order.currency})` }, money(item.unit_price)),
    h('td', { class: 'item-quantity num', 'data-label': 'Quantity' }, String(item.quantity)),
    h('td', { class: 'item-line-total num', 'data-label': `Line total (${order.currency})` }, money(item.line_total))));
  const units = order.items.reduce((sum, item) => sum + item.quantity, 0);
  return h('div', { class: 'table-wrap' }, h('table', { id: 'order-items', class: 'table' },
    h('caption', { class: 'vh' }, `Items of order #${order.number}`),
    h('thead', null, h('tr', null,
      h('th', { scope: 'col' }, 'SKU'), h('th', { scope: 'col' }, 'Product'), h('th', { scope: 'col' }, 'Category'),
      h('th', { scope: 'col', class: 'num' }, `Unit price (${order.currency})`), h('th', { scope: 'col', class: 'num' }, 'Qty'),
      h('th', { scope: 'col', class: 'num' }, `Line total (${order.currency})`))),
    h('tbody', null, rows),
    h('tfoot', null, h('tr', null,
      h('th', { scope: 'row', colspan: '4' }, 'Total'),
      h('td', { class: 'num' }, String(units)),
      h('td', { class: 'num strong' }, money(order.total, order.currency))))));
}

function eventText(event) {
  const data = event.data || {};
  switch (event.kind) {
    case 'created': return ['Order created'];
    case 'status_changed':
      return ['Status ', badge(event.from_status || '?', 'badge-sm'), ' → ', badge(event.to_status || '?', 'badge-sm')];
    case 'edited': {
      const parts = [];
      if (data.tracking) parts.push(`tracking ${data.tracking.carrier} ${data.tracking.number}`);
      if (data.tags) parts.push(data.tags.length ? `tags ${data.tags.join(', ')}` : 'tags cleared');
      if (data.shipping_address) parts.push('shipping address');
      return [`Edited ${parts.join('; ') || 'order'}`];
    }
    case 'note_changed': return ['Note changed'];
    case 'deleted': return ['Order deleted'];
    default: return [event.kind.replace(/_/g, ' ')];
  }
}

function timeline(events, zone) {
  if (!events.length) return h('p', { class: 'muted' }, 'No events');
  const items = events.slice().reverse().map((event) => h('li', {
    class: 'event',
    'data-kind': event.kind,
    'data-from': event.from_status,
    'data-to': event.to_status,
  },
  h('span', { class: 'event-dot', 'aria-hidden': 'true' }),
  h('div', { class: 'event-body' },
    h('p', { class: 'event-what' }, eventText(event)),
    event.kind === 'note_changed' && event.data && typeof event.data.note === 'string'
      ? h('p', { class: 'event-note' }, event.data.note) : null,
    h('p', { class: 'event-meta' }, timeEl(event.at, zone, 'event-time'), ' · ', h('span', { class: 'event-actor' }, event.actor)))));
  return h('ol', { id: 'timeline', class: 'timeline', 'aria-label': 'Newest first' }, items);
}

function datesBlock(order, zone) {
  const rows = [['Created', order.created_at], ['Updated', order.updated_at], ['Completed', order.completed_at],
    ['Cancelled', order.cancelled_at], ['Deleted', order.deleted_at]].filter(([, at]) => at);
  return h('dl', { id: 'order-dates', class: 'kv-list' },
    rows.map(([label, at]) => line(label, timeEl(at, zone, null), { 'data-field': label.toLowerCase() })),
    h('p', { class: 'muted small' }, `Times in ${zone} (store ${storeName(order.store)})`));
}

/** Draws the whole order; `message` = {conflict?, error?} kept after a reload. */
export function render(order, events, message = {}) {
  const el = $('#order');
  const zone = zoneOf(order.store);
  st.order = order;
  st.events = events;
  const tags = order.tags.length
    ? order.tags.map((tag) => h('span', { class: 'tag' }, tag))
    : [];
  el.replaceChildren(
    h('div', { class: 'order-head' },
      h('a', { class: 'back-link', href: lastSearchUrl(), onclick: backClick }, '← Orders'),
      h('div', { class: 'order-title-row' },
        h('h1', { id: 'order-title', tabindex: '-1' }, `Order #${order.number}`),
        badge(order.status),
        order.deleted_at ? h('span', { class: 'badge badge-deleted' }, 'deleted') : null,
        h('span', { id: 'order-total', class: 'order-total' }, money(order.total, order.currency))),
      h('p', { class: 'order-sub muted' },
        `${storeName(order.store)} · placed ${dateTime(order.created_at, zone)}`,
        order.external_id ? ` · external id ${order.external_id}` : '')),
    h('div', { id: 'conflict', class: 'banner banner-warn', role: 'alert', hidden: !message.conflict }, message.conflict || ''),
    h('div', { id: 'order-error', class: 'banner banner-error', role: 'alert', hidden: !message.error }, message.error || ''),
    h('div', { class: 'order-grid' },
      h('div', { class: 'order-main' },
        panel('Items', 'items-title', itemsTable(order)),
        renderEditForm(order),
        panel('Timeline', 'timeline-title', timeline(events, zone))),
      h('div', { class: 'order-side' },
        renderActions(order),
        panel('Customer', 'customer-title', customerBlock(order.customer)),
        panel('Shipping', 'shipping-title', addressBlock(order.shipping_address),
          h('h3', { class: 'sub-title' }, 'Tracking'), trackingBlock(order.tracking)),
        panel('Tags and note', 'tags-title',
          h('div', { id: 'order-tags', class: 'tags' }, tags),
          order.tags.length ? null : h('p', { class: 'muted small' }, 'No tags'),
          h('h3', { class: 'sub-title' }, 'Note'),
          h('p', { id: 'order-note', class: 'note' }, order.note || ''),
          order.note ? null : h('p', { class: 'muted small' }, 'No note')),
        panel('Dates', 'dates-title', datesBlock(order, zone)))));
  // The status badge carries the id the tests and screen readers look for.
  const statusBadge = $('.order-title-row .badge', el);
  statusBadge.id = 'order-status';
  el.dataset.number = String(order.number);
  el.dataset.version = String(order.version);
  el.dataset.status = order.status;
  el.dataset.state = 'ready';
}

/** Loads the order and its timeline; resolves with the order (or null). */
export async function load(number, message = {}) {
  const seq = ++st.seq;
  const el = $('#order');
  try {
    const [orderAnswer, eventsAnswer] = await Promise.all([
      api(`/v1/orders/${encodeURIComponent(number)}`),
      api(`/v1/orders/${encodeURIComponent(number)}/events`).catch(() => ({ data: { data: [] } })),
    ]);
    if (seq !== st.seq) return null;
    render(orderAnswer.data, (eventsAnswer.data && eventsAnswer.data.data) || [], message);
    return orderAnswer.data;
  } catch (error) {
    if (seq !== st.seq) return null;
    const notFound = error instanceof ApiError && (error.status === 404 || error.status === 400);
    el.replaceChildren(h('div', { class: 'order-head' },
      h('a', { class: 'back-link', href: lastSearchUrl(), onclick: backClick }, '← Orders'),
      h('h1', { id: 'order-title' }, notFound ? `Order #${number} not found` : `Order #${number}`)),
    h('div', { class: 'empty empty-error' },
      h('p', { class: 'empty-title' }, notFound ? 'No such order' : 'The order could not be loaded'),
      h('p', { id: 'order-error', role: 'alert', class: 'error-detail' },
        notFound ? 'It may have been deleted, or belong to a store your key cannot see.' : describe(error))));
    el.dataset.state = notFound ? 'notfound' : 'error';
    return null;
  }
}

export function current() {
  return st.order;
}

function backClick(event) {
  if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  goBack();
}

/** Esc / back link: history.back() when we came from the results, else the search. */
export function goBack() {
  if (entryState().from === 'search') window.history.back();
  else navigate(lastSearchUrl());
}

export function enter(route) {
  const el = $('#order');
  if (String(st.order?.number) !== String(route.number)) {
    el.replaceChildren(h('div', { class: 'order-head' },
      h('a', { class: 'back-link', href: lastSearchUrl(), onclick: backClick }, '← Orders'),
      h('h1', { id: 'order-title' }, `Order #${route.number}`)),
    h('p', { class: 'loading-line muted' }, 'Loading order…'));
    st.order = null;
  }
  el.dataset.state = 'loading';
  el.dataset.number = route.number;
  delete el.dataset.version;
  load(route.number).then(() => {
    const title = $('#order-title');
    if (title) title.focus({ preventScroll: true });
  });
}

export function leave() {
  st.seq += 1;
}
