// One trace as a waterfall. Rows are virtualised (a fixed row height; only the rows in view, plus
// a margin, exist in the DOM), so a 10,000-span trace scrolls and collapses at once. State:
// /ui/traces/{id}?span={span id} (the selected span).
import { getJson, query } from '../lib/api.js';
import { clear, fmtDuration, fmtTime, h, kvTable, link, quote, serviceColour, setStatus, timeNs } from '../lib/dom.js';

const ROW = 24;
const OVERSCAN = 12;

export function renderTrace(main, traceId, params, ctx) {
  const statusLine = h('p', { className: 'status', role: 'status' }, 'Loading trace…');
  main.append(h('h1', {}, 'Trace ', h('span', { className: 'mono' }, traceId)), statusLine);
  let dispose = () => {};
  getJson(`/api/v1/traces/${traceId}`, null, ctx.signal).then((res) => {
    statusLine.remove();
    dispose = showTrace(main, traceId, res.spans, params, ctx);
  }, (err) => {
    if (err.name === 'AbortError') return;
    setStatus(statusLine, err.status === 404 ? `No span with trace id ${traceId} (yet): it may still be buffered, or outside the data kept.` : `Loading the trace failed: ${err.message}`, true);
  });
  return () => dispose();
}

/** Spans → tree nodes in start order, each knowing its depth; orphans (parent not in the trace) become roots. */
export function buildTree(spans) {
  let t0 = null;
  let t1 = null;
  const nodes = spans.map((span) => {
    const start = timeNs(span.start_time);
    const end = span.end_time ? timeNs(span.end_time) : start;
    if (t0 === null || start < t0) t0 = start;
    if (t1 === null || end > t1) t1 = end;
    return { span, start, end, children: [], depth: 0, parent: null, collapsed: false, orphan: false };
  });
  const byId = new Map(nodes.map((n) => [n.span.span_id, n]));
  const roots = [];
  for (const n of nodes) {
    const pid = n.span.parent_span_id;
    const p = pid ? byId.get(pid) : undefined;
    if (p && p !== n) {
      n.parent = p;
      p.children.push(n);
    } else {
      n.orphan = Boolean(pid);
      roots.push(n);
    }
  }
  const byStart = (a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0);
  roots.sort(byStart);
  const stack = roots.map((n) => [n, 0]);
  while (stack.length) {
    const [n, d] = stack.pop();
    n.depth = d;
    n.children.sort(byStart);
    for (const c of n.children) stack.push([c, d + 1]);
  }
  for (const n of nodes) {
    n.offsetMs = Number(n.start - t0) / 1e6;
    n.durMs = Number(n.end - n.start) / 1e6;
  }
  return { roots, nodes, byId, t0, totalMs: Math.max(Number(t1 - t0) / 1e6, 1e-6) };
}

/** The rows shown: depth-first, children of collapsed spans left out. */
function visibleRows(roots) {
  const out = [];
  const stack = [...roots].reverse();
  while (stack.length) {
    const n = stack.pop();
    out.push(n);
    if (!n.collapsed) for (let i = n.children.length - 1; i >= 0; i--) stack.push(n.children[i]);
  }
  return out;
}

