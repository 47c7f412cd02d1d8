// JS apps: code written here, run by voxrun itself. Each save is a new
// immutable version; deploying makes a version the one that runs.
import { h, page, section, table, form, button, say, when, field, errorText } from '../ui.js';
import * as js from '../jsapi.js';
import { Editor } from '../editor.js';

export const TEMPLATE = `// A JS app maps hook names to handlers. A handler gets the hook's payload
// and ctx (ctx.state, ctx.env, ctx.log, ctx.kv, ctx.fetch) and returns verbs.
export default {
  call: (payload, ctx) => {
    ctx.log('call from ' + payload.from);
    return [
      { verb: 'gather', actionHook: '/menu', numDigits: 1, timeout: 10,
        say: { text: 'Welcome. Press 1 for sales.' } },
    ];
  },
  '/menu': (payload, ctx) => [
    { verb: 'say', text: 'You pressed ' + payload.digits + '.' },
    { verb: 'hangup' },
  ],
};
`;

export async function render(arg) {
  if (arg) return detail(arg);
  const apps = await js.list();
  if (apps === null) {
    page('JS apps', h('p', { class: 'notice' }, 'This server does not offer JS apps yet. Webhook applications work as usual.'));
    return;
  }
  page('JS apps',
    section('Your JS apps', table('JS apps', [
      { label: 'Name', value: (a) => h('a', { href: `#/jsapps/${a.js_app_sid}` }, a.name) },
      { label: 'Description', value: (a) => a.description || '' },
      { label: 'Deployed', value: (a) => (a.active_version_sid ? 'yes' : 'not yet') },
      { label: 'Updated', value: (a) => when(a.updated_at) },
      { label: 'Actions', value: (a) => button('Delete', async () => {
        if (!confirm(`Delete the JS app ${a.name} and all its versions?`)) return;
        await js.remove(a.js_app_sid);
        say(`Deleted ${a.name}.`);
        render('');
      }, { class: 'danger', 'aria-label': `Delete ${a.name}` }) },
    ], apps, 'No JS apps yet: create one below.')),
    section('New JS app', form('New JS app', [
      { name: 'name', label: 'Name', required: true },
      { name: 'description', label: 'Description' },
    ], 'Create JS app', async (v) => {
      const r = await js.create({ name: v.name, description: v.description || undefined });
      say(`Created ${v.name}.`);
      location.hash = `#/jsapps/${r.sid || r.js_app_sid}`;
    })));
}

async function detail(jsid) {
  const [app, versions] = await Promise.all([js.one(jsid), js.versions(jsid)]);
  versions.sort((a, b) => b.version - a.version);
  const active = versions.find((v) => v.js_app_version_sid === app.active_version_sid);
  const newest = versions[0];
  let loaded = active || newest;
  let source = TEMPLATE;
  if (loaded) source = loaded.source ?? (await js.version(jsid, loaded.js_app_version_sid)).source ?? '';
  const editor = new Editor({ label: `Source of ${app.name}`, value: source, onChange: () => editor.markError(0) });
  const problem = h('div', { class: 'problem', role: 'alert', hidden: true });
  const showProblem = (e) => {
    const b = e.body || {};
    const line = Number(b.line) || 0;
    editor.markError(line);
    problem.hidden = false;
    problem.replaceChildren(
      h('strong', {}, line ? `Line ${line}${b.column ? `, column ${b.column}` : ''}: ` : 'Error: '), b.msg || errorText(e), ' ',
      line ? h('button', { type: 'button', onclick: () => editor.goTo(line, Number(b.column) || 1) }, 'Go to line') : null);
  };
  const labelField = field({ name: 'label', label: 'Version label (optional)', placeholder: 'what changed' });
  const saveVersion = async (deploy) => {
    problem.hidden = true;
    editor.markError(0);
    let r;
    try {
      r = await js.addVersion(jsid, { source: editor.value, label: labelField.querySelector('input').value || undefined });
    } catch (e) {
      if (e.status === 422 || e.status === 400) { showProblem(e); say('The code does not compile.', 'error'); return; }
      throw e;
    }
    const vsid = r.sid || r.js_app_version_sid;
    if (deploy) {
      await js.update(jsid, { active_version_sid: vsid });
      say('Saved and deployed.');
    } else {
      say('Saved a new version.');
    }
    detail(jsid);
  };
  const vars = app.env_vars ? (typeof app.env_vars === 'string' ? app.env_vars : JSON.stringify(app.env_vars, null, 2)) : '{}';
  page(`JS app: ${app.name}`,
    h('p', {}, h('a', { href: '#/jsapps' }, 'All JS apps'), ' · ',
      active ? `Deployed: version ${active.version}` : 'Not deployed yet', ' · ',
      loaded ? `Editing from version ${loaded.version}` : 'New code'),
    section('Code', editor.el, problem, labelField,
      h('div', { class: 'actions' },
        button('Save version', () => saveVersion(false)),
        button('Save and deploy', () => saveVersion(true), { class: 'primary' }))),
    section('Versions', table('Versions', [
      { label: 'Version', value: (v) => String(v.version) },
      { label: 'Label', value: (v) => v.label || '' },
      { label: 'Saved', value: (v) => when(v.created_at) },
      { label: 'State', value: (v) => (v.js_app_version_sid === app.active_version_sid ? 'deployed' : '') },
      { label: 'Actions', value: (v) => h('div', { class: 'row-actions' },
        button('Load', async () => {
          const full = v.source !== undefined ? v : await js.version(jsid, v.js_app_version_sid);
          editor.value = full.source || '';
          say(`Loaded version ${v.version} into the editor.`);
        }, { 'aria-label': `Load version ${v.version}` }),
        v.js_app_version_sid === app.active_version_sid ? null : button('Deploy', async () => {
          await js.update(jsid, { active_version_sid: v.js_app_version_sid });
          say(`Deployed version ${v.version}.`);
          detail(jsid);
        }, { 'aria-label': `Deploy version ${v.version}` })) },
    ], versions, 'No versions yet: save one above.')),
    section('Variables', form('Variables (ctx.env)', [
      { name: 'env_vars', label: 'Variables as a JSON object of names to strings', type: 'textarea', value: vars, rows: 4 },
    ], 'Save variables', async (v) => {
      let obj;
      try { obj = JSON.parse(v.env_vars || '{}'); } catch { throw new Error('Variables must be a JSON object.'); }
      await js.update(jsid, { env_vars: obj });
      say('Saved the variables.');
    })),
    section('Recent logs', await logList(jsid)));
}

async function logList(jsid) {
  const runs = await js.logs(jsid).catch(() => []);
  const lines = (r) => (r.logs || []).map((l) => `${l.level ? `[${l.level}] ` : ''}${l.message ?? l.msg ?? JSON.stringify(l)}`).join('\n');
  return table('Recent invocations', [
    { label: 'Time', value: (r) => when(r.created_at) },
    { label: 'Hook', value: (r) => r.hook || '' },
    { label: 'Outcome', value: (r) => r.outcome + (r.error ? `: ${r.error}` : '') },
    { label: 'Duration', value: (r) => `${Math.round(r.duration_ms || 0)} ms` },
    { label: 'Logged', value: (r) => (lines(r) ? h('pre', { class: 'logs' }, lines(r)) : '') },
  ], runs, 'No invocations yet.');
}
