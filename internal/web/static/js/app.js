// The dashboard's entry point: who am I, the navigation, and a small hash
// router (#/books/3, #/runs/12, #/account, #/admin) that gives each
// screen a fresh <main> and a scope whose cleanups run when it is left.
//
// When the server's policy requires two-factor sign-in and the account has
// not turned it on, every other API route answers two_factor_setup_required:
// the dashboard is then "gated" — only the Account screen, with a banner
// saying why, and no live channel — until the user enrols.

import {get, post, onSetupRequired} from './api.js';
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
let gated = false; // two-factor sign-in is required and not on yet

// Scope is one visit of a screen: live listeners and timers registered
// with it end when the user moves on.
class Scope {
  constructor() { this.cleanups = []; this.gone = false; }
  live(fn) { this.cleanups.push(live.on(fn)); }
  add(fn) { this.cleanups.push(fn); }
  end() { this.gone = true; for (const fn of this.cleanups) fn(); }
}

async function route(me) {
  if (gated && location.hash !== '#/account') history.replaceState(null, '', '#/account');
  const hash = location.hash || '#/';
  if (!hash.startsWith('#/') && hash !== '#') return; // in-page anchors
  const found = routes.map(([re, fn]) => [hash.match(re), fn]).find(([m]) => m);
  if (scope) scope.end();
  const mine = scope = new Scope();
  markNav();
  fill(main, h('p', {class: 'muted'}, 'Loading…'));
  if (!found) {
    fill(main, h('section', {class: 'card'}, h('h1', null, 'Not found'), h('p', null, h('a', {href: '#/'}, 'Back to the books'))));
    return;
  }
  const [m, screen] = found;
  try {
    await screen({main, me, scope, gate: gated, header: () => header(me),
      can: (p) => me.permissions.includes(p), admin: me.role === 'admin'}, ...m.slice(1));
  } catch (err) {
    if (scope !== mine) return; // another screen (the gate, say) took over meanwhile
    fill(main, h('section', {class: 'card'}, h('h1', null, 'Something went wrong'), h('p', {class: 'error', role: 'alert'}, err.message),
      h('p', null, h('a', {href: '#/'}, 'Back to the books'))));
  }
  if (scope === mine) document.title = `${main.querySelector('h1')?.textContent || 'Dashboard'} · Bindery`;
}

// markNav marks the navigation link of the current section.
function markNav() {
  const section = ['#/account', '#/admin'].find((s) => location.hash.startsWith(s)) || '#/';
  for (const a of nav.querySelectorAll('a')) {
    if (a.getAttribute('href') === section) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

// gate closes the dashboard but for the Account screen, where the user
// turns on two-factor sign-in; leaving it means reloading the page.
function gate(me) {
  if (gated) return;
  gated = true;
  live.stop();
  header(me);
  route(me);
}

function header(me) {
  fill(nav,
    gated ? null : h('a', {href: '#/'}, 'Books'),
    h('a', {href: '#/account'}, 'Account'),
    me.role === 'admin' && !gated ? h('a', {href: '#/admin'}, 'Admin') : null);
  markNav();
  const who = document.getElementById('who');
  const out = h('button', {type: 'button', class: 'link', id: 'sign-out'}, 'Sign out');
  out.addEventListener('click', async () => {
    out.disabled = true;
    try { await post('/auth/logout'); } finally { location.assign('/login'); }
  });
  fill(who, h('span', {class: 'who-name', title: me.name ? me.email : null}, me.name || me.email), ' ', h('span', {class: 'badge'}, me.role), ' ', out);
}

async function boot() {
  const skip = document.querySelector('.skip');
  skip.addEventListener('click', (e) => { e.preventDefault(); main.focus(); });
  let me, tf;
  try {
    // Both at once: whether the policy gates this account is in the second.
    [me, tf] = await Promise.all([get('/me'), get('/me/two-factor').catch(() => null)]);
  } catch (err) {
    fill(main, h('p', {class: 'error', role: 'alert'}, err.message));
    return;
  }
  gated = !me.two_factor && !!tf?.required;
  onSetupRequired(() => gate(me));
  header(me);
  if (!gated) live.start(document.getElementById('offline'));
  window.addEventListener('hashchange', () => route(me));
  await route(me);
  document.body.dataset.ready = 'true'; // for tests
  performance.mark('dashboard-ready');
}

boot();
