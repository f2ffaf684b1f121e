// The reports view (/reports?store=&from=&to=): summary cards, top products
// by quantity / revenue / profit, category revenue, top bought yesterday and
// the hourly chart, for one store and a date range in its time zone.

import { api, describeFully, ApiError } from './api.js';
import { h, $, badge } from './dom.js';
import { loadStores, zoneOf, currencyOf, localDate, addDays, money, count, duration, dateTime, millis } from './format.js';
import { buildUrl, navigate } from './router.js';
import { session } from './session.js';
import { hourlyChart, inlineBar } from './charts.js';

let wired = false;
let seq = 0;
const STATUSES = ['pending', 'processing', 'shipped', 'completed', 'cancelled'];

function card(metric, title, value, sub, attrs = {}) {
  return h('div', { class: 'card', 'data-metric': metric, ...attrs },
    h('p', { class: 'card-title' }, title),
    h('p', { class: 'card-value' }, value),
    sub ? h('p', { class: 'card-sub muted' }, sub) : null);
}

/** "3,120.00" with a smaller " USD" after it (text stays "3,120.00 USD"). */
function withUnit(value, currency) {
  return currency ? [value, h('span', { class: 'card-unit' }, ` ${currency}`)] : value;
}

function cards(summary, currency) {
  const s = summary;
  const cancelled = s.by_status?.cancelled || 0;
  const sold = s.total_orders - cancelled;
  const given = s.average_order_value !== undefined && s.average_order_value !== null;
  const aov = given ? Number(s.average_order_value) : (sold > 0 ? Number(s.revenue) / sold : null);
  const byStatus = h('ul', { class: 'status-counts card-value' },
    STATUSES.map((status) => h('li', { 'data-status': status }, badge(status, 'badge-sm'), ' ', h('span', { class: 'status-count' }, count(s.by_status?.[status] || 0)))));
  return h('div', { class: 'cards' },
    card('total_orders', 'Orders', count(s.total_orders), 'placed in the range, cancelled included'),
    card('revenue', 'Revenue', withUnit(money(s.revenue), currency), 'orders not cancelled'),
    card('average_order_value', 'Average order value', aov === null ? '—' : withUnit(money(aov.toFixed(2)), currency),
      given ? 'from the API' : 'revenue ÷ orders not cancelled',
      given ? {} : { title: 'Computed in the page: revenue divided by the orders that are not cancelled (the API does not give it)' }),
    card('average_processing', 'Average processing', duration(s.average_processing_seconds), 'created → completed'),
    h('div', { class: 'card card-wide', 'data-metric': 'by_status' }, h('p', { class: 'card-title' }, 'Orders by status'), byStatus));
}

function table(id, caption, columns, rows, emptyText) {
  const t = h('table', { id, class: 'table table-compact' },
    h('caption', { class: 'table-caption' }, caption),
    h('thead', null, h('tr', null, columns.map(([label, cls]) => h('th', { scope: 'col', class: cls }, label)))),
    h('tbody', null, rows));
  return h('div', { class: 'table-wrap' }, t, rows.length ? null : h('p', { class: 'muted table-empty' }, emptyText));
}

const CELLS = {
  quantity: (p) => h('td', { class: 'num', 'data-metric': 'quantity', 'data-value': p.quantity }, count(p.quantity)),
  revenue: (p) => h('td', { class: 'num', 'data-metric': 'revenue', 'data-value': p.revenue }, money(p.revenue)),
  profit: (p) => h('td', {
    class: 'num', 'data-metric': 'profit', 'data-value': p.profit ?? '',
    title: p.profit === null ? 'No line of this product has a cost' : null,
  }, p.profit === null || p.profit === undefined ? '—' : money(p.profit)),
};

/** Rows of a top-products table: SKU, product, the ranking metric, a second one, a bar. */
function productRows(data, metrics) {
  const max = Math.max(0, ...data.map((p) => Number(p[metrics[0]]) || 0));
  return data.map((p) => h('tr', { 'data-product-id': p.product_id, 'data-sku': p.sku },
    h('td', { class: 'mono sku' }, p.sku),
    h('td', { class: 'product-name' }, p.name),
    metrics.map((metric) => CELLS[metric](p)),
    h('td', { class: 'bar-cell' }, inlineBar(Number(p[metrics[0]]) || 0, max))));
}

