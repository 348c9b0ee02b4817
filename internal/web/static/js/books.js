// Books: the list (with the runs in progress and a form for a new book)
// and one book's page: metadata, runs, files with drag-and-drop upload,
// chapter preview and members.

import {api, get, post, upload, sendRaw, enc, filePath} from './api.js';
import {h, fill, field, uid, when, bytes, plural, notice, busy, badge} from './dom.js';
import * as live from './live.js';
import {entriesOfDrop, walkEntries, filesOfInput, tarGz, PackError} from './folder.js';

const FORMATS = ['epub', 'html', 'pdf'];
const runEvent = (f) => f.type.startsWith('run_');

export async function booksScreen({main, scope, can}) {
  const {books} = await get('/books');
  const titles = new Map(books.map((b) => [b.id, b.title]));
  const activeList = h('ul', {class: 'plain', id: 'active-runs'});
  const showActive = () => {
    const runs = [...live.active.values()];
    fill(activeList, runs.length ? runs.map((r) => h('li', null,
      h('a', {href: `#/runs/${r.id}`}, `Run #${r.id}`), ' · ', titles.get(r.book_id) || `book ${r.book_id}`, ' ', badge(r.state)))
      : h('li', {class: 'muted'}, 'No run in progress.'));
  };
  showActive();
  scope.live((f) => { if (runEvent(f) || f.type === 'state_sync') showActive(); });

  const list = h('ul', {class: 'book-list', id: 'book-list'}, books.length
    ? books.map((b) => h('li', null, h('a', {href: `#/books/${b.id}`, class: 'book-link'}, b.title), h('span', {class: 'muted'}, ` updated ${when(b.updated_at)}`)))
    : h('li', {class: 'muted'}, can('write') ? 'No books yet: create the first one.' : 'No books shared with you yet.'));

  fill(main,
    h('h1', null, 'Books'),
    h('div', {class: 'grid'},
      await invitationsCard(),
      h('section', {class: 'card wide', 'aria-labelledby': 'books-h'}, h('h2', {id: 'books-h'}, 'Your books'), list),
      h('section', {class: 'card', 'aria-labelledby': 'active-h'}, h('h2', {id: 'active-h'}, 'Runs in progress'), activeList),
      can('write') ? newBookForm() : null,
      can('write') ? importCard() : null));
}

