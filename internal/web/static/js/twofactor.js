// The "Two-factor sign-in" card of the Account screen: its state, turning
// it on (password → QR code and key → a code from the app → the recovery
// codes, shown once), new recovery codes, and turning it off.

import {api, get, post} from './api.js';
import {h, fill, field, notice, busy} from './dom.js';
import {renewingSession} from './live.js';

// twoFactorCard returns the card and loads its state. me.two_factor is
// kept current; onChange runs when it changed (turning the factor on also
// replaces this browser's session and revokes every other). gate: the
// policy requires the factor and it is off, so once it is on the user goes
// on to the dashboard.
export function twoFactorCard({me, gate, onChange}) {
  const body = h('div');
  const out = h('p', {class: 'notice', role: 'status', hidden: true});
  const heading = h('h2', {id: 'tf-h', tabindex: -1}, 'Two-factor sign-in');
  const card = h('section', {class: 'card', id: 'two-factor', 'aria-labelledby': 'tf-h'}, heading, out, body);

  const load = async () => {
    const st = await get('/me/two-factor');
    me.two_factor = st.enabled;
    fill(body, st.enabled ? onView(st) : offView(st));
  };
  // back leaves the recovery codes for the card's state.
  const back = () => load().then(() => { notice(out, ''); heading.focus(); }, (err) => notice(out, err.message, 'error'));

  // offView: what it is, and the first step of turning it on.
  const offView = (st) => {
    const pw = h('input', {id: 'tf-password', type: 'password', autocomplete: 'current-password', required: true});
    const btn = h('button', {type: 'submit'}, 'Set up two-factor sign-in');
    const form = h('form', {id: 'tf-begin'}, field('Your password', pw, 'Asked again to make sure it is you.'), btn);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      busy(btn, out, async () => {
        const enrol = await post('/me/two-factor', {password: pw.value});
        notice(out, '');
        fill(body, enrolView(enrol, st));
        body.querySelector('h3').focus();
      });
    });
    return [
      h('p', null, h('span', {class: 'badge s-stopped'}, 'Off'), ' ',
        st.required ? 'Required for your account, and not on yet.' : 'Only your password protects this account.'),
      h('p', {class: 'muted'}, 'With two-factor sign-in, signing in also asks for a 6-digit code from an authenticator app on your phone ' +
        '(such as Aegis, FreeOTP, Google Authenticator or 1Password), so a stolen password alone is not enough.'),
      st.pending ? h('p', {class: 'muted'}, 'A set-up was started and not finished; starting again replaces it.') : null,
      form,
    ];
  };

  // enrolView: the QR code and the key, then the code that proves the app
  // has them.
  const enrolView = (enrol, st) => {
    const code = h('input', {id: 'tf-code', type: 'text', inputmode: 'numeric', autocomplete: 'one-time-code', required: true, maxlength: 8, pattern: '[0-9 ]*'});
    const btn = h('button', {type: 'submit'}, 'Turn on');
    const cancel = h('button', {type: 'button', class: 'secondary'}, 'Cancel');
    cancel.addEventListener('click', () => { notice(out, ''); fill(body, offView({...st, pending: true})); });
    const form = h('form', {id: 'tf-confirm'}, field('Code from the app', code, 'Six digits; a new one every 30 seconds.'), h('div', {class: 'controls'}, btn, cancel));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      busy(btn, out, async () => {
        const {recovery_codes: codes} = await renewingSession(post('/me/two-factor/confirm', {code: code.value}));
        me.two_factor = true;
        notice(out, 'Two-factor sign-in is on. Your other sessions were signed out.');
        onChange();
        fill(body, codesView(codes, me, gate ? () => location.assign('/') : back, gate ? 'Continue to the dashboard' : 'Done: I saved them'));
        body.querySelector('h3').focus();
      });
    });
    const secret = enrol.secret.replace(/(.{4})(?=.)/g, '$1 ');
    return [
      h('h3', {tabindex: -1}, 'Set up your authenticator app'),
      h('ol', {class: 'steps'},
        h('li', null, 'Scan this QR code with the app:',
          h('img', {id: 'tf-qr', class: 'qr', src: `${enrol.qr}?n=${Date.now()}`, width: 196, height: 196, alt: 'QR code with the key for your authenticator app'})),
        h('li', null, 'Or, if you cannot scan it, enter this key in the app by hand (time-based):',
          h('p', null, h('code', {id: 'tf-secret', class: 'secret'}, secret)), copyButton(enrol.secret, 'Copy the key', out),
          h('p', {class: 'muted'}, 'On this phone? ', h('a', {href: enrol.uri}, 'Open it in your authenticator app'), '.')),
        h('li', null, 'Enter the code the app now shows:', form)),
    ];
  };

  // onView: the state, new recovery codes, and turning it off.
  const onView = (st) => {
    const renew = reauthForm('tf-renew', 'Make new recovery codes', 'secondary', async ({password, code}) => {
      const {recovery_codes: codes} = await post('/me/two-factor/recovery-codes', {password, code});
      notice(out, 'New recovery codes made; the old ones no longer work.');
      fill(body, codesView(codes, me, back, 'Done: I saved them'));
      body.querySelector('h3').focus();
    });
    const off = st.required ? null : reauthForm('tf-off', 'Turn off two-factor sign-in', 'danger', async ({password, code}) => {
      await api('DELETE', '/me/two-factor', {password, code});
      notice(out, 'Two-factor sign-in is off.');
      await load();
      onChange();
    });
    const left = st.recovery_codes_left;
    return [
      h('p', null, h('span', {class: 'badge s-succeeded'}, 'On'), ' Signing in asks for a code from your authenticator app.'),
      h('p', {id: 'tf-codes-left', class: left <= 3 ? 'error' : 'muted'},
        `Recovery codes left: ${left}.`, left <= 3 ? ' Make new ones before you run out.' : ''),
      h('details', {class: 'more', id: 'tf-renew-more'}, h('summary', null, 'New recovery codes'),
        h('p', {class: 'muted'}, 'Replaces all your unused recovery codes.'), renew),
      off ? h('details', {class: 'more', id: 'tf-off-more'}, h('summary', null, 'Turn off'), off)
        : h('p', {class: 'muted', id: 'tf-required'}, 'Required for your account by this server’s policy: it cannot be turned off.'),
    ];
  };

  // reauthForm asks for the password and a code, then runs fn({password, code}).
  const reauthForm = (id, label, kind, fn) => {
    const pw = h('input', {id: `${id}-password`, type: 'password', autocomplete: 'current-password', required: true});
    const code = h('input', {id: `${id}-code`, type: 'text', autocomplete: 'one-time-code', required: true, maxlength: 32});
    const btn = h('button', {type: 'submit', class: kind}, label);
    const form = h('form', {id}, field('Password', pw), field('Code from the app, or a recovery code', code), btn);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      busy(btn, out, () => fn({password: pw.value, code: code.value}));
    });
    return form;
  };

  load().catch((err) => notice(out, err.message, 'error'));
  return card;
}

