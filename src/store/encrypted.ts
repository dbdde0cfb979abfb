/**
 * Client-side envelope encryption (`[s3.encryption] type = "client"`): every object is
 * encrypted with its own random AES-256-GCM data key, and that key is wrapped with the master
 * key from `client_key_file`. Readers of this store decrypt transparently; other engines cannot
 * read such objects (they are not Parquet on the wire).
 *
 * Layout: "S3PQENC1" | wrap IV (12) | wrapped key + tag (48) | data IV (12) | ciphertext | tag (16)
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { S3ParquetError } from '../errors.js';
import type { ListOptions, ObjectInfo, ObjectStore } from './object-store.js';

const MAGIC = Buffer.from('S3PQENC1');
const HEADER = MAGIC.length + 12 + 48 + 12; // 80
const OVERHEAD = HEADER + 16;
const CACHE_ENTRIES = 4;

/** 32 raw bytes, or 32 bytes as base64 or hex text. */
export function loadMasterKey(path: string): Buffer {
  let raw: Buffer;
  try {
    raw = readFileSync(path);
  } catch (err) {
    throw new S3ParquetError('CONFIG_INVALID', `s3.encryption.client_key_file: cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  if (raw.length === 32) return raw;
  const text = raw.toString('utf8').trim();
  const key = /^[0-9a-fA-F]{64}$/.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'base64');
  if (key.length !== 32) throw new S3ParquetError('CONFIG_INVALID', `s3.encryption.client_key_file: ${path} must hold a 256-bit key (32 bytes raw, base64 or hex)`);
  return key;
}

function gcm(key: Buffer, iv: Buffer, data: Uint8Array): [Buffer, Buffer] {
  const c = createCipheriv('aes-256-gcm', key, iv);
  const out = Buffer.concat([c.update(data), c.final()]);
  return [out, c.getAuthTag()];
}

export function encryptObject(masterKey: Buffer, plain: Uint8Array): Buffer {
  const dataKey = randomBytes(32);
  const wrapIv = randomBytes(12);
  const [wrapped, wrapTag] = gcm(masterKey, wrapIv, dataKey);
  const dataIv = randomBytes(12);
  const [cipher, tag] = gcm(dataKey, dataIv, plain);
  return Buffer.concat([MAGIC, wrapIv, wrapped, wrapTag, dataIv, cipher, tag]);
}

export function decryptObject(masterKey: Buffer, blob: Uint8Array, key: string): Buffer {
  const b = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
  if (b.length < OVERHEAD || !b.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new S3ParquetError('STORE_FAILED', `object ${key} is not client-side encrypted by this connector`);
  }
  try {
    let o = MAGIC.length;
    const wrapIv = b.subarray(o, (o += 12));
    const wrapped = b.subarray(o, (o += 32));
    const wrapTag = b.subarray(o, (o += 16));
    const dataIv = b.subarray(o, (o += 12));
    const unwrap = createDecipheriv('aes-256-gcm', masterKey, wrapIv);
    unwrap.setAuthTag(wrapTag);
    const dataKey = Buffer.concat([unwrap.update(wrapped), unwrap.final()]);
    const d = createDecipheriv('aes-256-gcm', dataKey, dataIv);
    d.setAuthTag(b.subarray(b.length - 16));
    return Buffer.concat([d.update(b.subarray(HEADER, b.length - 16)), d.final()]);
  } catch (err) {
    throw new S3ParquetError('STORE_FAILED', `cannot decrypt ${key}: wrong key or corrupted object`, { cause: err });
  }
}

/** Wraps any store; ranged reads decrypt the whole object once and serve slices from a small cache. */
export class EncryptedStore implements ObjectStore {
  readonly description: string;
  private readonly cache = new Map<string, Buffer>();

  constructor(
    private readonly inner: ObjectStore,
    private readonly masterKey: Buffer,
  ) {
    this.description = `${inner.description} (client-side encrypted)`;
  }

  put(key: string, body: Uint8Array, tags?: Readonly<Record<string, string>>): Promise<void> {
    return this.inner.put(key, encryptObject(this.masterKey, body), tags);
  }

  putIfAbsent(key: string, body: Uint8Array): Promise<boolean> {
    this.cache.delete(key);
    return this.inner.putIfAbsent(key, encryptObject(this.masterKey, body));
  }

  async get(key: string): Promise<Uint8Array> {
    const hit = this.cache.get(key);
    if (hit) return hit;
    const plain = decryptObject(this.masterKey, await this.inner.get(key), key);
    this.cache.set(key, plain);
    if (this.cache.size > CACHE_ENTRIES) this.cache.delete(this.cache.keys().next().value!);
    return plain;
  }

  async getRange(key: string, offset: number, length: number): Promise<Uint8Array> {
    return (await this.get(key)).subarray(offset, offset + length);
  }

  async head(key: string): Promise<ObjectInfo | null> {
    const info = await this.inner.head(key);
    return info && { ...info, size: Math.max(0, info.size - OVERHEAD) };
  }

  async *list(prefix: string, options?: ListOptions): AsyncIterable<ObjectInfo> {
    for await (const info of this.inner.list(prefix, options)) yield { ...info, size: Math.max(0, info.size - OVERHEAD) };
  }

  delete(keys: readonly string[]): Promise<void> {
    for (const k of keys) this.cache.delete(k);
    return this.inner.delete(keys);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
