// A book folder, dropped or chosen, packed in the browser as a .tar.gz so
// that it takes the one server path of archives (POST /books/import): the
// server checks every entry exactly as it checks an uploaded archive.
//
// The tar is ustar: every header's checksum computed, names of at most
// 100 bytes or split at a folder into the 155-byte prefix field, longer
// paths refused with a message rather than cut. Hidden files and folders
// (.DS_Store, .git/) are left out and listed: the server refuses names
// that start with a dot, and a .git folder is no part of a book.

export const MAX_FILES = 10_000; // more is no book folder: stop walking
const MAX_ENTRY_BYTES = 8 ** 11 - 1; // what 11 octal digits of ustar hold

export class PackError extends Error {}

const hidden = (path) => path.split('/').some((p) => p.startsWith('.'));

// entriesOfDrop returns the dropped items' file system entries. It must be
// called during the drop event: the items are cleared once it returns.
export function entriesOfDrop(dataTransfer) {
  const out = [];
  for (const item of dataTransfer.items || []) {
    const e = item.kind === 'file' && item.webkitGetAsEntry ? item.webkitGetAsEntry() : null;
    if (e) out.push(e);
  }
  return out;
}

// walkEntries reads the files under the dropped entries, each with its
// path from the drop (a dropped folder "book" gives "book/metadata.yaml";
// the server takes a lone top folder as the book's). A directory reader
// returns its entries in batches (100 in Chromium) until an empty one.
export async function walkEntries(entries, onCount) {
  const files = [];
  const skipped = [];
  const fileOf = (e) => new Promise((resolve, reject) => e.file(resolve, reject));
  const batch = (r) => new Promise((resolve, reject) => r.readEntries(resolve, reject));
  const visit = async (e, prefix) => {
    const path = prefix + e.name;
    if (e.name.startsWith('.')) {
      skipped.push(e.isDirectory ? path + '/' : path);
      return;
    }
    if (e.isFile) {
      if (files.length >= MAX_FILES) throw new PackError(`The folder holds more than ${MAX_FILES} files; drop the book's folder itself.`);
      files.push({path, file: await fileOf(e)});
      onCount(files.length);
    } else if (e.isDirectory) {
      const r = e.createReader();
      for (let b = await batch(r); b.length; b = await batch(r)) {
        for (const child of b) await visit(child, path + '/');
      }
    }
  };
  for (const e of entries) await visit(e, '');
  return {files, skipped};
}

// filesOfInput lists the files of an <input webkitdirectory>, whose
// webkitRelativePath starts with the chosen folder's name.
export function filesOfInput(list) {
  const files = [];
  const skipped = [];
  for (const file of list) {
    const path = file.webkitRelativePath || file.name;
    if (hidden(path)) skipped.push(path);
    else files.push({path, file});
  }
  if (files.length > MAX_FILES) throw new PackError(`The folder holds more than ${MAX_FILES} files; choose the book's folder itself.`);
  return {files, skipped};
}

const utf8 = new TextEncoder();

// splitName fits a path into ustar's name (100 bytes) and prefix (155
// bytes) fields, splitting at a slash, or refuses it.
export function splitName(path) {
  const b = utf8.encode(path);
  if (b.length <= 100) return {name: b, prefix: new Uint8Array(0)};
  for (let i = b.length - 1; i > 0; i--) {
    if (b[i] !== 0x2f) continue;
    if (b.length - i - 1 > 100) break; // the rest only grows
    if (i <= 155 && b.length - i - 1 > 0) return {name: b.subarray(i + 1), prefix: b.subarray(0, i)};
  }
  throw new PackError(`The path "${path}" is too long to send: at most 100 bytes, or 255 split at a folder, are possible. Shorten the names and try again.`);
}

function octal(buf, off, len, n) {
  const s = n.toString(8).padStart(len - 1, '0');
  for (let i = 0; i < len - 1; i++) buf[off + i] = s.charCodeAt(i);
  buf[off + len - 1] = 0;
}

// header is the 512-byte ustar header of a regular file.
export function header(path, size, mtime) {
  if (size > MAX_ENTRY_BYTES) throw new PackError(`"${path}" is too large to send.`);
  const {name, prefix} = splitName(path);
  const h = new Uint8Array(512);
  h.set(name, 0);
  octal(h, 100, 8, 0o644);
  octal(h, 108, 8, 0);
  octal(h, 116, 8, 0);
  octal(h, 124, 12, size);
  octal(h, 136, 12, Math.max(0, Math.floor(mtime / 1000)));
  h.fill(0x20, 148, 156); // the checksum counts its own field as spaces
  h[156] = 0x30; // '0': a regular file
  h.set(utf8.encode('ustar\u000000'), 257);
  h.set(prefix, 345);
  let sum = 0;
  for (const x of h) sum += x;
  octal(h, 148, 7, sum); // six digits and a NUL, then the space left
  return h;
}

// tarGz packs the files as a gzip-compressed ustar stream, returned as a
// Blob (XHR, which reports upload progress, cannot send a stream).
// onBytes(n) reports the bytes of files packed so far.
export async function tarGz(files, onBytes) {
  for (const f of files) header(f.path, f.file.size, 0); // refuse a bad path before any work
  let i = 0;
  let done = 0;
  const tar = new ReadableStream({
    async pull(ctl) {
      if (i === files.length) {
        ctl.enqueue(new Uint8Array(1024)); // two zero blocks end the archive
        ctl.close();
        return;
      }
      const {path, file} = files[i++];
      ctl.enqueue(header(path, file.size, file.lastModified || 0));
      const data = new Uint8Array(await file.arrayBuffer());
      if (data.length !== file.size) throw new PackError(`"${path}" changed while it was being read; try again.`);
      ctl.enqueue(data);
      if (data.length % 512) ctl.enqueue(new Uint8Array(512 - data.length % 512));
      done += data.length;
      onBytes(done);
    },
  });
  return new Response(tar.pipeThrough(new CompressionStream('gzip'))).blob().then((b) => new Blob([b], {type: 'application/gzip'}));
}