// importCard makes a book from a book folder, or a .zip or .tar.gz of
// one, chosen or dropped. A folder is packed here as a .tar.gz
// (folder.js), so that both take the one server path: the server checks
// every entry as it would a single upload and creates the book only when
// all pass (POST /books/import).
function importCard() {
  const input = h('input', {type: 'file', id: 'import-input', 'aria-label': 'Book archive to import', accept: '.zip,.tar.gz,.tgz,application/zip,application/gzip'});
  const folderInput = h('input', {type: 'file', id: 'import-folder-input', 'aria-label': 'Book folder to import', webkitdirectory: true, multiple: true});
  const bar = h('progress', {max: 1, value: 0, hidden: true, id: 'import-progress', 'aria-label': 'Import progress'});
  const status = h('p', {class: 'muted', id: 'import-status', role: 'status', hidden: true});
  const out = h('p', {class: 'notice', role: 'status', hidden: true, id: 'import-out'});
  const zone = h('div', {class: 'drop', id: 'import-drop', tabindex: 0},
    h('p', null, 'Drop a book folder, or a .zip or .tar.gz of one, here.'),
    h('p', null, h('label', {for: 'import-folder-input'}, 'Choose a folder: '), folderInput),
    h('p', null, h('label', {for: 'import-input'}, 'Or an archive: '), input),
    h('small', {class: 'muted'}, 'metadata.yaml, chapters/, assets/ (images, a stylesheet, fonts); other files are skipped and listed.'), status, bar, out);
  const say = (text) => { status.textContent = text; status.hidden = !text; };
  let busyNow = false;
  // run does one import: pack() returns the body to send and the paths
  // already left out here (hidden files of a folder).
  const run = async (pack) => {
    if (busyNow) return;
    busyNow = true;
    input.disabled = folderInput.disabled = true;
    out.hidden = true;
    bar.value = 0;
    try {
      const {body, skipped} = await pack();
      bar.hidden = false;
      say(`Sending ${bytes(body.size)}…`);
      const r = await sendRaw('/books/import', body, (f) => { bar.value = f; });
      const all = [...skipped, ...(r.skipped || [])].sort();
      const noun = all.some((p) => p.endsWith('/')) ? 'item' : 'file';
      if (all.length) sessionStorage.setItem('bindery.imported', `Imported; skipped ${plural(all.length, noun)}: ${all.join(', ')}`);
      location.hash = `#/books/${r.book.id}`;
    } catch (err) {
      notice(out, err.message, 'error');
    } finally {
      busyNow = false;
      input.disabled = folderInput.disabled = false;
      bar.hidden = true;
      say('');
    }
  };
  const archive = (file) => run(async () => ({body: file, skipped: []}));
  // folder packs files ({path, file}) as a .tar.gz, saying how far it got.
  const folder = (listed) => run(async () => {
    const {files, skipped} = await listed();
    if (!files.length) throw new PackError('The folder holds no files to import.');
    // Name what was left out as the server names its skipped entries:
    // from inside the book's folder (a lone top folder is the book's).
    const top = files[0].path.split('/')[0] + '/';
    const inside = [...files.map((f) => f.path), ...skipped].every((p) => p.startsWith(top));
    const left = inside ? skipped.map((p) => p.slice(top.length)) : skipped;
    const total = files.reduce((n, f) => n + f.file.size, 0);
    say(`Packing ${plural(files.length, 'file')} (${bytes(total)})…`);
    const body = await tarGz(files, (n) => { bar.hidden = false; bar.value = total ? n / total : 1; });
    return {body, skipped: left};
  });
  input.addEventListener('change', () => { if (input.files[0]) archive(input.files[0]); input.value = ''; });
  folderInput.addEventListener('change', () => {
    const list = [...folderInput.files];
    folderInput.value = '';
    if (list.length) folder(async () => filesOfInput(list));
  });
  zone.addEventListener('dragover', (e) => { e.preventDefault(); zone.classList.add('over'); });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('over');
    // The entries must be taken now: the drop's items are gone once this
    // handler returns. A lone archive is sent as it is; anything else (a
    // folder, or a book's files and folders) is packed.
    const entries = entriesOfDrop(e.dataTransfer);
    const files = [...e.dataTransfer.files];
    if (entries.length === 1 && entries[0].isFile && isArchive(entries[0].name)) return archive(files[0]);
    if (!entries.length) return files[0] && isArchive(files[0].name) ? archive(files[0]) : notice(out, 'Drop a book folder or a .zip or .tar.gz of one.', 'error');
    folder(() => walkEntries(entries, (n) => say(`Reading the folder: ${plural(n, 'file')}…`)));
  });
  return h('section', {class: 'card', 'aria-labelledby': 'import-h'}, h('h2', {id: 'import-h'}, 'Import a book'), zone);
}

const isArchive = (name) => /\.(zip|tar\.gz|tgz)$/i.test(name);

// invitationsCard lists the invitations to the signed-in user's address,
// to accept or decline; nothing when there are none.
async function invitationsCard() {
  const {invitations} = await get('/me/invitations');
  if (!invitations.length) return null;
  const out = h('p', {class: 'notice', role: 'status', hidden: true});
  const list = h('ul', {class: 'plain', id: 'my-invitations'}, invitations.map((inv) => {
    const yes = h('button', {type: 'button', class: 'small invitation-accept', 'aria-label': `Accept the invitation to ${inv.book_title}`}, 'Accept');
    const no = h('button', {type: 'button', class: 'small invitation-decline', 'aria-label': `Decline the invitation to ${inv.book_title}`}, 'Decline');
    yes.addEventListener('click', () => busy(yes, out, async () => {
      const b = await post(`/me/invitations/${inv.id}/accept`);
      location.hash = `#/books/${b.id}`;
    }));
    no.addEventListener('click', () => busy(no, out, async () => {
      await api('DELETE', `/me/invitations/${inv.id}`);
      yes.closest('li').remove();
    }));
    return h('li', null, h('span', null, `${inv.book_title}, from ${inv.inviter_name}`), ' ', yes, ' ', no);
  }));
  return h('section', {class: 'card wide', 'aria-labelledby': 'invitations-h'}, h('h2', {id: 'invitations-h'}, 'Invitations'), list, out);
}