function showTrace(main, traceId, spans, params, ctx) {
  const tree = buildTree(spans);
  const services = [...new Set(spans.map((s) => s.service_name ?? ''))].sort();
  const errors = spans.filter((s) => s.status_code === 'ERROR').length;
  const root = tree.roots[0];
  let rows = visibleRows(tree.roots);
  let selected = null;

  const summary = h('p', { className: 'row' },
    h('strong', {}, root ? `${root.span.service_name ?? ''}: ${root.span.name}` : ''),
    h('span', {}, fmtDuration(tree.totalMs)),
    h('span', { id: 'span-count' }, `${spans.length} spans`),
    h('span', {}, `${services.length} services`),
    errors ? h('span', { className: 'badge err' }, `${errors} errors`) : '',
    h('span', { className: 'muted' }, fmtTime(Number(tree.t0 / 1000000n))),
    h('span', { className: 'row' }, services.map((s) => h('span', {}, h('span', { className: 'swatch', style: { background: serviceColour(s) } }), s))));
  const expandAll = h('button', { type: 'button', className: 'ghost' }, 'Expand all');
  const collapseAll = h('button', { type: 'button', className: 'ghost' }, 'Collapse all');
  const ticks = h('div', { className: 'wf-ticks', 'aria-hidden': 'true' }, [0, 0.25, 0.5, 0.75, 1].map((f) => h('span', { style: { left: `${f * 100}%` } }, fmtDuration(f * tree.totalMs))));
  const spacer = h('div', { className: 'wf-spacer' });
  const list = h('div', { className: 'waterfall', tabIndex: 0, role: 'tree', 'aria-label': 'Spans; arrow keys move, left and right collapse and expand' }, spacer);
  const details = h('aside', { className: 'details', 'aria-label': 'Span details' }, h('p', { className: 'muted' }, 'Select a span to see its attributes, events and links.'));
  const logs = h('section', { 'aria-label': 'Linked logs' }, h('h2', {}, 'Logs of this trace'), h('p', { className: 'status' }, 'Loading…'));
  main.append(summary, h('div', { className: 'row' }, expandAll, collapseAll), h('div', { className: 'trace-layout' },
    h('div', {}, h('div', { className: 'wf-head' }, h('span', {}, 'Service · span'), ticks), list), details), logs);

  function rowEl(n, i) {
    const s = n.span;
    const colour = serviceColour(s.service_name ?? '');
    const left = (n.offsetMs / tree.totalMs) * 100;
    const width = (n.durMs / tree.totalMs) * 100;
    const bar = h('div', { className: `wf-bar${s.status_code === 'ERROR' ? ' err' : ''}`, style: { left: `${left}%`, width: `${width}%`, background: colour }, title: `${s.name} · ${fmtDuration(n.durMs)}` });
    const track = h('div', { className: 'wf-track' }, bar);
    for (const ev of s.events ?? []) {
      const at = Number(timeNs(ev.time) - tree.t0) / 1e6;
      track.append(h('div', { className: 'wf-event', style: { left: `${(at / tree.totalMs) * 100}%` }, title: `${ev.name} at ${fmtDuration(at)}` }));
    }
    // The duration goes after the bar, or before it when the bar reaches the right edge, or
    // inside it when it spans nearly the whole axis.
    const durStyle = left + width <= 85 ? { left: `${left + width}%` } : left >= 15 ? { right: `${100 - left}%` } : { left: `${left}%` };
    track.append(h('span', { className: `wf-dur${left + width > 85 && left < 15 ? ' inside' : ''}`, style: durStyle }, fmtDuration(n.durMs)));
    const toggle = h('span', { className: 'wf-toggle', 'aria-hidden': 'true' }, n.children.length ? (n.collapsed ? '▸' : '▾') : '');
    const name = h('div', { className: 'wf-name', style: { paddingLeft: `${4 + n.depth * 14}px` } }, toggle,
      h('span', { className: 'wf-svc', style: { color: colour } }, s.service_name ?? ''), s.name ?? '',
      s.status_code === 'ERROR' ? h('span', { className: 'badge err' }, '!') : '', n.orphan ? h('span', { className: 'badge', title: 'its parent span is not in this trace' }, 'orphan') : '',
      n.collapsed ? h('span', { className: 'muted' }, ` (+${countBelow(n)})`) : '');
    const el = h('div', {
      className: 'wf-row', role: 'treeitem', 'aria-level': n.depth + 1, 'aria-selected': n === selected ? 'true' : 'false',
      dataset: { spanId: s.span_id, parentId: s.parent_span_id ?? '', depth: String(n.depth), index: String(i) },
      style: { top: `${i * ROW}px` },
    }, name, track);
    if (n.children.length) el.setAttribute('aria-expanded', String(!n.collapsed));
    toggle.addEventListener('click', (e) => {
      e.stopPropagation();
      setCollapsed(n, !n.collapsed);
    });
    el.addEventListener('click', () => select(n));
    return el;
  }

  let frame = 0;
  function draw() {
    frame = 0;
    spacer.style.height = `${rows.length * ROW}px`;
    const first = Math.max(0, Math.floor(list.scrollTop / ROW) - OVERSCAN);
    const last = Math.min(rows.length, Math.ceil((list.scrollTop + list.clientHeight) / ROW) + OVERSCAN);
    clear(spacer);
    for (let i = first; i < last; i++) spacer.append(rowEl(rows[i], i));
  }
  const schedule = () => { if (!frame) frame = requestAnimationFrame(draw); };
  list.addEventListener('scroll', schedule, { passive: true });
  // A taller or shorter list (window resize) shows a different number of rows.
  const resized = new ResizeObserver(schedule);
  resized.observe(list);

  function setCollapsed(n, collapsed) {
    if (!n.children.length || n.collapsed === collapsed) return;
    n.collapsed = collapsed;
    rows = visibleRows(tree.roots);
    draw();
  }
  function setAll(collapsed) {
    for (const n of tree.nodes) if (n.children.length) n.collapsed = collapsed && n.depth > 0;
    rows = visibleRows(tree.roots);
    draw();
  }
  expandAll.addEventListener('click', () => setAll(false));
  collapseAll.addEventListener('click', () => setAll(true));

  function select(n, scroll = false) {
    selected = n;
    for (let p = n.parent; p; p = p.parent) if (p.collapsed) { p.collapsed = false; rows = null; }
    if (rows === null) rows = visibleRows(tree.roots);
    const i = rows.indexOf(n);
    if (scroll && i >= 0) {
      if (i * ROW < list.scrollTop) list.scrollTop = i * ROW;
      else if ((i + 1) * ROW > list.scrollTop + list.clientHeight) list.scrollTop = (i + 1) * ROW - list.clientHeight;
    }
    draw();
    showDetails(details, n, tree, traceId, (id) => { const m = tree.byId.get(id); if (m) select(m, true); });
    const url = new URL(location.href);
    url.searchParams.set('span', n.span.span_id);
    history.replaceState(null, '', url.pathname + url.search); // a shareable link, not a history step
  }

  list.addEventListener('keydown', (e) => {
    const i = selected ? rows.indexOf(selected) : -1;
    let next = null;
    if (e.key === 'ArrowDown') next = rows[Math.min(rows.length - 1, i + 1)];
    else if (e.key === 'ArrowUp') next = rows[Math.max(0, i - 1)];
    else if (e.key === 'Home') next = rows[0];
    else if (e.key === 'End') next = rows[rows.length - 1];
    else if (e.key === 'PageDown') next = rows[Math.min(rows.length - 1, i + Math.floor(list.clientHeight / ROW))];
    else if (e.key === 'PageUp') next = rows[Math.max(0, i - Math.floor(list.clientHeight / ROW))];
    else if (e.key === 'ArrowRight' && selected) {
      if (selected.collapsed) setCollapsed(selected, false);
      else if (selected.children.length) next = selected.children[0];
    } else if (e.key === 'ArrowLeft' && selected) {
      if (selected.children.length && !selected.collapsed) setCollapsed(selected, true);
      else if (selected.parent) next = selected.parent;
    } else return;
    e.preventDefault();
    if (next) select(next, true);
  });

  draw();
  const wanted = params.get('span');
  if (wanted && tree.byId.has(wanted)) select(tree.byId.get(wanted), true);
  loadLogs(logs, traceId, tree, ctx, (id) => { const m = tree.byId.get(id); if (m) select(m, true); });
  return () => {
    resized.disconnect();
    if (frame) cancelAnimationFrame(frame);
  };
}

