// The JSON API client: Bearer key from sessionStorage, problem+json errors,
// ETag/If-Match, and one hook for a 401 (key revoked or expired).

const KEY_NAME = 'ordersearch.key';

export function getKey() {
  try {
    return sessionStorage.getItem(KEY_NAME);
  } catch {
    return null;
  }
}

export function setKey(key) {
  sessionStorage.setItem(KEY_NAME, key);
}

export function clearKey() {
  try {
    sessionStorage.removeItem(KEY_NAME);
  } catch {
    /* storage unavailable: nothing kept */
  }
}

/** An answer that was not 2xx; `problem` is the problem+json body if any. */
export class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.problem = problem || {};
  }

  get errors() {
    return Array.isArray(this.problem.errors) ? this.problem.errors : [];
  }
}

let unauthorizedHandler = () => {};

/** Called (once per 401) when a signed-in key stops being accepted. */
export function onUnauthorized(handler) {
  unauthorizedHandler = handler;
}

function query(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params || {})) {
    if (value === undefined || value === null || value === '') continue;
    search.set(name, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

/**
 * Calls the API. Resolves {status, data, etag, response}; rejects with an
 * ApiError for non-2xx answers (a 401 also fires the unauthorized hook unless
 * `quiet401`), or with the AbortError when `signal` aborts.
 */
export async function api(path, options = {}) {
  const { method = 'GET', params, body, ifMatch, signal, key, quiet401, raw } = options;
  const headers = { Accept: 'application/json' };
  const secret = key || getKey();
  if (secret) headers.Authorization = `Bearer ${secret}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (ifMatch !== undefined && ifMatch !== null) headers['If-Match'] = `"${ifMatch}"`;
  let response;
  try {
    response = await fetch(path + query(params), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
      cache: 'no-store',
      credentials: 'omit',
    });
  } catch (error) {
    if (error.name === 'AbortError') throw error;
    throw new ApiError(0, { title: 'Network error', detail: 'The service could not be reached. Check your connection and try again.' });
  }
  if (!response.ok) {
    let problem = null;
    try {
      problem = await response.json();
    } catch {
      problem = { title: response.statusText, detail: `The service answered ${response.status} ${response.statusText}`.trim() };
    }
    const error = new ApiError(response.status, problem);
    if (response.status === 401 && !quiet401) unauthorizedHandler(error);
    throw error;
  }
  const etag = response.headers.get('ETag');
  if (raw) return { status: response.status, response, etag };
  let data = null;
  if (response.status !== 204) {
    const text = await response.text();
    data = text ? JSON.parse(text) : null;
  }
  return { status: response.status, data, etag: etag ? etag.replace(/^W\//, '').replace(/"/g, '') : null, response };
}

/** GET every page of a cursor-paged list ({data, next_cursor}); 200 a page
 *  unless `params.limit` says otherwise (undefined: the server's default). */
export async function listAll(path, params = {}, maxPages = 20) {
  const out = [];
  let cursor;
  for (let page = 0; page < maxPages; page += 1) {
    const { data } = await api(path, { params: { limit: 200, ...params, cursor } });
    out.push(...(data.data || []));
    cursor = data.next_cursor;
    if (!cursor) break;
  }
  return out;
}

/** The detail plus every field message: "1 invalid field(s): from: must be …". */
export function describeFully(error) {
  const base = describe(error);
  if (!(error instanceof ApiError) || !error.errors.length) return base;
  return `${base}: ${error.errors.map((e) => (e.field ? `${e.field}: ${e.message}` : e.message)).join('; ')}`;
}

/** A short, human sentence for an error (problem detail, else the title). */
export function describe(error) {
  if (!error) return '';
  if (error instanceof ApiError) {
    const p = error.problem;
    if (error.status === 403) return p.detail ? `Not allowed for this key: ${p.detail}` : 'This key is not allowed to do that.';
    if (error.status === 503) return p.detail ? `Service unavailable: ${p.detail}` : 'The service is unavailable; try again shortly.';
    return p.detail || p.title || `HTTP ${error.status}`;
  }
  return error.message || String(error);
}
