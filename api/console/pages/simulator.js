// Simulator: a call to an application without a phone. voxrun runs the real
// interpreter on a virtual leg; the timeline shows each verb, each hook and
// its reply, logs and state; the keypad, the speech box and the hang-up
// button act as the caller; say and play come back as audio.
import { get, post, acct, socket, download, blobURL } from '../api.js';
import { h, page, section, form, button, say, table, when, pretty, errorText } from '../ui.js';

let ws = null;
let objectURLs = [];
export function leave() {
  if (ws) { ws.close(); ws = null; }
  objectURLs.forEach((u) => URL.revokeObjectURL(u));
  objectURLs = [];
}

export async function render(arg, query) {
  leave();
  if (arg) return call(arg);
  const [apps, sims] = await Promise.all([get(acct('/Applications')), get(acct('/Simulations')).catch(() => [])]);
  const name = (sid) => (apps.find((a) => a.application_sid === sid) || {}).name || sid;
  page('Simulator',
    h('p', {}, 'Call one of your applications from the browser: no phone, no carrier. The call runs on voxrun like any other; it appears in recent calls when it ends.'),
    section('Start a call', form('Simulated call', [
      { name: 'application_sid', label: 'Application', type: 'select', required: true, value: query.get('app') || '',
        options: apps.map((a) => ({ value: a.application_sid, label: a.name })) },
      { name: 'from', label: 'From (caller)', value: '+15550001111', inputmode: 'tel' },
      { name: 'to', label: 'To (called number)', value: '+15550002222', inputmode: 'tel' },
    ], 'Start call', async (v) => {
      if (!v.application_sid) throw new Error('Create an application first.');
      const r = await post(acct('/Simulations'), v);
      location.hash = `#/simulator/${r.call_sid}`;
    })),
    section('Recent simulated calls', table('Recent simulated calls', [
      { label: 'Started', value: (s) => when(s.started_at) },
      { label: 'Application', value: (s) => name(s.application_sid) },
      { label: 'Status', value: (s) => (s.running ? 'running' : s.call_status) + (s.failed ? ' (app failed)' : '') },
      { label: 'Call', value: (s) => h('a', { href: `#/simulator/${s.call_sid}` }, s.call_sid) },
    ], sims, 'None in the last hour.')));
}

// describe turns one event into the parts of its timeline entry.
function describe(e) {
  const json = (label, v) => h('details', {}, h('summary', {}, label), h('pre', {}, typeof v === 'string' ? v : pretty(v)));
  const ms = (x) => (x >= 1000 ? `${(x / 1000).toFixed(1)} s` : `${Math.round(x)} ms`);
  switch (e.type) {
    case 'verb:start': return [h('strong', {}, e.verb), ` started (${e.path})`, e.data ? json('attributes', e.data) : null];
    case 'verb:end': return [h('strong', {}, e.verb), ' ended', e.error ? h('span', { class: 'error' }, `: ${e.error}`) : null, e.data ? json('results', e.data) : null];
    case 'hook:request': return [`→ ${e.kind} `, h('code', {}, e.url || ''), e.data ? json('payload', e.data) : null];
    case 'hook:reply': return [`← ${e.kind} `, e.status ? `${e.status} ` : '', `in ${ms(e.latency_ms || 0)}`,
      e.error ? h('span', { class: 'error' }, `: ${e.error}`) : null, e.data ? json('verbs', e.data) : (e.error ? null : ' (no verbs: carry on)')];
    case 'leg': return [`call ${e.kind}`, e.status ? ` (${e.status})` : '', e.message ? `: ${e.message}` : ''];
    case 'status': return [`call status: ${e.kind}`];
    case 'alert': return [h('strong', {}, `alert ${e.kind}: `), e.message];
    case 'dtmf': return [`caller pressed ${e.digit}`];
    case 'speech': return [`caller said “${e.message}”`, e.kind === 'ignored' ? ' (nothing was listening for speech)' : ''];
    case 'log': return [`log${e.kind ? ` (${e.kind})` : ''}: `, e.message];
    case 'state': return [json('ctx.state', e.data)];
    case 'audio': return [`audio played to the caller (${ms(e.duration_ms || 0)})`];
    case 'end': return [h('strong', {}, `call ended: ${e.kind || 'done'}`)];
    default: return [e.type];
  }
}

