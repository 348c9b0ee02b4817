// The dashboard's entry point: who am I, the navigation, and a small hash
// router (#/books/3, #/runs/12, #/account, #/admin) that gives each
// screen a fresh <main> and a scope whose cleanups run when it is left.

import {get, post} from './api.js';
import {h, fill} from './dom.js';
import * as live from './live.js';
import {booksScreen, bookScreen} from './books.js';
import {runScreen} from './runs.js';
import {accountScreen} from './account.js';
import {adminScreen} from './admin.js';

const main = document.getElementById('main');
const nav = document.getElementById('nav');

const routes = [
  [/^#?\/?$/, booksScreen],
  [/^#\/books\/(\d+)$/, bookScreen],
  [/^#\/runs\/(\d+)$/, runScreen],
  [/^#\/account$/, accountScreen],
  [/^#\/admin$/, adminScreen],
];

let scope = null;

// Scope is one visit of a screen: live listeners and timers registered
// with it end when the user moves on.
class Scope {
  constructor() { this.cleanups = []; this.gone = false; }
  live(fn) { this.cleanups.push(live.on(fn)); }
  add(fn) { this.cleanups.push(fn); }
  end() { this.gone = true; for (const fn of this.cleanups) fn(); }
}

async function route(me) {
  const hash = location.hash || '#/';
  if (!hash.startsWith('#/') && hash !== '#') return; // in-page anchors
  const found = routes.map(([re, fn]) => [hash.match(re), fn]).find(([m]) => m);
  if (scope) scope.end();
  scope = new Scope();
  const section = ['#/account', '#/admin'].find((s) => hash.startsWith(s)) || '#/';
  for (const a of nav.querySelectorAll('a')) {
    if (a.getAttribute('href') === section) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  fill(main, h('p', {class: 'muted'}, 'Loading…'));
  if (!found) {
    fill(main, h('section', {class: 'card'}, h('h1', null, 'Not found'), h('p', null, h('a', {href: '#/'}, 'Back to the books'))));
    return;
  }
  const [m, screen] = found;
  try {
    await screen({main, me, scope, can: (p) => me.permissions.includes(p), admin: me.role === 'admin'}, ...m.slice(1));
  } catch (err) {
    fill(main, h('section', {class: 'card'}, h('h1', null, 'Something went wrong'), h('p', {class: 'error', role: 'alert'}, err.message),
      h('p', null, h('a', {href: '#/'}, 'Back to the books'))));
  }
  document.title = `${main.querySelector('h1')?.textContent || 'Dashboard'} · Bindery`;
}

function header(me) {
  fill(nav,
    h('a', {href: '#/'}, 'Books'),
    h('a', {href: '#/account'}, 'Account'),
    me.role === 'admin' ? h('a', {href: '#/admin'}, 'Admin') : null);
  const who = document.getElementById('who');
  const out = h('button', {type: 'button', class: 'link', id: 'sign-out'}, 'Sign out');
  out.addEventListener('click', async () => {
    out.disabled = true;
    try { await post('/auth/logout'); } finally { location.assign('/login'); }
  });
  fill(who, h('span', {class: 'who-name'}, me.email), ' ', h('span', {class: 'badge'}, me.role), ' ', out);
}

async function boot() {
  const skip = document.querySelector('.skip');
  skip.addEventListener('click', (e) => { e.preventDefault(); main.focus(); });
  let me;
  try {
    me = await get('/me');
  } catch (err) {
    fill(main, h('p', {class: 'error', role: 'alert'}, err.message));
    return;
  }
  header(me);
  live.start(document.getElementById('offline'));
  window.addEventListener('hashchange', () => route(me));
  await route(me);
  document.body.dataset.ready = 'true'; // for tests
  performance.mark('dashboard-ready');
}

boot();
