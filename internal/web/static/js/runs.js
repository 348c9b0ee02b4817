// One run: a progress bar per stage that moves with the live events, the
// log as it is written, pause/resume/stop, the artifacts and (for roles
// that may publish) a Publish button once the run has succeeded.

import {get, post, enc} from './api.js';
import {h, fill, when, notice, busy, badge} from './dom.js';
import * as live from './live.js';

const STAGES = ['content', 'images', 'format', 'quality', 'publish'];
const FINAL = ['succeeded', 'failed', 'stopped'];

export async function runScreen({main, scope, can}, id) {
  const runID = Number(id);
  // Listen before loading, so nothing published meanwhile is missed.
  const early = [];
  let onFrame = (f) => early.push(f);
  scope.live((f) => onFrame(f));
  let run = await get(`/runs/${runID}`);
  const book = await get(`/books/${run.book_id}`).catch(() => ({id: run.book_id, title: `Book ${run.book_id}`}));

  const state = h('span', {id: 'run-state'});
  const facts = h('p', {class: 'muted', id: 'run-facts'});
  const err = h('p', {class: 'notice error', role: 'alert', id: 'run-error', hidden: true});
  const out = h('p', {class: 'notice', role: 'status', hidden: true});
  const controls = h('div', {class: 'controls', id: 'run-controls'});
  const artifacts = h('ul', {class: 'plain', id: 'artifacts'});
  const publish = h('div', {id: 'publish-box'});
  const log = h('ol', {class: 'log', id: 'run-log', role: 'log', 'aria-label': 'Run log', tabindex: 0});
  const seen = new Set();

  const bars = new Map(STAGES.map((name) => {
    const bar = h('progress', {max: 100, value: 0, id: `stage-${name}`, 'aria-labelledby': `stage-${name}-l`});
    const pct = h('span', {class: 'pct'}, '0 %');
    const msg = h('span', {class: 'muted stage-msg'});
    const st = h('span', {class: 'stage-state'});
    const row = h('li', {class: 'stage'}, h('span', {class: 'stage-name', id: `stage-${name}-l`}, name), st, bar, pct, msg);
    return [name, {row, bar, pct, msg, st}];
  }));

  const button = (cmd, label, cls = 'secondary') => {
    const b = h('button', {type: 'button', class: `run-control ${cls}`, id: `run-${cmd}`}, label);
    b.addEventListener('click', () => busy(b, out, async () => { run = await post(`/runs/${runID}/${cmd}`); render(); }));
    return b;
  };

  function render() {
    fill(state, badge(run.state));
    facts.textContent = `${run.draft ? 'Draft · ' : ''}Formats: ${(run.formats || []).join(', ')} · queued ${when(run.created_at)}` +
      (run.started_at ? ` · started ${when(run.started_at)}` : '') + (run.finished_at ? ` · finished ${when(run.finished_at)}` : '');
    err.hidden = !run.error;
    err.textContent = run.error || '';
    for (const s of run.stages || []) {
      const b = bars.get(s.name);
      if (!b) continue;
      // A run published afterwards (the Publish button) shows it in its
      // publish stage, which the run itself skipped.
      const shown = s.name === 'publish' && run.published ? {state: 'published', message: 'this run is the book\'s edition in the catalogue'} : s;
      const done = ['succeeded', 'skipped', 'warning', 'published'].includes(shown.state);
      const p = done ? 100 : s.progress || 0;
      b.bar.value = p;
      b.pct.textContent = `${p} %`;
      b.msg.textContent = shown.message || '';
      b.st.textContent = shown.state;
      b.row.className = `stage st-${shown.state === 'published' ? 'succeeded' : shown.state}`;
    }
    if (can('write')) {
      fill(controls,
        ['queued', 'running'].includes(run.state) ? button('pause', 'Pause') : null,
        run.state === 'paused' ? button('resume', 'Resume') : null,
        FINAL.includes(run.state) ? null : button('stop', 'Stop', 'danger'),
        ['failed', 'stopped'].includes(run.state) ? againButton() : null);
    }
    fill(publish,
      run.published ? h('p', {id: 'run-published'}, 'Published: ', h('a', {href: '/catalog'}, 'in the catalogue')) : null,
      run.state === 'succeeded' && !run.published && !run.draft && can('publish') ? publishButton() : null);
  }

  function publishButton() {
    const b = h('button', {type: 'button', id: 'run-publish'}, 'Publish this run');
    b.addEventListener('click', () => busy(b, out, async () => {
      await post(`/books/${run.book_id}/publish`, {run_id: runID});
      run.published = true;
      notice(out, 'Published: the book is in the catalogue.');
      render();
    }));
    return b;
  }

  // againButton starts a new run of the book with this run's formats.
  function againButton() {
    const b = h('button', {type: 'button', id: 'run-again'}, 'Run again');
    b.addEventListener('click', () => busy(b, out, async () => {
      const next = await post(`/books/${run.book_id}/runs`, {formats: run.formats, publish: run.publish && can('publish'), draft: run.draft});
      location.hash = `#/runs/${next.id}`;
    }));
    return b;
  }

  async function loadArtifacts() {
    fill(artifacts, (run.artifacts || []).length ? run.artifacts.map((name) =>
      h('li', null, h('a', {class: 'button secondary artifact', href: `/api/v1/runs/${runID}/artifacts/${enc(name)}`, download: name}, `Download ${name}`)))
      : h('li', {class: 'muted'}, FINAL.includes(run.state) ? 'No files.' : 'The files appear when the run has finished.'));
  }

  const emptyLog = h('li', {class: 'muted'}, 'No log lines yet: stages write here when they have something to say.');
  log.append(emptyLog);

  function addLog(e) {
    if (seen.has(e.id)) return;
    seen.add(e.id);
    emptyLog.remove();
    const line = h('li', {class: `lv-${e.level || 'info'}`}, h('time', {datetime: e.timestamp}, new Date(e.timestamp).toLocaleTimeString()), ' ',
      h('span', {class: 'lvl'}, e.level || 'info'), ' ', e.source ? h('span', {class: 'src'}, e.source) : null, ' ', h('span', {class: 'msg'}, e.message || ''));
    const stick = log.scrollTop + log.clientHeight >= log.scrollHeight - 8;
    // keep id order: history may arrive after live lines
    const after = [...log.children].find((li) => li.dataset.id && Number(li.dataset.id) > e.id);
    line.dataset.id = e.id;
    log.insertBefore(line, after || null);
    if (stick) log.scrollTop = log.scrollHeight;
  }

  let timer = 0;
  const refresh = () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      try { run = await get(`/runs/${runID}`); } catch { return; }
      if (!scope.gone) { render(); loadArtifacts(); }
    }, 100);
  };
  scope.add(() => clearTimeout(timer));

  onFrame = (f) => {
    if (f.type === 'state_sync') { refresh(); live.send({type: 'get_logs', run_id: runID}); return; }
    if (f.type === 'log_history' && f.run_id === runID) { (f.logs || []).forEach(addLog); return; }
    if (f.run_id !== runID) return;
    const s = (run.stages || []).find((x) => x.name === f.stage);
    switch (f.type) {
      case 'stage_started': if (s) Object.assign(s, {state: 'running', progress: 0, message: ''}); break;
      case 'stage_progress': if (s) Object.assign(s, {progress: f.progress ?? s.progress, message: f.message || s.message}); break;
      case 'stage_finished':
        if (s) Object.assign(s, {state: f.state || 'succeeded', progress: f.progress ?? 100, message: f.message});
        refresh();
        break;
      case 'log': addLog(f); return;
      case 'run_started': case 'run_resumed': run.state = 'running'; refresh(); break;
      case 'run_paused': run.state = 'paused'; refresh(); break;
      case 'run_stopped': run.state = 'stopped'; refresh(); break;
      case 'run_succeeded': run.state = 'succeeded'; refresh(); break;
      case 'run_failed': run.state = 'failed'; run.error = f.error; refresh(); break;
      default: return;
    }
    render();
  };
  live.send({type: 'get_logs', run_id: runID});

  fill(main,
    h('p', {class: 'crumbs'}, h('a', {href: '#/'}, 'Books'), ' / ', h('a', {href: `#/books/${book.id}`, id: 'run-book'}, book.title), ' /'),
    h('h1', null, `Run #${runID} `, state),
    facts, err,
    h('div', {class: 'grid'},
      h('section', {class: 'card wide', 'aria-labelledby': 'stages-h'}, h('h2', {id: 'stages-h'}, 'Stages'),
        h('ol', {class: 'stages'}, [...bars.values()].map((b) => b.row)), controls, out),
      h('section', {class: 'card', 'aria-labelledby': 'art-h'}, h('h2', {id: 'art-h'}, 'Files'), artifacts, publish),
      h('section', {class: 'card wide', 'aria-labelledby': 'log-h'}, h('h2', {id: 'log-h'}, 'Log'), log)));
  render();
  loadArtifacts();
  if (early.length) {
    early.forEach(onFrame);
    refresh();
  }
}
