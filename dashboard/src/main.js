// The dashboard shell: a sidebar, a hash router (#/overview, #/clients, ...) and the page area.
// Each page is mount(container, ctx) -> cleanup; pages poll the admin API while shown.
import './style.css';
import { api, AuthError, setToken, token } from './api.js';
import { h, notice } from './format.js';
import * as overview from './pages/overview.js';
import * as clients from './pages/clients.js';
import * as subscriptions from './pages/subscriptions.js';
import * as retained from './pages/retained.js';
import * as tail from './pages/tail.js';
import * as login from './pages/login.js';

const PAGES = [
  { path: 'overview', title: 'Overview', page: overview },
  { path: 'clients', title: 'Clients', page: clients },
  { path: 'subscriptions', title: 'Subscriptions & routes', page: subscriptions },
  { path: 'retained', title: 'Retained', page: retained },
  { path: 'tail', title: 'Live tail', page: tail },
];

const app = document.getElementById('app');
const nav = h('nav', { class: 'nav' });
const who = h('div', { class: 'who' });
const main = h('main', { class: 'content' });
app.append(
  h('aside', { class: 'sidebar' },
    h('div', { class: 'brand' }, h('span', { class: 'logo' }, '◆'), 'meshmq'),
    nav, who),
  main);

let cleanup = null;
const ctx = {
  // Pages call this on any API error; a 401 leads to the login page.
  fail(err, where) {
    if (err instanceof AuthError) {
      go(`login?next=${encodeURIComponent(current())}`);
      return;
    }
    where.replaceChildren(notice('error', err.message));
  },
  navigate: (p) => go(p),
};

function current() {
  return location.hash.replace(/^#\/?/, '') || 'overview';
}

function go(path) {
  location.hash = `#/${path}`;
}

async function showWho() {
  try {
    const nodes = await api('/nodes');
    const self = nodes.nodes.find((n) => n.self);
    who.replaceChildren(h('div', { class: 'muted' }, 'connected to'), h('strong', {}, self.node_id),
      token() ? h('button', { class: 'link', onclick: () => { setToken(''); go('login'); } },
        'Sign out') : null);
  } catch {
    who.replaceChildren();
  }
}

function route() {
  if (cleanup) cleanup();
  cleanup = null;
  const [path, query] = current().split('?');
  const params = new URLSearchParams(query || '');
  const entry = PAGES.find((p) => p.path === path);
  nav.replaceChildren(...PAGES.map((p) =>
    h('a', { href: `#/${p.path}`, class: p === entry ? 'active' : '', 'data-page': p.path },
      p.title)));
  main.replaceChildren();
  if (path === 'login') {
    cleanup = login.mount(main, { ...ctx, params, done: () => { showWho(); } });
    return;
  }
  if (!entry) {
    go('overview');
    return;
  }
  document.title = `${entry.title} · meshmq`;
  main.append(h('h1', {}, entry.title));
  const body = h('div', { class: 'page', 'data-page': entry.path });
  main.append(body);
  cleanup = entry.page.mount(body, { ...ctx, params });
}

window.addEventListener('hashchange', route);
route();
showWho();
