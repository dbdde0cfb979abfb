// Traces search: filters → /api/v1/trace-search; a scatter of durations over time (click a dot
// to open its trace) and a table. State: ?service&name&status&min_ms&attr&range&start&end&limit.
import { getJson } from '../lib/api.js';
import { axis, chartBox, makeChart } from '../lib/chart.js';
import { fmtDuration, fmtTime, h, link, setStatus } from '../lib/dom.js';
import { rangeControls, rangeParams } from '../lib/range.js';

const FIELDS = ['service', 'name', 'status', 'min_ms', 'attr', 'limit'];

export function renderTraces(main, params, ctx) {
  const input = (name, label, placeholder = '') => h('label', {}, label, h('input', { name, value: params.get(name) ?? '', placeholder, size: 16 }));
  const status = h('select', { name: 'status' }, ['', 'ERROR', 'OK', 'UNSET'].map((v) => h('option', { value: v, selected: (params.get('status') ?? '') === v }, v || 'any')));
  const range = rangeControls(params);
  const form = h('form', { className: 'filters', role: 'search', 'aria-label': 'Trace search' },
    input('service', 'Service', 'checkout'),
    input('name', 'Span name', 'GET /cart'),
    h('label', {}, 'Status', status),
    h('label', {}, 'Min duration (ms)', h('input', { name: 'min_ms', value: params.get('min_ms') ?? '', inputMode: 'decimal', size: 8 })),
    input('attr', 'Attributes (k=v; k2=v2)', 'http.route=/cart'),
    range.el,
    h('button', { type: 'submit' }, 'Search'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const out = new URLSearchParams();
    const data = new FormData(form);
    for (const f of FIELDS) {
      const v = String(data.get(f) ?? '').trim();
      if (v) out.set(f, v);
    }
    range.read(out);
    ctx.navigate(`/ui/?${out}`);
  });
  const statusLine = h('p', { className: 'status', role: 'status' }, 'Searching…');
  const chart = chartBox('Trace durations over time; click a dot to open its trace');
  const table = h('div', {});
  main.append(h('h1', {}, 'Traces'), form, statusLine, chart, table);

  const q = new URLSearchParams();
  for (const [k, api] of [['service', 'service'], ['name', 'name'], ['status', 'status'], ['min_ms', 'min_duration_ms'], ['limit', 'limit']]) if (params.get(k)) q.set(api, params.get(k));
  for (const a of (params.get('attr') ?? '').split(';').map((s) => s.trim()).filter(Boolean)) q.append('attr', a);
  const r = rangeParams(params);
  q.set('start', r.start);
  q.set('end', r.end);
  getJson('/api/v1/trace-search', q, ctx.signal).then((res) => {
    const traces = res.traces;
    setStatus(statusLine, `${traces.length} trace${traces.length === 1 ? '' : 's'}${res.truncated ? ' (more match: narrow the search or raise the limit)' : ''} · ${res.stats.rows_scanned} spans scanned in ${res.stats.elapsed_ms} ms`);
    drawScatter(chart, traces, ctx);
    table.append(tracesTable(traces));
  }, (err) => {
    if (err.name !== 'AbortError') setStatus(statusLine, `Search failed: ${err.message}`, true);
  });
}

function drawScatter(container, traces, ctx) {
  if (traces.length === 0) return;
  const sorted = [...traces].sort((a, b) => a.start_ms - b.start_ms);
  const xs = sorted.map((t) => t.start_ms / 1000);
  const ok = sorted.map((t) => (t.error_count === 0 ? t.duration_ms : null));
  const err = sorted.map((t) => (t.error_count > 0 ? t.duration_ms : null));
  const dots = (stroke, fill) => ({ stroke, fill, paths: () => null, points: { show: true, size: 8, stroke, fill } });
  const plot = makeChart(container, {
    height: 220,
    cursor: { drag: { x: false, y: false }, points: { size: 10 } },
    legend: { show: true },
    scales: { x: { time: true }, y: { distr: 3 } },
    axes: [axis(), axis({ label: 'duration (ms)', size: 60 })],
    series: [{}, { label: 'ok', ...dots('#4c7bd9', '#4c7bd980'), value: (_, v) => fmtDuration(v) }, { label: 'error', ...dots('#e03131', '#e0313180'), value: (_, v) => fmtDuration(v) }],
  }, [xs, ok, err]);
  // The nearest dot in screen space opens its trace.
  plot.over.addEventListener('click', (e) => {
    const rect = plot.over.getBoundingClientRect();
    const x = e.clientX - rect.left;
    const y = e.clientY - rect.top;
    let best = -1;
    let bestD = 15 * 15;
    sorted.forEach((t, i) => {
      const dx = plot.valToPos(xs[i], 'x') - x;
      const dy = plot.valToPos(t.duration_ms, 'y') - y;
      const d = dx * dx + dy * dy;
      if (d < bestD) {
        bestD = d;
        best = i;
      }
    });
    if (best >= 0) ctx.navigate(`/ui/traces/${sorted[best].trace_id}`);
  });
  plot.over.dataset.traces = String(sorted.length);
}

function tracesTable(traces) {
  if (traces.length === 0) return h('p', { className: 'muted' }, 'No traces in this range match. Widen the time range or remove a filter.');
  return h('table', { className: 'data', id: 'trace-results' },
    h('thead', {}, h('tr', {}, ['Start', 'Root service', 'Root span', 'Duration', 'Spans', 'Errors', 'Trace id'].map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, traces.map((t) => h('tr', { className: t.error_count > 0 ? 'err' : '', dataset: { traceId: t.trace_id } },
      h('td', { className: 'mono' }, fmtTime(t.start_ms)),
      h('td', {}, t.root_service ?? ''),
      h('td', {}, link(`/ui/traces/${t.trace_id}`, t.root_name ?? '(no root)')),
      h('td', { className: 'num' }, fmtDuration(t.duration_ms)),
      h('td', { className: 'num' }, t.span_count),
      h('td', {}, t.error_count > 0 ? h('span', { className: 'badge err' }, `${t.error_count} error${t.error_count > 1 ? 's' : ''}`) : ''),
      h('td', { className: 'mono' }, link(`/ui/traces/${t.trace_id}`, t.trace_id))))));
}
