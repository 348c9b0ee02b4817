// Administration (role admin; the server refuses everyone else): users and
// roles, the audit log with filters, and blocked addresses.

import {api, get, post, enc} from './api.js';
import {h, fill, field, when, notice, busy, badge} from './dom.js';

const ROLES = ['admin', 'author', 'editor', 'viewer'];
const ACTIONS = ['login.succeeded', 'login.failed', 'logout', 'address.blocked', 'address.unblocked', 'user.created', 'user.role_changed',
  'user.deleted', 'user.password_changed', 'session.revoked', 'token.created', 'token.revoked', 'setup.completed', 'book.created',
  'book.updated', 'book.deleted', 'book.member_added', 'book.member_removed', 'book.file_written', 'book.file_deleted', 'run.control', 'websocket.refused',
  'book.published'];

export async function adminScreen({main, me, admin}) {
  if (!admin) {
    fill(main, h('h1', null, 'Admin'), h('p', null, 'Only admins can see this page.'));
    return;
  }
  fill(main, h('h1', null, 'Admin'), h('div', {class: 'grid'}, usersPanel(me), blocksPanel(), integrationsPanel(), auditPanel()));
}

function usersPanel(me) {
  const body = h('tbody');
  const out = h('p', {class: 'notice', role: 'status', hidden: true});
  const load = async () => {
    const {users} = await get('/users');
    fill(body, users.map((u) => {
      const sel = h('select', {'aria-label': `Role of ${u.email}`, class: 'role-select', disabled: u.id === me.id}, ROLES.map((r) => h('option', {value: r}, r)));
      sel.value = u.role;
      sel.addEventListener('change', async () => {
        try {
          await api('PATCH', `/users/${u.id}`, {role: sel.value});
          notice(out, `${u.email} is now ${sel.value}; their sessions were ended.`);
        } catch (err) {
          sel.value = u.role;
          notice(out, err.message, 'error');
        }
      });
      const del = u.id === me.id ? null : h('button', {type: 'button', class: 'small danger', 'aria-label': `Delete ${u.email}`}, 'Delete');
      del?.addEventListener('click', () => busy(del, out, async () => {
        await api('DELETE', `/users/${u.id}`);
        notice(out, `Deleted ${u.email}.`);
        await load();
      }));
      return h('tr', null, h('td', null, String(u.id)), h('td', null, u.email), h('td', null, sel), h('td', null, when(u.created_at)), h('td', null, del));
    }));
  };
  const email = h('input', {id: 'nu-email', type: 'email', required: true, autocomplete: 'off'});
  const role = h('select', {id: 'nu-role'}, ROLES.map((r) => h('option', {value: r}, r)));
  role.value = 'editor';
  const pw = h('input', {id: 'nu-password', type: 'password', minlength: 12, required: true, autocomplete: 'new-password'});
  const btn = h('button', {type: 'submit'}, 'Create user');
  const form = h('form', {id: 'new-user', class: 'inline'}, field('E-mail', email), field('Role', role), field('Password', pw, 'At least 12 characters; tell it to them privately.'), btn);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    busy(btn, out, async () => {
      const u = await post('/users', {email: email.value, role: role.value, password: pw.value});
      form.reset();
      role.value = 'editor';
      notice(out, `Created ${u.email} (user id ${u.id}).`);
      await load();
    });
  });
  load().catch((err) => notice(out, err.message, 'error'));
  return h('section', {class: 'card wide', 'aria-labelledby': 'users-h'}, h('h2', {id: 'users-h'}, 'Users'), out,
    h('div', {class: 'scroll'}, h('table', {id: 'users'}, h('caption', {class: 'sr-only'}, 'Users and roles'),
      h('thead', null, h('tr', null, ['Id', 'E-mail', 'Role', 'Created', ''].map((t) => h('th', {scope: 'col'}, t)))), body)),
    h('h3', null, 'New user'), form);
}

