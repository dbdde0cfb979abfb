/**
 * TLS material for the listeners: `cert_file`, `key_file`, optional `client_ca_file` (then a
 * client certificate signed by that CA is required) and `min_version`. Files are read and
 * checked (a secure context is built from them) once at startup; every problem is reported
 * with its key path, e.g. `receivers.grpc.tls.cert_file: cannot read "/etc/x.pem": ENOENT`.
 */
import { readFileSync } from 'node:fs';
import { createSecureContext, type SecureVersion, type TlsOptions } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import type { ConfigIssue } from '../config/errors.js';

export interface TlsSection {
  readonly cert_file: string;
  readonly key_file: string;
  readonly client_ca_file: string;
  readonly min_version: SecureVersion;
}

export interface TlsMaterial {
  readonly cert: Buffer;
  readonly key: Buffer;
  /** Set when client certificates are required and verified against it. */
  readonly ca?: Buffer;
  readonly minVersion: SecureVersion;
}

function readPem(file: string, path: string, what: string, issues: ConfigIssue[]): Buffer | undefined {
  try {
    const data = readFileSync(file);
    if (data.length === 0) {
      issues.push({ path, message: `${what} file "${file}" is empty` });
      return undefined;
    }
    return data;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    issues.push({ path, message: `cannot read ${what} file "${file}": ${e.code ?? e.message}` });
    return undefined;
  }
}

/** Reads and checks one listener's TLS files; undefined when the table is absent or broken. */
export function loadTls(section: TlsSection | undefined, keyPath: string, issues: ConfigIssue[]): TlsMaterial | undefined {
  if (section === undefined) return undefined;
  const before = issues.length;
  const cert = readPem(section.cert_file, `${keyPath}.cert_file`, 'certificate', issues);
  const key = readPem(section.key_file, `${keyPath}.key_file`, 'private key', issues);
  const ca = section.client_ca_file === '' ? undefined : readPem(section.client_ca_file, `${keyPath}.client_ca_file`, 'client CA', issues);
  if (issues.length > before || cert === undefined || key === undefined) return undefined;
  const material: TlsMaterial = { cert, key, minVersion: section.min_version, ...(ca !== undefined ? { ca } : {}) };
  try {
    // Fails on unparsable PEM, a key that does not match the certificate, a bad CA file.
    createSecureContext({ cert, key, minVersion: material.minVersion, ...(ca !== undefined ? { ca } : {}) });
  } catch (err) {
    // OpenSSL's message names the problem ("key values mismatch", "no start line"), not the key.
    issues.push({ path: keyPath, message: `cannot use the certificate, key or CA: ${(err as Error).message}` });
    return undefined;
  }
  return material;
}

/** node:https options; with a CA, clients without a certificate it signed fail the handshake. */
export function httpsOptions(m: TlsMaterial, handshakeTimeoutMs: number): TlsOptions {
  return {
    cert: m.cert,
    key: m.key,
    minVersion: m.minVersion,
    handshakeTimeout: handshakeTimeoutMs,
    ...(m.ca !== undefined ? { ca: m.ca, requestCert: true, rejectUnauthorized: true } : {}),
  };
}

/**
 * grpc-js server credentials with a minimum TLS version, which `ServerCredentials.createSsl`
 * cannot express. grpc-js passes the first object to `http2.createSecureServer` and the second
 * as the secure context, exactly as createSsl does.
 */
export class GrpcServerTls extends grpc.ServerCredentials {
  /**
   * `handshakeTimeoutMs` (0 = Node's default of 120 s) goes to the TLS server grpc-js creates: a
   * connection whose handshake has not finished by then is closed (Node's timer is absolute, not
   * reset by a client trickling bytes).
   */
  constructor(m: TlsMaterial, handshakeTimeoutMs = 0) {
    super(
      {
        minVersion: m.minVersion,
        ...(handshakeTimeoutMs > 0 ? { handshakeTimeout: handshakeTimeoutMs } : {}),
        ...(m.ca !== undefined ? { requestCert: true, rejectUnauthorized: true } : {}),
      },
      { cert: m.cert, key: m.key, minVersion: m.minVersion, ...(m.ca !== undefined ? { ca: m.ca } : {}) },
    );
  }

  _equals(other: grpc.ServerCredentials): boolean {
    return other === this;
  }
}
