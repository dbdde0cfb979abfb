import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ConfigError,
  effectiveBackend,
  defaultConfig,
  isSecretKey,
  loadConfig,
  parseConfigText,
  parseEndpoint,
  redactConfig,
  renderConfigToml,
} from '../../src/config/index.js';

/** Runs `fn`, expecting a ConfigError, and returns it. */
function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

const tmpDirs: string[] = [];
function tmp(): string {
  const dir = mkdtempSync(join(tmpdir(), 'config-test-'));
  tmpDirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
});

describe('defaults', () => {
  it('fills every key', () => {
    const c = defaultConfig();
    expect(c.receivers.grpc).toEqual({
      enabled: true,
      endpoint: '0.0.0.0:4317',
      max_recv_msg_size_mib: 64,
      max_concurrent_streams: 100,
      keepalive_time_seconds: 7200,
      keepalive_timeout_seconds: 20,
      max_connection_idle_seconds: 300,
      max_connection_age_seconds: 0,
      request_timeout_seconds: 60,
      max_connections: 1000,
      max_connections_per_client: 0,
      handshake_timeout_seconds: 5,
    });
    const httpLimits = { read_header_timeout_seconds: 10, request_timeout_seconds: 60, keep_alive_timeout_seconds: 5, max_requests_per_socket: 0, max_headers_count: 100, handshake_timeout_seconds: 5 };
    expect(c.receivers.http).toEqual({ enabled: true, endpoint: '0.0.0.0:4318', max_request_body_mib: 64, ...httpLimits, max_connections: 1000, max_connections_per_client: 0 });
    expect(c.query).toMatchObject({ ...httpLimits, max_connections: 100, max_connections_per_client: 16 });
    expect([c.receivers.grpc.tls, c.receivers.http.tls, c.query.tls]).toEqual([undefined, undefined, undefined]); // TLS off
    expect(c.auth).toEqual({ receiver_tokens: [], receiver_token_files: [], query_tokens: [], query_token_files: [], query_read_only_tokens: [], query_read_only_token_files: [] }); // no auth
    expect(c.storage).toEqual({ backend: 'auto', local_path: './data', instance_id: '' });
    expect(c.parquet).toEqual({
      compression: 'ZSTD',
      row_group_size: 100_000,
      page_size: 65_536,
      dictionary_enabled: true,
      statistics_enabled: true,
      bloom_filter_enabled: false,
      column_encodings_enabled: true,
      encode_workers: 0,
    });
    expect(c.partitioning).toEqual({ granularity: 'hour', format: 'date=%Y-%m-%d/hour=%H', by_service: false, keys: [], max_past_hours: 720, max_future_minutes: 60, outside_window: 'refuse' });
    expect(c.buffer).toEqual({ max_rows: 100_000, max_bytes_mb: 64, max_age_seconds: 60, memory_limit_mb: 512, max_partitions: 1000 });
    expect(c.schema.traces.promoted_attributes).toEqual([
      'http.request.method',
      'http.response.status_code',
      'url.path',
      'server.address',
    ]);
    expect(c.schema.logs.promoted_attributes).toEqual(c.schema.traces.promoted_attributes);
    expect(c.schema.metrics.promoted_attributes).toEqual([]);
    expect(c.log.level).toBe('info');
    expect(c.s3).toMatchObject({ region: 'us-east-1', bucket: '', prefix: '', storage_class: 'STANDARD', tags: {} });
    expect(c.s3.lifecycle).toBeUndefined();
    expect(c.s3.credentials.type).toBe('default');
    expect(c.s3.multipart).toEqual({ enabled: true, threshold_mb: 100, part_size_mb: 16, max_concurrent_uploads: 10 });
    expect(c.operations).toEqual({ retry_attempts: 3, timeout_seconds: 300 });
    expect(c.wal).toEqual({ enabled: true, dir: '', fsync: 'always', fsync_interval_ms: 200, max_size_mb: 1024, segment_size_mb: 64 });
  });

  it('chooses S3 when a bucket is set and the backend is "auto"', () => {
    expect(effectiveBackend(defaultConfig())).toBe('local');
    expect(effectiveBackend(parseConfigText('[s3]\nbucket = "lake"'))).toBe('s3');
    expect(effectiveBackend(parseConfigText('[storage]\nbackend = "local"\n[s3]\nbucket = "lake"'))).toBe('local');
  });

  it('fills [s3.lifecycle] defaults only when the table is present', () => {
    expect(parseConfigText('[s3.lifecycle]').s3.lifecycle).toEqual({ expire_days: 30, transition_days: 0, transition_storage_class: 'STANDARD_IA' });
  });

  it('checks S3 rules that span keys, all at once', () => {
    const err = configError(() =>
      parseConfigText(
        '[storage]\nbackend = "s3"\n[s3]\nprefix = "/a"\nendpoint = "ftp://x"\n[s3.credentials]\ntype = "explicit"\n[s3.encryption]\ntype = "client"\n[s3.multipart]\npart_size_mb = 200',
      ),
    );
    const paths = err.issues.map((i) => i.path).sort();
    expect(paths).toEqual(['s3.endpoint', 's3.prefix']);
    const err2 = configError(() =>
      parseConfigText('[storage]\nbackend = "s3"\n[s3.credentials]\ntype = "explicit"\n[s3.encryption]\ntype = "client"\n[s3.multipart]\npart_size_mb = 200'),
    );
    expect(err2.issues.map((i) => i.path).sort()).toEqual([
      's3.bucket',
      's3.credentials.access_key_id',
      's3.credentials.secret_access_key',
      's3.encryption.client_key_file',
      's3.multipart.part_size_mb',
    ]);
    expect(configError(() => parseConfigText('[s3]\nbucket = "Bad_Bucket"')).message).toMatch(/s3\.bucket: a bucket name uses lowercase/);
  });

  it('applies defaults around the keys that are set', () => {
    const c = parseConfigText('[buffer]\nmax_bytes_mb = 0.5\n[parquet]\ncompression = "snappy"');
    expect(c.buffer).toEqual({ max_rows: 100_000, max_bytes_mb: 0.5, max_age_seconds: 60, memory_limit_mb: 512, max_partitions: 1000 });
    expect(c.parquet.compression).toBe('SNAPPY'); // normalised to upper case
    expect(c.receivers.grpc.endpoint).toBe('0.0.0.0:4317');
    expect(parseConfigText('')).toEqual(defaultConfig());
  });
});

