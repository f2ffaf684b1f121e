// SVG charts drawn by the page: hourly sales (orders as bars, revenue as a
// line) by hour of day in the store's zone, with axes, <title> hover
// values and data-* attributes; plus a small inline bar for tables.

import { h, s } from './dom.js';
import { localHour, money, count } from './format.js';

const W = 960;
const H = 300;
const PAD = { left: 44, right: 76, top: 18, bottom: 40 };

/** A round upper bound for an axis: 1, 2, 5 × 10^n. */
function niceMax(value) {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) {
    if (step * power >= value) return step * power;
  }
  return 10 * power;
}

/** A round upper bound for a count axis with 4 whole-number steps. */
function niceCountMax(value) {
  if (value <= 4) return 4;
  const raw = value / 4;
  const power = 10 ** Math.floor(Math.log10(raw));
  for (const step of [1, 2, 3, 4, 5, 6, 8, 10]) {
    if (step * power >= raw) return 4 * Math.max(1, Math.round(step * power));
  }
  return 40 * power;
}

/** Sums the API's UTC hours into the 24 local hours of the store's zone. */
export function byLocalHour(data, zone) {
  const hours = Array.from({ length: 24 }, (_, hour) => ({ hour, orders: 0, revenue: 0 }));
  for (const row of data || []) {
    const bucket = hours[localHour(new Date(row.hour), zone)];
    bucket.orders += Number(row.orders) || 0;
    bucket.revenue += Number(row.revenue) || 0;
  }
  for (const bucket of hours) bucket.revenue = Math.round(bucket.revenue * 100) / 100;
  return hours;
}

const label = (hour) => `${String(hour).padStart(2, '0')}:00`;

/** The hourly chart: <svg id="hourly-chart"> plus a visually hidden table. */
export function hourlyChart(data, zone, currency) {
  const hours = byLocalHour(data, zone);
  const maxOrders = niceCountMax(Math.max(...hours.map((b) => b.orders)));
  const maxRevenue = niceMax(Math.max(...hours.map((b) => b.revenue)));
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const slot = plotW / 24;
  const barW = Math.max(4, slot * 0.62);
  const y = (value, max) => PAD.top + plotH - (value / max) * plotH;
  const fmt = (n) => (Number.isInteger(n) ? String(n) : n.toFixed(1));

  const grid = [];
  for (let i = 0; i <= 4; i += 1) {
    const gy = PAD.top + (plotH * i) / 4;
    grid.push(s('line', { class: 'grid', x1: PAD.left, x2: W - PAD.right, y1: gy, y2: gy }));
    grid.push(s('text', { class: 'axis-label axis-left', x: PAD.left - 8, y: gy + 4, 'text-anchor': 'end' }, fmt(maxOrders * (1 - i / 4))));
    grid.push(s('text', { class: 'axis-label axis-right', x: W - PAD.right + 8, y: gy + 4, 'text-anchor': 'start' },
      count(Math.round(maxRevenue * (1 - i / 4)))));
  }
  const bars = hours.map((b) => {
    const x = PAD.left + b.hour * slot + (slot - barW) / 2;
    const top = y(b.orders, maxOrders);
    return s('rect', {
      class: 'bar', x: x.toFixed(1), y: top.toFixed(1), width: barW.toFixed(1), height: (PAD.top + plotH - top).toFixed(1),
      fill: '#93b4f5', 'data-hour': b.hour, 'data-orders': b.orders, 'data-revenue': b.revenue.toFixed(2),
    }, s('title', null, `${label(b.hour)}–${label((b.hour + 1) % 24)}: ${count(b.orders)} orders, ${money(b.revenue, currency)}`));
  });
  const points = hours.map((b) => `${(PAD.left + b.hour * slot + slot / 2).toFixed(1)},${y(b.revenue, maxRevenue).toFixed(1)}`);
  const dots = hours.map((b, i) => {
    const [cx, cy] = points[i].split(',');
    return s('circle', { class: 'dot', cx, cy, r: 3, fill: '#0f766e', 'data-hour': b.hour, 'data-revenue': b.revenue.toFixed(2) },
      s('title', null, `${label(b.hour)}: revenue ${money(b.revenue, currency)}`));
  });
  const xLabels = hours.filter((b) => b.hour % 3 === 0).map((b) => s('text', {
    class: 'axis-label', x: (PAD.left + b.hour * slot + slot / 2).toFixed(1), y: H - PAD.bottom + 18, 'text-anchor': 'middle',
  }, label(b.hour)));
  const svg = s('svg', {
    id: 'hourly-chart', class: 'chart', role: 'img', 'aria-label': 'Hourly sales',
    viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: 'xMidYMid meet',
    'data-max-orders': maxOrders, 'data-max-revenue': maxRevenue, 'data-zone': zone,
  },
  s('title', null, `Hourly sales by hour of day (${zone})`),
  grid,
  s('line', { class: 'axis', x1: PAD.left, x2: W - PAD.right, y1: PAD.top + plotH, y2: PAD.top + plotH }),
  bars,
  s('polyline', { class: 'line', points: points.join(' '), fill: 'none', stroke: '#0f766e', 'stroke-width': 2, 'data-values': hours.map((b) => b.revenue.toFixed(2)).join(',') }),
  dots,
  xLabels,
  s('text', { class: 'axis-title', x: PAD.left - 36, y: PAD.top - 6, 'text-anchor': 'start' }, 'Orders'),
  s('text', { class: 'axis-title', x: W - 8, y: PAD.top - 6, 'text-anchor': 'end' }, `Revenue${currency ? ` (${currency})` : ''}`),
  s('text', { class: 'axis-title', x: PAD.left + plotW / 2, y: H - 6, 'text-anchor': 'middle' }, `Hour of day (${zone})`));

  const table = h('table', { class: 'vh', id: 'hourly-table' },
    h('caption', null, `Sales by hour of day (${zone})`),
    h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Hour'), h('th', { scope: 'col' }, 'Orders'), h('th', { scope: 'col' }, 'Revenue'))),
    h('tbody', null, hours.map((b) => h('tr', null, h('th', { scope: 'row' }, label(b.hour)), h('td', null, String(b.orders)), h('td', null, money(b.revenue, currency))))));
  const legend = h('p', { class: 'chart-legend', 'aria-hidden': 'true' },
    h('span', { class: 'legend-bar' }), ' Orders ', h('span', { class: 'legend-line' }), ' Revenue');
  return h('div', { class: 'chart-wrap' }, svg, legend, table);
}

/** A thin horizontal bar (SVG) showing value / max, for table cells. */
export function inlineBar(value, max) {
  const width = max > 0 ? Math.max(1, Math.round((value / max) * 100)) : 0;
  return s('svg', { class: 'inline-bar', viewBox: '0 0 100 8', preserveAspectRatio: 'none', 'aria-hidden': 'true', width: '100', height: '8' },
    s('rect', { class: 'inline-bar-bg', x: 0, y: 0, width: 100, height: 8, rx: 2, fill: '#eef1f5' }),
    s('rect', { class: 'inline-bar-fg', x: 0, y: 0, width, height: 8, rx: 2, fill: '#5b8def' }));
}
