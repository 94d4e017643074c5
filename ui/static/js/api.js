// The API client: every request of the UI goes through here.
//
// Auth state (docs/ui.md): the access token (10 minutes) lives only in
// this module's memory. The refresh token (single use, rotated on every
// refresh) is kept in sessionStorage, so a reload of the tab signs in
// again without the password, while closing the tab forgets it and other
// tabs never see it; nothing goes to localStorage or cookies. The access
// token is refreshed a minute before it expires, and once more on a 401;
// refreshes are serialised, because presenting a spent refresh token
// revokes the whole session.
import { setClock } from './clock.js';
import { t } from './i18n.js';

const RT_KEY = 'duban.refresh';
const BASE = '/api/v1';

let access = null;
let refreshTimer = null;
let refreshing = null;
const signOutListeners = new Set();

export const session = { user: null };

export class ApiError extends Error {
  constructor(status, problem = {}, requestId = '') {
    super(problem.detail || problem.title || (status >= 500 ? t('serverError') : `HTTP ${status}`));
    this.status = status;
    this.code = problem.code || (status === 0 ? 'network' : '');
    this.title = problem.title || '';
    this.errors = Array.isArray(problem.errors) ? problem.errors : [];
    this.requestId = problem.request_id || requestId || '';
    this.retryAfter = 0;
    // The whole problem document: some carry extension members (a
    // reviewed plan's errors come with the file they point into).
    this.problem = problem;
  }
}

function readRefresh() {
  try { return sessionStorage.getItem(RT_KEY); } catch { return null; }
}
function writeRefresh(v) {
  try {
    if (v) sessionStorage.setItem(RT_KEY, v); else sessionStorage.removeItem(RT_KEY);
  } catch { /* private mode: the session then ends with the page */ }
}

function accept(r) {
  access = r.access_token;
  writeRefresh(r.refresh_token);
  session.user = r.user;
  if (r.user?.clock) setClock(r.user.clock);
  clearTimeout(refreshTimer);
  const secs = Math.max(15, (r.expires_in || 600) - 60);
  refreshTimer = setTimeout(() => { refresh().catch(() => {}); }, secs * 1000);
}

function clear() {
  access = null;
  clearTimeout(refreshTimer);
  writeRefresh(null);
  session.user = null;
}

export function onSignOut(fn) { signOutListeners.add(fn); }

// signOut forgets the session locally and tells the app why.
export function signOut(reason, force = false) {
  const had = force || !!session.user || !!access;
  clear();
  if (had) for (const fn of signOutListeners) fn(reason);
}

export function signedIn() { return !!access && !!session.user; }

async function problemOf(res) {
  let body = {};
  const ct = res.headers.get('Content-Type') || '';
  if (ct.includes('json')) {
    try { body = await res.json(); } catch { body = {}; }
  }
  const err = new ApiError(res.status, body, res.headers.get('X-Request-ID') || '');
  err.retryAfter = Number(res.headers.get('Retry-After')) || 0;
  return err;
}

async function send(path, opts) {
  const headers = { Accept: 'application/json', ...(opts.headers || {}) };
  let body;
  if (opts.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.json);
  } else if (opts.form) {
    body = opts.form; // the browser sets the multipart boundary
  } else if (opts.body !== undefined) {
    body = opts.body;
  }
  if (opts.idem) headers['Idempotency-Key'] = opts.idem;
  if (access && !opts.anonymous) headers.Authorization = `Bearer ${access}`;
  try {
    return await fetch(BASE + path, { method: opts.method || 'GET', headers, body, cache: 'no-store', credentials: 'omit' });
  } catch {
    throw new ApiError(0, { detail: t('networkError'), code: 'network' });
  }
}

// A fault (503: a service Duban needs does not answer; 504: it did not
// finish in time) is retried with the same request, so with the same
// Idempotency-Key: whatever the first try did, it is done once. The wait
// is the server's Retry-After (at most maxRetryWait); the page is told
// (the event "duban:retrying") so the person knows it is being retried.
const maxRetries = 4;
const maxRetryWait = 10;

