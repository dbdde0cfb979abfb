/**
 * The web UI in a real browser (Debian's Chromium, driven by puppeteer-core) against a daemon
 * that received real OTel exporter traffic; DuckDB reads the written files as the oracle.
 * Screenshots of every view are written to test-output/ui/.
 */
import { join } from 'node:path';
import type { Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { datasetGlob, duckdbQuery } from '../helpers/duckdb.js';
import { launchChromium, SCREENSHOT_DIR, type TestBrowser } from '../helpers/browser.js';
import { makeCheckoutTraces, makeLargeTrace, sendLogs, sendMetrics, sendSpans, SUMMARY_QUANTILES } from '../helpers/ui-traffic.js';
import { waitFor } from '../helpers/wait.js';

const TRACES = 30;
const LARGE = 10_000;

let d: TestDaemon;
let chromium: TestBrowser;
let checkout: ReadableSpan[];
let largeTraceId: string;

async function count(dataset: string, filter?: string): Promise<number> {
  const res = await fetch(d.queryUrl('/api/v1/query'), { method: 'POST', body: JSON.stringify({ dataset, select: ['service_name'], ...(filter ? { filter } : {}) }) });
  return ((await res.json()) as { records: unknown[] }).records.length;
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: false });
}

/** Runs `fn` on a fresh page and fails on any console error, page error or failed request. */
async function onPage(fn: (page: Page) => Promise<void>, allowed: RegExp[] = []): Promise<void> {
  const { page, problems } = await chromium.newPage();
  try {
    await fn(page);
  } finally {
    await page.close();
  }
  expect(problems.filter((p) => !allowed.some((a) => a.test(p)))).toEqual([]);
}

/**
 * Page-side code is written as text: the project's tsconfig has no DOM library (it would leak
 * browser globals into the Node sources), and the browser runs JavaScript anyway.
 */
function js<T = unknown>(page: Page, expression: string): Promise<T> {
  return page.evaluate(expression) as Promise<T>;
}

async function until(page: Page, expression: string, timeout = 30_000): Promise<void> {
  await page.waitForFunction(expression, { timeout });
}

function rowsOf(page: Page, selector: string): Promise<Record<string, string>[]> {
  return js(page, `[...document.querySelectorAll(${JSON.stringify(selector)})].map((r) => ({ ...r.dataset, text: r.textContent ?? '' }))`);
}

beforeAll(async () => {
  d = await startTestDaemon('[buffer]\nmax_age_seconds = 1');
  const ports = { http: d.ports.http! };
  checkout = makeCheckoutTraces(TRACES);
  const large = makeLargeTrace(LARGE);
  largeTraceId = large[0]!.spanContext().traceId;
  await sendSpans(ports, checkout);
  await sendSpans(ports, large);
  const roots = checkout.filter((s) => !s.parentSpanContext);
  await sendLogs(ports, roots.map((s) => ({ traceId: s.spanContext().traceId, spanId: s.spanContext().spanId, error: s.status.code === 2 })));
  await sendMetrics(ports);
  await waitFor(async () => (await count('traces')) === checkout.length + LARGE && (await count('logs')) === TRACES + TRACES / 3 && (await count('metrics')) > 0, 60_000, 'all telemetry flushed');
  chromium = await launchChromium();
}, 180_000);

afterAll(async () => {
  await chromium?.close();
  await d?.cleanup();
});

