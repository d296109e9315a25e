/**
 * A throwaway PKI for TLS tests, made with the openssl CLI in a temp folder: a CA, a server
 * certificate for localhost, 127.0.0.1 and ::1, a client certificate (CN weft-client) and the
 * same client key encrypted with a passphrase. Valid for two days; remove() when done.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestPki {
  dir: string;
  /** Paths of the PEM files. */
  files: { ca: string; serverCert: string; serverKey: string; clientCert: string; clientKey: string; clientKeyEncrypted: string };
  /** Their contents, for servers started in the test. */
  pem: { ca: string; serverCert: string; serverKey: string; clientCert: string; clientKey: string };
  passphrase: string;
  clientCn: string;
  remove(): void;
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

export function createTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'weft-pki-'));
  const at = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });

  openssl('req', '-x509', ...EC, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=Weft Test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  const issue = (name: string, cn: string, ext: string) => {
    openssl('req', ...EC, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
    writeFileSync(at(`${name}.ext`), ext);
    openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-out', `${name}.pem`, '-extfile', `${name}.ext`);
  };
  issue('server', 'localhost', 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nextendedKeyUsage=serverAuth\n');
  const clientCn = 'weft-client';
  issue('client', clientCn, 'extendedKeyUsage=clientAuth\n');
  const passphrase = 'correct horse';
  openssl('pkey', '-in', 'client.key', '-out', 'client-encrypted.key', '-aes256', '-passout', `pass:${passphrase}`);

  const files = {
    ca: at('ca.pem'),
    serverCert: at('server.pem'),
    serverKey: at('server.key'),
    clientCert: at('client.pem'),
    clientKey: at('client.key'),
    clientKeyEncrypted: at('client-encrypted.key'),
  };
  const read = (p: string) => readFileSync(p, 'utf8');
  return {
    dir,
    files,
    pem: { ca: read(files.ca), serverCert: read(files.serverCert), serverKey: read(files.serverKey), clientCert: read(files.clientCert), clientKey: read(files.clientKey) },
    passphrase,
    clientCn,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
