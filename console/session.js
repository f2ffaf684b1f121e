// Who is signed in: identifies a key (GET /v1/api-keys/me) and answers what
// its role may do.

import { api } from './api.js';

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

/** Resolves {id, name, role, store} for a key, or rejects (401: not accepted). */
export async function identify(key) {
  const { data } = await api('/v1/api-keys/me', { key, quiet401: true });
  return data;
}

/** "NAME · ROLE · store STORE". */
export function whoamiText(me) {
  let text = `${me.name} · ${me.role}`;
  if (me.store) text += ` · store ${me.store}`;
  return text;
}