describe('web UI: traces', () => {
  it('GET / redirects to /ui/; a deep link by service lists the traces DuckDB finds, with a scatter plot', async () => {
    const expected = await duckdbQuery(`SELECT DISTINCT trace_id FROM ${datasetGlob(join(d.dir, 'data'), 'traces')} WHERE service_name = 'db'`);
    expect(expected.length).toBe(TRACES);
    await onPage(async (page) => {
      await page.goto(d.queryUrl('/'));
      expect(new URL(page.url()).pathname).toBe('/ui/');
      await page.goto(d.queryUrl('/ui/?service=db'));
      await page.waitForSelector('#trace-results tbody tr');
      const rows = await rowsOf(page, '#trace-results tbody tr');
      expect(rows.map((r) => r.traceId).sort()).toEqual(expected.map((r) => r.trace_id).sort());
      // Traces are named by their root even when the search matched a child span.
      expect(rows.every((r) => r.text!.includes('GET /checkout'))).toBe(true);
      expect(await js(page, `document.querySelector('.uplot .u-over').dataset.traces`)).toBe(String(TRACES));
      await shot(page, 'traces-search');
    });
  });

  it('the search form (status ERROR, min duration, attribute) finds what DuckDB finds, and a dot opens its trace', async () => {
    const glob = datasetGlob(join(d.dir, 'data'), 'traces');
    const expected = await duckdbQuery(`SELECT DISTINCT trace_id FROM ${glob} WHERE status_code = 'ERROR' AND duration_ns >= 50000000 AND attributes['app.customer'] = 'c2'`);
    expect(expected.length).toBeGreaterThan(0);
    await onPage(async (page) => {
      await page.goto(d.queryUrl('/ui/'));
      await page.waitForSelector('#trace-results tbody tr');
      await page.select('select[name=status]', 'ERROR');
      await page.type('input[name=min_ms]', '50');
      await page.type('input[name=attr]', 'app.customer=c2');
      await Promise.all([until(page, `location.search.includes('status=ERROR')`), page.click('form.filters button[type=submit]')]);
      await until(page, `document.querySelectorAll('#trace-results tbody tr').length === ${expected.length}`);
      const rows = await rowsOf(page, '#trace-results tbody tr');
      expect(rows.map((r) => r.traceId).sort()).toEqual(expected.map((r) => r.trace_id).sort());
      expect(new URL(page.url()).searchParams.get('attr')).toBe('app.customer=c2');
      await shot(page, 'traces-search-errors');
      // Click a dot of the scatter plot, found by its colour on the canvas: it opens that trace.
      const dot = await js<{ x: number; y: number } | null>(page, `(() => {
        const canvas = document.querySelector('.uplot canvas');
        const px = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        const r = canvas.getBoundingClientRect();
        for (let i = 0; i < px.length; i += 4) {
          if (Math.abs(px[i] - 0xe0) < 10 && Math.abs(px[i + 1] - 0x31) < 10 && Math.abs(px[i + 2] - 0x31) < 10) {
            const x = (i / 4) % canvas.width;
            const y = Math.floor(i / 4 / canvas.width);
            return { x: r.left + (x * r.width) / canvas.width + 2, y: r.top + (y * r.height) / canvas.height + 3 };
          }
        }
        return null;
      })()`);
      expect(dot).not.toBeNull();
      await Promise.all([until(page, `location.pathname.startsWith('/ui/traces/')`), page.mouse.click(dot!.x, dot!.y)]);
      expect(rows.map((r) => r.traceId)).toContain(new URL(page.url()).pathname.slice('/ui/traces/'.length));
      await page.goBack();
      await page.waitForSelector('#trace-results tbody tr');
      // The table link opens the waterfall, and the URL is the trace's.
      await Promise.all([page.waitForSelector('.wf-row'), page.click('#trace-results tbody tr td:nth-child(3) a')]);
      expect(new URL(page.url()).pathname).toBe(`/ui/traces/${rows[0]!.traceId}`);
    });
  });
});

