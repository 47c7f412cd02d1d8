// api.js: the REST API as the signed-in key sees it. The key lives in
// sessionStorage (gone when the tab closes) and travels only in the
// Authorization header, or as the first message of a websocket: never in a URL.

const KEY = 'voxrun.key';
const ACCOUNT = 'voxrun.account';

export const session = {
  get key() { return sessionStorage.getItem(KEY) || ''; },
  set key(v) { v ? sessionStorage.setItem(KEY, v) : sessionStorage.removeItem(KEY); },
  get account() { return sessionStorage.getItem(ACCOUNT) || ''; },
  set account(v) { v ? sessionStorage.setItem(ACCOUNT, v) : sessionStorage.removeItem(ACCOUNT); },
  clear() { sessionStorage.removeItem(KEY); sessionStorage.removeItem(ACCOUNT); },
};

// ApiError carries the status and the body's msg (and, for a JS compile
// error, line and column).
export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.msg) || `request failed (${status})`);
    this.status = status;
    this.body = body || {};
  }
}

// request sends one call to /v1 and returns the decoded JSON (or null).
export async function request(method, path, body, opts = {}) {
  const headers = { Authorization: `Bearer ${opts.key || session.key}` };
  const init = { method, headers };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(`/v1${path}`, init);
  if (opts.raw) {
    if (!res.ok) throw new ApiError(res.status, await res.json().catch(() => null));
    return res;
  }
  const text = await res.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = { msg: text }; }
  }
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

export const get = (p, o) => request('GET', p, undefined, o);
export const post = (p, b, o) => request('POST', p, b ?? {}, o);
export const put = (p, b, o) => request('PUT', p, b ?? {}, o);
export const del = (p, o) => request('DELETE', p, undefined, o);

// acct is the path of the current account.
export const acct = (rest = '') => `/Accounts/${encodeURIComponent(session.account)}${rest}`;

// socket opens a websocket under /v1 and authenticates with its first message.
export function socket(path) {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const ws = new WebSocket(`${proto}//${location.host}/v1${path}`);
  ws.addEventListener('open', () => ws.send(JSON.stringify({ type: 'auth', key: session.key })));
  return ws;
}

// download saves a GET's body as a file.
export async function download(path, filename) {
  const res = await request('GET', path, undefined, { raw: true });
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

// blobURL fetches a binary resource (a WAV clip) with the key.
export async function blobURL(path) {
  const res = await request('GET', path, undefined, { raw: true });
  return URL.createObjectURL(await res.blob());
}
