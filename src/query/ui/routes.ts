/**
 * The web UI on the query port: `GET /` redirects to `/ui/`; the HTML shell and its assets are
 * public (they hold no data); the summary APIs it calls need the same bearer token as the rest
 * of `/api/v1`.
 *
 *   /ui/, /ui/traces/{id}, /ui/logs, /ui/metrics   the shell (the browser routes the view)
 *   /ui/assets/{hash}/{file}                        an asset (immutable); another hash → 404
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { S3ParquetError } from '../../errors.js';
import { requireBearer, type BearerAuth } from '../../security/index.js';
import type { QueryEngine } from '../engine.js';
import { clientGone, type RecordSourceFor } from '../record-source.js';
import { serveSummary, SUMMARY_PATHS } from '../summaries/routes.js';
import { loadUiAssets, type Asset, type UiAssets } from './assets.js';

export interface UiRouteOptions {
  readonly engine: QueryEngine;
  /** The summaries' records for each request (the daemon's worker pool); the engine's without. */
  readonly records?: RecordSourceFor;
  readonly auth?: BearerAuth;
  readonly now?: () => number;
}

const SHELL_PATHS = /^\/ui\/(?:|logs|metrics|traces\/[0-9A-Fa-f]{1,64})$/;
const ASSET_PREFIX = '/ui/assets/';
// The shell's own scripts and styles only; inline style attributes are set through the DOM.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

function send(req: IncomingMessage, res: ServerResponse, a: Asset, cacheControl: string): void {
  const headers = { 'Content-Type': a.type, ETag: a.etag, 'Cache-Control': cacheControl, 'X-Content-Type-Options': 'nosniff' };
  if (req.headers['if-none-match'] === a.etag) {
    res.writeHead(304, headers).end();
    return;
  }
  res.writeHead(200, { ...headers, 'Content-Length': a.body.length, ...(a.type.startsWith('text/html') ? { 'Content-Security-Policy': CSP, 'Referrer-Policy': 'no-referrer' } : {}) });
  res.end(req.method === 'HEAD' ? undefined : a.body);
}

/**
 * The UI's routes for the query server: returns true when it answered, false for paths it does
 * not own (the query API then handles them). Errors are thrown for the server's error answer.
 */
export function uiRoutes(o: UiRouteOptions): (req: IncomingMessage, res: ServerResponse, path: string, params: URLSearchParams) => Promise<boolean> {
  let assets: UiAssets | undefined; // read on first use, so a daemon without UI traffic reads nothing
  const now = o.now ?? Date.now;
  return async (req, res, path, params) => {
    if (path === '/' || path === '/ui' || path === '/ui/' || path.startsWith('/ui/')) {
      if (req.method !== 'GET' && req.method !== 'HEAD') throw new S3ParquetError('METHOD_NOT_ALLOWED', `use GET ${path}`);
      if (path === '/' || path === '/ui') {
        res.writeHead(302, { Location: '/ui/' }).end();
        return true;
      }
      assets ??= loadUiAssets();
      if (SHELL_PATHS.test(path)) {
        send(req, res, assets.shell, 'no-cache');
        return true;
      }
      if (path.startsWith(ASSET_PREFIX)) {
        const rest = path.slice(ASSET_PREFIX.length);
        const slash = rest.indexOf('/');
        const file = slash > 0 && rest.slice(0, slash) === assets.version ? assets.files.get(rest.slice(slash + 1)) : undefined;
        if (file) {
          send(req, res, file, 'public, max-age=31536000, immutable');
          return true;
        }
      }
      throw new S3ParquetError('NOT_FOUND', `no UI file ${path}`);
    }
    // Only the summary paths are ours; the token is checked before anything else about them.
    if (!(SUMMARY_PATHS as readonly string[]).includes(path)) return false;
    requireBearer(o.auth, req.headers.authorization, 'the query API');
    const records = o.records ? o.records(clientGone(res)) : o.engine;
    return serveSummary({ records, changes: (c) => o.engine.changes(c) }, path, req.method ?? 'GET', params, res, now());
  };
}
