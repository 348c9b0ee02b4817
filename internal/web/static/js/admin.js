// Administration (role admin; the server refuses everyone else): users,
// roles, their data and two-factor sign-in; the audit log with filters;
// blocked addresses; integration keys.

import {api, get, post, enc} from './api.js';
import {h, fill, field, when, notice, busy, badge} from './dom.js';

const ROLES = ['admin', 'author', 'editor', 'viewer'];
const ACTIONS = ['login.succeeded', 'login.failed', 'logout', 'address.blocked', 'address.unblocked', 'user.created', 'user.role_changed',
  'user.deleted', 'user.password_changed', 'session.revoked', 'token.created', 'token.revoked', 'setup.completed', 'book.created',
  'book.updated', 'book.deleted', 'book.member_added', 'book.member_removed', 'book.member_invited', 'book.invitation_withdrawn', 'book.invitation_declined',
  'book.file_written', 'book.file_deleted', 'run.control', 'websocket.refused',
  'book.published', '2fa.enabled', '2fa.disabled', '2fa.reset', '2fa.recovery_code_used', '2fa.recovery_codes_renewed', 'user.exported', 'user.updated',
  'credential.set', 'credential.deleted', 'keys.rotated'];

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
  // One confirmation panel under the table, for the action in hand.
  const panel = h('div', {id: 'user-action', class: 'confirm', tabindex: -1, role: 'group', 'aria-labelledby': 'user-action-h', hidden: true});
  let users = [];
  const close = (focus) => { panel.hidden = true; fill(panel); focus?.focus(); };
  const open = (title, ...content) => {
    fill(panel, h('h3', {id: 'user-action-h'}, title), content);
    panel.hidden = false;
    panel.focus();
  };
  const load = async () => {
    ({users} = await get('/users'));
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
      const exp = h('a', {class: 'button small secondary', href: `/api/v1/users/${u.id}/export`, download: true, 'aria-label': `Export the data of ${u.email}`}, 'Export');
      const reset = u.two_factor && u.id !== me.id ? h('button', {type: 'button', class: 'small secondary', 'aria-label': `Reset two-factor sign-in of ${u.email}`}, 'Reset 2FA') : null;
      reset?.addEventListener('click', () => resetPanel(u, reset));
      const del = u.id === me.id ? null : h('button', {type: 'button', class: 'small danger', 'aria-label': `Delete ${u.email}`}, 'Delete');
      del?.addEventListener('click', () => deletePanel(u, del).catch((err) => notice(out, err.message, 'error')));
      return h('tr', {'data-user': u.id}, h('td', null, String(u.id)), h('td', null, u.email, u.name ? h('div', {class: 'muted'}, u.name) : null), h('td', null, sel),
        h('td', {class: 'tf'}, u.two_factor ? 'on' : 'off'), h('td', null, when(u.created_at)), h('td', null, h('div', {class: 'row-actions'}, exp, reset, del)));
    }));
  };

  const resetPanel = (u, from) => {
    const yes = h('button', {type: 'button', class: 'danger', id: 'reset-yes'}, 'Reset two-factor sign-in');
    const no = h('button', {type: 'button', class: 'secondary'}, 'Cancel');
    no.addEventListener('click', () => close(from));
    yes.addEventListener('click', () => busy(yes, out, async () => {
      await api('DELETE', `/users/${u.id}/two-factor`);
      close();
      notice(out, `Two-factor sign-in of ${u.email} is off and they were signed out everywhere; they sign in with their password alone, then set it up again.`);
      await load();
    }));
    open(`Reset two-factor sign-in of ${u.email}?`,
      h('p', null, 'For someone who lost both their phone and their recovery codes. They are signed out everywhere and their password alone signs them in again. ' +
        'Make sure it is really them who asked: with this, their password is all an attacker would need.'),
      h('div', {class: 'controls'}, yes, no));
  };

  const deletePanel = async (u, from) => {
    const owned = (await get('/books')).books.filter((b) => b.owner_id === u.id);
    const yes = h('button', {type: 'button', class: 'danger', id: 'delete-user-yes'}, `Delete ${u.email}`);
    const no = h('button', {type: 'button', class: 'secondary'}, 'Cancel');
    no.addEventListener('click', () => close(from));
    const heirs = users.filter((x) => x.id !== u.id && x.role !== 'viewer');
    const transfer = h('input', {type: 'radio', name: 'du-books', id: 'du-transfer', value: 'transfer', checked: heirs.length > 0, disabled: !heirs.length});
    const remove = h('input', {type: 'radio', name: 'du-books', id: 'du-delete', value: 'delete', checked: !heirs.length});
    const heir = h('select', {id: 'du-heir', 'aria-label': 'Give the books to'}, heirs.map((x) => h('option', {value: x.id}, `${x.email} (${x.role})`)));
    heir.value = String(heirs.find((x) => x.id === me.id)?.id ?? heirs[0]?.id ?? '');
    for (const r of [transfer, remove]) r.addEventListener('change', () => { heir.disabled = !transfer.checked; });
    const books = owned.length ? h('fieldset', {class: 'choice'},
      h('legend', null, `${u.email} owns ${owned.length === 1 ? 'a book' : `${owned.length} books`}: ${owned.slice(0, 5).map((b) => b.title).join(', ')}${owned.length > 5 ? ', …' : ''}`),
      h('label', {class: 'check'}, transfer, 'Give them to'), h('div', {class: 'field indent'}, heir),
      h('label', {class: 'check'}, remove, 'Delete them, with their runs and published editions')) : h('p', null, `${u.email} owns no books.`);
    yes.addEventListener('click', () => busy(yes, out, async () => {
      let req, fate = '';
      if (owned.length && transfer.checked) {
        req = {transfer_to: Number(heir.value)};
        fate = ` Their books now belong to ${heirs.find((x) => x.id === req.transfer_to)?.email}.`;
      } else if (owned.length) {
        req = {delete_books: true};
        fate = ' Their books were deleted.';
      }
      await api('DELETE', `/users/${u.id}`, req);
      close();
      notice(out, `Deleted ${u.email}.${fate}`);
      await load();
    }));
    open(`Delete ${u.email}?`,
      h('p', null, 'Their account, sessions and API tokens are deleted and they are signed out everywhere. This cannot be undone: export their data first if it must be kept.'),
      books, h('div', {class: 'controls'}, yes, no));
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
    h('div', {class: 'scroll'}, h('table', {id: 'users'}, h('caption', {class: 'sr-only'}, 'Users, roles and two-factor sign-in'),
      h('thead', null, h('tr', null, ['Id', 'E-mail', 'Role', 'Two-factor', 'Created', ''].map((t) => h('th', {scope: 'col'}, t)))), body)),
    panel, h('h3', null, 'New user'), form);
}

