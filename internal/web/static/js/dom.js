// Small DOM helpers. Everything that came from the server or a user goes
// into the page as text (text nodes, textContent, setAttribute), never as
// markup: there is no innerHTML anywhere in the dashboard.

// h builds an element: h('a', {href: '/x', class: 'btn', onclick: fn}, 'text', child).
// Strings become text nodes; null, undefined and false children are skipped.
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v == null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'value') el.value = v;
    else if (k === 'checked') el.checked = true;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

// clear empties el and appends the given children.
export function fill(el, ...children) {
  el.replaceChildren();
  for (const c of children.flat(Infinity)) {
    if (c != null && c !== false) el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

// field is a labelled control: a <label> tied to its input by id.
export function field(label, input, hint) {
  return h('div', {class: 'field'}, h('label', {for: input.id}, label), input, hint ? h('small', {class: 'muted'}, hint) : null);
}

let ids = 0;
export const uid = (p) => `${p}-${++ids}`;

// when formats an RFC 3339 time for people, in their locale.
export function when(t) {
  if (!t) return '–';
  const d = new Date(t);
  return isNaN(d) ? String(t) : d.toLocaleString();
}

// bytes formats a size in binary units with at most one decimal, and
// none when it is whole: 1 KiB, 1.5 MiB, 1 GiB (not "1024.0 MB").
export function bytes(n) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let u = 0;
  while (n >= 1024 && u < units.length - 1) { n /= 1024; u++; }
  const v = u === 0 || Number.isInteger(n) ? String(n) : n.toFixed(1).replace(/\.0$/, '');
  return `${v} ${units[u]}`;
}

// plural is "1 file", "2 files": count with the noun in the right number.
export function plural(n, one, many = one + 's') {
  return `${n} ${n === 1 ? one : many}`;
}

// notice shows a message in a region that screen readers announce.
export function notice(el, text, kind = 'ok') {
  el.className = `notice ${kind}`;
  el.textContent = text;
  el.hidden = !text;
}

// busy disables a button while promise-returning fn runs and reports its
// error in the notice element.
export async function busy(button, out, fn) {
  button.disabled = true;
  try {
    return await fn();
  } catch (err) {
    if (out) notice(out, err.message, 'error');
    else throw err;
  } finally {
    button.disabled = false;
  }
}

export const badge = (state) => h('span', {class: `badge s-${state}`}, state);
