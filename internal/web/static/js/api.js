// The HTTP API client: same-origin JSON with the session cookie. Errors
// become APIError with the server's message, which is shown to the user
// as it is (the server writes them for people).

export class APIError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// setupRequired is called when the server answers two_factor_setup_required:
// the account must turn on two-factor sign-in before anything else works.
let setupRequired = () => {};
export function onSetupRequired(fn) { setupRequired = fn; }

// check passes err on, telling setupRequired first when it is that code.
function check(err) {
  if (err.code === 'two_factor_setup_required') setupRequired();
  return err;
}

async function failure(res) {
  let body = null;
  try { body = await res.json(); } catch { /* not JSON */ }
  const e = body && body.error;
  return new APIError(res.status, (e && e.code) || 'error', (e && e.message) || `The server answered ${res.status} ${res.statusText}.`);
}

// api calls /api/v1 + path. A 401 on anything but a sign-in or a second
// factor asked again (second_factor_required) means the session is gone:
// go and sign in again.
export async function api(method, path, body) {
  const init = {method, credentials: 'same-origin', headers: {Accept: 'application/json'}};
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch('/api/v1' + path, init);
  } catch {
    throw new APIError(0, 'offline', 'The server cannot be reached. Check the connection and try again.');
  }
  if (!res.ok) {
    const err = await failure(res);
    if (res.status === 401 && err.code !== 'second_factor_required' && !path.startsWith('/auth/')) location.assign('/login');
    throw check(err);
  }
  if (res.status === 204) return null;
  return res.json();
}

export const get = (p) => api('GET', p);
export const post = (p, b) => api('POST', p, b ?? {});

// upload sends one file as multipart/form-data with XHR, which (unlike
// fetch) reports upload progress: onProgress(fraction 0…1).
export function upload(path, file, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/api/v1' + path);
    xhr.withCredentials = true;
    xhr.responseType = 'json';
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total); };
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) return resolve(xhr.response);
      const e = xhr.response && xhr.response.error;
      reject(check(new APIError(xhr.status, (e && e.code) || 'error', (e && e.message) || `The server answered ${xhr.status}.`)));
    };
    xhr.onerror = () => reject(new APIError(0, 'offline', 'The upload was interrupted: the server cannot be reached.'));
    const form = new FormData();
    form.append('file', file, file.name);
    xhr.send(form);
  });
}

// sendRaw posts a file as the raw request body (an archive to import),
// with XHR for its progress: onProgress(fraction 0…1).
export function sendRaw(path, file, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/api/v1' + path);
    xhr.withCredentials = true;
    xhr.responseType = 'json';
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.setRequestHeader('Content-Type', file.type || 'application/octet-stream');
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total); };
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) return resolve(xhr.response);
      const e = xhr.response && xhr.response.error;
      reject(check(new APIError(xhr.status, (e && e.code) || 'error', (e && e.message) || `The server answered ${xhr.status}.`)));
    };
    xhr.onerror = () => reject(new APIError(0, 'offline', 'The upload was interrupted: the server cannot be reached.'));
    xhr.send(file);
  });
}

export const enc = encodeURIComponent;

// filePath escapes each element of a book path for a URL.
export const filePath = (p) => p.split('/').map(enc).join('/');
