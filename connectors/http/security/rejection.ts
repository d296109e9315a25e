/**
 * How the trigger's `auth` says no, shared by every scheme. A rejection is a WeftError with a
 * stable code (UNAUTHENTICATED 401, FORBIDDEN 403, AUTH_UNAVAILABLE 503), a `reason` from a
 * small fixed set (the metrics label) and the RFC 6750 `WWW-Authenticate` challenge the
 * trigger sends with it. Messages describe what was wrong with the credential, never the
 * credential itself: they go into the problem body and the log.
 */
import { WeftError } from '../../../runtime/errors.ts';

/** Why a request was refused: the label of weft_http_auth_rejections_total. */
export type RejectReason =
  | 'missing'
  | 'malformed'
  | 'expired'
  | 'signature'
  | 'algorithm'
  | 'unknown_key'
  | 'claims'
  | 'inactive'
  | 'wrong_key'
  | 'insufficient_scope'
  | 'unavailable';

interface RejectionDetails {
  reason: RejectReason;
  challenge: string | undefined;
}

/** A 401: no credential, or one that does not check out. */
export function unauthenticated(reason: RejectReason, message: string, challenge: string): WeftError {
  return new WeftError('UNAUTHENTICATED', message, { details: { reason, challenge } satisfies RejectionDetails });
}

/** A 403: a valid credential without the scopes the route requires. */
export function forbidden(message: string, challenge: string): WeftError {
  return new WeftError('FORBIDDEN', message, { details: { reason: 'insufficient_scope', challenge } satisfies RejectionDetails });
}

/** A 503: the key set or introspection endpoint could not answer; not the caller's fault. */
export function unavailable(message: string, cause: unknown): WeftError {
  return new WeftError('AUTH_UNAVAILABLE', message, { details: { reason: 'unavailable', challenge: undefined } satisfies RejectionDetails, cause });
}

/** The reason a rejection carries, or undefined for any other error. */
export function reasonOf(e: WeftError): RejectReason | undefined {
  return e.code === 'UNAUTHENTICATED' || e.code === 'FORBIDDEN' || e.code === 'AUTH_UNAVAILABLE' ? (e.details as RejectionDetails | undefined)?.reason : undefined;
}

/** The `WWW-Authenticate` value to answer `e` with, if it is an auth rejection. */
export function challengeOf(e: WeftError): string | undefined {
  return e.code === 'UNAUTHENTICATED' || e.code === 'FORBIDDEN' ? (e.details as RejectionDetails | undefined)?.challenge : undefined;
}

/**
 * RFC 6750 3: `Bearer realm="..."` alone when no token came (the client may not know it needs
 * one), with `error` and `error_description` when one came and failed; `scope` lists what an
 * insufficient_scope answer lacks.
 */
export function bearerChallenge(realm: string, error?: 'invalid_request' | 'invalid_token' | 'insufficient_scope', description?: string, scope?: readonly string[]): string {
  let value = `Bearer realm="${quotable(realm)}"`;
  if (error) value += `, error="${error}"`;
  if (description) value += `, error_description="${quotable(description)}"`;
  if (scope?.length) value += `, scope="${quotable(scope.join(' '))}"`;
  return value;
}

/** RFC 6750 3: quoted values are %x20-21 / %x23-5B / %x5D-7E: no quotes, backslashes or controls. */
function quotable(s: string): string {
  return s.replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, '');
}

/** The granted scopes of a claim set: `scope` (space-separated, RFC 8693/9068) or `scp` (a list, or a string). */
export function scopesOf(claims: Readonly<Record<string, unknown>>): string[] {
  const out: string[] = [];
  for (const v of [claims.scope, claims.scp]) {
    if (typeof v === 'string') out.push(...v.split(' ').filter(Boolean));
    else if (Array.isArray(v)) for (const s of v) if (typeof s === 'string') out.push(s);
  }
  return out;
}

/** Throws FORBIDDEN (insufficient_scope) unless `granted` holds every `required` scope. */
export function requireScopes(required: readonly string[], granted: readonly string[], realm: string): void {
  if (required.length === 0) return;
  const missing = required.filter((s) => !granted.includes(s));
  if (missing.length) {
    throw forbidden(`the token lacks the scope${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`, bearerChallenge(realm, 'insufficient_scope', 'missing scope', required));
  }
}
