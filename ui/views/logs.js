// Logs: filters → a severity histogram (/api/v1/log-histogram) and the newest records
// (/api/v1/query over the smallest recent window that holds them); a live tail reads the
// changes feed from its end and can be paused without losing records (the cursor is kept).
// State: ?service&severity&text&attr&range&start&end&live=1.
import { apiFetch, getJson, query } from '../lib/api.js';
import { axis, chartBox, makeChart } from '../lib/chart.js';
import { fmtTime, h, link, quote, setStatus } from '../lib/dom.js';
import { rangeControls, rangeParams } from '../lib/range.js';
import { severityName } from './trace.js';

const SHOWN = 500;
const TAIL_MS = 1500;
const MAX_ROWS = 2000;
const SEVERITIES = [['', 'any'], ['1', 'TRACE+'], ['5', 'DEBUG+'], ['9', 'INFO+'], ['13', 'WARN+'], ['17', 'ERROR+'], ['21', 'FATAL']];
const SEV_COLOURS = { UNSPECIFIED: '#868e96', TRACE: '#adb5bd', DEBUG: '#74c0fc', INFO: '#4c7bd9', WARN: '#f59f00', ERROR: '#e03131', FATAL: '#862e9c' };
const SELECT = ['time', 'severity_number', 'severity_text', 'service_name', 'body', 'trace_id', 'span_id', 'attributes'];

/** The filter-language expression for the form's state (the server checks it). */
export function logsFilter(params) {
  const c = [];
  if (params.get('service')) c.push(`service_name = ${quote(params.get('service'))}`);
  if (params.get('severity')) c.push(`severity_number >= ${Number(params.get('severity'))}`);
  if (params.get('text')) c.push(`body LIKE ${quote(`%${params.get('text')}%`)}`);
  for (const a of (params.get('attr') ?? '').split(';').map((s) => s.trim()).filter(Boolean)) {
    const eq = a.indexOf('=');
    if (eq <= 0) continue;
    const k = quote(a.slice(0, eq).trim());
    const v = quote(a.slice(eq + 1).trim());
    c.push(`(attributes[${k}] = ${v} OR resource_attributes[${k}] = ${v})`);
  }
  return c.join(' AND ');
}

export function renderLogs(main, params, ctx) {
  const input = (name, label, placeholder = '') => h('label', {}, label, h('input', { name, value: params.get(name) ?? '', placeholder, size: 16 }));
  const range = rangeControls(params);
  const severity = h('select', { name: 'severity' }, SEVERITIES.map(([v, l]) => h('option', { value: v, selected: (params.get('severity') ?? '') === v }, l)));
  const form = h('form', { className: 'filters', role: 'search', 'aria-label': 'Log filters' },
    input('service', 'Service'), h('label', {}, 'Severity', severity), input('text', 'Body contains'), input('attr', 'Attributes (k=v; k2=v2)'), range.el,
    h('button', { type: 'submit' }, 'Apply'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const out = new URLSearchParams();
    const data = new FormData(form);
    for (const f of ['service', 'severity', 'text', 'attr']) {
      const v = String(data.get(f) ?? '').trim();
      if (v) out.set(f, v);
    }
    range.read(out);
    if (params.get('live') === '1') out.set('live', '1');
    ctx.navigate(`/ui/logs?${out}`);
  });
  const live = h('button', { type: 'button', className: 'ghost', id: 'live', 'aria-pressed': 'false' }, 'Live tail');
  const liveStatus = h('span', { className: 'muted', role: 'status', id: 'live-status' });
  const statusLine = h('p', { className: 'status', role: 'status' }, 'Loading…');
  const chart = chartBox('Log records over time by severity');
  const tbody = h('tbody', {});
  const table = h('table', { className: 'data', id: 'log-records' }, h('thead', {}, h('tr', {}, ['Time', 'Severity', 'Service', 'Body', 'Trace'].map((c) => h('th', { scope: 'col' }, c)))), tbody);
  main.append(h('h1', {}, 'Logs'), form, h('div', { className: 'row' }, live, liveStatus), statusLine, chart, table);

  const filter = logsFilter(params);
  const r = rangeParams(params);
  const hp = new URLSearchParams({ start: r.start, end: r.end, buckets: '60' });
  if (filter) hp.set('filter', filter);
  getJson('/api/v1/log-histogram', hp, ctx.signal).then(async (hist) => {
    drawHistogram(chart, hist);
    // The newest records: the smallest run of recent buckets that holds SHOWN of them.
    let n = 0;
    let b = hist.counts[0].length;
    while (b > 0 && n < SHOWN) {
      b--;
      for (const row of hist.counts) n += row[b];
    }
    const start = new Date(hist.start_ms + b * hist.step_ms).toISOString();
    const res = await query({ dataset: 'logs', start, end: r.end, select: SELECT, ...(filter ? { filter } : {}) }, ctx.signal);
    const recs = res.records.sort((x, y) => String(y.time).localeCompare(String(x.time))).slice(0, SHOWN);
    setStatus(statusLine, `${hist.total} record${hist.total === 1 ? '' : 's'} in range${hist.total > recs.length ? `; the newest ${recs.length} shown` : ''}`);
    for (const rec of recs) tbody.append(logRow(rec));
  }).catch((err) => {
    if (err.name !== 'AbortError') setStatus(statusLine, `Loading logs failed: ${err.message}`, true);
  });

  // Live tail: start at the end of the changes feed, poll, prepend; pause keeps the cursor.
  let cursor = null;
  let timer = 0;
  let running = false;
  async function poll() {
    timer = 0;
    if (!running) return;
    try {
      if (cursor === null) cursor = (await getJson('/api/v1/changes-head', new URLSearchParams({ dataset: 'logs' }), ctx.signal)).cursor;
      const p = new URLSearchParams({ dataset: 'logs', cursor, select: SELECT.join(',') });
      if (filter) p.set('filter', filter);
      const res = await apiFetch(`/api/v1/changes?${p}`, {}, ctx.signal);
      const text = await res.text();
      cursor = res.headers.get('X-Next-Cursor') ?? cursor;
      const recs = text.split('\n').filter(Boolean).map((l) => JSON.parse(l)).sort((x, y) => String(x.time).localeCompare(String(y.time)));
      for (const rec of recs) tbody.prepend(logRow(rec, true));
      while (tbody.rows.length > MAX_ROWS) tbody.lastElementChild.remove();
      liveStatus.textContent = `live · ${recs.length} new at ${new Date().toLocaleTimeString()}`;
    } catch (err) {
      if (err.name === 'AbortError') return;
      liveStatus.textContent = `tail failed: ${err.message}; retrying`;
    }
    if (running) timer = setTimeout(poll, TAIL_MS);
  }
  function setLive(on) {
    running = on;
    live.setAttribute('aria-pressed', String(on));
    live.textContent = on ? 'Pause tail' : cursor === null ? 'Live tail' : 'Resume tail';
    if (!on) liveStatus.textContent = cursor === null ? '' : 'paused; resume continues where it stopped';
    if (on && !timer) poll();
    if (!on && timer) { clearTimeout(timer); timer = 0; }
    const url = new URL(location.href);
    if (on) url.searchParams.set('live', '1'); else url.searchParams.delete('live');
    history.replaceState(null, '', url.pathname + url.search);
  }
  live.addEventListener('click', () => setLive(!running));
  if (params.get('live') === '1') setLive(true);
  return () => { running = false; if (timer) clearTimeout(timer); };
}