function countBelow(n) {
  let c = 0;
  const stack = [...n.children];
  while (stack.length) {
    const x = stack.pop();
    c++;
    stack.push(...x.children);
  }
  return c;
}

function showDetails(el, n, tree, traceId, selectId) {
  const s = n.span;
  const events = s.events ?? [];
  const links = s.links ?? [];
  clear(el).append(
    h('h2', {}, s.name ?? ''),
    h('dl', {},
      h('dt', {}, 'Service'), h('dd', {}, s.service_name ?? ''),
      h('dt', {}, 'Kind'), h('dd', {}, s.kind ?? ''),
      h('dt', {}, 'Status'), h('dd', { className: s.status_code === 'ERROR' ? 'error' : '' }, `${s.status_code ?? ''}${s.status_message ? `: ${s.status_message}` : ''}`),
      h('dt', {}, 'Start'), h('dd', { className: 'mono' }, `${s.start_time} (+${fmtDuration(n.offsetMs)})`),
      h('dt', {}, 'Duration'), h('dd', {}, fmtDuration(n.durMs)),
      h('dt', {}, 'Span id'), h('dd', { className: 'mono' }, s.span_id),
      h('dt', {}, 'Parent'), h('dd', { className: 'mono' }, s.parent_span_id ? (tree.byId.has(s.parent_span_id) ? h('a', { href: '#', onclick: (e) => { e.preventDefault(); selectId(s.parent_span_id); } }, s.parent_span_id) : `${s.parent_span_id} (not in this trace)`) : 'none (root)'),
      h('dt', {}, 'Scope'), h('dd', {}, `${s.scope_name ?? ''} ${s.scope_version ?? ''}`)),
    h('h2', {}, 'Attributes'), kvTable(spanAttributes(s)),
    h('h2', {}, 'Resource'), kvTable(s.resource_attributes),
    h('h2', {}, `Events (${events.length})`),
    events.length ? h('ul', {}, events.map((ev) => h('li', {}, h('strong', {}, ev.name), ` +${fmtDuration(Number(timeNs(ev.time) - tree.t0) / 1e6)}`, kvTable(ev.attributes)))) : h('p', { className: 'muted' }, 'none'),
    h('h2', {}, `Links (${links.length})`),
    links.length ? h('ul', {}, links.map((l) => h('li', { className: 'mono' }, link(`/ui/traces/${l.trace_id}${l.span_id ? `?span=${l.span_id}` : ''}`, `${l.trace_id} / ${l.span_id}`), kvTable(l.attributes)))) : h('p', { className: 'muted' }, 'none'));
}

