/**
 * `auth.jwt` of the http trigger: a bearer JWT verified against a JWKS URL or a configured key,
 * with issuer, audience, required scopes, an algorithm allow-list and a clock tolerance.
 *
 * Everything is prepared in create(): the key imported (or the remote key set created), the
 * verify options built. A JWKS is fetched on first use, cached for `jwksMaxAge`, and fetched
 * again when a token names a `kid` it does not hold (key rotation), but not more often than
 * every `jwksCooldown`, so a flood of made-up kids cannot hammer the key server (jose's
 * createRemoteJWKSet does both).
 */
import type { JWTVerifyGetKey, JWTVerifyOptions } from 'jose';
import type { KeyObject } from 'node:crypto';
import type { CompileContext } from '../../../runtime/contract.ts';
import { Caller } from '../../../runtime/engine/caller.ts';
import type { WeftError } from '../../../runtime/errors.ts';
import { ref } from '../../../runtime/flow/schema-parts.ts';
import { lazyModule } from '../../../runtime/lazy.ts';
import { parseDuration } from '../../../runtime/units.ts';
import { readSecret, secretSchema, type SecretConfig } from '../auth/secret.ts';
import { algorithmsOf, ALGORITHMS, ASYMMETRIC_ALGORITHMS, importVerifyKey, type Algorithm } from './keys.ts';
import { bearerChallenge, requireScopes, scopesOf, unauthenticated, unavailable, type RejectReason } from './rejection.ts';

const jose = lazyModule<typeof import('jose')>('jose');

export interface JwtConfig {
  jwks?: string;
  key?: SecretConfig;
  issuer?: string | string[];
  audience?: string | string[];
  scopes?: string[];
  algorithms?: Algorithm[];
  clockTolerance?: string | number;
  jwksCooldown?: string | number;
  jwksMaxAge?: string | number;
  jwksTimeout?: string | number;
}

const stringOrList = (what: string) => ({
  oneOf: [{ type: 'string', minLength: 1 }, { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1 }],
  description: what,
});

export const scopesSchema = {
  type: 'array',
  items: { type: 'string', minLength: 1 },
  description: 'Scopes the caller must hold, all of them (from the `scope` claim, space-separated, or the `scp` list); else 403.',
} as const;

export const jwtSchema = {
  type: 'object',
  description: 'A bearer JWT, verified with a JWKS URL or a key.',
  properties: {
    jwks: { type: 'string', description: 'URL of the JSON Web Key Set (e.g. https://idp/.well-known/jwks.json).' },
    key: { ...secretSchema, description: 'The verification key instead of a JWKS URL: PEM public key or certificate, JWK, JWK set, or an HMAC shared secret (>= 32 bytes).' },
    issuer: stringOrList('Accepted `iss` value(s).'),
    audience: stringOrList('Accepted `aud` value(s): the token must name one.'),
    scopes: scopesSchema,
    algorithms: {
      type: 'array',
      items: { enum: [...ALGORITHMS] },
      minItems: 1,
      uniqueItems: true,
      description: 'Accepted `alg` values. Default: the asymmetric ones the key (or any JWKS key) can verify; HS* only with a shared secret. `none` is never accepted.',
    },
    clockTolerance: { ...ref.duration, description: 'Leeway for exp, nbf and iat. Default 30s.' },
    jwksCooldown: { ...ref.duration, description: 'Least time between two JWKS fetches caused by an unknown kid. Default 30s.' },
    jwksMaxAge: { ...ref.duration, description: 'How long a fetched JWKS is used before it is fetched again. Default 10m.' },
    jwksTimeout: { ...ref.duration, description: 'Timeout of a JWKS fetch. Default 5s.' },
  },
  additionalProperties: false,
} as const;

/** Verifies one bearer token; rejects with UNAUTHENTICATED, FORBIDDEN or AUTH_UNAVAILABLE. */
export type TokenCheck = (token: string) => Promise<Caller>;