function newBookForm() {
  const title = h('input', {id: 'new-title', name: 'title', required: true, maxlength: 500, autocomplete: 'off'});
  const authors = h('input', {id: 'new-authors', name: 'authors', autocomplete: 'off'});
  const lang = h('input', {id: 'new-language', name: 'language', value: 'en', autocomplete: 'off'});
  const out = h('p', {class: 'notice', role: 'status', hidden: true});
  const btn = h('button', {type: 'submit', id: 'create-book'}, 'Create book');
  const form = h('form', {id: 'new-book'}, field('Title', title), field('Authors', authors, 'Separate several with commas.'), field('Language', lang, 'A language tag such as en, en-GB or fr.'), btn, out);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    busy(btn, out, async () => {
      const b = await post('/books', {title: title.value, authors: splitList(authors.value), language: lang.value.trim()});
      location.hash = `#/books/${b.id}`;
    });
  });
  return h('section', {class: 'card', 'aria-labelledby': 'new-h'}, h('h2', {id: 'new-h'}, 'New book'), form);
}

// takeImportNote shows, once, what an import just skipped.
function takeImportNote() {
  const text = sessionStorage.getItem('bindery.imported');
  if (!text) return null;
  sessionStorage.removeItem('bindery.imported');
  return h('p', {class: 'notice', id: 'import-note', role: 'status'}, text);
}

const splitList = (s) => s.split(',').map((x) => x.trim()).filter(Boolean);

export async function bookScreen(ctx, id) {
  const {main, me, can, admin} = ctx;
  const book = await get(`/books/${id}`);
  const md = book.metadata || {};
  const manages = can('write') && (admin || book.owner_id === me.id);
  const heading = h('h1', {id: 'book-title'}, book.title);
  const sub = h('p', {class: 'muted', id: 'book-sub'});
  const showSub = (m) => fill(sub, [m.subtitle, (m.authors || []).join(', ')].filter(Boolean).join(' · '));
  showSub(md);

  const preview = previewPanel(id);
  // An uploaded metadata.yaml may rename the book.
  const retitle = async () => {
    const b = await get(`/books/${id}`).catch(() => null);
    if (b) { heading.textContent = b.title; showSub(b.metadata || {}); }
  };
  const files = filesPanel(ctx, id, preview, retitle);
  fill(main,
    h('p', {class: 'crumbs'}, h('a', {href: '#/'}, 'Books'), ' / '),
    heading, sub,
    takeImportNote(),
    book.published ? h('p', {class: 'notice', id: 'book-published'}, `Published ${when(book.published.published_at)} from `,
      h('a', {href: `#/runs/${book.published.run_id}`}, `run #${book.published.run_id}`), ' · ', h('a', {href: '/catalog'}, 'in the catalogue')) : null,
    book.metadata_error ? h('p', {class: 'notice error', role: 'alert'}, 'metadata.yaml has a problem: ', book.metadata_error) : null,
    h('div', {class: 'grid'},
      runsPanel(ctx, id),
      files.el,
      preview.el,
      can('write') ? metadataPanel(id, md, (m) => { heading.textContent = m.title; showSub(m); }) : null,
      membersPanel(ctx, book, manages),
      can('delete') ? deletePanel(id) : null));
  await files.load();
}

// --- runs -------------------------------------------------------------

