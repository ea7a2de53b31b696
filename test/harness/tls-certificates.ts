import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Files for a TLS Redis (paths, for redis-server's arguments) and their PEM text (for a client's `tls.ca`). */
export interface TlsCertificates {
  readonly dir: string;
  /** The test CA that signed the server certificate. */
  readonly caFile: string;
  readonly ca: string;
  /** The server's certificate (subjectAltName IP:127.0.0.1, DNS:localhost) and key. */
  readonly certFile: string;
  readonly keyFile: string;
  /** A second CA that signed nothing the server has: a client trusting only it must refuse the server. */
  readonly wrongCa: string;
  /** Removes the folder. */
  remove(): void;
}

/** Makes the certificates with `openssl` in a folder of their own (P-256 keys: quick to make, and Redis takes them). */
export async function makeTlsCertificates(): Promise<TlsCertificates> {
  const dir = mkdtempSync(join(tmpdir(), 'session-tls-'));
  const file = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => run('openssl', args, { cwd: dir, timeout: 20_000 });
  const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  try {
    await Promise.all([
      openssl('req', '-x509', ...newKey, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=nestjs-redis-session test CA'),
      openssl('req', '-x509', ...newKey, '-keyout', 'wrong-ca.key', '-out', 'wrong-ca.crt', '-days', '2', '-subj', '/CN=nestjs-redis-session wrong CA'),
      openssl('req', '-new', ...newKey, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost'),
    ]);
    writeFileSync(file('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
    await openssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'server.ext');
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    dir,
    caFile: file('ca.crt'),
    ca: readFileSync(file('ca.crt'), 'utf8'),
    certFile: file('server.crt'),
    keyFile: file('server.key'),
    wrongCa: readFileSync(file('wrong-ca.crt'), 'utf8'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** redis-server arguments for a TLS port beside the plain one, with these certificates (clients need no certificate of their own). */
export function tlsServerArgs(certificates: TlsCertificates, tlsPort: number): string[] {
  return [
    '--tls-port', String(tlsPort),
    '--tls-cert-file', certificates.certFile,
    '--tls-key-file', certificates.keyFile,
    '--tls-ca-cert-file', certificates.caFile,
    '--tls-auth-clients', 'no',
  ];
}
