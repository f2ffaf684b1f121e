// Acting on an order, as the role allows: allowed status transitions,
// cancel (confirmed), and editing tracking, tags and note. Every write sends
// If-Match with the version shown; a 412 reloads and says what was not applied.

import { api, ApiError, describe } from './api.js';
import { h, $, notice, clearNotice, showFieldErrors, clearFieldErrors, confirmDialog } from './dom.js';
import { can } from './session.js';
import { load, render, current } from './order.js';

const NEXT = { pending: ['processing'], processing: ['shipped'], shipped: ['completed'] };
const OPEN = ['pending', 'processing'];
const LABEL = { processing: 'Mark processing', shipped: 'Mark shipped', completed: 'Mark completed' };

/** The actions panel, or null when the role may do nothing here. */
export function renderActions(order) {
  if (order.deleted_at) return null;
  const transitions = can.changeStatus() ? (NEXT[order.status] || []) : [];
  const cancellable = can.cancel() && OPEN.includes(order.status);
  if (!transitions.length && !cancellable) return null;
  return h('section', { class: 'panel panel-actions', 'aria-labelledby': 'actions-title' },
    h('h2', { class: 'panel-title', id: 'actions-title' }, 'Actions'),
    h('div', { id: 'transitions', class: 'button-row' },
      transitions.map((to) => h('button', {
        type: 'button',
        class: 'btn btn-primary transition',
        'data-to': to,
        onclick: () => changeStatus(to),
      }, LABEL[to] || `Mark ${to}`))),
    cancellable ? h('button', { type: 'button', id: 'cancel-order', class: 'btn btn-danger-outline', onclick: cancelOrder }, 'Cancel order') : null);
}

function field(id, label, control, apiField, hint) {
  return h('div', { class: 'field' },
    h('label', { for: id }, label),
    control,
    h('p', { class: 'field-error', 'data-field': apiField, hidden: true }),
    hint ? h('p', { class: 'field-hint muted small' }, hint) : null);
}

/** The edit form (tracking for admin/writer; tags and note for support too). */
export function renderEditForm(order) {
  if (order.deleted_at || !can.editTagsNote()) return null;
  const tracking = order.tracking || {};
  const trackingFields = can.editTracking() ? [
    field('edit-carrier', 'Carrier', h('input', { id: 'edit-carrier', name: 'carrier', value: tracking.carrier || '', autocomplete: 'off', maxlength: '50' }), 'tracking.carrier'),
    field('edit-tracking-number', 'Tracking number', h('input', { id: 'edit-tracking-number', name: 'tracking-number', value: tracking.number || '', autocomplete: 'off', maxlength: '100' }), 'tracking.number'),
  ] : [];
  const note = h('textarea', { id: 'edit-note', name: 'note', rows: '3', maxlength: '2000' });
  note.value = order.note || '';
  const form = h('form', { id: 'edit-form', class: 'edit-form', novalidate: true, onsubmit: saveEdits },
    trackingFields.length ? h('div', { class: 'field-pair' }, trackingFields) : null,
    h('p', { class: 'field-error', 'data-field': 'tracking', hidden: true }),
    field('edit-tags', 'Tags', h('input', { id: 'edit-tags', name: 'tags', value: order.tags.join(', '), autocomplete: 'off' }), 'tags', 'Comma separated, e.g. vip, gift'),
    field('edit-note', 'Note', note, 'note'),
    h('div', { class: 'button-row' }, h('button', { type: 'submit', id: 'edit-save', class: 'btn btn-primary' }, 'Save changes')));
  return h('section', { class: 'panel', 'aria-labelledby': 'edit-title' },
    h('h2', { class: 'panel-title', id: 'edit-title' }, can.editTracking() ? 'Edit tracking, tags and note' : 'Edit tags and note'),
    form);
}

function busy(on) {
  for (const el of document.querySelectorAll('#order button')) el.disabled = on;
}

/**
 * PATCHes the order with If-Match. `tried` says in words what the agent
 * asked for, for the 412 message.
 */
async function write(patch, tried, success) {
  const order = current();
  if (!order) return;
  const form = $('#edit-form');
  if (form) clearFieldErrors(form);
  $('#order-error').hidden = true;
  $('#conflict').hidden = true;
  clearNotice();
  busy(true);
  try {
    const { data } = await api(`/v1/orders/${encodeURIComponent(order.id)}`, { method: 'PATCH', body: patch, ifMatch: order.version });
    const events = await api(`/v1/orders/${encodeURIComponent(order.id)}/events`).then((r) => r.data.data).catch(() => null);
    render(data, events || [], {});
    notice(success);
  } catch (error) {
    busy(false);
    if (error instanceof ApiError && error.status === 412) {
      await load(order.number, {
        conflict: `This order was changed by someone else while you were looking at it. Your change (${tried}) was not applied. The current order is shown below; check it and try again.`,
      });
      return;
    }
    let message = describe(error);
    if (error instanceof ApiError && error.problem.allowed_next) {
      const allowed = error.problem.allowed_next;
      message += allowed.length ? ` (allowed next: ${allowed.join(', ')})` : ' (no further status is allowed)';
    }
    if (error instanceof ApiError && error.errors.length && form) {
      const orphans = showFieldErrors(form, error.errors);
      message = orphans.length ? `${describe(error)}: ${orphans.join('; ')}` : `${describe(error)}: see the messages beside the fields.`;
      const first = form.querySelector('.field-error:not([hidden])');
      if (first && first.previousElementSibling) first.previousElementSibling.focus();
    }
    const box = $('#order-error');
    box.textContent = message;
    box.hidden = false;
  }
}

function changeStatus(to) {
  write({ status: to }, `status → ${to}`, 'Saved');
}

async function cancelOrder() {
  const order = current();
  if (!order) return;
  const yes = await confirmDialog({
    title: `Cancel order #${order.number}?`,
    message: 'The customer’s order is cancelled and its reserved stock is released. This cannot be undone.',
    yes: 'Cancel order',
    no: 'Keep order',
  });
  if (!yes) return;
  write({ status: 'cancelled' }, 'status → cancelled', 'Order cancelled');
}

function sameList(a, b) {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}

function saveEdits(event) {
  event.preventDefault();
  const order = current();
  if (!order) return;
  const patch = {};
  const tried = [];
  const carrier = $('#edit-carrier');
  const number = $('#edit-tracking-number');
  if (carrier && number) {
    const c = carrier.value.trim();
    const n = number.value.trim();
    const old = order.tracking || { carrier: '', number: '' };
    if (c !== old.carrier || n !== old.number) {
      patch.tracking = { carrier: c, number: n };
      tried.push(`tracking → ${c} ${n}`.trim());
    }
  }
  const tags = $('#edit-tags').value.split(',').map((t) => t.trim()).filter(Boolean);
  if (!sameList(tags, order.tags)) {
    patch.tags = tags;
    tried.push(`tags → ${tags.length ? tags.join(', ') : 'none'}`);
  }
  const note = $('#edit-note').value;
  if (note !== (order.note || '')) {
    patch.note = note;
    tried.push(`note → “${note.length > 60 ? `${note.slice(0, 57)}…` : note}”`);
  }
  if (!tried.length) {
    notice('Nothing to save: no field was changed');
    return;
  }
  write(patch, tried.join('; '), 'Saved');
}