function runsPanel({scope, can}, bookID) {
  const body = h('tbody');
  const table = h('table', {id: 'run-history'}, h('caption', {class: 'sr-only'}, 'Run history, newest first'),
    h('thead', null, h('tr', null, h('th', {scope: 'col'}, 'Run'), h('th', {scope: 'col'}, 'State'), h('th', {scope: 'col'}, 'Formats'), h('th', {scope: 'col'}, 'Started'))), body);
  const count = h('p', {class: 'muted', id: 'run-count'});
  const load = async () => {
    const {runs} = await get(`/books/${bookID}/runs`);
    count.textContent = runs.length ? `${runs.length} run${runs.length === 1 ? '' : 's'}` : 'No runs yet.';
    fill(body, runs.map((r) => h('tr', null,
      h('td', null, h('a', {href: `#/runs/${r.id}`}, `#${r.id}`)), h('td', null, badge(r.state)),
      h('td', null, (r.formats || []).join(', ')), h('td', null, when(r.started_at || r.created_at)))));
  };
  let timer = 0;
  scope.live((f) => {
    if ((runEvent(f) && f.book_id === Number(bookID)) || f.type === 'state_sync') {
      clearTimeout(timer);
      timer = setTimeout(load, 150);
    }
  });
  scope.add(() => clearTimeout(timer));
  load();

  let form = null;
  if (can('write')) {
    const boxes = FORMATS.map((f) => h('input', {type: 'checkbox', id: `fmt-${f}`, name: 'formats', value: f, checked: true}));
    const pub = can('publish') ? h('input', {type: 'checkbox', id: 'run-publish-opt', name: 'publish'}) : null;
    const draft = h('input', {type: 'checkbox', id: 'run-draft-opt', name: 'draft'});
    const out = h('p', {class: 'notice', role: 'status', hidden: true});
    const btn = h('button', {type: 'submit', id: 'start-run'}, 'Start run');
    form = h('form', {id: 'start-run-form'},
      h('fieldset', null, h('legend', null, 'Formats'),
        boxes.map((b) => h('label', {class: 'check', for: b.id}, b, ' ', b.value.toUpperCase()))),
      pub ? h('label', {class: 'check', for: pub.id}, pub, ' Publish when the run succeeds') : null,
      h('label', {class: 'check', for: draft.id}, draft, ' Draft: placeholders for missing images, broken links as text (never published)'),
      btn, out);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      busy(btn, out, async () => {
        const formats = boxes.filter((b) => b.checked).map((b) => b.value);
        if (!formats.length) throw new Error('Choose at least one format.');
        if (draft.checked && pub && pub.checked) throw new Error('A draft run cannot be published: untick one of the two.');
        const run = await post(`/books/${bookID}/runs`, {formats, publish: pub ? pub.checked : false, draft: draft.checked});
        location.hash = `#/runs/${run.id}`;
      });
    });
  }
  return h('section', {class: 'card', 'aria-labelledby': 'runs-h'}, h('h2', {id: 'runs-h'}, 'Runs'), form, count, h('div', {class: 'scroll'}, table));
}

// --- files and uploads -------------------------------------------------

