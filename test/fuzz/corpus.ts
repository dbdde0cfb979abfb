/**
 * The regression corpus: one JSON file per input in test/fuzz/corpus/, replayed before the
 * random cases. A file names its input, the transport, the content type and encoding, the body
 * (raw text, base64, or parts that repeat — so a 100 000-level nesting stays a small file), and
 * the statuses that are right for it. When the fuzzer finds a bug it writes a file in this
 * format; fix the bug and move the file here.
 *
 *   {
 *     "name": "json-deep-arrays",
 *     "found": "what went wrong before the fix (or what the input guards)",
 *     "transport": "http",                       // or "grpc"
 *     "path": "/v1/traces",                      // HTTP path, or gRPC signal path
 *     "content_type": "application/json",        // HTTP only
 *     "content_encoding": "gzip",                // optional: HTTP header / gRPC grpc-encoding
 *     "compress": true,                          // optional: gzip the body before sending
 *     "grpc_raw_payload": true,                  // optional: the body is the whole gRPC stream (frames by hand)
 *     "body": "…" | "body_base64": "…" | "body_parts": [{ "text": "[", "repeat": 100000 }, { "base64": "…" }],
 *     "expect": [400]                            // HTTP statuses or gRPC codes that are right
 *   }
 */
import { readdirSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

export interface CorpusEntry {
  readonly file: string;
  readonly name: string;
  readonly found?: string;
  readonly transport: 'http' | 'grpc';
  readonly path: string;
  readonly content_type?: string;
  readonly content_encoding?: string;
  readonly compress?: boolean;
  /** gRPC: the body is the raw stream payload (frames written by hand), not one message to frame. */
  readonly grpc_raw_payload?: boolean;
  readonly body?: string;
  readonly body_base64?: string;
  readonly body_parts?: { text?: string; base64?: string; zeros?: number; repeat?: number }[];
  readonly expect: number[];
}

export const CORPUS_DIR = new URL('./corpus/', import.meta.url);

export function loadCorpus(dir = CORPUS_DIR): CorpusEntry[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({ file, ...(JSON.parse(readFileSync(new URL(file, dir), 'utf8')) as Omit<CorpusEntry, 'file'>) }));
}

export function corpusBody(e: CorpusEntry): Uint8Array {
  let body: Buffer;
  if (e.body !== undefined) body = Buffer.from(e.body, 'utf8');
  else if (e.body_base64 !== undefined) body = Buffer.from(e.body_base64, 'base64');
  else if (e.body_parts !== undefined) {
    body = Buffer.concat(
      e.body_parts.map((p) => {
        const one = p.text !== undefined ? Buffer.from(p.text, 'utf8') : p.base64 !== undefined ? Buffer.from(p.base64, 'base64') : Buffer.alloc(p.zeros ?? 0);
        return p.repeat !== undefined ? Buffer.concat(new Array<Buffer>(p.repeat).fill(one)) : one;
      }),
    );
  } else body = Buffer.alloc(0);
  return e.compress ? gzipSync(body) : body;
}

/** A failing case in corpus form (body as base64), ready to be moved into the corpus. */
export function toCorpusJson(c: { name: string; transport: 'http' | 'grpc'; path: string; contentType?: string; contentEncoding?: string; body: Uint8Array; found: string }): string {
  return JSON.stringify(
    {
      name: c.name,
      found: c.found,
      transport: c.transport,
      path: c.path,
      ...(c.contentType !== undefined ? { content_type: c.contentType } : {}),
      ...(c.contentEncoding !== undefined ? { content_encoding: c.contentEncoding } : {}),
      body_base64: Buffer.from(c.body).toString('base64'),
      expect: [],
    },
    null,
    2,
  );
}