// codesView shows recovery codes once, with ways to keep them, and a
// button that runs done.
function codesView(codes, me, done, doneLabel) {
  const status = h('p', {class: 'notice', role: 'status', hidden: true});
  const text = `Bindery recovery codes for ${me.email}\n` +
    `Made ${new Date().toLocaleString()}. Each code works once, instead of a code from your authenticator app.\n\n${codes.join('\n')}\n`;
  const url = URL.createObjectURL(new Blob([text], {type: 'text/plain'}));
  const finish = h('button', {type: 'button', id: 'tf-codes-done'}, doneLabel);
  finish.addEventListener('click', () => { URL.revokeObjectURL(url); done(); });
  return [
    h('h3', {tabindex: -1}, 'Your recovery codes'),
    h('p', {class: 'notice warn', role: 'alert'}, h('strong', null, 'Save these codes now: they are shown only this once. '),
      'If you lose your phone, each one lets you sign in once instead of a code from the app. Keep them somewhere safe, apart from your password.'),
    h('ol', {id: 'recovery-codes', class: 'codes'}, codes.map((c) => h('li', null, h('code', null, c)))),
    h('div', {class: 'controls'},
      copyButton(codes.join('\n'), 'Copy', status),
      h('a', {class: 'button secondary', id: 'tf-codes-download', href: url, download: 'bindery-recovery-codes.txt'}, 'Download as .txt'),
      finish),
    status,
  ];
}

// copyButton copies text to the clipboard and says so in out; where the
// clipboard is not available it asks to select and copy by hand.
function copyButton(text, label, out) {
  const b = h('button', {type: 'button', class: 'secondary'}, label);
  b.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(text);
      notice(out, 'Copied.');
    } catch {
      notice(out, 'This browser did not allow copying: select the text and copy it yourself.', 'error');
    }
  });
  return b;
}