async function sendRetrying(path, opts) {
  let res = await send(path, opts);
  for (let n = 1; n <= maxRetries && (res.status === 503 || res.status === 504); n++) {
    const wait = Math.min(Number(res.headers.get('Retry-After')) || 2, maxRetryWait);
    window.dispatchEvent(new CustomEvent('duban:retrying', { detail: { n, of: maxRetries, wait, path } }));
    await new Promise((r) => setTimeout(r, wait * 1000));
    res = await send(path, opts);
  }
  if (res.ok) window.dispatchEvent(new CustomEvent('duban:recovered', { detail: { path } }));
  return res;
}

// api sends a request and returns the decoded JSON (null for 204), or the
// Response itself with raw: true. A failure throws an ApiError carrying
// the problem document's code, detail and field errors.
export async function api(path, opts = {}) {
  let res = await sendRetrying(path, opts);
  if (res.status === 401 && !opts.anonymous && readRefresh()) {
    try {
      await refresh();
    } catch (e) {
      // A refused refresh token has already cleared the session (refresh
      // below): the page must still hear of it and show the sign-in form.
      if (e.status === 401) signOut('expired', true);
      throw e;
    }
    res = await send(path, opts);
  }
  if (res.status === 401 && !opts.anonymous) {
    const err = await problemOf(res);
    signOut('expired');
    throw err;
  }
  if (!res.ok) {
    const err = await problemOf(res);
    if (err.code === 'password_change_required' && session.user) {
      session.user.must_change_password = true;
      window.dispatchEvent(new CustomEvent('duban:password-required'));
    }
    throw err;
  }
  if (opts.raw) return res;
  if (res.status === 204) return null;
  const ct = res.headers.get('Content-Type') || '';
  return ct.includes('json') ? res.json() : res.text();
}

export async function login(username, password) {
  const r = await api('/auth/login', { method: 'POST', json: { username, password }, anonymous: true });
  accept(r);
  return r.user;
}

// refresh spends the refresh token for a new pair; concurrent callers share
// one request.
export function refresh() {
  if (refreshing) return refreshing;
  const rt = readRefresh();
  if (!rt) return Promise.reject(new ApiError(401, { code: 'unauthorized', detail: t('sessionExpired') }));
  refreshing = (async () => {
    try {
      const r = await api('/auth/refresh', { method: 'POST', json: { refresh_token: rt }, anonymous: true });
      accept(r);
      return r.user;
    } catch (e) {
      if (e.status === 401) clear();
      throw e;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

// restore signs in again after a reload, from the tab's refresh token.
export async function restore() {
  if (!readRefresh()) return null;
  try {
    return await refresh();
  } catch (e) {
    if (e.status === 401) return null;
    throw e;
  }
}

export async function logout() {
  try {
    if (access) await api('/auth/logout', { method: 'POST' });
  } catch { /* the session ends locally anyway */ }
  signOut('logout');
}

// reloadMe refreshes the user (roles, unread count, clock).
export async function reloadMe() {
  const me = await api('/me');
  session.user = me;
  if (me.clock) setClock(me.clock);
  return me;
}

// download fetches a file with the Authorization header and hands it to
// the browser under the server's file name; opts go to api (a POST with a
// JSON body, for a file made from what the page holds).
export async function download(path, fallbackName, opts = {}) {
  const res = await api(path.replace(/^\/api\/v1/, ''), { raw: true, ...opts, headers: { Accept: '*/*', ...(opts.headers || {}) } });
  const blob = await res.blob();
  const name = fileName(res.headers.get('Content-Disposition')) || fallbackName || 'download';
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  return name;
}

function fileName(cd) {
  if (!cd) return '';
  const star = /filename\*=UTF-8''([^;]+)/i.exec(cd);
  if (star) {
    try { return decodeURIComponent(star[1]); } catch { /* fall through */ }
  }
  const plain = /filename="([^"]+)"/i.exec(cd);
  return plain ? plain[1] : '';
}

// qs builds a query string, leaving out empty values.
export function qs(params) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '' || v === false) continue;
    p.set(k, String(v));
  }
  const s = p.toString();
  return s ? `?${s}` : '';
}

export function taskPath(id, rest = '') {
  return `/tasks/${encodeURIComponent(id)}${rest}`;
}
