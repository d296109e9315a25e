/**
 * The http trigger's `auth`: one of jwt, introspect or apiKey, compiled once in the trigger's
 * create(). Per request the trigger calls check() before it reads the body or runs a step: it
 * either sets `ex.auth` (the Caller expressions see as `auth`) or throws the 401/403/503
 * rejection, which the trigger answers as a problem document with the challenge from
 * challengeOf(). Rejections are counted by scheme and reason; the token is never logged.
 */
import type { IncomingMessage } from 'node:http';
import type { CompileContext, JSONSchema, RuntimeMetrics } from '../../../runtime/contract.ts';
import type { AuthScheme } from '../../../runtime/engine/caller.ts';
import type { Exchange } from '../../../runtime/engine/exchange.ts';
import { WeftError } from '../../../runtime/errors.ts';
import { apiKeySchema, createApiKeyCheck, type ApiKeyConfig } from './api-key.ts';
import { createIntrospection, introspectSchema, type IntrospectConfig } from './introspect.ts';
import { createJwtCheck, jwtSchema, type JwtConfig, type TokenCheck } from './jwt.ts';
import { bearerChallenge, reasonOf, unauthenticated } from './rejection.ts';

export { challengeOf } from './rejection.ts';

export type TriggerAuthConfig = { jwt: JwtConfig } | { introspect: IntrospectConfig } | { apiKey: ApiKeyConfig };

export const triggerAuthSchema = {
  type: 'object',
  description: 'Who may call: one of jwt, introspect, apiKey. A failed check answers 401 or 403 and runs no step.',
  minProperties: 1,
  maxProperties: 1,
  properties: { jwt: jwtSchema, introspect: introspectSchema, apiKey: apiKeySchema },
  additionalProperties: false,
} as const;

/** The route's security as OpenAPI says it: a named scheme, the scopes required, the answers it adds. */
export interface SecurityDescription {
  name: AuthScheme;
  scheme: JSONSchema;
  scopes: readonly string[];
  /** True when the check depends on a server (JWKS, introspection) that can be unavailable (503). */
  remote: boolean;
}

export interface Guard {
  /** Sets `ex.auth`, or throws the rejection. */
  check(ex: Exchange, req: IncomingMessage): Promise<void>;
  close(): Promise<void>;
  readonly description: SecurityDescription;
}

export function createGuard(config: TriggerAuthConfig, at: CompileContext, metrics: RuntimeMetrics | undefined): Guard {
  const realm = at.flow.name;
  let scheme: AuthScheme;
  let verify: (ex: Exchange) => Promise<Exchange['auth']> | Exchange['auth'];
  let close = async (): Promise<void> => {};
  if ('apiKey' in config) {
    scheme = 'apiKey';
    verify = createApiKeyCheck(config.apiKey, at.child('apiKey'), realm);
  } else {
    let tokenCheck: TokenCheck;
    if ('jwt' in config) {
      scheme = 'jwt';
      tokenCheck = createJwtCheck(config.jwt, at.child('jwt'), realm);
    } else {
      scheme = 'introspect';
      const introspection = createIntrospection(config.introspect, at.child('introspect'), realm);
      tokenCheck = introspection.check;
      close = introspection.close;
    }
    verify = (ex) => {
      const token = bearerOf(ex.headers.authorization);
      if (token === undefined) throw unauthenticated('missing', 'a bearer token is required', bearerChallenge(realm));
      return tokenCheck(token);
    };
  }
  const rejected = metrics?.auth;

  return {
    async check(ex, req) {
      try {
        ex.auth = await verify(ex);
      } catch (err) {
        const e = WeftError.from(err);
        rejected?.rejected(scheme, reasonOf(e) ?? 'error');
        // The answer goes out without the body: let it drain rather than stall the socket.
        req.resume();
        throw e;
      }
    },
    close,
    description: describe(config),
  };
}

function describe(config: TriggerAuthConfig): SecurityDescription {
  if ('apiKey' in config) {
    const { header, query } = config.apiKey;
    const where = query === undefined ? { in: 'header', name: header ?? 'X-API-Key' } : { in: 'query', name: query };
    return { name: 'apiKey', scheme: { type: 'apiKey', ...where }, scopes: [], remote: false };
  }
  if ('jwt' in config) {
    return { name: 'jwt', scheme: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }, scopes: config.jwt.scopes ?? [], remote: config.jwt.jwks !== undefined };
  }
  const scheme = { type: 'http', scheme: 'bearer', description: 'An OAuth2 access token, checked by token introspection (RFC 7662).' };
  return { name: 'introspect', scheme, scopes: config.introspect.scopes ?? [], remote: true };
}

/** The token of an `Authorization: Bearer <token>` header (scheme case-insensitive, RFC 6750 2.1). */
function bearerOf(header: string | undefined): string | undefined {
  if (header === undefined || header.length < 8 || header.slice(0, 7).toLowerCase() !== 'bearer ') return undefined;
  const token = header.slice(7).trim();
  return token === '' ? undefined : token;
}
