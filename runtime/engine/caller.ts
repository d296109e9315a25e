/**
 * Who sent the message, as the trigger's `auth` established it. Expressions see it as `auth`
 * (`auth.claims.sub`, `auth.scopes`, `auth.scheme`); the credential itself stays in a private
 * field, so no expression, log line or error can show it. A `forward` endpoint auth asks for
 * the token to send on with bearerToken(), which may be a translated (re-signed) one.
 */
export type AuthScheme = 'jwt' | 'introspect' | 'apiKey';

export class Caller {
  readonly scheme: AuthScheme;
  /** The verified claims (JWT payload, or the introspection answer); {} for an API key. */
  readonly claims: Readonly<Record<string, unknown>>;
  /** The granted scopes, from the `scope` (space-separated) or `scp` (list) claim. */
  readonly scopes: readonly string[];
  readonly #bearer: (() => string | Promise<string>) | undefined;

  constructor(scheme: AuthScheme, claims: Readonly<Record<string, unknown>>, scopes: readonly string[], bearer?: () => string | Promise<string>) {
    this.scheme = scheme;
    this.claims = claims;
    this.scopes = scopes;
    this.#bearer = bearer;
  }

  /** The bearer token to forward to upstreams; undefined when the caller did not send one (apiKey). */
  bearerToken(): string | Promise<string> | undefined {
    return this.#bearer?.();
  }
}