describe('validation', () => {
  it('rejects an unknown nested key and names its path', () => {
    const err = configError(() =>
      parseConfigText('[receivers.grpc]\nendpointt = "x"', { source: 's3-parquet.toml' }),
    );
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.issues).toEqual([{ path: 'receivers.grpc.endpointt', message: 'unknown key (did you mean "endpoint"?)' }]);
    expect(err.message).toBe('s3-parquet.toml: receivers.grpc.endpointt: unknown key (did you mean "endpoint"?)');
  });

  it('rejects an unknown section', () => {
    const err = configError(() => parseConfigText('[recievers]\nx = 1'));
    expect(err.message).toBe('recievers: unknown key (did you mean "receivers"?)');
  });

  it('suggests nothing when no key is near', () => {
    const err = configError(() => parseConfigText('[storage]\ncompletely_different = 1'));
    expect(err.message).toBe('storage.completely_different: unknown key');
  });

  it('accepts every choice in any case, as its canonical spelling', () => {
    const c = parseConfigText('[storage]\nbackend = "S3"\n[s3]\nbucket = "lake"\n[wal]\nfsync = "Always"\n[parquet]\ncompression = "zstd"');
    expect([c.storage.backend, c.wal.fsync, c.parquet.compression]).toEqual(['s3', 'always', 'ZSTD']);
    expect(configError(() => parseConfigText('[storage]\nbackend = "gcs"')).message).toMatch(/^storage\.backend: expected one of "auto", "local", "s3"/);
  });

  it('reports a wrong type with the offending value', () => {
    const err = configError(() => parseConfigText('[parquet]\nrow_group_size = "abc"'));
    expect(err.message).toBe('parquet.row_group_size: expected a whole number >= 1, got "abc"');
    expect(configError(() => parseConfigText('[receivers.http]\nenabled = "yes"')).message).toBe(
      'receivers.http.enabled: expected true or false, got "yes"',
    );
    expect(configError(() => parseConfigText('storage = 5')).message).toBe('storage: expected a table, got 5');
    expect(configError(() => parseConfigText('[parquet]\nrow_group_size = 1.5')).message).toMatch(
      /row_group_size: expected a whole number >= 1, got 1\.5/,
    );
  });

  it('reports every problem at once', () => {
    const text = [
      '[receivers.grpc]',
      'max_recv_msg_size_mib = 2000',
      'bogus = 1',
      '[buffer]',
      'max_age_seconds = 0',
      '[storage]',
      'backend = "gcs"',
      '[schema.traces]',
      'promoted_attributes = ["a", "", "a"]',
      '[log]',
      'level = "verbose"',
    ].join('\n');
    const err = configError(() => parseConfigText(text, { source: 'c.toml' }));
    expect(err.issues.map((i) => i.path).sort()).toEqual([
      'buffer.max_age_seconds',
      'log.level',
      'receivers.grpc.bogus',
      'receivers.grpc.max_recv_msg_size_mib',
      'schema.traces.promoted_attributes[1]',
      'schema.traces.promoted_attributes[2]',
      'storage.backend',
    ]);
    const lines = err.message.split('\n');
    expect(lines).toHaveLength(7);
    expect(lines.every((l) => l.startsWith('c.toml: '))).toBe(true);
    expect(err.message).toContain('receivers.grpc.max_recv_msg_size_mib: expected a whole number between 1 and 1024, got 2000');
    expect(err.message).toContain('schema.traces.promoted_attributes[2]: duplicate attribute name (first at [0]), got "a"');
  });

  it.each([
    ['0.0.0.0', 'expected "host:port"'],
    [':4317', 'the host is empty'],
    ['localhost:65536', 'port'],
    ['localhost:http', 'port'],
    ['::1:4317', 'brackets'],
    ['[::1]4317', 'expected ":port"'],
    ['[nope]:4317', 'not an IPv6 address'],
    ['bad host:1', 'the host may only contain'],
  ])('rejects endpoint %j', (endpoint, fragment) => {
    const err = configError(() => parseConfigText(`[receivers.grpc]\nendpoint = ${JSON.stringify(endpoint)}`));
    expect(err.issues).toHaveLength(1);
    expect(err.issues[0]?.path).toBe('receivers.grpc.endpoint');
    expect(err.issues[0]?.message).toContain(fragment);
  });

  it('accepts and parses valid endpoints', () => {
    const c = parseConfigText('[receivers.grpc]\nendpoint = "[::1]:0"\n[receivers.http]\nendpoint = "localhost:65535"');
    expect(parseEndpoint(c.receivers.grpc.endpoint)).toEqual({ host: '::1', port: 0 });
    expect(parseEndpoint(c.receivers.http.endpoint)).toEqual({ host: 'localhost', port: 65535 });
    expect(() => parseEndpoint('nope')).toThrow(/invalid endpoint/);
  });

  it.each([
    ['../date=%Y', '".."'],
    ['date=%Y/../x', '".."'],
    ['/date=%Y', 'must not start with "/"'],
    ['date=%Y//hour=%H', 'empty path segments'],
    ['date=%Y/', 'empty path segments'],
    ['date=%Y\\x', 'backslash'],
    ['date=%m-%d', 'must contain %Y'],
    ['date=%%Y', 'must contain %Y'],
    ['date=%Y-%q', 'unsupported directive "%q"'],
    ['date=%Y%', 'lone "%"'],
  ])('rejects partition format %j', (format, fragment) => {
    const err = configError(() => parseConfigText(`[partitioning]\nformat = ${JSON.stringify(format)}`));
    expect(err.issues[0]?.path).toBe('partitioning.format');
    expect(err.issues[0]?.message).toContain(fragment);
  });

  it('accepts partition formats using the supported directives', () => {
    const c = parseConfigText('[partitioning]\nformat = "y=%Y/doy=%j/t=%H%M/100%%"\ngranularity = "minute"');
    expect(c.partitioning.format).toBe('y=%Y/doy=%j/t=%H%M/100%%');
  });

  it('validates instance_id', () => {
    expect(parseConfigText('[storage]\ninstance_id = "node-1.a_b"').storage.instance_id).toBe('node-1.a_b');
    for (const bad of ['..', 'a/b', 'x'.repeat(65)]) {
      const err = configError(() => parseConfigText(`[storage]\ninstance_id = ${JSON.stringify(bad)}`));
      expect(err.issues[0]?.path).toBe('storage.instance_id');
    }
  });

  it('reports TOML syntax errors with line and column', () => {
    const err = configError(() => parseConfigText('[log]\nlevel = "info"\nbroken = = 1\n', { source: 'x.toml' }));
    expect(err.issues).toHaveLength(1);
    expect(err.message).toMatch(/^x\.toml: TOML syntax error at line 3, column \d+: /);
    expect(err.cause).toBeDefined();
  });
});

