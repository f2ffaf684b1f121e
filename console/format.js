// Formatting for people: money with currency, counts, dates in a store's
// time zone, durations; plus the cached store list (zones and currencies).

import { listAll } from './api.js';

const counts = new Intl.NumberFormat('en-US');
const dateFormats = new Map();

export function count(n) {
  return counts.format(Number(n) || 0);
}

/** "1,042.50 USD" from the API's decimal string. */
export function money(amount, currency) {
  if (amount === null || amount === undefined || amount === '') return '—';
  const value = Number(amount);
  const text = Number.isFinite(value)
    ? value.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })
    : String(amount);
  return currency ? `${text} ${currency}` : text;
}

function formatter(timeZone, withTime) {
  const key = `${timeZone || 'UTC'}|${withTime}`;
  let format = dateFormats.get(key);
  if (!format) {
    const options = { year: 'numeric', month: 'short', day: 'numeric', timeZone: timeZone || 'UTC' };
    if (withTime) Object.assign(options, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    try {
      format = new Intl.DateTimeFormat('en-US', options);
    } catch {
      format = new Intl.DateTimeFormat('en-US', { ...options, timeZone: 'UTC' });
    }
    dateFormats.set(key, format);
  }
  return format;
}

/** "Dec 7, 2026, 14:03" in the zone. */
export function dateTime(iso, timeZone) {
  if (!iso) return '—';
  return formatter(timeZone, true).format(new Date(iso));
}

/** "Dec 7, 2026" in the zone. */
export function dateOnly(iso, timeZone) {
  if (!iso) return '—';
  return formatter(timeZone, false).format(new Date(iso));
}

/** A <time> element for an instant, shown in the zone. */
export function timeEl(iso, timeZone, className, withTime = true) {
  const el = document.createElement('time');
  if (className) el.className = className;
  if (iso) el.dateTime = iso;
  el.textContent = withTime ? dateTime(iso, timeZone) : dateOnly(iso, timeZone);
  if (iso) el.title = `${dateTime(iso, timeZone)} (${timeZone || 'UTC'})`;
  return el;
}

/** The calendar date "YYYY-MM-DD" of an instant in a zone. */
export function localDate(instant, timeZone) {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone: timeZone || 'UTC', year: 'numeric', month: '2-digit', day: '2-digit' })
    .formatToParts(instant);
  const get = (type) => parts.find((p) => p.type === type).value;
  return `${get('year')}-${get('month')}-${get('day')}`;
}

/** The hour 0–23 of an instant in a zone. */
export function localHour(instant, timeZone) {
  const text = new Intl.DateTimeFormat('en-GB', { timeZone: timeZone || 'UTC', hour: '2-digit', hourCycle: 'h23' }).format(instant);
  return Number.parseInt(text, 10) % 24;
}

/** Adds days to a "YYYY-MM-DD" date. */
export function addDays(date, days) {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/** "2 d 4 h", "3 h 12 min", "45 s". */
export function duration(seconds) {
  if (seconds === null || seconds === undefined) return '—';
  const s = Math.round(Number(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const hrs = Math.floor(m / 60);
  if (hrs < 48) return `${hrs} h ${m % 60} min`;
  return `${Math.floor(hrs / 24)} d ${hrs % 24} h`;
}

/** "850 ms", "1.2 s", "3 min". */
export function millis(ms) {
  const n = Number(ms) || 0;
  if (n < 1000) return `${n} ms`;
  if (n < 60000) return `${(n / 1000).toFixed(1)} s`;
  return duration(n / 1000);
}

let storesPromise = null;
const storeMap = new Map();

/** The stores this key sees, fetched once per sign-in. */
export function loadStores() {
  if (!storesPromise) {
    storesPromise = listAll('/v1/stores')
      .then((stores) => {
        storeMap.clear();
        for (const store of stores) storeMap.set(store.id, store);
        return stores;
      })
      .catch((error) => {
        storesPromise = null;
        throw error;
      });
  }
  return storesPromise;
}

export function forgetStores() {
  storesPromise = null;
  storeMap.clear();
}

/** The time zone of a store (UTC until the list is known). */
export function zoneOf(storeId) {
  const store = storeMap.get(storeId);
  return (store && store.timezone) || 'UTC';
}

export function storeName(storeId) {
  const store = storeMap.get(storeId);
  return store ? store.name : storeId;
}

export function currencyOf(storeId) {
  const store = storeMap.get(storeId);
  return store ? store.currency : '';
}
