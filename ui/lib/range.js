// Time ranges in URLs: `range=15m|1h|6h|1d|7d` (relative to now) or `range=custom&start=…&end=…`.
import { h } from './dom.js';

export const PRESETS = { '15m': 15 * 60e3, '1h': 3600e3, '6h': 6 * 3600e3, '1d': 86400e3, '7d': 7 * 86400e3 };
const LABELS = { '15m': 'Last 15 minutes', '1h': 'Last hour', '6h': 'Last 6 hours', '1d': 'Last day', '7d': 'Last 7 days', custom: 'Custom' };

/** {startMs, endMs} for the URL's range (default: the last hour). */
export function rangeOf(params) {
  const r = params.get('range') ?? '1h';
  if (r === 'custom') {
    const s = Date.parse(params.get('start') ?? '');
    const e = Date.parse(params.get('end') ?? '');
    if (!Number.isNaN(s) && !Number.isNaN(e) && s < e) return { startMs: s, endMs: e };
  }
  const end = Date.now() + 60e3; // a minute ahead: a clock slightly off still shows its data
  return { startMs: end - 60e3 - (PRESETS[r] ?? PRESETS['1h']), endMs: end };
}

export function rangeParams(params) {
  const { startMs, endMs } = rangeOf(params);
  return { start: new Date(startMs).toISOString(), end: new Date(endMs).toISOString() };
}

function toLocalInput(ms) {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60e3);
  return d.toISOString().slice(0, 16);
}

/** The range controls for a filter form; `read(params)` writes their state into URL params. */
export function rangeControls(params) {
  const current = params.get('range') ?? '1h';
  const { startMs, endMs } = rangeOf(params);
  const select = h('select', { name: 'range', 'aria-label': 'Time range' }, Object.entries(LABELS).map(([v, l]) => h('option', { value: v, selected: v === current }, l)));
  const start = h('input', { type: 'datetime-local', name: 'start', value: toLocalInput(startMs), 'aria-label': 'Start' });
  const end = h('input', { type: 'datetime-local', name: 'end', value: toLocalInput(endMs), 'aria-label': 'End' });
  const custom = h('span', { className: 'row' }, h('label', {}, 'From', start), h('label', {}, 'To', end));
  const sync = () => { custom.hidden = select.value !== 'custom'; };
  select.addEventListener('change', sync);
  sync();
  return {
    el: h('span', { className: 'row' }, h('label', {}, 'Time', select), custom),
    read(out) {
      out.set('range', select.value);
      if (select.value === 'custom') {
        out.set('start', new Date(start.value).toISOString());
        out.set('end', new Date(end.value).toISOString());
      }
    },
  };
}
