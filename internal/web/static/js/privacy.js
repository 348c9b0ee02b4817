// The "Your data" card of the Account screen: download everything the
// server keeps about the account, and delete it — password (and a code
// when two-factor sign-in is on) asked again, a choice for the books it
// owns, and a confirmation step.

import {api, get} from './api.js';
import {h, fill, field, notice, busy} from './dom.js';

// dataCard returns the card and sync(), which shows or hides the code
// field after two-factor sign-in was turned on or off. gate: the dashboard
// is gated (see app.js), so the books cannot be listed.
export function dataCard({me, gate}) {
  const out = h('p', {class: 'notice', role: 'alert', hidden: true});

  const pw = h('input', {id: 'del-password', type: 'password', autocomplete: 'current-password', required: true});
  const code = h('input', {id: 'del-code', type: 'text', autocomplete: 'one-time-code', maxlength: 32});
  const codeField = field('Code from your authenticator app, or a recovery code', code);
  const sync = () => {
    codeField.hidden = !me.two_factor;
    code.required = me.two_factor;
  };
  sync();

  // What becomes of the books the account owns: unknown (null) until
  // listed; no choice to make when there are none.
  let owned = null;
  const transfer = h('input', {type: 'radio', name: 'del-books', id: 'del-books-transfer', value: 'transfer'});
  const remove = h('input', {type: 'radio', name: 'del-books', id: 'del-books-delete', value: 'delete'});
  const heir = h('input', {id: 'del-transfer', type: 'email', autocomplete: 'off', disabled: true, 'aria-describedby': 'del-transfer-hint'});
  for (const r of [transfer, remove]) r.addEventListener('change', () => { heir.disabled = !transfer.checked; heir.required = transfer.checked; });
  const legend = h('legend');
  const titles = h('p', {class: 'muted'});
  const books = h('fieldset', {id: 'del-books'}, legend, titles,
    h('label', {class: 'check'}, transfer, 'Give them to another user'),
    h('div', {class: 'field indent'}, h('label', {for: heir.id}, 'Their e-mail address'), heir,
      h('small', {class: 'muted', id: 'del-transfer-hint'}, 'An author, editor or admin of this server.')),
    h('label', {class: 'check'}, remove, 'Delete them, with their runs and published editions'));
  const showBooks = () => {
    books.hidden = owned !== null && owned.length === 0;
    legend.textContent = owned === null ? 'The books you own, if any' : `Your ${owned.length === 1 ? 'book' : `${owned.length} books`}`;
    fill(titles, owned && owned.length ? owned.slice(0, 5).map((b) => b.title).join(', ') + (owned.length > 5 ? ', …' : '') : null);
  };
  showBooks();
  if (!gate) {
    get('/books').then(({books: list}) => { owned = list.filter((b) => b.owner_id === me.id); showBooks(); }).catch(() => {});
  }

  const ask = h('button', {type: 'submit', class: 'danger'}, 'Delete my account…');
  const form = h('form', {id: 'delete-account'}, h('input', {type: 'email', autocomplete: 'username', value: me.email, hidden: true, readonly: true, 'aria-hidden': 'true', tabindex: -1}),
    field('Your password', pw), codeField, books, ask);

  // The confirmation step, in place of the button.
  const confirm = h('div', {id: 'delete-confirm', class: 'confirm', tabindex: -1, role: 'group', 'aria-labelledby': 'del-confirm-h', hidden: true});
  const back = () => { confirm.hidden = true; ask.hidden = false; ask.focus(); };
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    notice(out, '');
    const body = {password: pw.value};
    if (me.two_factor) body.code = code.value;
    let fate = '';
    if (!books.hidden) {
      if (transfer.checked) {
        body.transfer_to = heir.value.trim();
        fate = `${owned ? 'Your books go' : 'Any books you own go'} to ${body.transfer_to}.`;
      } else if (remove.checked) {
        body.delete_books = true;
        fate = owned ? `Your ${owned.length === 1 ? 'book is' : `${owned.length} books are`} deleted too.` : 'Any books you own are deleted too.';
      } else {
        notice(out, 'Say what becomes of your books: give them to another user, or delete them.', 'error');
        transfer.focus();
        return;
      }
    }
    const yes = h('button', {type: 'button', class: 'danger', id: 'delete-yes'}, 'Yes, delete my account');
    const no = h('button', {type: 'button', class: 'secondary'}, 'Cancel');
    yes.addEventListener('click', () => busy(yes, out, async () => {
      try {
        await api('DELETE', '/me', body);
      } catch (err) {
        back();
        throw err;
      }
      location.assign('/login');
    }));
    no.addEventListener('click', back);
    fill(confirm, h('h3', {id: 'del-confirm-h'}, 'Delete your account for good?'),
      h('p', null, `${me.email} is deleted with its sessions, API tokens and settings, and you are signed out everywhere. ${fate} This cannot be undone.`),
      h('div', {class: 'controls'}, yes, no));
    ask.hidden = true;
    confirm.hidden = false;
    confirm.focus();
  });

  const card = h('section', {class: 'card', id: 'your-data', 'aria-labelledby': 'data-h'}, h('h2', {id: 'data-h'}, 'Your data'),
    h('p', null, 'Everything Bindery keeps about you — your account, sessions, API tokens, audit entries, and the sources and built files of the books you own — in one .zip file.'),
    h('p', null, h('a', {class: 'button secondary', id: 'export-link', href: '/api/v1/me/export', download: true}, 'Download my data (.zip)')),
    h('h3', null, 'Delete your account'),
    h('p', {class: 'muted'}, 'Download your data first if you want to keep it.'),
    out, form, confirm);
  return {card, sync};
}
