// Live calls: the account's calls in progress; hang one up or redirect it
// to another hook (jambonz's live call control).
import { get, put, acct } from '../api.js';
import { h, page, section, table, button, say, field } from '../ui.js';

let timer = null;
export function leave() { clearInterval(timer); }

export async function render() {
  const draw = async () => {
    const calls = (await get(acct('/Calls'))).filter((c) => !['completed', 'failed', 'busy', 'no-answer'].includes(c.call_status));
    const redirect = (c) => {
      const f = field({ name: 'url', label: `Redirect ${c.call_sid} to hook URL`, type: 'url', placeholder: 'https://example.com/other' });
      const input = f.querySelector('input');
      return h('div', { class: 'inline-form' }, f, button('Redirect', async () => {
        if (!input.value) { say('Enter a hook URL first.', 'error'); input.focus(); return; }
        await put(acct(`/Calls/${c.call_sid}`), { call_hook: { url: input.value, method: 'POST' } });
        say(`Redirected ${c.call_sid}.`);
      }, { 'aria-label': `Redirect ${c.call_sid}` }));
    };
    const list = table('Live calls', [
      { label: 'Call SID', value: (c) => h('code', {}, c.call_sid) },
      { label: 'Status', value: (c) => c.call_status },
      { label: 'Direction', value: (c) => c.direction },
      { label: 'From', value: (c) => c.from },
      { label: 'To', value: (c) => c.to },
      { label: 'Redirect', value: redirect },
      { label: 'Hang up', value: (c) => button('Hang up', async () => {
        await put(acct(`/Calls/${c.call_sid}`), { call_status: 'completed' });
        say(`Hanging up ${c.call_sid}.`);
        setTimeout(draw, 500);
      }, { class: 'danger', 'aria-label': `Hang up ${c.call_sid}` }) },
    ], calls, 'No calls in progress.');
    const holder = document.getElementById('live-list');
    if (holder && !holder.contains(document.activeElement)) holder.replaceChildren(list);
    return list;
  };
  page('Live calls',
    h('p', {}, 'Calls in progress on this account, refreshed every 5 seconds. Simulated calls are listed too.'),
    section('In progress', h('div', { id: 'live-list' }, await draw()),
      button('Refresh now', draw)));
  clearInterval(timer);
  timer = setInterval(() => draw().catch(() => {}), 5000);
}