describe('web UI: a trace', () => {
  it('the waterfall shows every span with its nesting, details with events and links, and the linked logs', async () => {
    const traceId = checkout[checkout.length - 1]!.spanContext().traceId;
    const glob = datasetGlob(join(d.dir, 'data'), 'traces');
    const spans = await duckdbQuery(`SELECT span_id, parent_span_id FROM ${glob} WHERE trace_id = '${traceId}'`);
    const depth = depthsOf(spans as { span_id: string; parent_span_id: string | null }[]);
    const logs = await duckdbQuery(`SELECT count(*)::INT AS n FROM ${datasetGlob(join(d.dir, 'data'), 'logs')} WHERE trace_id = '${traceId}'`);
    await onPage(async (page) => {
      await page.goto(d.queryUrl(`/ui/traces/${traceId}`));
      await page.waitForSelector('.wf-row');
      const rows = await rowsOf(page, '.wf-row');
      expect(rows.length).toBe(spans.length);
      for (const r of rows) expect(Number(r.depth)).toBe(depth.get(r.spanId!));
      // Depth-first order: each row's parent is shown above it.
      const seen = new Set<string>();
      for (const r of rows) {
        if (r.parentId) expect(seen.has(r.parentId!)).toBe(true);
        seen.add(r.spanId!);
      }
      // The payment span: its event is a marker on the bar, and its link opens the linked trace.
      const pay = rows.find((r) => r.text!.includes('charge card'))!;
      await page.click(`.wf-row[data-span-id="${pay.spanId}"]`);
      await until(page, `document.querySelector('.details h2')?.textContent === 'charge card'`);
      expect(await page.$$eval(`.wf-row[data-span-id="${pay.spanId}"] .wf-event`, (e) => e.length)).toBe(1);
      expect(await page.$eval('.details', (e) => e.textContent)).toContain('retry');
      expect(new URL(page.url()).searchParams.get('span')).toBe(pay.spanId);
      await page.waitForSelector('#trace-logs tbody tr');
      expect(await page.$$eval('#trace-logs tbody tr', (r) => r.length)).toBe((logs[0] as { n: number }).n);
      await shot(page, 'trace-waterfall');
      // Keyboard: focus the list, go up to the root with arrows, collapse it with Left.
      await page.focus('.waterfall');
      for (let i = 0; i < 6; i++) await page.keyboard.press('ArrowUp');
      await page.keyboard.press('ArrowLeft');
      await until(page, `document.querySelectorAll('.wf-row').length === 1`);
      await page.keyboard.press('ArrowRight');
      await until(page, `document.querySelectorAll('.wf-row').length === ${spans.length}`);
      // The load link of "load cart" goes to the previous trace.
      const cart = rows.find((r) => r.text!.includes('load cart'))!;
      await page.click(`.wf-row[data-span-id="${cart.spanId}"]`);
      await page.waitForSelector('.details li a');
      await Promise.all([until(page, `location.pathname !== '/ui/traces/${traceId}'`), page.click('.details li a')]);
      await page.waitForSelector('.wf-row');
      expect(new URL(page.url()).pathname).toMatch(/^\/ui\/traces\/[0-9a-f]{32}$/);
    });
    await onPage(async (page) => {
      await page.goto(d.queryUrl(`/ui/traces/${traceId}`));
      await page.waitForSelector('.wf-row');
      await page.click('#theme');
      await page.waitForSelector('.wf-row');
      expect(await js(page, `document.documentElement.dataset.theme`)).toBe('dark');
      await shot(page, 'trace-waterfall-dark');
      // The choice is remembered: every view in dark mode.
      for (const [name, path, ready] of [
        ['traces-search-dark', '/ui/?service=db', '#trace-results tbody tr'],
        ['logs-dark', '/ui/logs', '#log-records tbody tr'],
        ['metrics-dark', '/ui/metrics?name=ui.requests&group_by=route', '.uplot'],
      ] as const) {
        await page.goto(d.queryUrl(path));
        await page.waitForSelector(ready);
        expect(await js(page, `document.documentElement.dataset.theme`)).toBe('dark');
        await shot(page, name);
      }
      await page.click('#theme');
      expect(await js(page, `document.documentElement.dataset.theme`)).toBe('light');
    });
  });

  it(`a ${LARGE}-span trace: every span is reachable with correct nesting, rows are virtualised, collapse is quick`, async () => {
    const glob = datasetGlob(join(d.dir, 'data'), 'traces');
    const spans = await duckdbQuery(`SELECT span_id, parent_span_id FROM ${glob} WHERE trace_id = '${largeTraceId}'`);
    expect(spans.length).toBe(LARGE);
    const depth = depthsOf(spans as { span_id: string; parent_span_id: string | null }[]);
    // The API's share of the load time, measured from here.
    const a0 = performance.now();
    expect((await fetch(d.queryUrl(`/api/v1/traces/${largeTraceId}`))).status).toBe(200);
    const apiMs = performance.now() - a0;
    await onPage(async (page) => {
      const t0 = performance.now();
      await page.goto(d.queryUrl(`/ui/traces/${largeTraceId}`));
      await page.waitForSelector('.wf-row');
      const loadMs = performance.now() - t0;
      expect(await page.$eval('#span-count', (e) => e.textContent)).toBe(`${LARGE} spans`);
      const inDom = await page.$$eval('.wf-row', (r) => r.length);
      expect(inDom).toBeLessThan(120); // virtualised: the rows in view and a margin
      await shot(page, 'trace-large');
      // Scroll through the whole list and collect every row the browser drew (a tall viewport,
      // so that 10,000 rows take a few dozen frames rather than hundreds).
      const seen = await js<Record<string, [string, string]>>(page, `(async () => {
        const list = document.querySelector('.waterfall');
        list.style.height = '6000px';
        const out = {};
        const frame = () => new Promise((r) => requestAnimationFrame(() => r(null)));
        for (let top = 0; top <= list.scrollHeight; top += list.clientHeight) {
          list.scrollTop = top;
          // Wait for the rows of this scroll position to be drawn (first and last in view).
          const first = Math.floor(list.scrollTop / 24);
          const last = Math.min(${LARGE} - 1, Math.floor((list.scrollTop + list.clientHeight) / 24) - 1);
          for (let k = 0; k < 300 && !(list.querySelector('.wf-row[data-index="' + first + '"]') && list.querySelector('.wf-row[data-index="' + last + '"]')); k++) await frame();
          for (const r of document.querySelectorAll('.wf-row')) out[r.dataset.spanId] = [r.dataset.depth, r.dataset.parentId];
        }
        return out;
      })()`);
      expect(Object.keys(seen).length).toBe(LARGE);
      for (const s of spans as { span_id: string; parent_span_id: string | null }[]) {
        expect(seen[s.span_id]).toEqual([String(depth.get(s.span_id)), s.parent_span_id ?? '']);
      }
      // Collapse the root from the keyboard and expand it again, timed in the page.
      await js(page, `(() => {
        const list = document.querySelector('.waterfall');
        list.style.height = '';
        list.scrollTop = 0;
      })()`);
      await page.waitForSelector('.wf-row[data-depth="0"]');
      await page.click('.wf-row[data-depth="0"]');
      await page.focus('.waterfall');
      const collapseMs = await js<number>(page, `(() => {
        const t = performance.now();
        document.querySelector('.waterfall').dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowLeft', bubbles: true }));
        return performance.now() - t;
      })()`);
      expect(await page.$$eval('.wf-row', (r) => r.length)).toBe(1);
      const expandMs = await js<number>(page, `(() => {
        const t = performance.now();
        document.querySelector('.waterfall').dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowRight', bubbles: true }));
        return performance.now() - t;
      })()`);
      expect(await page.$$eval('.wf-row', (r) => r.length)).toBeGreaterThan(10);
      console.log(`UI ${LARGE}-span trace: load to first rows ${loadMs.toFixed(0)} ms (the API alone ${apiMs.toFixed(0)} ms), collapse ${collapseMs.toFixed(1)} ms, expand ${expandMs.toFixed(1)} ms, rows in DOM ${inDom}`);
      // Generous for a loaded 2-core machine; a non-virtualised list takes seconds here.
      expect(collapseMs).toBeLessThan(500);
      expect(expandMs).toBeLessThan(500);
    });
  }, 120_000);
});

