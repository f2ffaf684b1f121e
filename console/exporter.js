// Export of the current search as CSV or NDJSON: fetch with the Bearer key
// (never a key in a URL), then Blob + object URL + a temporary <a download>.

import { api, describe } from './api.js';
import { h, notice, errorBanner } from './dom.js';

function stamp(date = new Date()) {
  const pad = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}${pad(date.getMonth() + 1)}${pad(date.getDate())}`;
}

/** Downloads every match of q (within a saved search when `saved` is set);
 *  sets body[data-last-export] = "format:bytes". */
export async function exportOrders(format, { q, saved }, button) {
  const label = button ? button.textContent : '';
  if (button) {
    button.disabled = true;
    button.textContent = 'Exporting…';
  }
  try {
    const { response } = await api('/v1/orders/export', { params: { q, format, saved }, raw: true });
    const type = format === 'csv' ? 'text/csv' : 'application/x-ndjson';
    const blob = new Blob([await response.arrayBuffer()], { type });
    const url = URL.createObjectURL(blob);
    const link = h('a', { href: url, download: `orders-${stamp()}.${format}`, class: 'vh' });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    document.body.dataset.lastExport = `${format}:${blob.size}`;
    notice(`Exported ${format.toUpperCase()} (${blob.size.toLocaleString('en-US')} bytes)`);
  } catch (error) {
    errorBanner(`Export failed: ${describe(error)}`);
  } finally {
    if (button) {
      button.disabled = false;
      button.textContent = label;
    }
  }
}
