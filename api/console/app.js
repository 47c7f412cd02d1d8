// app.js: sign-in, the account switcher and the hash router. Pages are ES
// modules under pages/, each exporting render(arg, query).

import { session, get } from './api.js';
import { h, page, say, form, errorText } from './ui.js';

const pages = {
  applications: () => import('./pages/applications.js'),
  numbers: () => import('./pages/numbers.js'),
  clients: () => import('./pages/clients.js'),
  jsapps: () => import('./pages/jsapps.js'),
  simulator: () => import('./pages/simulator.js'),
  calls: () => import('./pages/calls.js'),
  alerts: () => import('./pages/alerts.js'),
  live: () => import('./pages/live.js'),
};

const nav = document.getElementById('nav');
const sessionBox = document.querySelector('.session');
const toggle = document.querySelector('.menu-toggle');
const switcher = document.getElementById('account-switch');

function signedIn(on) {
  nav.hidden = !on;
  sessionBox.hidden = !on;
  toggle.hidden = !on;
}

function signInPage() {
  signedIn(false);
  page('Sign in',
    h('p', {}, 'Sign in with an API key of an account or of a service provider. The key stays in this tab only (session storage) and is sent in the Authorization header.'),
    form('API key', [
      { name: 'key', label: 'API key', type: 'password', required: true, autocomplete: 'off' },
    ], 'Sign in', async ({ key }) => {
      session.key = key;
      try {
        await loadAccounts();
      } catch (e) {
        session.clear();
        throw new Error(e.status === 401 ? 'That key is not valid.' : errorText(e));
      }
      say('Signed in.');
      if (!location.hash || location.hash === '#/signin') location.hash = '#/applications';
      else route();
    }));
}

// loadAccounts fills the switcher with the accounts the key can see.
async function loadAccounts() {
  const accounts = await get('/Accounts', {});
  if (!Array.isArray(accounts) || accounts.length === 0) throw new Error('This key sees no account.');
  if (!accounts.some((a) => a.account_sid === session.account)) session.account = accounts[0].account_sid;
  switcher.replaceChildren(...accounts.map((a) => h('option', { value: a.account_sid, selected: a.account_sid === session.account }, a.name || a.account_sid)));
  switcher.disabled = accounts.length < 2;
  signedIn(true);
  return accounts;
}

switcher.addEventListener('change', () => {
  session.account = switcher.value;
  say(`Account: ${switcher.selectedOptions[0].textContent}`);
  route();
});

document.getElementById('sign-out').addEventListener('click', () => {
  session.clear();
  location.hash = '#/signin';
});

toggle.addEventListener('click', () => {
  const open = toggle.getAttribute('aria-expanded') !== 'true';
  toggle.setAttribute('aria-expanded', String(open));
  nav.classList.toggle('open', open);
});

let current = null;

async function route() {
  if (!session.key) { signInPage(); return; }
  if (!switcher.options.length) {
    try { await loadAccounts(); } catch (e) { session.clear(); signInPage(); say(errorText(e), 'error'); return; }
  }
  const raw = location.hash.replace(/^#\/?/, '') || 'applications';
  const [path, qs] = raw.split('?');
  const [name, arg] = path.split('/');
  const load = pages[name];
  if (!load) { location.hash = '#/applications'; return; }
  for (const a of nav.querySelectorAll('a')) {
    if (a.getAttribute('href') === `#/${name}`) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  nav.classList.remove('open');
  toggle.setAttribute('aria-expanded', 'false');
  if (current && current.leave) current.leave();
  try {
    current = await load();
    await current.render(arg ? decodeURIComponent(arg) : '', new URLSearchParams(qs || ''));
  } catch (e) {
    if (e.status === 401) { session.clear(); signInPage(); say('The key is no longer valid.', 'error'); return; }
    page('Something went wrong', h('p', { class: 'error' }, errorText(e)));
  }
}

window.addEventListener('hashchange', route);
route();