describe('environment interpolation', () => {
  const env = { HOST: '127.0.0.1', EMPTY: '', ROWS: '500', FLAG: 'false', TRICK: 'x"\n[log]\nlevel = "debug' };

  it('substitutes variables and defaults in string values', () => {
    const c = parseConfigText(
      [
        '[receivers.grpc]',
        'endpoint = "${HOST}:${PORT:-4317}"',
        '[storage]',
        'local_path = "${EMPTY:-/var/lib/spc}/${UNSET:-data}"',
        'instance_id = "${EMPTY}"',
      ].join('\n'),
      { env },
    );
    expect(c.receivers.grpc.endpoint).toBe('127.0.0.1:4317');
    expect(c.storage.local_path).toBe('/var/lib/spc/data'); // `:-` also covers empty variables
    expect(c.storage.instance_id).toBe('');
  });

  it('lets environment strings set numbers and booleans, but not literal strings', () => {
    const c = parseConfigText('[buffer]\nmax_rows = "${ROWS}"\n[parquet]\ndictionary_enabled = "${FLAG}"', { env });
    expect(c.buffer.max_rows).toBe(500);
    expect(c.parquet.dictionary_enabled).toBe(false);
    const err = configError(() => parseConfigText('[buffer]\nmax_rows = "500"', { env }));
    expect(err.issues[0]?.path).toBe('buffer.max_rows');
  });

  it('reports a missing variable with its key path, alongside other errors', () => {
    const err = configError(() =>
      parseConfigText('[receivers.grpc]\nendpoint = "${NOPE}:4317"\n[log]\nlevel = "loud"', { env, source: 'c.toml' }),
    );
    expect(err.issues).toHaveLength(2);
    expect(err.message).toContain('c.toml: receivers.grpc.endpoint: environment variable "NOPE" is not set');
    expect(err.message).toContain('c.toml: log.level: expected one of');
  });

  it('treats $${ as a literal ${ and never injects TOML structure', () => {
    const c = parseConfigText('[storage]\nlocal_path = "/a/$${HOST}/${TRICK}"', { env });
    expect(c.storage.local_path).toBe('/a/${HOST}/x"\n[log]\nlevel = "debug');
    expect(c.log.level).toBe('info');
  });

  it('does not expand variables in keys or comments', () => {
    const err = configError(() => parseConfigText('# ${NOPE}\n[log]\n"${HOST}" = 1', { env }));
    expect(err.issues).toEqual([{ path: 'log."${HOST}"', message: 'unknown key' }]);
  });
});

