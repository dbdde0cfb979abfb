/** `npm run build && npx tsx bench/signals-only.ts [--quick]`: just the logs and metrics ingest part of `npm run bench`. */
import { benchSignals, signalsMarkdown } from './signals.js';

console.log(signalsMarkdown(await benchSignals(process.argv.includes('--quick'), 4)));
