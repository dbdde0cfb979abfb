/**
 * The web UI's static files, read once into memory: the `ui/` folder of the package and the
 * uPlot build from its npm package (pinned in package.json, served from here: no CDN).
 *
 * A request names a file by its exact key in this map, never by a path joined onto a folder,
 * so no URL can reach outside it (no `..`, no encoded slashes, no symlinks followed at request
 * time). Assets live under a content hash (`/ui/assets/{hash}/…`): immutable and cached for a
 * year; the HTML shell that names that hash is revalidated on every load (ETag).
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { S3ParquetError } from '../../errors.js';

export interface Asset {
  readonly body: Buffer;
  readonly type: string;
  readonly etag: string;
}

export interface UiAssets {
  /** The content hash of every asset: the `{hash}` in asset URLs. */
  readonly version: string;
  /** Keys relative to the assets root: `app.js`, `views/trace.js`, `vendor/uPlot.iife.min.js`. */
  readonly files: ReadonlyMap<string, Asset>;
  /** The HTML shell, with the asset base filled in. */
  readonly shell: Asset;
}

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.ico': 'image/x-icon',
  '.png': 'image/png',
};

/** The `ui/` folder: two levels above this module both in `src/query/ui/` (tsx) and `dist/query/ui/`. */
export const UI_DIR = fileURLToPath(new URL('../../../ui/', import.meta.url));

function asset(body: Buffer, type: string): Asset {
  return { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
}

function walk(dir: string, out: string[]): void {
  for (const name of readdirSync(dir).sort()) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) walk(full, out);
    else out.push(full);
  }
}

export function loadUiAssets(dir = UI_DIR): UiAssets {
  // An install without the ui/ folder (a hand-made image) answers 404 naming what is missing.
  if (!existsSync(join(dir, 'index.html'))) throw new S3ParquetError('NOT_FOUND', `the web UI is not installed: no ${join(dir, 'index.html')} (the package's ui/ folder belongs beside dist/)`);
  const files = new Map<string, Asset>();
  const paths: string[] = [];
  walk(dir, paths);
  let shellText: string | undefined;
  for (const full of paths) {
    const key = relative(dir, full).split(sep).join('/');
    if (key === 'index.html') {
      shellText = readFileSync(full, 'utf8');
      continue;
    }
    const type = TYPES[extname(key)];
    if (type === undefined) continue; // only known kinds are served
    files.set(key, asset(readFileSync(full), type));
  }
  if (shellText === undefined) throw new S3ParquetError('NOT_FOUND', `the web UI is not installed: no index.html in ${dir}`);
  const require = createRequire(import.meta.url);
  files.set('vendor/uPlot.iife.min.js', asset(readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js')), TYPES['.js']!));
  files.set('vendor/uPlot.min.css', asset(readFileSync(require.resolve('uplot/dist/uPlot.min.css')), TYPES['.css']!));
  const h = createHash('sha256');
  for (const [k, a] of [...files].sort(([a], [b]) => (a < b ? -1 : 1))) h.update(k).update(a.etag);
  const version = h.digest('hex').slice(0, 12);
  const shell = asset(Buffer.from(shellText.replaceAll('{{ASSETS}}', `/ui/assets/${version}`), 'utf8'), TYPES['.html']!);
  return { version, files, shell };
}
