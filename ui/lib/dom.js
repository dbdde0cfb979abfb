// Small DOM helpers: elements are built with properties, never with innerHTML, so data from
// telemetry (span names, log bodies) is always text.

/** h('a', {href, className, onclick}, ...children) */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'style') Object.assign(el.style, v);
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k in el && !k.startsWith('aria') && k !== 'role') el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

/** A link that the client router follows without a page load. */
export function link(href, text, props = {}) {
  return h('a', { href, 'data-link': '', ...props }, text);
}

export function fmtDuration(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return '';
  if (ms < 1) return `${(ms * 1000).toFixed(0)} µs`;
  if (ms < 1000) return `${ms.toFixed(ms < 10 ? 2 : 1)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)} s`;
  return `${(ms / 60_000).toFixed(1)} min`;
}

/** An RFC 3339 time (9 fractional digits) → local "YYYY-MM-DD HH:MM:SS.mmm". */
export function fmtTime(value) {
  const ms = typeof value === 'number' ? value : Date.parse(String(value));
  if (Number.isNaN(ms)) return String(value ?? '');
  const d = new Date(ms);
  const p = (n, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

/** RFC 3339 with nanoseconds → ns as a BigInt (exact), for durations inside a trace. */
export function timeNs(value) {
  const m = /^(.*?)(?:\.(\d{1,9}))?Z$/.exec(String(value));
  if (!m) return BigInt(Date.parse(String(value))) * 1000000n;
  return BigInt(Date.parse(`${m[1]}Z`)) * 1000000n + BigInt((m[2] ?? '').padEnd(9, '0') || '0');
}

/** A status line: text, or an error in red. */
export function setStatus(el, text, isError = false) {
  el.textContent = text;
  el.classList.toggle('error', isError);
}

/** A filter-language string literal. */
export function quote(s) {
  return `'${String(s).replace(/'/g, "''")}'`;
}

export function kvTable(obj) {
  const entries = obj && typeof obj === 'object' ? Object.entries(obj) : [];
  if (entries.length === 0) return h('p', { className: 'muted' }, 'none');
  return h('dl', {}, entries.sort(([a], [b]) => (a < b ? -1 : 1)).flatMap(([k, v]) => [h('dt', {}, k), h('dd', { className: 'mono' }, typeof v === 'string' ? v : JSON.stringify(v))]));
}

const SERVICE_COLOURS = ['#4c7bd9', '#e8833a', '#2ea67a', '#b55fc8', '#d4a72c', '#3aa6c9', '#d9577a', '#7a8a2e', '#8c6bd9', '#c9753a'];
/** The same service has the same colour on every page. */
export function serviceColour(name) {
  let x = 0;
  for (const ch of String(name)) x = (x * 31 + ch.codePointAt(0)) >>> 0;
  return SERVICE_COLOURS[x % SERVICE_COLOURS.length];
}