function blocksPanel() {
  const list = h('ul', {class: 'plain', id: 'blocks'});
  const out = h('p', {class: 'notice', role: 'status', hidden: true});
  const load = async () => {
    const blocks = (await get('/security/blocks')).blocks || []; // null when there are none
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
// and versions only — the server never sends a key's value, and a key
// typed here is sent once and never shown again.
function integrationsPanel() {
  const list = h('ul', {class: 'plain', id: 'integrations'});
  const out = h('p', {class: 'notice', role: 'status', hidden: true});
  const load = async () => {
    const {integrations} = await get('/integrations');
    fill(list, integrations.map((i) => h('li', null, h('strong', null, i.name), ': ',
      !i.configured ? 'not configured' : i.version === 'stored' ? 'key stored through the dashboard' : `key version ${i.version || '(unversioned)'}` +
        (i.versions && i.versions.length > 1 ? ` of ${i.versions.join(', ')}` : '') + (i.from_file ? ', read from a file' : ''),
      i.error ? h('span', {class: 'error'}, ` — ${i.error}`) : '')));
  };
  const key = h('input', {id: 'ideogram-key', type: 'password', autocomplete: 'off', spellcheck: 'false', required: true, maxlength: 512});
  const save = h('button', {type: 'submit'}, 'Store key');
  const clear = h('button', {type: 'button', class: 'danger', id: 'ideogram-clear'}, 'Clear stored key');
  const form = h('form', {id: 'ideogram-form'},
    field('Ideogram API key', key, 'Kept encrypted on the server and never shown again. A key in the server’s environment takes precedence.'),
    h('div', {class: 'controls'}, save, clear));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    busy(save, out, async () => {
      await api('PUT', '/integrations/ideogram', {api_key: key.value.trim()});
      form.reset();
      notice(out, 'Ideogram key stored.');
      await load();
    });
  });
  clear.addEventListener('click', () => busy(clear, out, async () => {
    await api('DELETE', '/integrations/ideogram');
    notice(out, 'Stored Ideogram key cleared.');
    await load();
  }));
  load().catch((err) => notice(out, err.message, 'error'));
  return h('section', {class: 'card', 'aria-labelledby': 'integrations-h'}, h('h2', {id: 'integrations-h'}, 'Integrations'), out, list, form);
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
