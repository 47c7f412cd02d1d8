// Alerts: what went wrong on the account's calls (hooks that failed,
// unusable verbs, missing audio), newest first.
import { get, acct } from '../api.js';
import { h, page, section, table, form, when } from '../ui.js';

export async function render(_arg, query) {
  const q = new URLSearchParams({ page: query.get('page') || '1', count: '50' });
  if (query.get('alert_type')) q.set('alert_type', query.get('alert_type'));
  if (query.get('days')) q.set('days', query.get('days'));
  const r = await get(acct(`/Alerts?${q}`));
  const filters = form('Filters', [
    { name: 'alert_type', label: 'Alert type', value: query.get('alert_type') || '', placeholder: 'webhook-failure' },
    { name: 'days', label: 'Last days', type: 'number', value: query.get('days') || '' },
  ], 'Apply filters', (v) => {
    const n = new URLSearchParams();
    for (const [k, val] of Object.entries(v)) if (val) n.set(k, val);
    location.hash = `#/alerts?${n}`;
  });
  filters.classList.add('filters');
  page('Alerts', filters,
    section(`Alerts (${r.total} in all)`, table('Alerts', [
      { label: 'Time', value: (a) => when(a.created_at || a.time) },
      { label: 'Type', value: (a) => a.alert_type },
      { label: 'Message', value: (a) => a.message },
      { label: 'Call', value: (a) => (a.target_sid ? h('code', {}, a.target_sid) : '') },
    ], r.data, 'No alerts.')));
}
