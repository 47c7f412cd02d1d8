// Applications: where a call's verbs come from (a call hook, a JS app or
// app_json), the status hook, and the fallback.
import { get, post, put, del, acct } from '../api.js';
import { h, page, section, table, form, button, say } from '../ui.js';
import * as js from '../jsapi.js';

const hookURL = (hk) => (hk && hk.url) || '';

export async function render(arg) {
  const [apps, jsApps] = await Promise.all([get(acct('/Applications')), js.list()]);
  const jsName = (sid) => ((jsApps || []).find((j) => j.js_app_sid === sid) || {}).name || sid;
  const editing = arg ? apps.find((a) => a.application_sid === arg) : null;
  const jsOptions = [{ value: '', label: jsApps ? '(none: use the call hook)' : '(JS apps are not available on this server)' },
    ...(jsApps || []).map((j) => ({ value: j.js_app_sid, label: j.name }))];
  const e = editing || {};
  const fields = [
    { name: 'name', label: 'Name', required: true, value: e.name },
    { name: 'call_hook', label: 'Call hook URL', type: 'url', value: hookURL(e.call_hook), placeholder: 'https://example.com/call',
      help: 'Answers each new call with verbs. Leave empty to use a JS app or app_json.' },
    { name: 'call_hook_method', label: 'Call hook method', type: 'select', value: (e.call_hook && e.call_hook.method) || 'POST',
      options: [{ value: 'POST', label: 'POST' }, { value: 'GET', label: 'GET' }] },
    { name: 'js_app_sid', label: 'JS app (instead of a hook)', type: 'select', value: e.js_app_sid, options: jsOptions },
    { name: 'call_status_hook', label: 'Call status hook URL', type: 'url', value: hookURL(e.call_status_hook) },
    { name: 'fallback_hook', label: 'Fallback hook URL', type: 'url', value: hookURL(e.fallback_hook),
      help: 'Tried when the call hook fails.' },
    { name: 'fallback_js_app_sid', label: 'Fallback JS app', type: 'select', value: e.fallback_js_app_sid, options: jsOptions },
    { name: 'app_json', label: 'Static verbs (app_json)', type: 'textarea', value: e.app_json || '', rows: 3,
      help: 'A verb array used instead of a call hook, e.g. [{"verb":"say","text":"hello"}].' },
  ];
  const save = async (v) => {
    const body = { name: v.name };
    if (v.call_hook) body.call_hook = { url: v.call_hook, method: v.call_hook_method };
    if (v.call_status_hook) body.call_status_hook = { url: v.call_status_hook, method: 'POST' };
    if (v.fallback_hook) body.fallback_hook = { url: v.fallback_hook, method: v.call_hook_method };
    if (v.js_app_sid || editing) body.js_app_sid = v.js_app_sid || null;
    if (v.fallback_js_app_sid || editing) body.fallback_js_app_sid = v.fallback_js_app_sid || null;
    if (v.app_json) {
      try { JSON.parse(v.app_json); } catch { throw new Error('app_json is not valid JSON.'); }
      body.app_json = v.app_json;
    }
    if (editing) {
      await put(acct(`/Applications/${editing.application_sid}`), body);
      say(`Saved ${v.name}.`);
      location.hash = '#/applications';
    } else {
      await post(acct('/Applications'), body);
      say(`Created ${v.name}.`);
      render('');
    }
  };
  const source = (a) => {
    if (a.js_app_sid) return `JS app: ${jsName(a.js_app_sid)}`;
    if (a.call_hook && a.call_hook.url) return a.call_hook.url;
    if (a.app_json) return 'app_json';
    return '—';
  };
  page('Applications',
    section('Your applications', table('Applications', [
      { label: 'Name', value: (a) => a.name },
      { label: 'Verbs from', value: source },
      { label: 'Fallback', value: (a) => hookURL(a.fallback_hook) || (a.fallback_js_app_sid ? `JS app: ${jsName(a.fallback_js_app_sid)}` : '') },
      { label: 'SID', value: (a) => h('code', {}, a.application_sid) },
      { label: 'Actions', value: (a) => h('div', { class: 'row-actions' },
        h('a', { href: `#/simulator?app=${a.application_sid}`, class: 'button' }, 'Simulate', h('span', { class: 'sr-only' }, ` ${a.name}`)),
        h('a', { href: `#/applications/${a.application_sid}`, class: 'button' }, 'Edit', h('span', { class: 'sr-only' }, ` ${a.name}`)),
        button(`Delete`, async () => {
          if (!confirm(`Delete the application ${a.name}?`)) return;
          await del(acct(`/Applications/${a.application_sid}`));
          say(`Deleted ${a.name}.`);
          render('');
        }, { 'aria-label': `Delete ${a.name}`, class: 'danger' })) },
    ], apps, 'No applications yet: create one below.')),
    section(editing ? `Edit ${editing.name}` : 'New application',
      form(editing ? 'Application' : 'New application', fields, editing ? 'Save' : 'Create application', save,
        editing ? [h('a', { href: '#/applications', class: 'button' }, 'Cancel')] : [])));
}
