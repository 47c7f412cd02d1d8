// Phone numbers: the account's numbers, the application each one reaches,
// and the carrier that delivers it.
import { get, post, put, del, acct, session } from '../api.js';
import { h, page, section, table, form, button, say, field } from '../ui.js';

export async function render() {
  const [numbers, apps, carriers] = await Promise.all([
    get('/PhoneNumbers'), get(acct('/Applications')), get(acct('/VoipCarriers')).catch(() => []),
  ]);
  const mine = numbers.filter((n) => n.account_sid === session.account);
  const appOptions = [{ value: '', label: '(none)' }, ...apps.map((a) => ({ value: a.application_sid, label: a.name }))];
  const carrierOptions = [{ value: '', label: '(any)' }, ...carriers.map((c) => ({ value: c.voip_carrier_sid, label: c.name }))];
  const assign = (n) => {
    const f = field({ name: 'application_sid', label: `Application for ${n.number}`, type: 'select', value: n.application_sid, options: appOptions });
    const sel = f.querySelector('select');
    sel.addEventListener('change', async () => {
      try {
        await put(`/PhoneNumbers/${n.phone_number_sid}`, { application_sid: sel.value || null });
        say(`${n.number} now reaches ${sel.selectedOptions[0].textContent}.`);
      } catch (e) { say(e.message, 'error'); }
    });
    f.classList.add('inline');
    return f;
  };
  page('Phone numbers',
    section('Numbers', table('Phone numbers', [
      { label: 'Number', value: (n) => n.number },
      { label: 'Application', value: assign },
      { label: 'Carrier', value: (n) => (carriers.find((c) => c.voip_carrier_sid === n.voip_carrier_sid) || {}).name || '' },
      { label: 'Actions', value: (n) => button('Delete', async () => {
        if (!confirm(`Delete ${n.number}?`)) return;
        await del(`/PhoneNumbers/${n.phone_number_sid}`);
        say(`Deleted ${n.number}.`);
        render();
      }, { class: 'danger', 'aria-label': `Delete ${n.number}` }) },
    ], mine, 'No numbers yet.')),
    section('Add a number', form('New phone number', [
      { name: 'number', label: 'Number', required: true, placeholder: '15551230000', inputmode: 'tel' },
      { name: 'application_sid', label: 'Application', type: 'select', options: appOptions },
      { name: 'voip_carrier_sid', label: 'Carrier', type: 'select', options: carrierOptions },
    ], 'Add number', async (v) => {
      const body = { number: v.number, account_sid: session.account };
      if (v.application_sid) body.application_sid = v.application_sid;
      if (v.voip_carrier_sid) body.voip_carrier_sid = v.voip_carrier_sid;
      await post('/PhoneNumbers', body);
      say(`Added ${v.number}.`);
      render();
    })));
}
