/**
 * Throw-away PKI made with the `openssl` CLI at test time: a CA, a server certificate for
 * 127.0.0.1/localhost, a client certificate signed by the CA, and a client certificate from an
 * unrelated CA (to show that only the configured CA's clients get in).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Pem {
  readonly certFile: string;
  readonly keyFile: string;
  readonly cert: Buffer;
  readonly key: Buffer;
}

export interface TestPki {
  readonly caFile: string;
  readonly ca: Buffer;
  readonly server: Pem;
  readonly client: Pem;
  /** Signed by another CA: must be refused where client_ca_file is set. */
  readonly strangerClient: Pem;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function keyAndCsr(dir: string, name: string, cn: string): void {
  openssl(dir, ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`]);
}

function selfSignedCa(dir: string, name: string): void {
  openssl(dir, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-keyout', `${name}.key`, '-out', `${name}.crt`, '-subj', `/CN=${name}`]);
}

function sign(dir: string, name: string, ca: string, ext: string): Pem {
  writeFileSync(join(dir, `${name}.ext`), ext);
  openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-days', '2', '-out', `${name}.crt`, '-extfile', `${name}.ext`]);
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  return { certFile, keyFile, cert: readFileSync(certFile), key: readFileSync(keyFile) };
}

export function makePki(dir: string): TestPki {
  selfSignedCa(dir, 'test-ca');
  selfSignedCa(dir, 'other-ca');
  keyAndCsr(dir, 'server', 'localhost');
  keyAndCsr(dir, 'client', 'test-client');
  keyAndCsr(dir, 'stranger', 'stranger');
  const server = sign(dir, 'server', 'test-ca', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  const client = sign(dir, 'client', 'test-ca', 'extendedKeyUsage=clientAuth\n');
  const strangerClient = sign(dir, 'stranger', 'other-ca', 'extendedKeyUsage=clientAuth\n');
  const caFile = join(dir, 'test-ca.crt');
  return { caFile, ca: readFileSync(caFile), server, client, strangerClient };
}
