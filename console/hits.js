// Rendering search results: one hit as a real link, facet chips, and the
// query-text helpers that add or remove a qualifier such as status:shipped.

import { h, highlightNodes, badge } from './dom.js';
import { money, timeEl, zoneOf, count, storeName } from './format.js';

const HIGHLIGHT_LABELS = {
  'customer.name': 'Name',
  'customer.email': 'Email',
  'customer.phone': 'Phone',
  'shipping.name': 'Ship to',
  'shipping.city': 'City',
  'shipping.postal_code': 'Postal code',
  'items.name': 'Item',
  'items.sku': 'SKU',
  tags: 'Tag',
  note: 'Note',
  number: 'Number',
};

/** One hit: <li><a class="hit" href="/orders/N" ...>…</a></li>. */
export function renderHit(hit) {
  const customer = hit.customer || {};
  const highlights = Object.entries(hit.highlights || {});
  const itemsText = (hit.items || []).slice(0, 3).map((item) => `${item.quantity} × ${item.name}`).join(', ')
    + ((hit.items || []).length > 3 ? `, +${hit.items.length - 3} more` : '');
  const link = h('a', {
    class: 'hit',
    href: `/orders/${encodeURIComponent(hit.number)}`,
    'data-number': hit.number,
    'data-id': hit.id,
    'data-status': hit.status,
  },
  h('span', { class: 'hit-number' }, `#${hit.number}`),
  h('span', { class: 'hit-main' },
    h('span', { class: 'hit-customer' },
      h('span', { class: 'hit-customer-name' }, customer.name || customer.email || 'No name'),
      customer.email && customer.name ? h('span', { class: 'hit-customer-email' }, customer.email) : null),
    h('span', { class: 'hit-items' }, itemsText,
      (hit.tags || []).slice(0, 4).map((tag) => h('span', { class: 'tag tag-sm' }, tag))),
    h('span', { class: 'hit-highlights' },
      highlights.map(([field, marked]) => h('span', { class: 'hl', 'data-field': field },
        h('span', { class: 'hl-label' }, `${HIGHLIGHT_LABELS[field] || field}:`), ' ', highlightNodes(marked))))),
  h('span', { class: 'hit-status' },
    badge(hit.status),
    hit.deleted ? h('span', { class: 'badge badge-deleted' }, 'deleted') : null,
    hit.stale ? h('span', { class: 'stale-marker', title: 'This order changed since it was indexed; the search index is updating.' }, 'updating') : null),
  h('span', { class: 'hit-total' }, money(hit.total, hit.currency)),
  h('span', { class: 'hit-when' },
    timeEl(hit.created_at, zoneOf(hit.store), 'hit-date'),
    h('span', { class: 'hit-store' }, storeName(hit.store))));
  return h('li', { class: 'hit-item' }, link);
}

/** The column heads above the hit list (visual only). */
export function hitHeader() {
  return h('div', { class: 'hit-head', 'aria-hidden': 'true' },
    h('span', null, 'Order'), h('span', null, 'Customer'), h('span', null, 'Status'),
    h('span', { class: 'num' }, 'Total'), h('span', null, 'Created'));
}

// ---- query text helpers -------------------------------------------------