describe('result', () => {
  it('is deep-frozen', () => {
    const c = parseConfigText('');
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.receivers.grpc)).toBe(true);
    expect(Object.isFrozen(c.schema.traces.promoted_attributes)).toBe(true);
    expect(() => {
      (c.buffer as { max_rows: number }).max_rows = 1;
    }).toThrow(TypeError);
    expect(Object.isFrozen(defaultConfig().parquet)).toBe(true);
  });
});

describe('redaction and rendering', () => {
  it('redacts secret-looking keys at any depth', () => {
    const input = {
      storage: {
        s3: {
          bucket: 'b',
          access_key_id: 'AKIA123',
          secret_access_key: 'shh',
          session_token: 'tok',
          kms_key_id: 'arn:kms',
          private_key: 'pem',
          password: '',
        },
      },
      token: 'abc',
      nested: [{ key: 'k', api_key: 'x', port: 1 }],
    };
    expect(redactConfig(input)).toEqual({
      storage: {
        s3: {
          bucket: 'b',
          access_key_id: 'AKIA123',
          secret_access_key: '***redacted***',
          session_token: '***redacted***',
          kms_key_id: 'arn:kms',
          private_key: '***redacted***',
          password: '',
        },
      },
      token: '***redacted***',
      nested: [{ key: '***redacted***', api_key: '***redacted***', port: 1 }],
    });
    expect(input.storage.s3.secret_access_key).toBe('shh'); // the input is untouched
  });

  it('redacts every element of token lists ([auth] *_tokens), not the token file paths', () => {
    expect(isSecretKey('receiver_tokens')).toBe(true);
    expect(isSecretKey('query_tokens')).toBe(true);
    expect(isSecretKey('receiver_token_files')).toBe(false);
    expect(isSecretKey('key_file')).toBe(false);
    const c = parseConfigText('[auth]\nreceiver_tokens = ["r-secret-1", "r-secret-2"]\nquery_tokens = ["q-secret"]\nquery_token_files = ["/run/secrets/q"]');
    expect(redactConfig(c)).toMatchObject({
      auth: { receiver_tokens: ['***redacted***', '***redacted***'], query_tokens: ['***redacted***'], query_token_files: ['/run/secrets/q'], receiver_token_files: [] },
    });
    const toml = renderConfigToml(c);
    expect(toml).not.toMatch(/r-secret|q-secret/);
    expect(toml).toContain('query_token_files = [ "/run/secrets/q" ]');
    // A bad token is reported by its position, never echoed.
    const err = configError(() => parseConfigText('[auth]\nquery_tokens = ["ok-token", "bad token-secret"]'));
    expect(err.message).toBe('auth.query_tokens[1]: a token may only contain visible ASCII characters (no spaces)');
  });

  it('checks TLS tables and HTTP timeouts', () => {
    const tls = parseConfigText('[receivers.http.tls]\ncert_file = "c.pem"\nkey_file = "k.pem"').receivers.http.tls;
    expect(tls).toEqual({ cert_file: 'c.pem', key_file: 'k.pem', client_ca_file: '', min_version: 'TLSv1.2' });
    expect(configError(() => parseConfigText('[query.tls]\ncert_file = "c.pem"\nmin_version = "TLSv1.1"')).issues).toEqual([
      { path: 'query.tls.key_file', message: 'expected the path of a PEM private key file' },
      { path: 'query.tls.min_version', message: 'expected one of "TLSv1.2", "TLSv1.3", got "TLSv1.1"' },
    ]);
    expect(configError(() => parseConfigText('[receivers.http]\nread_header_timeout_seconds = 90')).message).toBe(
      'receivers.http.read_header_timeout_seconds: must not exceed request_timeout_seconds (60), got 90',
    );
  });

  it('renders the effective config as TOML that loads back to the same config', () => {
    const c = parseConfigText('[parquet]\ncompression = "gzip"\n[schema.metrics]\npromoted_attributes = ["k8s.pod.name"]');
    const toml = renderConfigToml(c);
    expect(toml).toContain('[receivers.grpc]');
    expect(toml).toContain('compression = "GZIP"');
    // "auto" is shown as what it resolved to, which loads back to the same store.
    expect(toml).toContain('backend = "local" # "auto" resolved: no s3.bucket');
    expect(parseConfigText(toml)).toEqual({ ...c, storage: { ...c.storage, backend: 'local' } });
  });
});

