// The live channel: one WebSocket to /ws (authenticated by the session
// cookie), reconnected on its own with a growing delay, resuming from the
// id of the last frame received (/ws?since=N), so no event is lost or
// repeated across a dropped connection or a server restart. The offline
// banner is shown while the socket is down.

const listeners = new Set();
const pending = []; // frames to send once connected
let ws = null;
let lastID = 0;
let attempt = 0;
let pingTimer = 0;
let pongDue = 0;
let online = false;
let banner = null;
let stopped = false;
let renewing = null; // see renewingSession

// active holds the runs the server reports as queued, running or paused
// (state_sync), kept current by run events.
export const active = new Map();

// on registers fn(frame) for every frame; it returns the unsubscribe.
export function on(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export const isOnline = () => online;

// send queues a client frame; it goes out now or on the next connection.
export function send(frame) {
  if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(frame));
  else pending.push(frame);
}

export function start(bannerEl) {
  banner = bannerEl;
  stopped = false;
  connect();
}

// stop closes the channel for good (until start): for an account that may
// not use it yet (two-factor sign-in required and not on).
export function stop() {
  stopped = true;
  clearInterval(pingTimer);
  if (ws) ws.close();
  ws = null;
  online = false;
  if (banner) banner.hidden = true;
}

// renewingSession(p) says that request p replaces this browser's session:
// turning on two-factor sign-in and changing the password revoke every
// session, ours included (the socket is closed with 1008), and answer with
// a new cookie. Until p settles, a revoked socket waits before asking
// whether the session is gone, so the user is not sent to sign in again
// while the new cookie is on its way. It returns p.
export function renewingSession(p) {
  const mine = p.then(() => {}, () => {});
  renewing = mine;
  mine.then(() => { if (renewing === mine) renewing = null; });
  return p;
}

function setOnline(v) {
  online = v;
  if (banner) banner.hidden = v;
  document.body.classList.toggle('is-offline', !v);
}

function connect() {
  if (stopped) return;
  const url = new URL('/ws', location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  if (lastID > 0) url.searchParams.set('since', String(lastID));
  const sock = new WebSocket(url);
  ws = sock;
  sock.onopen = () => {
    attempt = 0;
    setOnline(true);
    while (pending.length) sock.send(JSON.stringify(pending.shift()));
    clearInterval(pingTimer);
    pingTimer = setInterval(() => heartbeat(sock), 20000);
  };
  sock.onmessage = (m) => {
    let f;
    try { f = JSON.parse(m.data); } catch { return; }
    if (typeof f.id === 'number' && f.id > lastID) lastID = f.id;
    if (f.type === 'pong') pongDue = 0;
    track(f);
    for (const fn of listeners) {
      try { fn(f); } catch (err) { console.warn('live listener failed', err); }
    }
  };
  sock.onclose = (e) => {
    if (ws !== sock || stopped) return;
    clearInterval(pingTimer);
    setOnline(false);
    if (e.code === 1008) {
      // Authentication refused: the session may have ended. Check (once a
      // session being renewed has its new cookie) and sign in again.
      Promise.resolve(renewing).then(() => fetch('/api/v1/me', {credentials: 'same-origin'}))
        .then((r) => { if (r.status === 401) location.assign('/login'); }, () => {});
    }
    const delay = Math.min(5000, 300 * 2 ** attempt++) + Math.random() * 250;
    setTimeout(connect, delay);
  };
}

// heartbeat sends a ping; a connection that did not answer the previous
// one within the interval is half-open and is closed (and so reconnected).
function heartbeat(sock) {
  if (pongDue && Date.now() > pongDue) {
    sock.close();
    return;
  }
  sock.send('{"type":"ping"}');
  pongDue = Date.now() + 15000;
}

function track(f) {
  switch (f.type) {
    case 'state_sync':
      active.clear();
      for (const r of (f.data && f.data.runs) || []) active.set(r.id, {id: r.id, book_id: r.book_id, state: r.state});
      break;
    case 'run_queued': active.set(f.run_id, {id: f.run_id, book_id: f.book_id, state: 'queued'}); break;
    case 'run_started': case 'run_resumed': active.set(f.run_id, {id: f.run_id, book_id: f.book_id, state: 'running'}); break;
    case 'run_paused': active.set(f.run_id, {id: f.run_id, book_id: f.book_id, state: 'paused'}); break;
    case 'run_succeeded': case 'run_failed': case 'run_stopped': active.delete(f.run_id); break;
  }
}
