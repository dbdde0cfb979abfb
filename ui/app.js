// The shell: theme, navigation and the client router. Each view is a function
// (main, params, ctx) → cleanup, and every bit of its state lives in the URL.
import { clear, h } from './lib/dom.js';
import { renderTraces } from './views/traces.js';
import { renderTrace } from './views/trace.js';
import { renderLogs } from './views/logs.js';
import { renderMetrics } from './views/metrics.js';

const THEME_KEY = 's3pq.theme';

function applyTheme(theme) {
  document.documentElement.dataset.theme = theme;
}

function initTheme() {
  const saved = localStorage.getItem(THEME_KEY);
  applyTheme(saved ?? (matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light'));
  document.getElementById('theme').addEventListener('click', () => {
    const next = document.documentElement.dataset.theme === 'dark' ? 'light' : 'dark';
    localStorage.setItem(THEME_KEY, next);
    applyTheme(next);
    route(); // charts take their colours when drawn
  });
}

let cleanup = null;

function viewFor(pathname) {
  const trace = /^\/ui\/traces\/([0-9a-fA-F]{1,64})$/.exec(pathname);
  if (trace) return { name: 'traces', render: (main, params, ctx) => renderTrace(main, trace[1].toLowerCase(), params, ctx) };
  if (pathname === '/ui/logs') return { name: 'logs', render: renderLogs };
  if (pathname === '/ui/metrics') return { name: 'metrics', render: renderMetrics };
  return { name: 'traces', render: renderTraces };
}

/** Goes to `url` (a path with query) without a page load; `replace` for state that is not a step. */
export function navigate(url, replace = false) {
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  route();
}

function route() {
  if (cleanup) cleanup();
  cleanup = null;
  const main = clear(document.getElementById('main'));
  const view = viewFor(location.pathname);
  for (const a of document.querySelectorAll('[data-nav]')) {
    if (a.dataset.nav === view.name) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  const controller = new AbortController();
  const ctx = { navigate, signal: controller.signal };
  try {
    const done = view.render(main, new URLSearchParams(location.search), ctx);
    cleanup = () => {
      controller.abort();
      if (typeof done === 'function') done();
    };
  } catch (err) {
    main.append(h('p', { className: 'error' }, String(err)));
  }
}

// Links inside the app route on the client; modified clicks open as usual.
document.addEventListener('click', (e) => {
  const a = e.target instanceof Element ? e.target.closest('a[href]') : null;
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || !url.pathname.startsWith('/ui/') || a.target) return;
  e.preventDefault();
  navigate(url.pathname + url.search);
});

// "/" focuses the view's first filter field.
document.addEventListener('keydown', (e) => {
  if (e.key !== '/' || e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement || e.target instanceof HTMLTextAreaElement) return;
  const first = document.querySelector('main form.filters input, main form.filters select');
  if (first) {
    e.preventDefault();
    first.focus();
  }
});

window.addEventListener('popstate', route);
initTheme();
// uPlot is a deferred classic script; modules run after it, so it is defined here.
route();
