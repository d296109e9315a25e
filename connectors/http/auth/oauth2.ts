/**
 * OAuth2 client credentials (RFC 6749 4.4): a token fetched once, shared by every call, and
 * renewed shortly before it expires. Concurrent calls that find no valid token wait for the
 * same request (single flight). A failed token request is remembered for `failureBackoff`, so
 * a token endpoint that is down or answers garbage is not hammered by every message: calls
 * fail fast with UPSTREAM_AUTH until then.
 *
 * Nothing secret ends up in an error: token endpoint errors carry only the RFC 6749 `error`
 * and `error_description` fields, never the request or the answer.
 */
import type { Pool } from 'undici';
import { lazyModule } from '../../../runtime/lazy.ts';
import type { CompileContext } from '../../../runtime/contract.ts';
import { WeftError } from '../../../runtime/errors.ts';
import { parseDuration } from '../../../runtime/units.ts';
import { networkError } from '../network-errors.ts';
import { clientAuthHeaders, clientProperties, postForm } from './form-post.ts';
import { readSecret, type SecretConfig } from './secret.ts';

const undici = lazyModule<typeof import('undici')>('undici');

export interface OAuth2Config {
  tokenUrl: string;
  clientId: string;
  clientSecret: SecretConfig;
  scope?: string;
  audience?: string;
  resource?: string;
  /** client_secret_basic (default) or client_secret_post. */
  clientAuth?: 'basic' | 'post';
  refreshBefore?: string | number;
  failureBackoff?: string | number;
}

export const oauth2Schema = {
  type: 'object',
  description: 'OAuth2 client credentials grant; the token is cached and renewed before it expires.',
  properties: {
    tokenUrl: { type: 'string', description: 'Token endpoint of the authorization server.' },
    ...clientProperties,
    scope: { type: 'string', description: 'Space-separated scopes to ask for.' },
    audience: { type: 'string', description: 'audience parameter (Auth0, Okta and others).' },
    resource: { type: 'string', description: 'RFC 8707 resource indicator.' },
    refreshBefore: { $ref: '#/definitions/duration', description: 'Renew this long before expiry (at most half the lifetime). Default 30s.' },
    failureBackoff: { $ref: '#/definitions/duration', description: 'After a failed token request, fail fast this long. Default 5s.' },
  },
  required: ['tokenUrl', 'clientId', 'clientSecret'],
  additionalProperties: false,
} as const;

interface Token {
  value: string;
  /** When to stop using it (ms since epoch), already shortened by refreshBefore. */
  renewAt: number;
}

const DEFAULT_LIFETIME_S = 300; // when the server does not say (expires_in is only RECOMMENDED)

export class ClientCredentials {
  readonly #name: string;
  readonly #url: URL;
  readonly #pool: Pool;
  readonly #form: string;
  readonly #headers: Record<string, string>;
  readonly #refreshMs: number;
  readonly #backoffMs: number;
  #token: Token | undefined;
  #pending: Promise<Token> | undefined;
  #failure: { error: WeftError; until: number } | undefined;
  /** Token requests made so far (health, tests). */
  requests = 0;

  constructor(name: string, config: OAuth2Config, at: CompileContext) {
    this.#name = name;
    let url: URL;
    try {
      url = new URL(config.tokenUrl);
    } catch {
      at.problem('FLOW_SCHEMA', `tokenUrl '${config.tokenUrl}' is not a URL`, 'tokenUrl');
      url = new URL('http://invalid.invalid/');
    }
    this.#url = url;
    this.#pool = new undici.Pool(url.origin, { connections: 2, keepAliveTimeout: 4_000 });
    const secret = readSecret(config.clientSecret, at, 'clientSecret');
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    for (const key of ['scope', 'audience', 'resource'] as const) if (config[key]) form.set(key, config[key]);
    this.#headers = clientAuthHeaders(config.clientId, secret, config.clientAuth, form);
    this.#form = form.toString();
    this.#refreshMs = config.refreshBefore === undefined ? 30_000 : parseDuration(config.refreshBefore);
    this.#backoffMs = config.failureBackoff === undefined ? 5_000 : parseDuration(config.failureBackoff);
  }

  /** A valid access token, from the cache when it has one. */
  async token(): Promise<string> {
    const cached = this.#token;
    if (cached && Date.now() < cached.renewAt) return cached.value;
    if (this.#failure && Date.now() < this.#failure.until) throw this.#failure.error;
    this.#pending ??= this.#fetch().then(
      (t) => {
        this.#pending = undefined;
        this.#failure = undefined;
        this.#token = t;
        return t;
      },
      (err: unknown) => {
        this.#pending = undefined;
        const error = WeftError.from(err);
        this.#failure = { error, until: Date.now() + this.#backoffMs };
        throw error;
      },
    );
    return (await this.#pending).value;
  }

  /** The upstream refused `token` (401): forget it, unless a newer one is already cached. */
  invalidate(token: string): void {
    if (this.#token?.value === token) this.#token = undefined;
  }

  close(): Promise<void> {
    return this.#pool.close();
  }

  async #fetch(): Promise<Token> {
    this.requests++;
    const where = `token endpoint ${this.#url.origin}${this.#url.pathname}`;
    let status: number;
    let answer: Record<string, unknown> | undefined;
    try {
      ({ status, json: answer } = await postForm(this.#pool, this.#url, this.#headers, this.#form, 10_000));
    } catch (err) {
      const cause = networkError(err, this.#name, where) as Error;
      throw this.#error(`${where} cannot be reached: ${cause.message}`, cause);
    }
    if (status >= 400) {
      const reason = typeof answer?.error === 'string' ? `: ${answer.error}${typeof answer.error_description === 'string' ? ` (${answer.error_description})` : ''}` : '';
      throw this.#error(`${where} refused the client credentials with ${status}${reason}`);
    }
    const value = answer?.access_token;
    const type = answer?.token_type;
    if (typeof value !== 'string' || value === '') throw this.#error(`${where} answered ${status} without an access_token (not an OAuth2 token response)`);
    if (typeof type !== 'string' || type.toLowerCase() !== 'bearer') throw this.#error(`${where} issued a '${String(type)}' token; only bearer tokens are supported`);
    const lifetimeMs = (typeof answer?.expires_in === 'number' && answer.expires_in > 0 ? answer.expires_in : DEFAULT_LIFETIME_S) * 1000;
    return { value, renewAt: Date.now() + lifetimeMs - Math.min(this.#refreshMs, lifetimeMs / 2) };
  }

  #error(message: string, cause?: unknown): WeftError {
    return new WeftError('UPSTREAM_AUTH', `${this.#name}: ${message}`, { endpoint: this.#name, cause });
  }
}
