// Who is signed in: identifies a key (GET /v1/api-keys/me, or probing the
// API when that route is missing) and answers what its role may do.

import { api, ApiError } from './api.js';

export const session = { me: null };

export const can = {
  search: () => ['admin', 'support'].includes(session.me?.role),
  readOrders: () => ['admin', 'writer', 'support'].includes(session.me?.role),
  changeStatus: () => ['admin', 'writer'].includes(session.me?.role),
  cancel: () => ['admin', 'writer', 'support'].includes(session.me?.role),
  editTracking: () => ['admin', 'writer'].includes(session.me?.role),
  editTagsNote: () => ['admin', 'writer', 'support'].includes(session.me?.role),
  reports: () => ['admin', 'analyst'].includes(session.me?.role),
  admin: () => session.me?.role === 'admin',
  savedSearches: () => ['admin', 'support'].includes(session.me?.role),
};

async function allowed(path, key) {
  try {
    await api(path, { key, quiet401: true, params: { limit: 1 } });
    return true;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) throw error;
    if (error instanceof ApiError && (error.status === 403 || error.status === 404)) return false;
    return null;
  }
}

/** Works out the role from what the key may call (when /me is not served). */
async function probe(key) {
  const { data } = await api('/v1/stores', { key, quiet401: true, params: { limit: 200 } });
  const stores = data.data || [];
  const [search, analytics, orders] = await Promise.all([
    allowed('/v1/search/status', key),
    allowed('/v1/analytics/orders/summary', key),
    allowed('/v1/orders', key),
  ]);
  let role = 'writer';
  if (search && analytics) role = 'admin';
  else if (search) role = 'support';
  else if (analytics) role = 'analyst';
  else if (!orders) role = 'analyst';
  const scoped = stores.length === 1 && stores[0].id !== 'default';
  return { id: null, name: 'API key', role, store: scoped ? stores[0].id : null, probed: true };
}

/** Resolves {id, name, role, store} for a key, or rejects (401: not accepted). */
export async function identify(key) {
  try {
    const { data } = await api('/v1/api-keys/me', { key, quiet401: true });
    return data;
  } catch (error) {
    if (error instanceof ApiError && [404, 405, 501].includes(error.status)) return probe(key);
    throw error;
  }
}

/** "NAME · ROLE · store STORE". */
export function whoamiText(me) {
  let text = `${me.name} · ${me.role}`;
  if (me.store) text += ` · store ${me.store}`;
  return text;
}