/** The span's attributes with its promoted columns folded back in (they left the map when written). */
const SPAN_COLUMNS = new Set(['trace_id', 'span_id', 'parent_span_id', 'trace_state', 'flags', 'name', 'kind', 'start_time', 'end_time', 'duration_ns', 'status_code', 'status_message', 'events', 'links', 'service_name', 'resource_attributes', 'scope_name', 'scope_version', 'attributes', 'dropped_attributes_count', 'dropped_events_count', 'dropped_links_count', 'resource_dropped_attributes_count', 'scope_attributes', 'scope_dropped_attributes_count', 'date', 'hour']);
function spanAttributes(s) {
  const out = { ...(s.attributes ?? {}) };
  for (const [k, v] of Object.entries(s)) if (!SPAN_COLUMNS.has(k) && v !== null && v !== undefined) out[`${k} (column)`] = v;
  return out;
}

function loadLogs(section, traceId, tree, ctx, selectId) {
  const statusLine = section.querySelector('.status');
  const hourNs = 3600n * 1000000000n;
  const iso = (ns) => new Date(Number(ns / 1000000n)).toISOString();
  const endNs = tree.t0 + BigInt(Math.ceil(tree.totalMs * 1e6));
  query({ dataset: 'logs', filter: `trace_id = ${quote(traceId)}`, start: iso(tree.t0 - hourNs), end: iso(endNs + hourNs), select: ['time', 'severity_text', 'severity_number', 'service_name', 'body', 'span_id'], limit: 500 }, ctx.signal).then((res) => {
    const recs = res.records.sort((a, b) => String(a.time).localeCompare(String(b.time)));
    setStatus(statusLine, recs.length ? `${recs.length} log record${recs.length > 1 ? 's' : ''}${recs.length === 500 ? ' (first 500)' : ''}` : 'No log records carry this trace id.');
    if (!recs.length) return;
    section.append(h('table', { className: 'data', id: 'trace-logs' },
      h('thead', {}, h('tr', {}, ['Time', 'Severity', 'Service', 'Body', 'Span'].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, recs.map((r) => h('tr', {},
        h('td', { className: 'mono' }, fmtTime(r.time)),
        h('td', {}, h('span', { className: `sev sev-${severityName(r.severity_number)}` }, r.severity_text ?? severityName(r.severity_number))),
        h('td', {}, r.service_name ?? ''),
        h('td', { className: 'body-cell' }, r.body ?? ''),
        h('td', { className: 'mono' }, r.span_id && tree.byId.has(r.span_id) ? h('a', { href: '#', onclick: (e) => { e.preventDefault(); selectId(r.span_id); } }, r.span_id) : (r.span_id ?? '')))))));
  }, (err) => {
    if (err.name !== 'AbortError') setStatus(statusLine, `Loading logs failed: ${err.message}`, true);
  });
}

export function severityName(n) {
  return typeof n === 'number' && n >= 1 && n <= 24 ? ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'][Math.ceil(n / 4) - 1] : 'UNSPECIFIED';
}
