// Metrics: a metric picked by name (type and unit shown), grouped by an attribute, charted over
// time from /api/v1/metric-series (sums as rates, gauges as values, histograms as percentiles).
// State: ?name&group_by&range&start&end.
import { getJson } from '../lib/api.js';
import { axis, chartBox, makeChart, PALETTE } from '../lib/chart.js';
import { h, setStatus } from '../lib/dom.js';
import { rangeControls, rangeParams } from '../lib/range.js';

export function renderMetrics(main, params, ctx) {
  const range = rangeControls(params);
  const nameSel = h('select', { name: 'name', 'aria-label': 'Metric' }, h('option', { value: params.get('name') ?? '' }, params.get('name') ?? 'loading…'));
  const groupSel = h('select', { name: 'group_by', 'aria-label': 'Group by' }, h('option', { value: '' }, 'nothing'));
  const form = h('form', { className: 'filters', 'aria-label': 'Metric' }, h('label', {}, 'Metric', nameSel), h('label', {}, 'Group by', groupSel), range.el, h('button', { type: 'submit' }, 'Show'));
  const submit = () => {
    const out = new URLSearchParams();
    if (nameSel.value) out.set('name', nameSel.value);
    if (groupSel.value) out.set('group_by', groupSel.value);
    range.read(out);
    ctx.navigate(`/ui/metrics?${out}`);
  };
  form.addEventListener('submit', (e) => { e.preventDefault(); submit(); });
  nameSel.addEventListener('change', () => { groupSel.value = ''; submit(); });
  groupSel.addEventListener('change', submit);
  const info = h('p', { className: 'status', role: 'status' }, 'Loading metric names…');
  const chart = chartBox('Metric chart');
  main.append(h('h1', {}, 'Metrics'), form, info, chart);

  const r = rangeParams(params);
  getJson('/api/v1/metric-names', new URLSearchParams(r), ctx.signal).then((res) => {
    const metrics = res.metrics;
    nameSel.replaceChildren(h('option', { value: '' }, metrics.length ? 'choose a metric…' : 'no metrics in this range'), ...metrics.map((m) =>
      h('option', { value: m.name, selected: m.name === params.get('name') }, `${m.name} (${m.type}${m.unit ? `, ${m.unit}` : ''})`)));
    const name = params.get('name');
    const m = metrics.find((x) => x.name === name);
    if (!name) return setStatus(info, `${metrics.length} metrics in range; pick one.`);
    if (!m) return setStatus(info, `No metric named ${name} in this range.`, true);
    groupSel.replaceChildren(h('option', { value: '' }, 'nothing'), ...['service_name', ...m.attributes].map((k) => h('option', { value: k, selected: k === params.get('group_by') }, k)));
    setStatus(info, 'Loading series…');
    const q = new URLSearchParams({ name, ...r, buckets: '120' });
    if (params.get('group_by')) q.set('group_by', params.get('group_by'));
    return getJson('/api/v1/metric-series', q, ctx.signal).then((s) => {
      const what = s.shows === 'rate/s' ? `rate per second${s.unit ? ` (${s.unit}/s)` : ''}` : s.shows === 'percentile' ? `percentiles${s.unit ? ` (${s.unit})` : ''}` : `${s.shows}${s.unit ? ` (${s.unit})` : ''}`;
      setStatus(info, `${s.name}: ${s.type}${m.description ? ` — ${m.description}` : ''} · shown as ${what} · ${s.points} points, ${s.series.length} series, ${Math.round(s.step_ms / 1000)} s per step${s.groups_folded ? ' · some groups folded into (other)' : ''}`);
      drawSeries(chart, s, what);
    });
  }).catch((err) => {
    if (err.name !== 'AbortError') setStatus(info, `Loading the metric failed: ${err.message}`, true);
  });
}

function drawSeries(container, s, what) {
  if (s.series.length === 0) return;
  const xs = s.times.map((t) => t / 1000);
  const fmt = (v) => (v === null || v === undefined ? '–' : Math.abs(v) >= 1000 || v === 0 ? v.toFixed(0) : v.toPrecision(4));
  const plot = makeChart(container, {
    height: 320,
    legend: { show: true },
    scales: { x: { time: true } },
    axes: [axis(), axis({ label: what, size: 70 })],
    series: [{}, ...s.series.map((x, i) => ({ label: x.label, stroke: PALETTE[i % PALETTE.length], width: 2, spanGaps: true, points: { show: true, size: 6 }, value: (_, v) => fmt(v) }))],
  }, [xs, ...s.series.map((x) => x.values)]);
  plot.root.dataset.series = String(s.series.length);
}