describe('loadConfig', () => {
  it('loads a file from disk and uses its path as the error source', () => {
    const dir = tmp();
    const file = join(dir, 'custom.toml');
    writeFileSync(file, '[log]\nlevel = "debug"\n[buffer]\nmax_rows = 10\n');
    const c = loadConfig(file);
    expect(c.log.level).toBe('debug');
    expect(c.buffer.max_rows).toBe(10);
    expect(Object.isFrozen(c)).toBe(true);

    writeFileSync(file, '[log]\nlevell = "debug"\n');
    expect(configError(() => loadConfig(file)).message).toBe(`${file}: log.levell: unknown key (did you mean "level"?)`);
  });

  it('uses ./s3-parquet.toml when no path is given, else the defaults', () => {
    const dir = tmp();
    expect(loadConfig(undefined, { cwd: dir })).toEqual(defaultConfig());
    writeFileSync(join(dir, 's3-parquet.toml'), '[storage]\nlocal_path = "${D}"\n');
    expect(loadConfig(undefined, { cwd: dir, env: { D: '/srv' } }).storage.local_path).toBe('/srv');
  });

  it('reports a missing file as a ConfigError', () => {
    const missing = join(tmp(), 'nope.toml');
    const err = configError(() => loadConfig(missing));
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toBe(`config file not found: ${missing}`);
  });
});

describe('config.example.toml', () => {
  it('parses to exactly the built-in defaults, so the documented defaults are the real ones', () => {
    const text = readFileSync(new URL('../../config.example.toml', import.meta.url), 'utf8');
    expect(parseConfigText(text, { env: {} })).toEqual(defaultConfig());
  });
});
