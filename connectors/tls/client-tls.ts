/**
 * The `tls` option of the endpoints that open TLS connections (http, soap, grpc, thrift): a
 * private CA, a client certificate (mutual TLS), the name to verify, the lowest version, or
 * no verification at all for development. Files are read and checked once, at load, so a
 * missing or broken PEM is a load error naming the file and the option, never a failure at
 * the first message. What comes out is plain Node TLS options: tls.connect, undici's
 * `connect` and tls.createSecureContext (grpc) all take them as they are.
 */
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ConnectionOptions, SecureVersion } from 'node:tls';
import type { CompileContext } from '../../runtime/contract.ts';
import type { Logger } from '../../runtime/log.ts';
import { readSecret, secretSchema, type SecretConfig } from '../http/auth/secret.ts';

export const TLS_VERSIONS = ['TLSv1.2', 'TLSv1.3'] as const satisfies readonly SecureVersion[];

export interface TlsConfig {
  ca?: string | string[];
  cert?: string;
  key?: string;
  passphrase?: SecretConfig;
  servername?: string;
  minVersion?: (typeof TLS_VERSIONS)[number];
  insecure?: boolean;
}

const pemFile = { type: 'string', minLength: 1, description: 'PEM file, relative to the flow file or absolute.' } as const;

/** Schema of `tls`, for the specs of the endpoint kinds that take it. */
export const tlsSchema = {
  type: 'object',
  description: 'TLS towards the upstream: private CA, client certificate (mutual TLS), server name, lowest version.',
  properties: {
    ca: {
      description: 'PEM file(s) of the CAs to trust instead of the default public ones.',
      oneOf: [pemFile, { type: 'array', items: pemFile, minItems: 1 }],
    },
    cert: { ...pemFile, description: 'Client certificate (PEM file, chain allowed) for mutual TLS; needs `key`.' },
    key: { ...pemFile, description: 'Private key (PEM file) of `cert`.' },
    passphrase: { ...secretSchema, description: 'Passphrase of an encrypted `key`: "${env.NAME}" or { file: path }.' },
    servername: { type: 'string', minLength: 1, description: "Name sent in SNI and checked against the server's certificate. Default: the URL's host." },
    minVersion: { enum: [...TLS_VERSIONS], description: 'Lowest TLS version accepted. Default TLSv1.2.' },
    insecure: { type: 'boolean', description: "Skip verifying the server's certificate (development only; logged as a warning at start)." },
  },
  additionalProperties: false,
} as const;

/** A loaded `tls` option. */
export interface ClientTls {
  /** Node TLS options: for tls.connect, undici's `connect`, tls.createSecureContext. */
  readonly options: ConnectionOptions;
  readonly insecure: boolean;
}

/**
 * Reads and checks the files of `config`, the `tls` of the endpoint at `at`. Problems are
 * recorded at the option they concern; the result is then unusable, but the flow does not load.
 */
export function loadClientTls(config: TlsConfig | undefined, at: CompileContext): ClientTls | undefined {
  if (config === undefined) return undefined;
  const tat = at.child('tls');
  const options: ConnectionOptions = {};
  if (config.ca !== undefined) {
    const list = Array.isArray(config.ca) ? config.ca : [config.ca];
    const cas: string[] = [];
    list.forEach((file, i) => {
      const pem = Array.isArray(config.ca) ? readPem(file, tat.child('ca'), i, 'CA certificate', checkCertificates) : readPem(file, tat, 'ca', 'CA certificate', checkCertificates);
      if (pem !== undefined) cas.push(pem);
    });
    options.ca = cas;
  }
  if ((config.cert === undefined) !== (config.key === undefined)) {
    tat.problem('FLOW_SCHEMA', 'a client certificate needs both `cert` and `key`', config.cert === undefined ? 'key' : 'cert');
  }
  const passphrase = config.passphrase === undefined ? undefined : readSecret(config.passphrase, tat, 'passphrase');
  if (config.cert !== undefined && config.key !== undefined) {
    const certPem = readPem(config.cert, tat, 'cert', 'certificate', checkCertificates);
    const keyPem = readPem(config.key, tat, 'key', 'private key', (pem) => privateKey(pem, passphrase));
    if (certPem !== undefined && keyPem !== undefined && !new X509Certificate(certPem).checkPrivateKey(privateKey(keyPem, passphrase))) {
      tat.problem('FLOW_FILE', `the key in '${config.key}' does not belong to the certificate in '${config.cert}'`, 'key');
    }
    options.cert = certPem;
    options.key = keyPem;
    if (passphrase !== undefined) options.passphrase = passphrase;
  } else if (passphrase !== undefined) {
    tat.problem('FLOW_SCHEMA', '`passphrase` unlocks `key`: give `cert` and `key` too', 'passphrase');
  }
  if (config.servername !== undefined) options.servername = config.servername;
  if (config.minVersion !== undefined) options.minVersion = config.minVersion;
  const insecure = config.insecure === true;
  if (insecure) options.rejectUnauthorized = false;
  return { options, insecure };
}

/** The start-up warning of `insecure: true`: a development setting must not pass unnoticed. */
export function warnIfInsecure(tls: ClientTls | undefined, log: Logger, endpoint: string): void {
  if (tls?.insecure) log.warn({ endpoint }, `endpoint ${endpoint}: tls.insecure is set, the server's certificate is not verified (development only)`);
}

/**
 * The text of the file under `key` once `check` (which throws on bad content) accepted it;
 * undefined after recording FLOW_FILE there, naming the file, the option and what is wrong.
 */
function readPem(file: string, at: CompileContext, key: string | number, what: string, check: (pem: string) => unknown): string | undefined {
  const path = at.secretFile(file, key);
  if (path === undefined) return undefined;
  const pem = readFileSync(path, 'utf8');
  try {
    check(pem);
    return pem;
  } catch (err) {
    const option = `${at.path}${typeof key === 'number' ? `[${key}]` : `.${key}`}`;
    at.problem('FLOW_FILE', `'${file}' (${option}) is not a PEM ${what}: ${(err as Error).message}`, key);
    return undefined;
  }
}

const CERTIFICATE_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** Every certificate of a PEM file (a CA bundle or a chain) parses; there is at least one. */
function checkCertificates(pem: string): void {
  const blocks = pem.match(CERTIFICATE_BLOCK);
  if (!blocks) throw new Error('no -----BEGIN CERTIFICATE----- block');
  for (const block of blocks) new X509Certificate(block);
}

const ENCRYPTED_KEY = /-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/;

function privateKey(pem: string, passphrase: string | undefined): KeyObject {
  if (passphrase === undefined && ENCRYPTED_KEY.test(pem)) throw new Error('the key is encrypted: give `passphrase`');
  try {
    return createPrivateKey(passphrase === undefined ? pem : { key: pem, passphrase });
  } catch (err) {
    if (passphrase !== undefined && /bad decrypt|unsupported/i.test((err as Error).message)) throw new Error('it cannot be decrypted with `passphrase`, or is not a key');
    throw err;
  }
}
