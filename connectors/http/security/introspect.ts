/**
 * `auth.introspect` of the http trigger: an opaque bearer token is sent to the authorization
 * server's introspection endpoint (RFC 7662) with the flow's client credentials; `active:
 * false` is a 401. Positive answers are cached until the token's `exp`, at most `cache.maxTtl`
 * (revocation is seen after at most that long) and for at most `cache.maxEntries` tokens
 * (the oldest go first). Concurrent requests with the same token share one introspection.
 * With `forward.jwt` the claims are re-signed as a JWT for the upstreams (translate.ts).
 */
import type { Pool } from 'undici';
import type { CompileContext } from '../../../runtime/contract.ts';
import { Caller } from '../../../runtime/engine/caller.ts';
import { ref } from '../../../runtime/flow/schema-parts.ts';
import { lazyModule } from '../../../runtime/lazy.ts';
import { parseDuration } from '../../../runtime/units.ts';
import { clientAuthHeaders, clientProperties, postForm } from '../auth/form-post.ts';
import { readSecret, type SecretConfig } from '../auth/secret.ts';
import type { TokenCheck } from './jwt.ts';
import { scopesSchema } from './jwt.ts';
import { bearerChallenge, requireScopes, scopesOf, unauthenticated, unavailable } from './rejection.ts';
import { createTranslator, forwardJwtSchema, type ForwardJwtConfig } from './translate.ts';

const undici = lazyModule<typeof import('undici')>('undici');

export interface IntrospectConfig {
  url: string;
  clientId: string;
  clientSecret: SecretConfig;
  clientAuth?: 'basic' | 'post';
  audience?: string;
  scopes?: string[];
  timeout?: string | number;
  cache?: { maxEntries?: number; maxTtl?: string | number };
  forward?: { jwt: ForwardJwtConfig };
}

export const introspectSchema = {
  type: 'object',
  description: 'An opaque bearer token, checked with OAuth2 token introspection (RFC 7662).',
  properties: {
    url: { type: 'string', description: 'Introspection endpoint of the authorization server.' },
    ...clientProperties,
    audience: { type: 'string', description: 'The answer\'s `aud` must name this.' },
    scopes: scopesSchema,
    timeout: { ...ref.duration, description: 'Timeout of one introspection request. Default 5s.' },
    cache: {
      type: 'object',
      description: 'Cache of active answers, by token.',
      properties: {
        maxEntries: { type: 'integer', minimum: 0, description: 'Tokens kept at most; 0 turns the cache off. Default 10000.' },
        maxTtl: { ...ref.duration, description: "Longest an answer is reused, even if the token's exp is later. Default 60s." },
      },
      additionalProperties: false,
    },
    forward: {
      type: 'object',
      description: 'What `forward` endpoint auth sends: without it, the caller\'s own token.',
      properties: { jwt: forwardJwtSchema },
      required: ['jwt'],
      additionalProperties: false,
    },
  },
  required: ['url', 'clientId', 'clientSecret'],
  additionalProperties: false,
} as const;

interface Cached {
  caller: Caller;
  until: number;
}

export interface Introspection {
  check: TokenCheck;
  close(): Promise<void>;
}

export function createIntrospection(config: IntrospectConfig, at: CompileContext, realm: string): Introspection {
  let url: URL;
  try {
    url = new URL(config.url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http(s)');
  } catch {
    at.problem('FLOW_SCHEMA', `url '${config.url}' is not an http(s) URL`, 'url');
    url = new URL('http://invalid.invalid/');
  }
  const secret = readSecret(config.clientSecret, at, 'clientSecret');
  const clientForm = new URLSearchParams();
  const headers = clientAuthHeaders(config.clientId, secret, config.clientAuth, clientForm);
  const clientFields = clientForm.toString();
  const timeoutMs = config.timeout === undefined ? 5_000 : parseDuration(config.timeout);
  const maxEntries = config.cache?.maxEntries ?? 10_000;
  const maxTtlMs = config.cache?.maxTtl === undefined ? 60_000 : parseDuration(config.cache.maxTtl);
  const required = config.scopes ?? [];
  const translate = config.forward ? createTranslator(config.forward.jwt, at.child('forward', 'jwt')) : undefined;
  const where = `introspection endpoint ${url.origin}${url.pathname}`;
  let pool: Pool | undefined;

  const cache = new Map<string, Cached>();
  const pending = new Map<string, Promise<Cached>>();

  const invalid = (message: string) => unauthenticated('inactive', message, bearerChallenge(realm, 'invalid_token', message));

  const introspect = async (token: string): Promise<Cached> => {
    pool ??= new undici.Pool(url.origin, { connections: 4, keepAliveTimeout: 4_000 });
    const form = `token=${encodeURIComponent(token)}&token_type_hint=access_token${clientFields ? `&${clientFields}` : ''}`;
    let answer;
    try {
      answer = await postForm(pool, url, headers, form, timeoutMs);
    } catch (err) {
      throw unavailable(`${where} cannot be reached: ${(err as Error).message}`, err);
    }
    const claims = answer.json;
    if (answer.status !== 200 || claims === undefined || typeof claims.active !== 'boolean') {
      throw unavailable(`${where} answered ${answer.status}${claims ? '' : ' (not JSON)'}, not an RFC 7662 introspection response`, undefined);
    }
    const now = Date.now();
    const expMs = typeof claims.exp === 'number' ? claims.exp * 1000 : undefined;
    if (!claims.active || (expMs !== undefined && expMs <= now)) throw invalid('the token is not active');
    if (config.audience !== undefined && !audiences(claims.aud).includes(config.audience)) throw invalid('the token is not meant for this audience');
    const scopes = scopesOf(claims);
    const bearer = translate ? translate(claims, expMs) : () => token;
    return { caller: new Caller('introspect', claims, scopes, bearer), until: Math.min(now + maxTtlMs, expMs ?? Infinity) };
  };

  const lookup = (token: string): Cached | Promise<Cached> => {
    const hit = cache.get(token);
    if (hit !== undefined) {
      if (Date.now() < hit.until) return hit;
      cache.delete(token);
    }
    let flight = pending.get(token);
    if (flight === undefined) {
      flight = introspect(token).then(
        (entry) => {
          pending.delete(token);
          if (maxEntries > 0) {
            // Map keeps insertion order: the first key is the oldest entry.
            if (cache.size >= maxEntries) cache.delete(cache.keys().next().value as string);
            cache.set(token, entry);
          }
          return entry;
        },
        (err: unknown) => {
          pending.delete(token);
          throw err;
        },
      );
      pending.set(token, flight);
    }
    return flight;
  };

  return {
    async check(token) {
      const { caller } = await lookup(token);
      requireScopes(required, caller.scopes, realm);
      return caller;
    },
    close: async () => {
      await pool?.close();
    },
  };
}

function audiences(aud: unknown): string[] {
  if (typeof aud === 'string') return [aud];
  return Array.isArray(aud) ? aud.filter((a): a is string => typeof a === 'string') : [];
}
