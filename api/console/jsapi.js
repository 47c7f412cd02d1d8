// jsapi.js: the JS apps REST routes, in one place.
//   /v1/Accounts/{sid}/JsApps                     list, create
//   /v1/Accounts/{sid}/JsApps/{jsid}              get, update (name, env_vars, active_version_sid), delete
//   /v1/Accounts/{sid}/JsApps/{jsid}/Versions     list, create ({source, label}; 422 {msg, line, column})
//   /v1/Accounts/{sid}/JsApps/{jsid}/Logs         recent invocation logs
import { get, post, put, del, acct } from './api.js';

const base = (jsid = '', rest = '') => acct(`/JsApps${jsid ? `/${encodeURIComponent(jsid)}` : ''}${rest}`);

// list returns the account's JS apps, or null when this server has no JS apps.
export async function list() {
  try {
    const r = await get(base());
    return Array.isArray(r) ? r : (r && r.data) || [];
  } catch (e) {
    if (e.status === 404 || e.status === 405 || e.status === 503) return null;
    throw e;
  }
}
export const one = (jsid) => get(base(jsid));
export const create = (body) => post(base(), body);
export const update = (jsid, body) => put(base(jsid), body);
export const remove = (jsid) => del(base(jsid));
export async function versions(jsid) {
  const r = await get(base(jsid, '/Versions'));
  return Array.isArray(r) ? r : (r && r.data) || [];
}
export const version = (jsid, vsid) => get(base(jsid, `/Versions/${encodeURIComponent(vsid)}`));
export const addVersion = (jsid, body) => post(base(jsid, '/Versions'), body);
export async function logs(jsid) {
  try {
    const r = await get(base(jsid, '/Logs'));
    return Array.isArray(r) ? r : (r && r.data) || [];
  } catch (e) {
    if (e.status === 404) return [];
    throw e;
  }
}
