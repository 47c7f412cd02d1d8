// Recent calls: the account's call records, newest first, with filters.
import { get, acct } from '../api.js';
import { h, page, section, table, form, when } from '../ui.js';

export async function render(_arg, query) {
  const q = new URLSearchParams({ page: query.get('page') || '1', count: '25' });
  for (const k of ['direction', 'answered', 'from', 'to', 'days']) if (query.get(k)) q.set(k, query.get(k));
  const r = await get(acct(`/RecentCalls?${q}`));
  const pageNo = Number(q.get('page'));
  const go = (p) => { const n = new URLSearchParams(q); n.set('page', String(p)); n.delete('count'); location.hash = `#/calls?${n}`; };
  const filters = form('Filters', [
    { name: 'direction', label: 'Direction', type: 'select', value: query.get('direction') || '',
      options: [{ value: '', label: 'any' }, { value: 'inbound', label: 'inbound' }, { value: 'outbound', label: 'outbound' }] },
    { name: 'answered', label: 'Answered', type: 'select', value: query.get('answered') || '',
      options: [{ value: '', label: 'any' }, { value: 'true', label: 'answered' }, { value: 'false', label: 'not answered' }] },
    { name: 'from', label: 'From', value: query.get('from') || '' },
    { name: 'to', label: 'To', value: query.get('to') || '' },
    { name: 'days', label: 'Last days', type: 'number', value: query.get('days') || '', inputmode: 'numeric' },
  ], 'Apply filters', (v) => {
    const n = new URLSearchParams();
    for (const [k, val] of Object.entries(v)) if (val) n.set(k, val);
    location.hash = `#/calls?${n}`;
  });
  filters.classList.add('filters');
  page('Recent calls', filters,
    section(`Calls (${r.total} in all)`, table('Recent calls', [
      { label: 'Started', value: (c) => when(c.attempted_at) },
      { label: 'Direction', value: (c) => c.direction },
      { label: 'From', value: (c) => c.from },
      { label: 'To', value: (c) => c.to },
      { label: 'Answered', value: (c) => (c.answered ? 'yes' : 'no') },
      { label: 'Duration', value: (c) => `${c.duration}s` },
      { label: 'SIP status', value: (c) => String(c.sip_status) },
      { label: 'Ended by', value: (c) => c.termination_reason || '' },
      { label: 'Trunk', value: (c) => c.trunk || '' },
      { label: 'Call SID', value: (c) => h('code', {}, c.call_sid) },
    ], r.data, 'No calls match.'),
    h('nav', { class: 'pager', 'aria-label': 'Pages' },
      h('button', { type: 'button', disabled: pageNo <= 1, onclick: () => go(pageNo - 1) }, 'Newer'),
      h('span', {}, `Page ${pageNo}`),
      h('button', { type: 'button', disabled: pageNo * 25 >= r.total, onclick: () => go(pageNo + 1) }, 'Older'))));
}