export function createJwtCheck(config: JwtConfig, at: CompileContext, realm: string): TokenCheck {
  if ((config.jwks === undefined) === (config.key === undefined)) at.problem('FLOW_SCHEMA', 'jwt needs exactly one of `jwks` (a URL) or `key`');
  let key: KeyObject | JWTVerifyGetKey | undefined;
  let admitted: readonly Algorithm[] = ASYMMETRIC_ALGORITHMS;
  const remote = config.jwks !== undefined;
  if (config.jwks !== undefined) {
    const url = httpUrl(config.jwks);
    if (!url) at.problem('FLOW_SCHEMA', `jwks '${config.jwks}' is not an http(s) URL`, 'jwks');
    else {
      key = jose.createRemoteJWKSet(url, {
        cooldownDuration: duration(config.jwksCooldown, 30_000),
        cacheMaxAge: duration(config.jwksMaxAge, 600_000),
        timeoutDuration: duration(config.jwksTimeout, 5_000),
      });
    }
  } else if (config.key !== undefined) {
    const text = readSecret(config.key, at, 'key');
    if (text !== '') {
      try {
        const imported = importVerifyKey(text);
        if ('jwks' in imported) key = jose.createLocalJWKSet(imported.jwks as Parameters<typeof jose.createLocalJWKSet>[0]);
        else {
          key = imported.key;
          admitted = algorithmsOf(imported.key);
        }
      } catch (err) {
        at.problem('FLOW_SCHEMA', `key is not a usable PEM key, JWK, JWK set or shared secret: ${(err as Error).message}`, 'key');
      }
    }
  }
  const algorithms = config.algorithms ?? [...admitted];
  if (config.algorithms) {
    const unfit = config.algorithms.filter((a) => !admitted.includes(a));
    // HS* with a public key is the classic key-confusion hole; with a JWKS, HMAC keys would be public.
    if (unfit.length) at.problem('FLOW_SCHEMA', `algorithms ${unfit.join(', ')} cannot be verified with ${remote ? 'a JWKS (HMAC keys are never published)' : 'this key'}; it admits ${admitted.join(', ')}`, 'algorithms');
  }
  const options: JWTVerifyOptions = {
    algorithms,
    issuer: config.issuer,
    audience: config.audience,
    clockTolerance: Math.round(duration(config.clockTolerance, 30_000) / 1000),
  };
  const required = config.scopes ?? [];
  const verifyKey = key;

  return async (token) => {
    let payload: Record<string, unknown>;
    try {
      // Both overloads of jwtVerify (a key, or a key-set function) take the same options.
      payload = (await jose.jwtVerify(token, verifyKey as KeyObject, options)).payload;
    } catch (err) {
      throw rejection(err, realm, remote);
    }
    const scopes = scopesOf(payload);
    requireScopes(required, scopes, realm);
    return new Caller('jwt', payload, scopes, () => token);
  };
}

/** What jose's failure means for the caller: 401 with the reason, or 503 when the key server failed. */
function rejection(err: unknown, realm: string, remote: boolean): WeftError {
  const e = err as { code?: string; claim?: string; message?: string };
  const fail = (reason: RejectReason, message: string) => unauthenticated(reason, message, bearerChallenge(realm, 'invalid_token', message));
  switch (e.code) {
    case 'ERR_JWT_EXPIRED':
      return fail('expired', 'the token has expired');
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      return fail('claims', `the token's "${e.claim ?? 'claims'}" claim is not accepted`);
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return fail('signature', 'the token signature does not verify');
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return fail('algorithm', "the token's signing algorithm is not accepted");
    case 'ERR_JWKS_NO_MATCHING_KEY':
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
      return fail('unknown_key', 'no known key matches the token (kid, alg)');
    case 'ERR_JWS_INVALID':
    case 'ERR_JWT_INVALID':
    case 'ERR_JOSE_NOT_SUPPORTED':
      return fail('malformed', 'the token is not a well-formed signed JWT');
    default:
      if (!remote) return fail('malformed', 'the token cannot be verified');
      // A JWKS that cannot be fetched (refused, timeout, not a key set): the server's problem.
      return unavailable(`the JSON Web Key Set cannot be used: ${e.message ?? String(err)}`, err);
  }
}

function duration(value: string | number | undefined, fallback: number): number {
  return value === undefined ? fallback : parseDuration(value);
}

function httpUrl(raw: string): URL | undefined {
  try {
    const url = new URL(raw);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : undefined;
  } catch {
    return undefined;
  }
}
