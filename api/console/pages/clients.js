// SIP clients: the devices and softphones that register with the account's
// SIP realm.
import { get, post, del, acct, session } from '../api.js';
import { h, page, section, table, form, button, say } from '../ui.js';

export async function render() {
  const [clients, registered] = await Promise.all([
    get('/Clients'), get(acct('/RegisteredSipUsers')).catch(() => []),
  ]);
  const mine = clients.filter((c) => c.account_sid === session.account);
  const isRegistered = (c) => registered.some((r) => r.split('@')[0] === c.username);
  page('SIP clients',
    section('Clients', table('SIP clients', [
      { label: 'User name', value: (c) => c.username },
      { label: 'Active', value: (c) => (c.is_active ? 'yes' : 'no') },
      { label: 'Registered now', value: (c) => (isRegistered(c) ? 'yes' : 'no') },
      { label: 'Actions', value: (c) => button('Delete', async () => {
        if (!confirm(`Delete the SIP client ${c.username}?`)) return;
        await del(`/Clients/${c.client_sid}`);
        say(`Deleted ${c.username}.`);
        render();
      }, { class: 'danger', 'aria-label': `Delete ${c.username}` }) },
    ], mine, 'No SIP clients yet.')),
    section('Add a SIP client', form('New SIP client', [
      { name: 'username', label: 'User name', required: true },
      { name: 'password', label: 'Password', type: 'password', required: true, autocomplete: 'new-password' },
      { name: 'is_active', label: 'Active', type: 'checkbox', value: true },
    ], 'Add client', async (v) => {
      await post('/Clients', { account_sid: session.account, username: v.username, password: v.password, is_active: v.is_active });
      say(`Added ${v.username}.`);
      render();
    })));
}
