/** `npm run build && npx tsx bench/steady-only.ts [--quick]`: just the long-run and steady-state part of `npm run bench`. */
import { benchSteady, steadyMarkdown } from './steady.js';

console.log(steadyMarkdown(await benchSteady(process.argv.includes('--quick'), 4)));