function productCols(currency, metrics) {
  const unit = currency ? ` (${currency})` : '';
  const label = { quantity: 'Qty', revenue: `Revenue${unit}`, profit: `Profit${unit}` };
  return [['SKU'], ['Product'], ...metrics.map((m) => [label[m], 'num']), ['', 'bar-cell']];
}

function topTable(id, caption, answer, currency, metrics, emptyText) {
  return table(id, caption, productCols(currency, metrics), productRows(answer.data, metrics), emptyText);
}

function section(title, ...children) {
  return h('section', { class: 'panel report-panel' }, h('h2', { class: 'panel-title' }, title), ...children);
}

function failed(title, error) {
  return section(title, h('p', { class: 'error-detail', role: 'alert' }, describeFully(error)));
}

function freshness(answers) {
  const withAsOf = answers.filter((a) => a && (a.as_of || a.lag_ms !== undefined));
  if (!withAsOf.length) return null;
  const asOf = withAsOf.map((a) => a.as_of).filter(Boolean).sort()[0];
  const lag = Math.max(...withAsOf.map((a) => Number(a.lag_ms) || 0));
  return h('p', { id: 'reports-freshness', class: 'muted small', 'data-as-of': asOf || '', 'data-lag-ms': lag },
    asOf ? `Figures as of ${dateTime(asOf, 'UTC')} UTC` : 'Figures', lag > 0 ? ` · ${millis(lag)} behind` : ' · up to date');
}

async function load(store, from, to) {
  const mine = ++seq;
  const el = $('#reports');
  el.dataset.state = 'loading';
  el.setAttribute('aria-busy', 'true');
  if (!el.firstChild) el.append(h('p', { class: 'muted loading-line' }, 'Loading reports…'));
  if (from && to && from > to) {
    el.replaceChildren(h('div', { class: 'empty empty-error' },
      h('p', { class: 'empty-title' }, 'Reports could not be loaded'),
      h('p', { class: 'error-detail', role: 'alert' }, `The start date (${from}) is after the end date (${to}).`)));
    el.dataset.state = 'error';
    el.setAttribute('aria-busy', 'false');
    return;
  }
  const range = { store, from, to };
  const calls = [
    api('/v1/analytics/orders/summary', { params: range }),
    api('/v1/analytics/products/top', { params: { ...range, by: 'quantity', limit: 10 } }),
    api('/v1/analytics/products/top', { params: { ...range, by: 'revenue', limit: 10 } }),
    api('/v1/analytics/products/top', { params: { ...range, by: 'profit', limit: 10 } }),
    api('/v1/analytics/categories', { params: range }),
    api('/v1/analytics/products/top-bought-yesterday', { params: { store, limit: 10 } }),
    api('/v1/analytics/sales/hourly', { params: range }),
  ];
  const results = await Promise.allSettled(calls);
  if (mine !== seq) return;
  const [summary, topQ, topR, topP, cats, yesterday, hourly] = results;
  const ok = (r) => r.status === 'fulfilled';
  const value = (r) => r.value.data;
  const currency = currencyOf(store);
  const zone = zoneOf(store);
  const errors = results.filter((r) => !ok(r));
  const refused = errors.find((r) => r.reason instanceof ApiError && [400, 403, 404, 422].includes(r.reason.status));
  if (errors.length === results.length || refused) {
    const reason = (refused || errors[0]).reason;
    el.replaceChildren(h('div', { class: 'empty empty-error' },
      h('p', { class: 'empty-title' }, 'Reports could not be loaded'),
      h('p', { class: 'error-detail', role: 'alert' }, describeFully(reason))));
    el.dataset.state = 'error';
    el.setAttribute('aria-busy', 'false');
    return;
  }
  const lines = ok(topP) ? value(topP).lines_without_cost : 0;
  const categories = ok(cats) ? value(cats).data : [];
  const maxCat = Math.max(0, ...categories.map((c) => Number(c.revenue) || 0));
  el.replaceChildren(...[
    h('p', { class: 'muted small report-range' }, `${store} · ${from} to ${to} · dates in ${zone}`),
    freshness(results.filter(ok).map(value)),
    ok(summary) ? cards(value(summary), currency) : failed('Summary', summary.reason),
    ok(hourly)
      ? section('Hourly sales', hourlyChart(value(hourly).data, zone, currency))
      : failed('Hourly sales', hourly.reason),
    h('div', { class: 'report-grid' },
      ok(topQ) ? section('Top products by quantity', topTable('top-quantity', 'Top products by quantity', value(topQ), currency, ['quantity', 'revenue'], 'No sales in this range')) : failed('Top products by quantity', topQ.reason),
      ok(topR) ? section('Top products by revenue', topTable('top-revenue', 'Top products by revenue', value(topR), currency, ['revenue', 'quantity'], 'No sales in this range')) : failed('Top products by revenue', topR.reason),
      ok(topP) ? section('Top products by profit',
        topTable('top-profit', 'Top products by profit', value(topP), currency, ['profit', 'revenue'], 'No sales in this range'),
        lines > 0 ? h('p', { class: 'muted small', id: 'lines-without-cost' }, `${count(lines)} order lines have no cost; their profit is unknown and not counted.`) : null)
        : failed('Top products by profit', topP.reason),
      ok(cats) ? section('Revenue by category', table('category-revenue', 'Revenue by category', [['Category'], [`Revenue${currency ? ` (${currency})` : ''}`, 'num'], ['Orders', 'num'], ['Quantity', 'num'], ['', 'bar-cell']],
        categories.map((c) => h('tr', { 'data-category': c.category },
          h('td', null, c.category), h('td', { class: 'num', 'data-value': c.revenue }, money(c.revenue)),
          h('td', { class: 'num' }, count(c.orders)), h('td', { class: 'num' }, count(c.quantity)),
          h('td', { class: 'bar-cell' }, inlineBar(Number(c.revenue) || 0, maxCat)))), 'No sales in this range')) : failed('Revenue by category', cats.reason),
      ok(yesterday) ? section(`Top bought yesterday (${zone})`, topTable('top-yesterday', `Top bought yesterday (${zone})`, value(yesterday), currency, ['quantity', 'revenue'], 'Nothing was bought yesterday')) : failed('Top bought yesterday', yesterday.reason)),
  ].filter(Boolean));
  el.setAttribute('aria-busy', 'false');
  el.dataset.store = store;
  el.dataset.from = from;
  el.dataset.to = to;
  el.dataset.state = errors.length ? 'error' : 'ready';
}

