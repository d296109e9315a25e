/**
 * Token translation (`introspect.forward.jwt`): the claims an introspection returned for an
 * opaque token are re-signed as a short-lived JWT that the microservices behind the flow can
 * verify on their own, without calling the authorization server. The key is imported at load;
 * a translated token is signed once per cached introspection answer and reused until half of
 * its life is gone, so a busy caller costs one signature per `ttl / 2`, not one per request.
 */
import type { KeyObject } from 'node:crypto';
import { randomUUID } from 'node:crypto';
import type { CompileContext } from '../../../runtime/contract.ts';
import { lazyModule } from '../../../runtime/lazy.ts';
import { ref } from '../../../runtime/flow/schema-parts.ts';
import { parseDuration } from '../../../runtime/units.ts';
import { readSecret, secretSchema, type SecretConfig } from '../auth/secret.ts';
import { algorithmsOf, ALGORITHMS, importSigningKey, type Algorithm } from './keys.ts';

const jose = lazyModule<typeof import('jose')>('jose');

export interface ForwardJwtConfig {
  signingKey: SecretConfig;
  algorithm?: Algorithm;
  keyId?: string;
  issuer: string;
  audience?: string | string[];
  ttl?: string | number;
}

export const forwardJwtSchema = {
  type: 'object',
  description: "Re-sign the introspected claims as a short-lived JWT; `forward` endpoint auth sends it instead of the caller's opaque token.",
  properties: {
    signingKey: { ...secretSchema, description: 'Private key (PEM or JWK) or HMAC secret (>= 32 bytes) the JWT is signed with.' },
    algorithm: { enum: [...ALGORITHMS], description: "Signing algorithm. Default: the key's first (RS256, ES256 by curve, EdDSA, HS256)." },
    keyId: { type: 'string', description: '`kid` header, so verifiers can pick the key from a set.' },
    issuer: { type: 'string', description: '`iss` of the translated token.' },
    audience: {
      oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' }, minItems: 1 }],
      description: '`aud` of the translated token: the microservices that accept it.',
    },
    ttl: { ...ref.duration, description: 'Lifetime of a translated token, capped by the original token\'s `exp`. Default 5m.' },
  },
  required: ['signingKey', 'issuer'],
  additionalProperties: false,
} as const;

/** Introspection fields that describe the opaque token, not the caller: not copied. */
const TOKEN_FIELDS = new Set(['active', 'token_type', 'iss', 'aud', 'exp', 'iat', 'nbf', 'jti']);

/** Makes, for one set of claims, the function that returns its current translated token. */
export type Translator = (claims: Readonly<Record<string, unknown>>, expiresAtMs: number | undefined) => () => Promise<string>;

export function createTranslator(config: ForwardJwtConfig, at: CompileContext): Translator {
  const ttlMs = config.ttl === undefined ? 300_000 : parseDuration(config.ttl);
  let key: KeyObject | undefined;
  let alg: Algorithm = config.algorithm ?? 'RS256';
  const text = readSecret(config.signingKey, at, 'signingKey');
  if (text !== '') {
    try {
      key = importSigningKey(text);
      const admitted = algorithmsOf(key);
      if (config.algorithm !== undefined && !admitted.includes(config.algorithm)) {
        at.problem('FLOW_SCHEMA', `algorithm ${config.algorithm} cannot sign with this key; it admits ${admitted.join(', ')}`, 'algorithm');
      }
      if (config.algorithm === undefined) {
        if (admitted.length === 0) at.problem('FLOW_SCHEMA', 'signingKey is of a type no JWT algorithm signs with', 'signingKey');
        else alg = admitted[0];
      }
    } catch (err) {
      at.problem('FLOW_SCHEMA', `signingKey is not a usable private key (PEM, JWK) or shared secret: ${(err as Error).message}`, 'signingKey');
    }
  }
  const header = config.keyId === undefined ? { alg, typ: 'JWT' } : { alg, typ: 'JWT', kid: config.keyId };
  const signingKey = key as KeyObject;

  const sign = (claims: Readonly<Record<string, unknown>>, now: number, exp: number): Promise<string> => {
    const payload: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(claims)) if (!TOKEN_FIELDS.has(k)) payload[k] = v;
    const jwt = new jose.SignJWT(payload)
      .setProtectedHeader(header)
      .setIssuer(config.issuer)
      .setIssuedAt(Math.floor(now / 1000))
      .setExpirationTime(Math.floor(exp / 1000))
      .setJti(randomUUID());
    if (config.audience !== undefined) jwt.setAudience(config.audience);
    return jwt.sign(signingKey);
  };

  return (claims, expiresAtMs) => {
    let current: { token: Promise<string>; renewAt: number } | undefined;
    return () => {
      const now = Date.now();
      if (current === undefined || now >= current.renewAt) {
        const exp = Math.min(now + ttlMs, expiresAtMs ?? Infinity);
        current = { token: sign(claims, now, exp), renewAt: now + (exp - now) / 2 };
      }
      return current.token;
    };
  };
}