function blocksPanel() {
  const list = h('ul', {class: 'plain', id: 'blocks'});
  const out = h('p', {class: 'notice', role: 'status', hidden: true});
  const load = async () => {
    const {blocks} = await get('/security/blocks');
    fill(list, blocks.length ? blocks.map((b) => {
      const lift = h('button', {type: 'button', class: 'small secondary', 'aria-label': `Lift the block of ${b.addr}`}, 'Lift');
      lift.addEventListener('click', () => busy(lift, out, async () => {
        await api('DELETE', `/security/blocks/${b.addr.split('/').map(enc).join('/')}`);
        notice(out, `Lifted the block of ${b.addr}.`);
        await load();
      }));
      return h('li', null, h('code', null, b.addr), ` until ${when(b.until)} `, lift);
    }) : h('li', {class: 'muted'}, 'No address is blocked.'));
  };
  const refresh = h('button', {type: 'button', class: 'small secondary'}, 'Refresh');
  refresh.addEventListener('click', () => busy(refresh, out, load));
  load().catch((err) => notice(out, err.message, 'error'));
  return h('section', {class: 'card', 'aria-labelledby': 'blocks-h'}, h('h2', {id: 'blocks-h'}, 'Blocked addresses'), out, list, refresh);
}

// integrationsPanel shows which key version each integration uses: names
// and versions only — the server never sends a key's value.
function integrationsPanel() {
  const list = h('ul', {class: 'plain', id: 'integrations'});
  const out = h('p', {class: 'notice', role: 'status', hidden: true});
  get('/integrations').then(({integrations}) => {
    fill(list, integrations.map((i) => h('li', null, h('strong', null, i.name), ': ',
      !i.configured ? 'not configured' : `key version ${i.version || '(unversioned)'}` +
        (i.versions && i.versions.length > 1 ? ` of ${i.versions.join(', ')}` : '') + (i.from_file ? ', read from a file' : ''),
      i.error ? h('span', {class: 'error'}, ` — ${i.error}`) : '')));
  }).catch((err) => notice(out, err.message, 'error'));
  return h('section', {class: 'card', 'aria-labelledby': 'integrations-h'}, h('h2', {id: 'integrations-h'}, 'Integrations'), out, list);
}

function auditPanel() {
  const body = h('tbody');
  const out = h('p', {class: 'notice', role: 'status', hidden: true});
  const action = h('select', {id: 'au-action'}, h('option', {value: ''}, 'any'), ACTIONS.map((a) => h('option', {value: a}, a)));
  const actor = h('input', {id: 'au-actor', type: 'number', min: 1, inputmode: 'numeric'});
  const since = h('input', {id: 'au-since', type: 'datetime-local'});
  const limit = h('input', {id: 'au-limit', type: 'number', min: 1, max: 1000, value: 50});
  const more = h('button', {type: 'button', class: 'secondary', hidden: true}, 'Older entries');
  let before = 0;
  const query = () => {
    const q = new URLSearchParams();
    if (action.value) q.set('action', action.value);
    if (actor.value) q.set('actor_id', actor.value);
    if (since.value) q.set('since', new Date(since.value).toISOString().replace(/\.\d+Z$/, 'Z'));
    q.set('limit', limit.value || '50');
    if (before) q.set('before', String(before));
    return q;
  };
  const load = async (append) => {
    const {events} = await get(`/audit?${query()}`);
    const rows = events.map((e) => h('tr', null, h('td', null, when(e.at)), h('td', null, badge(e.action)), h('td', null, e.actor_email || (e.actor_id ? `#${e.actor_id}` : (e.subject || '–'))),
      h('td', null, e.client_addr || ''), h('td', null, e.target || ''), h('td', {class: 'detail'}, e.detail || '')));
    if (append) body.append(...rows);
    else fill(body, rows.length ? rows : h('tr', null, h('td', {colspan: 6, class: 'muted'}, 'Nothing matches.')));
    before = events.length ? events[events.length - 1].id : 0;
    more.hidden = events.length < Number(limit.value || 50);
  };
  const btn = h('button', {type: 'submit'}, 'Filter');
  const form = h('form', {id: 'audit-filter', class: 'inline'}, field('Action', action), field('Actor id', actor), field('Since', since), field('Limit', limit), btn);
  form.addEventListener('submit', (e) => { e.preventDefault(); before = 0; busy(btn, out, () => load(false)); });
  more.addEventListener('click', () => busy(more, out, () => load(true)));
  load(false).catch((err) => notice(out, err.message, 'error'));
  return h('section', {class: 'card full', 'aria-labelledby': 'audit-h'}, h('h2', {id: 'audit-h'}, 'Audit log'), form, out,
    h('div', {class: 'scroll'}, h('table', {id: 'audit'}, h('caption', {class: 'sr-only'}, 'Audit log, newest first'),
      h('thead', null, h('tr', null, ['When', 'Action', 'Who', 'Address', 'Target', 'Detail'].map((t) => h('th', {scope: 'col'}, t)))), body)), more);
}