/** Splits a query into terms on spaces outside quotes. */
export function terms(q) {
  const out = [];
  let current = '';
  let quoted = false;
  for (const ch of q) {
    if (ch === '"') quoted = !quoted;
    if (/\s/.test(ch) && !quoted) {
      if (current) out.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  if (current) out.push(current);
  return out;
}

function unquote(value) {
  return value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
}

function quoteValue(value) {
  return /[\s,":]/.test(value) ? `"${value.replace(/"/g, '')}"` : value;
}

function parseTerm(term) {
  const m = term.match(/^(-?)([a-z_]+):(.+)$/i);
  if (!m) return null;
  const values = m[3].match(/"[^"]*"|[^,]+/g) || [];
  return { negated: m[1] === '-', key: m[2].toLowerCase(), values: values.map(unquote) };
}

function same(a, b) {
  return a.toLowerCase() === b.toLowerCase();
}

/** Whether q holds the (non-negated) qualifier key:value. */
export function hasQualifier(q, key, value) {
  return terms(q).some((term) => {
    const parsed = parseTerm(term);
    return parsed && !parsed.negated && parsed.key === key && parsed.values.some((v) => same(v, value));
  });
}

/** q with key:value removed if present, else appended. */
export function toggleQualifier(q, key, value) {
  const list = terms(q);
  let removed = false;
  const kept = [];
  for (const term of list) {
    const parsed = parseTerm(term);
    if (parsed && !parsed.negated && parsed.key === key && parsed.values.some((v) => same(v, value))) {
      removed = true;
      const rest = parsed.values.filter((v) => !same(v, value));
      if (rest.length) kept.push(`${key}:${rest.map(quoteValue).join(',')}`);
    } else {
      kept.push(term);
    }
  }
  if (!removed) kept.push(`${key}:${quoteValue(value)}`);
  return kept.join(' ');
}

// ---- facets --------------------------------------------------------------

const FACETS = [
  ['status', 'Status'],
  ['category', 'Category'],
  ['store', 'Store'],
  ['country', 'Country'],
];

const SHOWN = 8;
const expanded = new Set();

/** Facet groups of chips; `onToggle(facet, value)` on click. A qualifier
 *  that belongs to the saved search (`fixedQ`) shows pressed and disabled.
 *  Long groups show the first few chips and a button for the rest. */
export function renderFacets(container, facets, q, onToggle, fixedQ = '') {
  const groups = [];
  for (const [facet, title] of FACETS) {
    const values = Object.entries((facets || {})[facet] || {}).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    if (!values.length) continue;
    const open = expanded.has(facet);
    let folded = 0;
    const chips = values.slice(0, 50).map(([value, n], index) => {
      const fixed = Boolean(fixedQ) && hasQualifier(fixedQ, facet, value);
      const pressed = fixed || hasQualifier(q, facet, value);
      const hide = !open && index >= SHOWN && !pressed;
      if (hide) folded += 1;
      const label = facet === 'store' ? storeName(value) : value;
      return h('button', {
        type: 'button',
        class: 'chip',
        'data-facet': facet,
        'data-value': value,
        'aria-pressed': pressed ? 'true' : 'false',
        disabled: fixed,
        hidden: hide,
        title: fixed ? 'Part of this saved search' : `${pressed ? 'Remove' : 'Add'} ${facet}:${quoteValue(value)}`,
        onclick: () => onToggle(facet, value),
      }, `${label} `, h('span', { class: 'chip-count' }, count(n)));
    });
    const toggle = folded || open ? h('button', {
      type: 'button',
      class: 'chip-more',
      'aria-expanded': open ? 'true' : 'false',
      onclick: () => {
        if (open) expanded.delete(facet);
        else expanded.add(facet);
        renderFacets(container, facets, q, onToggle, fixedQ);
        const again = container.querySelector(`.facet-group[data-facet="${facet}"] .chip-more`);
        if (again) again.focus();
      },
    }, open ? 'Show fewer' : `Show ${folded} more`) : null;
    groups.push(h('div', { class: 'facet-group', 'data-facet': facet, role: 'group', 'aria-label': title },
      h('h2', { class: 'facet-title' }, title), h('div', { class: 'chips' }, chips, toggle)));
  }
  container.replaceChildren(...groups);
}

/** Whether text looks like an order number, an email or a phone. */
export function looksLikeIdentifier(q) {
  const text = q.trim();
  if (/^#?\d+$/.test(text)) return true;
  if (/^[^\s@]+@[^\s@]+$/.test(text)) return true;
  return /^\+?[\d\s\-().]+$/.test(text) && text.replace(/\D/g, '').length >= 4;
}
