// Sums a sampling heap profile (bench/gc-heap-sample.cjs) per span: by allocating function, and
// by the nearest frame in dist/ (project code) with the allocating function.
//   node bench/gc-heap-report.mjs FILE [spans=204800]
import { readFileSync } from 'node:fs';
const [file, spansArg] = process.argv.slice(2);
const spans = Number(spansArg ?? 204800);
const p = JSON.parse(readFileSync(file, 'utf8'));
const self = new Map(), proj = new Map();
let total = 0;
const name = (cf) => `${cf.functionName || '(anon)'} ${cf.url.replace(/.*\/(dist|node_modules)\//, '$1/').replace(/^node:/, 'node:')}:${cf.lineNumber + 1}`;
function walk(n, stack) {
  const st = [...stack, n.callFrame];
  if (n.selfSize) {
    total += n.selfSize;
    const k = name(n.callFrame);
    self.set(k, (self.get(k) ?? 0) + n.selfSize);
    // nearest frame in project code (dist/), with the allocating function
    let pj = null;
    for (let i = st.length - 1; i >= 0; i--) if (st[i].url.includes('/dist/')) { pj = st[i]; break; }
    const k2 = (pj ? name(pj) : '(no project frame)') + '  <- ' + (n.callFrame.functionName || '(anon)');
    proj.set(k2, (proj.get(k2) ?? 0) + n.selfSize);
  }
  for (const c of n.children) walk(c, st);
}
walk(p.head, []);
const show = (m, title, k = 30) => {
  console.log(`\n${title}`);
  for (const [key, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, k)) console.log((v / spans).toFixed(1).padStart(8), 'B/span', (100 * v / total).toFixed(1).padStart(5) + '%', key);
};
console.log('total sampled', (total / 1e6).toFixed(1), 'MB =', (total / spans).toFixed(0), 'B/span');
show(self, 'by allocating function');
show(proj, 'by nearest project frame <- allocating function', 40);