function logRow(rec, fresh = false) {
  const sev = severityName(rec.severity_number);
  return h('tr', { className: fresh ? 'fresh' : '', dataset: { service: rec.service_name ?? '' } },
    h('td', { className: 'mono' }, fmtTime(rec.time)),
    h('td', {}, h('span', { className: `sev sev-${sev}` }, rec.severity_text || sev)),
    h('td', {}, rec.service_name ? link(`/ui/logs?service=${encodeURIComponent(rec.service_name)}`, rec.service_name) : ''),
    h('td', { className: 'body-cell' }, typeof rec.body === 'string' ? rec.body : JSON.stringify(rec.body)),
    h('td', { className: 'mono' }, rec.trace_id ? link(`/ui/traces/${rec.trace_id}${rec.span_id ? `?span=${rec.span_id}` : ''}`, rec.trace_id.slice(0, 12) + '…', { title: rec.trace_id }) : ''));
}

function drawHistogram(container, hist) {
  const n = hist.counts[0].length;
  const xs = Array.from({ length: n }, (_, i) => (hist.start_ms + i * hist.step_ms) / 1000);
  // Stacked by drawing running totals, the largest first: each bar shows through above the next.
  const order = hist.severities.map((s, i) => [s, i]).filter(([, i]) => hist.counts[i].some((c) => c > 0));
  if (order.length === 0) return;
  const stacks = [];
  let acc = new Array(n).fill(0);
  for (const [, i] of order) {
    acc = acc.map((v, j) => v + hist.counts[i][j]);
    stacks.push(acc);
  }
  const bars = window.uPlot.paths.bars({ size: [0.9, 40], align: 1 });
  const series = order.map(([s, i]) => ({ label: s, fill: SEV_COLOURS[s], stroke: SEV_COLOURS[s], paths: bars, points: { show: false }, value: (_, __, ___, idx) => (idx === null || idx === undefined ? '' : String(hist.counts[i][idx])) }));
  makeChart(container, {
    height: 160,
    legend: { show: true },
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: true }, y: { range: (_, __, max) => [0, Math.max(1, max)] } },
    axes: [axis(), axis({ label: 'records', size: 50 })],
    series: [{}, ...series.reverse()],
  }, [xs, ...stacks.reverse()]);
}