describe('web UI: logs', () => {
  it('filters by service, severity and body text as DuckDB does, with a severity histogram; trace ids link to traces', async () => {
    const glob = datasetGlob(join(d.dir, 'data'), 'logs');
    const api = await duckdbQuery(`SELECT body FROM ${glob} WHERE service_name = 'api'`);
    const errors = await duckdbQuery(`SELECT body FROM ${glob} WHERE severity_number >= 17 AND body LIKE '%checkout 2%'`);
    await onPage(async (page) => {
      await page.goto(d.queryUrl('/ui/logs?service=api'));
      await page.waitForSelector('#log-records tbody tr');
      const rows = await rowsOf(page, '#log-records tbody tr');
      expect(rows.length).toBe(api.length);
      expect(rows.every((r) => r.service === 'api')).toBe(true);
      expect(await page.$eval('.chart .u-legend', (e) => e.textContent)).toContain('ERROR');
      await shot(page, 'logs-service');
      await page.goto(d.queryUrl('/ui/logs'));
      await page.waitForSelector('#log-records tbody tr');
      await page.select('select[name=severity]', '17');
      await page.type('input[name=text]', 'checkout 2');
      await page.click('form.filters button[type=submit]');
      await until(page, `document.querySelectorAll('#log-records tbody tr').length === ${errors.length} && location.search.includes('severity=17')`);
      const bodies = (await rowsOf(page, '#log-records tbody tr')).map((r) => r.text);
      for (const e of errors) expect(bodies.some((b) => b!.includes(String(e.body)))).toBe(true);
      await shot(page, 'logs-filtered');
      await Promise.all([page.waitForSelector('.wf-row'), page.click('#log-records tbody tr td:last-child a')]);
      expect(new URL(page.url()).pathname).toMatch(/^\/ui\/traces\/[0-9a-f]{32}$/);
    });
  });

  it('the live tail shows new records from the changes feed, stops when paused and resumes without losing any', async () => {
    await onPage(async (page) => {
      await page.goto(d.queryUrl('/ui/logs?service=worker'));
      await page.waitForSelector('.status:not(:empty)');
      await page.click('#live');
      await until(page, `document.getElementById('live-status')?.textContent?.startsWith('live')`);
      expect(new URL(page.url()).searchParams.get('live')).toBe('1');
      await sendLogs({ http: d.ports.http! }, [], [{ service: 'worker', body: 'tail marker one', severity: 13 }, { service: 'other', body: 'tail marker filtered out', severity: 13 }]);
      await until(page, `document.querySelector('#log-records')?.textContent?.includes('tail marker one')`);
      await shot(page, 'logs-tail');
      await page.click('#live'); // pause
      expect(await page.$eval('#live', (b) => b.textContent)).toBe('Resume tail');
      await sendLogs({ http: d.ports.http! }, [], [{ service: 'worker', body: 'tail marker two', severity: 17 }]);
      await waitFor(async () => (await count('logs', "body = 'tail marker two'")) === 1, 30_000, 'marker two flushed');
      await new Promise((r) => setTimeout(r, 2500)); // more than one poll interval: a running tail would have shown it
      expect(await page.$eval('#log-records', (e) => e.textContent)).not.toContain('tail marker two');
      await page.click('#live'); // resume from the kept cursor
      await until(page, `document.querySelector('#log-records')?.textContent?.includes('tail marker two')`);
      expect(await page.$eval('#log-records', (e) => e.textContent)).not.toContain('filtered out');
    });
  }, 90_000);
});

