// The caller's own account: display name, two-factor sign-in (twofactor.js),
// password, sessions, and their data (privacy.js). When the dashboard is
// gated (app.js) a banner says why this is the only screen.

import {api, get} from './api.js';
import {h, fill, field, when, notice, busy} from './dom.js';
import {renewingSession} from './live.js';
import {twoFactorCard} from './twofactor.js';
import {dataCard} from './privacy.js';

export async function accountScreen({main, me, gate, header}) {
  const sessions = h('tbody');
  const sessOut = h('p', {class: 'notice', role: 'status', hidden: true});
  const load = async () => {
    const list = (await get('/me/sessions')).sessions;
    fill(sessions, list.map((s) => {
      const b = h('button', {type: 'button', class: 'small danger session-revoke', 'aria-label': s.current ? 'Sign out this session' : `Revoke session from ${s.client_addr}`}, s.current ? 'Sign out' : 'Revoke');
      b.addEventListener('click', () => busy(b, sessOut, async () => {
        await api('DELETE', `/me/sessions/${encodeURIComponent(s.id)}`);
        if (s.current) location.assign('/login');
        else { notice(sessOut, 'Session revoked.'); await load(); }
      }));
      return h('tr', null, h('td', null, s.current ? h('strong', null, 'This browser') : (s.user_agent || 'unknown client')),
        h('td', null, s.client_addr || '–'), h('td', null, when(s.created_at)), h('td', null, when(s.last_seen_at)), h('td', null, b));
    }));
  };

  const cur = h('input', {id: 'pw-current', type: 'password', autocomplete: 'current-password', required: true});
  const next = h('input', {id: 'pw-new', type: 'password', autocomplete: 'new-password', minlength: 12, required: true});
  const again = h('input', {id: 'pw-again', type: 'password', autocomplete: 'new-password', minlength: 12, required: true});
  const pwOut = h('p', {class: 'notice', role: 'status', hidden: true});
  const btn = h('button', {type: 'submit'}, 'Change password');
  const form = h('form', {id: 'password-form'}, h('input', {type: 'email', autocomplete: 'username', value: me.email, hidden: true, readonly: true, 'aria-hidden': 'true', tabindex: -1}),
    field('Current password', cur), field('New password', next, 'At least 12 characters; a long phrase is best.'), field('New password again', again), btn, pwOut);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    busy(btn, pwOut, async () => {
      if (next.value !== again.value) throw new Error('The two new passwords differ.');
      const res = await renewingSession(api('PATCH', '/me/password', {current_password: cur.value, new_password: next.value}));
      form.reset();
      const n = (res && res.revoked_tokens) || 0;
      notice(pwOut, 'Password changed. Every other session was signed out' + (n ? ` and ${n} API token${n === 1 ? ' was' : 's were'} revoked.` : '.'));
      await load();
    });
  });

  const data = dataCard({me, gate});
  const twoFactor = twoFactorCard({me, gate, onChange: () => { data.sync(); load().catch((err) => notice(sessOut, err.message, 'error')); }});

  fill(main,
    h('h1', null, 'Account'),
    gate ? h('div', {class: 'banner', id: 'two-factor-required', role: 'alert'},
      h('strong', null, 'Turn on two-factor sign-in to go on.'),
      ' This server requires two-factor sign-in for your account. Until you set it up below, the rest of the dashboard is closed to you.') : null,
    h('p', {class: 'muted'}, `${me.email} · ${me.role} · may ${me.permissions.join(', ')}`),
    h('div', {class: 'grid'},
      gate ? null : profileCard(me, header),
      twoFactor,
      h('section', {class: 'card', 'aria-labelledby': 'pw-h'}, h('h2', {id: 'pw-h'}, 'Password'), form),
      h('section', {class: 'card wide', 'aria-labelledby': 'sess-h'}, h('h2', {id: 'sess-h'}, 'Sessions'), sessOut,
        h('div', {class: 'scroll'}, h('table', {id: 'sessions'}, h('caption', {class: 'sr-only'}, 'Your sessions'),
          h('thead', null, h('tr', null, ['Client', 'Address', 'Signed in', 'Last seen', ''].map((t) => h('th', {scope: 'col'}, t)))), sessions))),
      data.card));
  await load();
}

// profileCard edits the display name, shown in the header instead of the
// e-mail address.
function profileCard(me, header) {
  const name = h('input', {id: 'name', type: 'text', autocomplete: 'name', maxlength: 200, value: me.name || ''});
  const out = h('p', {class: 'notice', role: 'status', hidden: true});
  const btn = h('button', {type: 'submit'}, 'Save');
  const form = h('form', {id: 'profile-form'}, field('Display name', name, 'Shown to you in the header; leave it empty to show your e-mail address.'), btn, out);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    busy(btn, out, async () => {
      const u = await api('PATCH', '/me', {name: name.value});
      me.name = u.name;
      name.value = u.name || '';
      header();
      notice(out, u.name ? `Saved: you are ${u.name}.` : 'Name removed.');
    });
  });
  return h('section', {class: 'card', 'aria-labelledby': 'profile-h'}, h('h2', {id: 'profile-h'}, 'Profile'), form);
}