function filesPanel({can}, bookID, preview, uploaded) {
  const body = h('tbody');
  const usage = h('p', {class: 'muted', id: 'file-usage'});
  const table = h('table', {id: 'file-list'}, h('caption', {class: 'sr-only'}, 'Files of the book'),
    h('thead', null, h('tr', null, h('th', {scope: 'col'}, 'File'), h('th', {scope: 'col'}, 'Size'), h('th', {scope: 'col'}, h('span', {class: 'sr-only'}, 'Actions')))), body);
  const out = h('p', {class: 'notice', role: 'status', hidden: true});

  const load = async () => {
    const {files, usage: u} = await get(`/books/${bookID}/files`);
    usage.textContent = `${plural(u.files, 'file')}, ${bytes(u.bytes)} of ${bytes(u.max_bytes)}; at most ${bytes(u.max_file_bytes)} per file.`;
    fill(body, files.map((f) => {
      const url = `/api/v1/books/${bookID}/files/${filePath(f.path)}`;
      const chapter = /^chapters\/[^/]+\.(md|txt)$/.test(f.path);
      const del = can('write') ? h('button', {type: 'button', class: 'small danger file-delete', 'aria-label': `Delete ${f.path}`}, 'Delete') : null;
      del?.addEventListener('click', () => busy(del, out, async () => {
        await api('DELETE', `/books/${bookID}/files/${filePath(f.path)}`);
        notice(out, `Deleted ${f.path}.`);
        await load();
      }));
      const pv = chapter ? h('button', {type: 'button', class: 'small secondary preview-btn', 'aria-label': `Preview ${f.path}`}, 'Preview') : null;
      pv?.addEventListener('click', () => preview.show(f.path));
      return h('tr', null, h('td', {class: 'path'}, f.path), h('td', null, bytes(f.size)),
        h('td', {class: 'actions'}, pv, h('a', {class: 'small button secondary', href: url, download: '', 'aria-label': `Download ${f.path}`}, 'Download'), del));
    }));
  };

  let drop = null;
  if (can('write')) {
    const input = h('input', {type: 'file', id: 'upload-input', multiple: true, class: 'sr-only'});
    const queue = h('ul', {class: 'plain uploads', id: 'uploads', 'aria-live': 'polite'});
    drop = h('div', {class: 'drop', id: 'dropzone'},
      h('label', {for: input.id}, h('strong', null, 'Drop files or a book folder here'), h('span', null, ' or choose files'), input),
      h('small', {class: 'muted'}, 'Chapters (.md, .txt), images (.jpg, .png, .gif, .webp), stylesheets (.css), fonts (.ttf, .otf), metadata.yaml, sources (.pdf, .epub).'), queue);
    const send = async (items) => {
      for (const {file, name} of items) {
        const bar = h('progress', {max: 100, value: 0, 'aria-label': `Upload of ${name}`});
        const status = h('span', {class: 'muted'}, 'waiting');
        const row = h('li', {class: 'upload'}, h('span', {class: 'path'}, name), bar, status);
        queue.append(row);
        try {
          const named = new File([file], name, {type: file.type});
          await upload(`/books/${bookID}/files?place=auto`, named, (p) => { bar.value = Math.round(p * 100); status.textContent = `${Math.round(p * 100)} %`; });
          bar.value = 100;
          status.textContent = 'stored';
          row.classList.add('done');
        } catch (err) {
          row.classList.add('failed');
          status.className = 'error';
          status.textContent = err.message;
        }
      }
      await load();
      if (items.some((i) => i.name.endsWith('metadata.yaml'))) await uploaded();
    };
    input.addEventListener('change', () => {
      send([...input.files].map((file) => ({file, name: file.name})));
      input.value = '';
    });
    drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
    drop.addEventListener('dragleave', () => drop.classList.remove('over'));
    drop.addEventListener('drop', async (e) => {
      e.preventDefault();
      drop.classList.remove('over');
      send(await droppedFiles(e.dataTransfer));
    });
  }
  const el = h('section', {class: 'card wide', 'aria-labelledby': 'files-h'}, h('h2', {id: 'files-h'}, 'Files'), drop, out, usage, h('div', {class: 'scroll'}, table));
  return {el, load};
}

