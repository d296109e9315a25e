/**
 * `auth.apiKey` of the http trigger: a key in a header (or a query parameter) that must equal
 * one of the configured keys. Keys are read once at load (each secret may hold several, one
 * per line, for rotation). The check hashes the presented key and compares the digest with
 * every configured digest in constant time, without stopping at a match, so neither which key
 * matched nor how much of a key matched shows in the response time.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { CompileContext } from '../../../runtime/contract.ts';
import { Caller } from '../../../runtime/engine/caller.ts';
import type { Exchange } from '../../../runtime/engine/exchange.ts';
import { readSecret, secretSchema, type SecretConfig } from '../auth/secret.ts';
import { unauthenticated } from './rejection.ts';

export interface ApiKeyConfig {
  header?: string;
  query?: string;
  keys: SecretConfig[];
}

export const apiKeySchema = {
  type: 'object',
  description: 'An API key in a header or a query parameter.',
  properties: {
    header: { type: 'string', minLength: 1, description: 'Header holding the key, e.g. X-API-Key.' },
    query: { type: 'string', minLength: 1, description: 'Query parameter holding the key instead, e.g. api_key.' },
    keys: {
      type: 'array',
      items: secretSchema,
      minItems: 1,
      description: 'Accepted keys: strings (use ${env.NAME}) or { file } (one key per line).',
    },
  },
  required: ['keys'],
  additionalProperties: false,
} as const;

/** The anonymous caller an API key stands for: no claims, no scopes, no token to forward. */
const KEY_HOLDER = new Caller('apiKey', Object.freeze({}), Object.freeze([]));

export function createApiKeyCheck(config: ApiKeyConfig, at: CompileContext, realm: string): (ex: Exchange) => Caller {
  if (config.header !== undefined && config.query !== undefined) at.problem('FLOW_SCHEMA', 'apiKey takes `header` or `query`, not both', 'query');
  const digests: Buffer[] = [];
  config.keys.forEach((secret, i) => {
    for (const key of readSecret(secret, at.child('keys'), i).split(/\r?\n/)) if (key !== '') digests.push(digest(key));
  });
  const header = config.query === undefined ? (config.header ?? 'x-api-key').toLowerCase() : undefined;
  const param = config.query;
  const where = header === undefined ? `query parameter ${param}` : `header ${header}`;
  const challenge = `ApiKey realm="${realm.replace(/["\\]/g, '')}", ${header === undefined ? 'query' : 'header'}="${header ?? param}"`;

  return (ex) => {
    const presented = header === undefined ? ex.query[param as string] : ex.headers[header];
    if (presented === undefined || presented === '') throw unauthenticated('missing', `an API key is required in the ${where}`, challenge);
    if (typeof presented !== 'string') throw unauthenticated('malformed', `the ${where} is given more than once`, challenge);
    const d = digest(presented);
    let match = 0;
    for (const k of digests) match |= timingSafeEqual(d, k) ? 1 : 0;
    if (match === 0) throw unauthenticated('wrong_key', 'the API key is not valid', challenge);
    return KEY_HOLDER;
  };
}

function digest(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}
