/**
 * `auth:` of HTTP-based endpoints (http, soap): how a call proves who it is. Credentials are
 * resolved at load; per call they only become a header (or a query parameter), never text in
 * a log line or an error.
 */
import type { CompileContext } from '../../../runtime/contract.ts';
import type { Exchange } from '../../../runtime/engine/exchange.ts';
import { WeftError } from '../../../runtime/errors.ts';
import type { HttpRequest } from '../client.ts';
import { ClientCredentials, oauth2Schema, type OAuth2Config } from './oauth2.ts';
import { readSecret, secretSchema, type SecretConfig } from './secret.ts';

export type AuthConfig =
  | { oauth2: OAuth2Config }
  | { basic: { username: string; password: SecretConfig } }
  | { bearer: { token: unknown } | { file: string } }
  | { apiKey: { header?: string; query?: string; value: SecretConfig } }
  | { forward: true };

export const authSchema = {
  type: 'object',
  description: "How calls authenticate: one of oauth2, basic, bearer, apiKey, forward.",
  minProperties: 1,
  maxProperties: 1,
  properties: {
    oauth2: oauth2Schema,
    basic: {
      type: 'object',
      properties: { username: { type: 'string' }, password: secretSchema },
      required: ['username', 'password'],
      additionalProperties: false,
    },
    bearer: {
      description: 'A bearer token: { token: EXPRESSION } evaluated per call, or { file } of a mounted token.',
      oneOf: [
        { type: 'object', properties: { token: { $ref: '#/definitions/expression' } }, required: ['token'], additionalProperties: false },
        { type: 'object', properties: { file: { type: 'string' } }, required: ['file'], additionalProperties: false },
      ],
    },
    apiKey: {
      type: 'object',
      description: 'An API key sent in a header or a query parameter.',
      properties: {
        header: { type: 'string', description: 'Header name, e.g. X-API-Key.' },
        query: { type: 'string', description: 'Query parameter name, e.g. api_key.' },
        value: secretSchema,
      },
      required: ['value'],
      additionalProperties: false,
    },
    forward: {
      const: true,
      description: "`forward: true` sends the caller's bearer token as the trigger's `auth` verified it (a JWT as it came; with introspect, the translated JWT when `forward.jwt` is set, else the opaque token).",
    },
  },
  additionalProperties: false,
} as const;

export interface HttpAuth {
  /** Adds the credentials to `req`; returns the bearer token used, for `refresh`. */
  apply(req: HttpRequest, ex: Exchange): Promise<string | undefined>;
  /** Set when a 401 may be cured by fetching a fresh token: drops `used` from the cache. */
  refresh?(used: string): void;
  close(): Promise<void>;
}

export function createAuth(name: string, config: AuthConfig | undefined, at: CompileContext): HttpAuth | undefined {
  if (!config) return undefined;
  if ('oauth2' in config) {
    const source = new ClientCredentials(name, config.oauth2, at.child('oauth2'));
    return {
      async apply(req) {
        const token = await source.token();
        req.headers.authorization = `Bearer ${token}`;
        return token;
      },
      refresh: (used) => source.invalidate(used),
      close: () => source.close(),
    };
  }
  if ('basic' in config) {
    const password = readSecret(config.basic.password, at.child('basic'), 'password');
    const value = `Basic ${Buffer.from(`${config.basic.username}:${password}`).toString('base64')}`;
    return fixedHeader('authorization', value);
  }
  if ('forward' in config) {
    return {
      async apply(req, ex) {
        const token = await ex.auth?.bearerToken();
        if (token === undefined) {
          throw new WeftError('UPSTREAM_AUTH', `endpoint ${name} forwards the caller's token, but this message has none (the http trigger needs auth: jwt or introspect)`, { endpoint: name });
        }
        req.headers.authorization = `Bearer ${token}`;
        return undefined;
      },
      close: async () => {},
    };
  }
  if ('bearer' in config) {
    const b = config.bearer;
    if ('file' in b) return fixedHeader('authorization', `Bearer ${readSecret(b, at, 'bearer')}`);
    const token = at.child('bearer').expression(b.token, 'token');
    return {
      async apply(req, ex) {
        const value = await token.evaluate(ex);
        if (typeof value !== 'string' || value === '') {
          throw new WeftError('EXPRESSION', `bearer token of endpoint ${name} is not a non-empty string`);
        }
        req.headers.authorization = `Bearer ${value}`;
        return undefined;
      },
      close: async () => {},
    };
  }
  const key = config.apiKey;
  const value = readSecret(key.value, at.child('apiKey'), 'value');
  if ((key.header === undefined) === (key.query === undefined)) at.problem('FLOW_SCHEMA', 'apiKey needs exactly one of `header` or `query`', 'apiKey');
  if (key.query !== undefined) {
    const param = `${encodeURIComponent(key.query)}=${encodeURIComponent(value)}`;
    return {
      async apply(req) {
        req.secretQuery = param;
        return undefined;
      },
      close: async () => {},
    };
  }
  return fixedHeader((key.header ?? 'x-api-key').toLowerCase(), value);
}

function fixedHeader(header: string, value: string): HttpAuth {
  return {
    async apply(req) {
      req.headers[header] = value;
      return undefined;
    },
    close: async () => {},
  };
}
