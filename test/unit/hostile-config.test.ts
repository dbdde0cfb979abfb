/** Issue 21 items 4, 8 and 9 at the unit level: token kinds, URL redaction, exposure warnings, caps, log limits. */
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/index.js';
import { redactUrl, renderConfigToml } from '../../src/config/redact.js';
import { RateLimitedLog } from '../../src/log-rate-limit.js';
import { BearerAuth } from '../../src/security/auth.js';
import { connectionCap } from '../../src/security/connections.js';
import { exposureWarnings, isLoopbackHost } from '../../src/security/exposure.js';
import type { Logger } from 'pino';

describe('read-only query tokens', () => {
  const auth = new BearerAuth(['full'], ['reader']);
  it('both kinds authenticate; only a full token may write', () => {
    expect(auth.verify('Bearer full')).toBe(true);
    expect(auth.verify('Bearer reader')).toBe(true);
    expect(auth.verify('Bearer other')).toBe(false);
    expect(auth.canWrite('Bearer full')).toBe(true);
    expect(auth.canWrite('Bearer reader')).toBe(false);
    expect(auth.canWrite(undefined)).toBe(false);
  });
  it('only read-only tokens: authentication is on and nobody may write', () => {
    const ro = new BearerAuth([], ['reader']);
    expect(ro.enabled).toBe(true);
    expect(ro.verify(undefined)).toBe(false);
    expect(ro.canWrite('Bearer reader')).toBe(false);
  });
});

describe('credentials in URLs', () => {
  it('redactUrl hides user-info only', () => {
    expect(redactUrl('https://AKIA:s3cr3t@minio.local:9000/path')).toBe('https://***redacted***@minio.local:9000/path');
    expect(redactUrl('http://minio.local:9000')).toBe('http://minio.local:9000');
    expect(redactUrl('not a url')).toBe('not a url');
  });
  it('check-config output never shows credentials in [s3] endpoint', () => {
    const c = parseConfigText('[s3]\nbucket = "my-bucket"\nendpoint = "https://AKIA:s3cr3t@minio.local:9000"');
    const text = renderConfigToml(c);
    expect(text).not.toContain('s3cr3t');
    expect(text).not.toContain('AKIA');
    expect(text).toContain('minio.local:9000');
  });
});

describe('exposure warnings', () => {
  it('loopback hosts', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost']) expect(isLoopbackHost(h)).toBe(true);
    for (const h of ['0.0.0.0', '::', '10.0.0.1', 'example.com']) expect(isLoopbackHost(h)).toBe(false);
  });
  it('warns for receivers beyond loopback without tokens or TLS, and for an open query port', () => {
    const c = parseConfigText('[query]\nendpoint = "0.0.0.0:8081"');
    expect(exposureWarnings(c).map((w) => w.listener)).toEqual(['grpc', 'http', 'query']);
    const safe = parseConfigText('[auth]\nreceiver_tokens = ["t"]\n[query]\nendpoint = "127.0.0.1:8081"');
    expect(exposureWarnings(safe)).toEqual([]);
  });
});

describe('connection caps', () => {
  it('the configured cap, never more than the listener share of the descriptor limit', () => {
    expect(connectionCap('grpc', 1000, 2048)).toBe(614);
    expect(connectionCap('query', 100, 2048)).toBe(100);
    expect(connectionCap('query', 1000, 2048)).toBe(307);
    expect(connectionCap('http', 1000, 1_048_576)).toBe(1000);
  });
});

describe('rate-limited error logs', () => {
  it('at most 5 lines per key per window, then says how many were suppressed', () => {
    let now = 0;
    const lines: Record<string, unknown>[] = [];
    const logger = { error: (o: Record<string, unknown>) => lines.push(o), warn: () => undefined } as unknown as Logger;
    const log = new RateLimitedLog(logger, 5, 10_000, () => now);
    for (let i = 0; i < 100; i++) log.error('INTERNAL', { i }, 'failed');
    expect(lines).toHaveLength(5);
    log.error('OTHER', {}, 'failed'); // another code has its own budget
    expect(lines).toHaveLength(6);
    now = 10_000;
    log.error('INTERNAL', {}, 'failed');
    expect(lines.at(-1)).toMatchObject({ suppressed: 95 });
  });
});
