// The query port's own API, with the bearer token when one is needed: asked for once on the
// first 401 and kept in sessionStorage (gone when the browser session ends).
const KEY = 's3pq.token';

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function headers(extra = {}) {
  const token = sessionStorage.getItem(KEY);
  return token ? { ...extra, Authorization: `Bearer ${token}` } : extra;
}

let asking = null;
/** Shows the token dialog; resolves when a token was entered. */
function askToken(message) {
  if (asking) return asking;
  const dialog = document.getElementById('token-dialog');
  const input = document.getElementById('token-input');
  const err = document.getElementById('token-error');
  err.hidden = !message;
  err.textContent = message ?? '';
  input.value = '';
  asking = new Promise((resolve) => {
    dialog.addEventListener('close', () => {
      asking = null;
      if (input.value) sessionStorage.setItem(KEY, input.value.trim());
      resolve();
    }, { once: true });
  });
  dialog.showModal();
  input.focus();
  return asking;
}

/** fetch with the token; on 401 asks for one (again) and retries. */
export async function apiFetch(path, init = {}, signal) {
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(path, { ...init, headers: headers(init.headers), signal });
    if (res.status === 401 && attempt < 3) {
      await askToken(sessionStorage.getItem(KEY) ? 'That token was refused; try another.' : '');
      continue;
    }
    if (!res.ok) {
      let code = 'HTTP_' + res.status;
      let message = `${res.status} ${res.statusText}`;
      try {
        const body = await res.json();
        if (body?.error) ({ code, message } = body.error);
      } catch { /* not JSON */ }
      throw new ApiError(res.status, code, message);
    }
    return res;
  }
}

export async function getJson(path, params, signal) {
  const qs = params ? `?${params.toString()}` : '';
  return (await apiFetch(path + qs, {}, signal)).json();
}

export async function query(body, signal) {
  const res = await apiFetch('/api/v1/query', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) }, signal);
  return res.json();
}