/** Whether text is a real calendar date "YYYY-MM-DD" (not 2026-02-30). */
function isDate(text) {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text || '')) return false;
  const d = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === text;
}

function wireOnce() {
  if (wired) return;
  wired = true;
  $('#report-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const store = $('#report-store').value;
    const from = $('#report-from').value;
    const to = $('#report-to').value;
    const message = $('#report-form-error');
    message.textContent = from && to && from > to ? 'The start date is after the end date.' : '';
    if (message.textContent) {
      $('#report-from').focus();
      return;
    }
    navigate(buildUrl('/reports', { store, from, to }));
  });
  $('#report-store').addEventListener('change', () => {
    const store = $('#report-store').value;
    const to = localDate(new Date(), zoneOf(store));
    if (!$('#report-to').value) $('#report-to').value = to;
    if (!$('#report-from').value) $('#report-from').value = addDays(to, -29);
  });
}

export async function enter(route) {
  wireOnce();
  let stores = [];
  try {
    stores = await loadStores();
  } catch { /* the select falls back to the key's store */ }
  const select = $('#report-store');
  const known = stores.length ? stores : [{ id: session.me?.store || 'default', name: session.me?.store || 'default' }];
  select.replaceChildren(...known.map((st) => h('option', { value: st.id }, [st.name, st.currency, st.timezone].filter(Boolean).join(' · '))));
  const params = route.params;
  const fallbackStore = session.me?.store || (known.some((st) => st.id === 'default') ? 'default' : known[0].id);
  const store = params.get('store') || fallbackStore;
  if (![...select.options].some((o) => o.value === store)) select.append(h('option', { value: store }, store));
  select.value = store;
  const today = localDate(new Date(), zoneOf(store));
  let to = params.get('to') || today;
  let from = params.get('from') || (isDate(to) ? addDays(to, -29) : '');
  const message = $('#report-form-error');
  message.textContent = '';
  if (!isDate(from) || !isDate(to)) {
    const bad = [['from', params.get('from')], ['to', params.get('to')]].filter(([, v]) => v && !isDate(v));
    message.textContent = `Not a date (YYYY-MM-DD): ${bad.map(([k, v]) => `${k}=${v}`).join(', ')}; showing the last 30 days.`;
    to = today;
    from = addDays(to, -29);
  }
  $('#report-from').value = from;
  $('#report-to').value = to;
  load(store, from, to);
}

export function leave() {
  seq += 1;
}
