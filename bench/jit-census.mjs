/**
 * Census of V8's optimizing compiles and deopts per slice of a run, from a `--trace-opt
 * --trace-deopt` log written by `bench/gc-threads.ts` with `TRACE_CUT` (each line prefixed by
 * its slice: −1 start-up and warm-up, 0… every TRACE_CUT measured requests, the last one the
 * shutdown flush). Prints, per slice, the TurboFan compiles and deopts, and the functions
 * compiled most often and deoptimized (with the reason) across the measured slices after the
 * first (steady state). Anonymous functions print as `(anonymous)`.
 *
 *   node bench/jit-census.mjs FILE [top=25]
 */
import { readFileSync } from 'node:fs';

const [file, topArg] = process.argv.slice(2);
const top = Number(topArg ?? 25);
const slices = new Map();
const compiled = new Map();
const deopted = new Map();
const slice = (k) => {
  if (!slices.has(k)) slices.set(k, { compiles: 0, ms: 0, deopts: 0, anonymous: 0 });
  return slices.get(k);
};
const fnName = (l) => {
  const m = /<JSFunction ([^ >]*) ?\(sfi/.exec(l) ?? /<JSFunction ([^>]*)>/.exec(l);
  return m && m[1] ? m[1] : '(anonymous)';
};
for (const line of readFileSync(file, 'utf8').split('\n')) {
  const tab = line.indexOf('\t');
  if (tab < 0) continue;
  const k = Number(line.slice(0, tab));
  const l = line.slice(tab + 1);
  // One line per finished TurboFan job: "[completed compiling 0x… <JSFunction f (sfi = …)> (target TURBOFAN) - took a, b, c ms]"
  if (l.startsWith('[completed compiling') && l.includes('TURBOFAN')) {
    const s = slice(k);
    s.compiles++;
    const t = /took ([\d.]+), ([\d.]+), ([\d.]+) ms/.exec(l);
    if (t) s.ms += Number(t[1]) + Number(t[2]) + Number(t[3]);
    const name = fnName(l);
    if (name === '(anonymous)') s.anonymous++;
    if (k >= 1) compiled.set(name, (compiled.get(name) ?? 0) + 1);
  } else if (l.startsWith('[bailout (kind: deopt')) {
    slice(k).deopts++;
    const reason = /reason: ([^)]*)\)/.exec(l)?.[1] ?? '?';
    const key = `${fnName(l)} — ${reason}`;
    if (k >= 1) deopted.set(key, (deopted.get(key) ?? 0) + 1);
  }
}
console.log('slice\tcompiles\tanonymous\tdeopts\tcompile ms (wall, V8 printed)');
for (const k of [...slices.keys()].sort((a, b) => a - b)) {
  const s = slices.get(k);
  console.log(`${k}\t${s.compiles}\t${s.anonymous}\t${s.deopts}\t${s.ms.toFixed(0)}`);
}
const list = (m) => [...m].sort((a, b) => b[1] - a[1]).slice(0, top);
console.log('\ncompiled in slices ≥ 1 (steady state):');
for (const [n, c] of list(compiled)) console.log(`${String(c).padStart(5)}  ${n}`);
console.log('\ndeopts in slices ≥ 1:');
for (const [n, c] of list(deopted)) console.log(`${String(c).padStart(5)}  ${n}`);