// droppedFiles lists the files of a drop; a dropped folder gives its
// files with their paths inside it ("chapters/01.md"), so that a book
// folder lands in place.
async function droppedFiles(dt) {
  const entries = [...dt.items].map((i) => i.webkitGetAsEntry && i.webkitGetAsEntry()).filter(Boolean);
  if (!entries.length) return [...dt.files].map((file) => ({file, name: file.name}));
  const out = [];
  const walk = async (entry, prefix) => {
    if (entry.isFile) {
      const file = await new Promise((ok, fail) => entry.file(ok, fail));
      out.push({file, name: prefix + file.name});
    } else if (entry.isDirectory) {
      const reader = entry.createReader();
      for (;;) {
        const batch = await new Promise((ok, fail) => reader.readEntries(ok, fail));
        if (!batch.length) break;
        for (const e of batch) await walk(e, prefix + entry.name + '/');
      }
    }
  };
  for (const e of entries) {
    if (e.isDirectory) {
      const reader = e.createReader();
      for (;;) {
        const batch = await new Promise((ok, fail) => reader.readEntries(ok, fail));
        if (!batch.length) break;
        for (const c of batch) await walk(c, '');
      }
    } else {
      await walk(e, '');
    }
  }
  return out.filter((f) => !f.name.split('/').some((p) => p.startsWith('.')) && f.name !== 'README.md');
}

// --- preview -----------------------------------------------------------

// previewPanel shows a chapter in a sandboxed frame without allow-scripts:
// nothing in it can run (the chapter is sanitised, and the preview's own CSP
// allows no script at all). allow-same-origin is granted only so that the
// chapter's images, which are the book's files behind the session cookie,
// load; without scripts, same-origin gives the frame nothing to abuse.
function previewPanel(bookID) {
  const frame = h('iframe', {id: 'preview-frame', sandbox: 'allow-same-origin', title: 'Chapter preview', referrerpolicy: 'no-referrer', loading: 'lazy'});
  const label = h('p', {class: 'muted', id: 'preview-label'}, 'Choose “Preview” next to a chapter.');
  const el = h('section', {class: 'card wide', 'aria-labelledby': 'preview-h', id: 'preview'}, h('h2', {id: 'preview-h'}, 'Preview'), label, frame);
  frame.hidden = true;
  frame.addEventListener('load', () => { frame.dataset.loaded = frame.src ? 'true' : ''; });
  return {
    el,
    show(path) {
      const name = path.split('/').pop();
      label.textContent = name;
      frame.hidden = false;
      frame.dataset.loaded = '';
      frame.src = `/api/v1/books/${bookID}/preview/${enc(name)}`;
      el.scrollIntoView({behavior: 'smooth', block: 'start'});
    },
  };
}

// --- metadata ------------------------------------------------------------

function metadataPanel(bookID, md, changed) {
  const input = (name, label, value, hint) => field(label, h('input', {id: `md-${name}`, name, value: value || '', autocomplete: 'off'}), hint);
  const desc = h('textarea', {id: 'md-description', name: 'description', rows: 3});
  desc.value = md.description || '';
  const out = h('p', {class: 'notice', role: 'status', hidden: true});
  const btn = h('button', {type: 'submit'}, 'Save metadata');
  const form = h('form', {id: 'edit-metadata'},
    input('title', 'Title', md.title), input('subtitle', 'Subtitle', md.subtitle),
    input('authors', 'Authors', (md.authors || []).join(', '), 'Separate several with commas.'),
    input('language', 'Language', md.language), input('publisher', 'Publisher', md.publisher),
    input('date', 'Date', md.date, 'As you want it printed: 2025, 2025-03-01, …'), input('rights', 'Rights', md.rights),
    field('Description', desc), btn, out);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const v = (n) => form.elements[n].value.trim();
    busy(btn, out, async () => {
      const b = await api('PATCH', `/books/${bookID}`, {title: v('title'), subtitle: v('subtitle'), authors: splitList(v('authors')),
        language: v('language'), publisher: v('publisher'), date: v('date'), rights: v('rights'), description: v('description')});
      changed(b.metadata || {title: b.title});
      notice(out, 'Saved.');
    });
  });
  return h('section', {class: 'card', 'aria-labelledby': 'md-h'}, h('details', null, h('summary', null, h('h2', {id: 'md-h'}, 'Metadata')), form));
}

// --- members -------------------------------------------------------------