describe('web UI: metrics', () => {
  for (const [name, group, shows, labels] of [
    ['ui.requests', 'route', 'rate per second', ['/cart', '/checkout']],
    ['ui.latency', '', 'percentiles', ['all p50', 'all p90', 'all p99']],
    ['ui.latency.exp', '', 'percentiles', ['all p50', 'all p90', 'all p99']],
    ['ui.rpc.summary', '', 'percentiles', ['all p50', 'all p90', 'all p99']],
    ['ui.queue.depth', 'queue', 'value', ['orders']],
  ] as const) {
    it(`${name}: a deep link draws its series (${shows})`, async () => {
      await onPage(async (page) => {
        await page.goto(d.queryUrl(`/ui/metrics?name=${name}${group ? `&group_by=${group}` : ''}`));
        await page.waitForSelector('.uplot');
        expect(await page.$eval('.status', (e) => e.textContent)).toContain(shows);
        const legend = await page.$eval('.u-legend', (e) => e.textContent ?? '');
        for (const l of labels) expect(legend).toContain(l);
        expect(await js(page, `document.querySelector('select[name=name]').selectedOptions[0].textContent`)).toContain(name);
        // The first series' colour is on the canvas: a point was drawn, not just the axes.
        const drawn = await js<number>(page, `(() => {
          const c = document.querySelector('.uplot canvas');
          const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
          let n = 0;
          for (let i = 0; i < px.length; i += 4) if (Math.abs(px[i] - 0x4c) < 12 && Math.abs(px[i + 1] - 0x7b) < 12 && Math.abs(px[i + 2] - 0xd9) < 12) n++;
          return n;
        })()`);
        expect(drawn).toBeGreaterThan(0);
        await shot(page, `metrics-${name.replace(/\./g, '-')}`);
      });
    });
  }
});

