/**
 * Keys for the trigger's `auth`, imported once at load from the text a secret holds: a PEM
 * (public key, certificate, or private key), a JWK or a JWK set (JSON), or else a shared
 * secret for HMAC. Which algorithms a key admits follows from its type, so an allow-list can
 * never pair an HMAC algorithm with a public key (the RS256/HS256 confusion attack) and `none`
 * is not an algorithm at all.
 */
import { createPrivateKey, createPublicKey, createSecretKey, type JsonWebKey, type KeyObject } from 'node:crypto';

export const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'] as const;
export const HMAC_ALGORITHMS = ['HS256', 'HS384', 'HS512'] as const;
export const ALGORITHMS = [...ASYMMETRIC_ALGORITHMS, ...HMAC_ALGORITHMS] as const;
export type Algorithm = (typeof ALGORITHMS)[number];

/** RFC 7518 3.2: an HMAC key must be at least as long as the hash output; 32 bytes for HS256. */
const MIN_SECRET_BYTES = 32;

export type ImportedKey = { key: KeyObject } | { jwks: { keys: JsonWebKey[] } };

/** The algorithms `key` can sign or verify with. */
export function algorithmsOf(key: KeyObject): Algorithm[] {
  if (key.type === 'secret') return [...HMAC_ALGORITHMS];
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
    case 'rsa-pss':
      return ['PS256', 'PS384', 'PS512'];
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      const alg = curve === 'prime256v1' ? 'ES256' : curve === 'secp384r1' ? 'ES384' : curve === 'secp521r1' ? 'ES512' : undefined;
      return alg ? [alg] : [];
    }
    case 'ed25519':
      return ['EdDSA', 'Ed25519'];
    default:
      return [];
  }
}

/** A key to verify signatures with. Throws an Error saying what the text is not. */
export function importVerifyKey(text: string): ImportedKey {
  const trimmed = text.trim();
  if (trimmed.startsWith('-----BEGIN')) {
    // createPublicKey takes a public key, a certificate, or a private key (its public half).
    return { key: createPublicKey(trimmed) };
  }
  if (trimmed.startsWith('{')) {
    const jwk = parseJson(trimmed);
    if (Array.isArray(jwk.keys)) return { jwks: { keys: jwk.keys as JsonWebKey[] } };
    if (jwk.kty === 'oct') return { key: secretOf(Buffer.from(String(jwk.k ?? ''), 'base64url')) };
    return { key: createPublicKey({ key: jwk, format: 'jwk' }) };
  }
  return { key: secretOf(Buffer.from(text)) };
}

/** A key to sign with: a private key (PEM or JWK) or a shared secret. */
export function importSigningKey(text: string): KeyObject {
  const trimmed = text.trim();
  if (trimmed.startsWith('-----BEGIN')) return createPrivateKey(trimmed);
  if (trimmed.startsWith('{')) {
    const jwk = parseJson(trimmed);
    if (jwk.kty === 'oct') return secretOf(Buffer.from(String(jwk.k ?? ''), 'base64url'));
    if (jwk.d === undefined) throw new Error('the JWK is a public key; signing needs the private one (with "d")');
    return createPrivateKey({ key: jwk, format: 'jwk' });
  }
  return secretOf(Buffer.from(text));
}

function secretOf(bytes: Buffer): KeyObject {
  if (bytes.length < MIN_SECRET_BYTES) throw new Error(`a shared secret needs at least ${MIN_SECRET_BYTES} bytes (it has ${bytes.length}); use a PEM or JWK for a public key`);
  return createSecretKey(bytes);
}

function parseJson(text: string): JsonWebKey & { keys?: unknown } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error('it starts with { but is not JSON (a JWK or a JWK set was expected)');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('it is JSON but not a JWK or a JWK set');
  return value as JsonWebKey & { keys?: unknown };
}