function membersPanel({admin}, book, manages) {
  const list = h('ul', {class: 'plain', id: 'members'});
  const out = h('p', {class: 'notice', role: 'status', hidden: true});
  // A member's address is in the answer only for admins and for the
  // member themself; everyone else gets a name or "member #id".
  const show = (members) => fill(list, members.length ? members.map((m) => {
    const label = m.email ? `${m.name} <${m.email}>` : m.name;
    const rm = manages ? h('button', {type: 'button', class: 'small danger member-remove', 'aria-label': `Remove ${m.name}`}, 'Remove') : null;
    rm?.addEventListener('click', () => busy(rm, out, async () => {
      await api('DELETE', `/books/${book.id}/members/${m.id}`);
      await reload();
    }));
    return h('li', null, h('span', null, label), ' ', badge(m.role), ' ', rm);
  }) : h('li', {class: 'muted'}, 'Only the owner.'));
  const reload = async () => show((await get(`/books/${book.id}`)).members || []);
  show(book.members || []);
  const section = h('section', {class: 'card', 'aria-labelledby': 'members-h'}, h('h2', {id: 'members-h'}, 'Members'), list, out);
  if (manages) {
    // Invitations: by address; the answer is the same whether or not an
    // account has it, and the invitee accepts from their own books page.
    const pending = h('ul', {class: 'plain', id: 'invitations-pending'});
    const showPending = async () => {
      const {invitations} = await get(`/books/${book.id}/invitations`);
      fill(pending, invitations.map((inv) => {
        const w = h('button', {type: 'button', class: 'small invitation-withdraw', 'aria-label': `Withdraw the invitation to ${inv.email}`}, 'Withdraw');
        w.addEventListener('click', () => busy(w, out, async () => {
          await api('DELETE', `/books/${book.id}/invitations/${inv.id}`);
          await showPending();
        }));
        return h('li', null, h('span', null, `${inv.email} (invited, until ${when(inv.expires_at)})`), ' ', w);
      }));
    };
    showPending().catch((err) => notice(out, err.message, 'error'));
    const email = h('input', {id: 'invite-email', name: 'email', type: 'email', required: true, autocomplete: 'off', maxlength: 254});
    const btn = h('button', {type: 'submit'}, 'Invite');
    const form = h('form', {id: 'members-invite', class: 'inline'}, field('E-mail address', email, 'They see the invitation when they sign in, and accept or decline it.'), btn);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      busy(btn, out, async () => {
        await post(`/books/${book.id}/invitations`, {email: email.value});
        notice(out, `Invitation sent to ${email.value}.`);
        form.reset();
        await showPending();
      });
    });
    section.append(pending, form);
  }
  if (manages && admin) {
    // Admins, who see every account anyway, may add one directly.
    const who = h('select', {id: 'member-user', name: 'user'});
    get('/users').then(({users}) => fill(who, users.map((u) => h('option', {value: u.id}, `${u.email} (${u.role})`))),
      (err) => notice(out, err.message, 'error'));
    const btn = h('button', {type: 'submit'}, 'Add member');
    const form = h('form', {id: 'members-add', class: 'inline'}, field('User', who), btn);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      busy(btn, out, async () => {
        await api('PUT', `/books/${book.id}/members/${enc(who.value)}`);
        notice(out, 'Member added.');
        await reload();
      });
    });
    section.append(form);
  }
  return section;
}

function deletePanel(bookID) {
  const out = h('p', {class: 'notice', role: 'status', hidden: true});
  const confirmBox = h('input', {type: 'checkbox', id: 'delete-confirm'});
  const btn = h('button', {type: 'button', class: 'danger', id: 'delete-book'}, 'Delete this book');
  btn.addEventListener('click', () => busy(btn, out, async () => {
    if (!confirmBox.checked) throw new Error('Tick the box first: deleting removes every file and run.');
    await api('DELETE', `/books/${bookID}`);
    location.hash = '#/';
  }));
  return h('section', {class: 'card', 'aria-labelledby': 'del-h'}, h('h2', {id: 'del-h'}, 'Danger zone'),
    h('label', {class: 'check', for: confirmBox.id}, confirmBox, ' I understand that every file and run of this book is deleted.'), btn, out);
}