describe('metric series: percentiles of exponential histograms and summaries', () => {
  type Series = { shows: string; series: { label: string; values: (number | null)[] }[] };
  const last = async (name: string): Promise<Record<string, number>> => {
    const end = new Date(Date.now() + 60_000).toISOString();
    const res = await fetch(d.queryUrl(`/api/v1/metric-series?name=${name}&buckets=2&end=${end}`));
    expect(res.status).toBe(200);
    const body = (await res.json()) as Series;
    expect(body.shows).toBe('percentile');
    // Each series' value in the step that holds the points.
    return Object.fromEntries(body.series.map((s) => [s.label, s.values.filter((v): v is number => v !== null).at(-1)!]));
  };

  it('a summary charts its own quantiles', async () => {
    expect(await last('ui.rpc.summary')).toEqual({ 'all p50': SUMMARY_QUANTILES[0].value, 'all p90': SUMMARY_QUANTILES[1].value, 'all p99': SUMMARY_QUANTILES[2].value });
  });

  it('an exponential histogram charts percentiles from its buckets, close to those of the recorded values', async () => {
    // Recorded: 5 + 7i for i = 0..19, twice. Nearest-rank p50 = 68 (the SDK's scale keeps a bucket within a few per cent).
    const got = await last('ui.latency.exp');
    expect(got['all p50']).toBeGreaterThan(68 * 0.9);
    expect(got['all p50']).toBeLessThan(75 * 1.1);
    expect(got['all p99']).toBeGreaterThan(138 * 0.9);
    expect(got['all p99']).toBeLessThanOrEqual(138 * 1.1);
    expect(got['all p90']).toBeGreaterThan(got['all p50']!);
  });
});

describe('web UI: bearer tokens', () => {
  it('asks for the token once, keeps it for the session, and the views load with it', async () => {
    const secured = await startTestDaemon('[auth]\nquery_tokens = ["ui-test-token-0123456789"]');
    try {
      await onPage(async (page) => {
        await page.goto(`http://127.0.0.1:${secured.ports.query}/ui/logs`);
        await page.waitForSelector('#token-dialog[open]');
        await shot(page, 'token-dialog');
        await page.type('#token-input', 'ui-test-token-0123456789');
        await page.keyboard.press('Enter');
        await until(page, `document.querySelector('.status')?.textContent?.includes('records in range')`);
        await page.goto(`http://127.0.0.1:${secured.ports.query}/ui/metrics`);
        await until(page, `document.querySelector('.status')?.textContent?.includes('metrics in range')`);
        expect(await page.$('#token-dialog[open]')).toBeNull();
      }, [/status of 401/]); // the first, refused request is logged by the browser itself
    } finally {
      await secured.cleanup();
    }
  });
});

/** span id → depth from the parent links (a parent outside the set makes a root). */
function depthsOf(spans: { span_id: string; parent_span_id: string | null }[]): Map<string, number> {
  const parent = new Map(spans.map((s) => [s.span_id, s.parent_span_id]));
  const out = new Map<string, number>();
  for (const s of spans) {
    let n = 0;
    for (let p = s.parent_span_id; p && parent.has(p); p = parent.get(p)!) n++;
    out.set(s.span_id, n);
  }
  return out;
}