async function call(callSid) {
  const base = acct(`/Simulations/${encodeURIComponent(callSid)}`);
  const timeline = h('ol', { class: 'timeline', role: 'log', 'aria-label': 'Call timeline' });
  const state = h('p', { class: 'call-state', 'aria-live': 'polite' }, 'Connecting…');
  let ended = false;
  const seen = new Set();

  const add = (e) => {
    if (seen.has(e.seq)) return;
    seen.add(e.seq);
    const li = h('li', { class: `ev ev-${e.type.replace(':', '-')}`, 'data-type': e.type, 'data-verb': e.verb || '', 'data-kind': e.kind || '' },
      h('time', { datetime: e.time }, new Date(e.time).toLocaleTimeString()), ' ', describe(e));
    if (e.type === 'audio') {
      const audio = h('audio', { controls: true, preload: 'auto', 'aria-label': `Audio clip ${e.clip}` });
      li.append(audio);
      blobURL(`${base}/Audio/${e.clip}`).then((u) => {
        objectURLs.push(u);
        audio.src = u;
        audio.play().catch(() => {});
      }).catch((err) => li.append(h('span', { class: 'error' }, ` (${errorText(err)})`)));
    }
    timeline.append(li);
    li.scrollIntoView({ block: 'nearest' });
    if (e.type === 'status') state.textContent = `Call ${callSid}: ${e.kind}`;
    if (e.type === 'end') finish(e.kind);
  };

  const controls = h('div', { class: 'caller' });
  const finish = (status) => {
    if (ended) return;
    ended = true;
    state.textContent = `Call ${callSid} ended${status ? `: ${status}` : ''}.`;
    for (const b of controls.querySelectorAll('button, input')) b.disabled = true;
    say('The call has ended.');
  };

  const send = async (msg, rest) => {
    if (ended) { say('The call has ended.', 'error'); return; }
    if (ws && ws.readyState === WebSocket.OPEN) { ws.send(JSON.stringify(msg)); return; }
    await post(`${base}${rest.path}`, rest.body);
  };
  const press = (k) => send({ type: 'dtmf', digits: k }, { path: '/Dtmf', body: { digits: k } });

  const keys = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '0', '#'];
  const keypad = h('div', { class: 'keypad', role: 'group', 'aria-label': 'Keypad' },
    keys.map((k) => button(k, () => press(k), { 'aria-label': `Press ${k === '*' ? 'star' : k === '#' ? 'pound' : k}`, class: 'key' })));
  keypad.addEventListener('keydown', (ev) => {
    if (/^[0-9*#]$/.test(ev.key)) { ev.preventDefault(); press(ev.key); }
  });
  const speechInput = h('input', { id: 'speech-text', type: 'text', autocomplete: 'off', placeholder: 'sales' });
  const speechForm = h('form', { class: 'speech', onsubmit: async (ev) => {
    ev.preventDefault();
    const text = speechInput.value.trim();
    if (!text) return;
    try {
      await send({ type: 'speech', text }, { path: '/Speech', body: { text } });
      speechInput.value = '';
    } catch (e) { say(errorText(e), 'error'); }
  } }, h('label', { for: 'speech-text' }, 'Say (as speech recognized from the caller)'), speechInput, h('button', { type: 'submit' }, 'Say it'));
  controls.append(keypad, speechForm,
    h('div', { class: 'actions' },
      button('Hang up', () => send({ type: 'hangup' }, { path: '/Hangup', body: {} }), { class: 'danger' })));

  page('Simulated call',
    h('p', {}, h('a', { href: '#/simulator' }, 'Start another call'), ' · ',
      button('Download transcript', () => download(base, `simulation-${callSid}.json`))),
    state,
    h('div', { class: 'sim' },
      section('Caller', controls),
      section('Timeline', timeline)));

  // Everything so far comes first (the socket replays it too; seq dedups),
  // then live events over the websocket.
  try {
    const t = await get(base);
    t.events.forEach(add);
    if (!t.running) { finish(t.call_status); return; }
  } catch (e) {
    state.textContent = errorText(e);
    return;
  }
  ws = socket(`${base}/Events`);
  ws.addEventListener('message', (m) => {
    const msg = JSON.parse(m.data);
    if (msg.type === 'ready') state.textContent = `Call ${callSid}: connected`;
    else if (msg.type === 'event') add(msg.event);
    else if (msg.type === 'end') finish(msg.call_status);
    else if (msg.type === 'error') say(msg.msg, 'error');
  });
  ws.addEventListener('close', (ev) => {
    if (ev.code === 1008) say(`Live updates refused: ${ev.reason}`, 'error');
    if (!ended) get(base).then((t) => { t.events.forEach(add); if (!t.running) finish(t.call_status); }).catch(() => {});
  });
}
