/**
 * The outbound HTTP client that every HTTP-based endpoint kind shares (http, soap): undici
 * keep-alive pools, one per base URL, opened lazily and reused by every message; balancing
 * over `urls` with outlier ejection; socket errors mapped to Weft codes. It answers whatever
 * status the upstream sent: what a status means is the endpoint kind's business.
 */
import type { Pool } from 'undici';
import { lazyModule } from '../../runtime/lazy.ts';
import type { CompileContext, Health } from '../../runtime/contract.ts';
import type { Exchange } from '../../runtime/engine/exchange.ts';
import { Balancer, outlierSchema, type Member, type OutlierConfig } from '../../runtime/engine/balancer.ts';
import { ref } from '../../runtime/flow/schema-parts.ts';
import { parseSize } from '../../runtime/units.ts';
import { authSchema, createAuth, type AuthConfig } from './auth/auth.ts';
import { networkError } from './network-errors.ts';

const undici = lazyModule<typeof import('undici')>('undici');

export interface HttpClientConfig {
  url?: string;
  urls?: string[];
  maxBody?: string | number;
  outlier?: OutlierConfig;
  auth?: AuthConfig;
}

/** Schema properties of the options above, for the specs of endpoint kinds built on this client. */
export const httpClientProperties = {
  url: { type: 'string', description: 'Base URL; a call `path` is appended.' },
  urls: { type: 'array', items: { type: 'string' }, minItems: 1, description: 'Several equivalent base URLs, balanced round robin with outlier ejection.' },
  maxBody: { ...ref.size, description: 'Largest answer accepted. Default 16mb.' },
  outlier: outlierSchema,
  auth: authSchema,
} as const;

export interface HttpRequest {
  method: string;
  /** Path and query below the target's base path. */
  path: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
  /** Query parameters holding credentials: sent, but never part of `target` in messages. */
  secretQuery?: string;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  bytes: Uint8Array;
  /** Method and path (without the origin or secret query), for messages flows may show. */
  method: string;
  path: string;
}

interface Target {
  pool: Pool;
  origin: string;
  basePath: string;
}

const DEFAULT_MAX_BODY = 16 * 1024 * 1024;

export interface HttpClient {
  /** Sends with the endpoint's credentials; a 401 under OAuth2 is retried once with a fresh token. */
  send(req: HttpRequest, ex: Exchange, signal: AbortSignal | undefined): Promise<HttpResponse>;
  close(deadline: AbortSignal): Promise<void>;
  health(): Health;
}

export function createHttpClient(name: string, config: HttpClientConfig, at: CompileContext): HttpClient {
  const urls = config.urls ?? (config.url !== undefined ? [config.url] : []);
  if (urls.length === 0) at.problem('FLOW_SCHEMA', `an ${at.path.split('.').pop()} endpoint needs \`url\` or \`urls\``);
  if (config.url !== undefined && config.urls !== undefined) at.problem('FLOW_SCHEMA', 'give `url` or `urls`, not both', 'urls');
  const maxResponseSize = config.maxBody === undefined ? DEFAULT_MAX_BODY : parseSize(config.maxBody);
  const targets: Target[] = [];
  for (const raw of urls) {
    let url: URL;
    try {
      url = new URL(raw);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http(s)');
    } catch {
      at.problem('FLOW_SCHEMA', `'${raw}' is not an http(s) URL`, config.urls ? 'urls' : 'url');
      continue;
    }
    targets.push({
      pool: new undici.Pool(url.origin, { maxResponseSize, keepAliveTimeout: 4_000 }),
      origin: url.origin,
      basePath: url.pathname.replace(/\/$/, ''),
    });
  }
  const balancer = new Balancer(targets, config.outlier);
  const auth = createAuth(name, config.auth, at.child('auth'));

  const fail = (member: Member<Target>, signal: AbortSignal | undefined): void => {
    // A cancelled call says nothing about the target; a timed-out one does.
    const cancelled = signal?.aborted && (signal.reason as Error | undefined)?.name !== 'TimeoutError';
    if (!cancelled) balancer.failure(member);
  };

  const sendOnce = async (req: HttpRequest, signal: AbortSignal | undefined): Promise<HttpResponse> => {
    const member = balancer.pick();
    const { pool, origin, basePath } = member.target;
    let path = basePath + req.path;
    if (!path.startsWith('/')) path = `/${path}`;
    const shown = path;
    if (req.secretQuery) path += (path.includes('?') ? '&' : '?') + req.secretQuery;
    let res;
    let bytes: Uint8Array;
    try {
      res = await pool.request({ path, method: req.method as 'GET', headers: req.headers, body: req.body, signal });
      bytes = new Uint8Array(await res.body.arrayBuffer());
    } catch (err) {
      fail(member, signal);
      throw networkError(err, name, `${req.method} ${origin}${shown}`);
    }
    if (res.statusCode >= 500) balancer.failure(member);
    else balancer.success(member);
    return { status: res.statusCode, headers: res.headers, bytes, method: req.method, path: shown };
  };

  return {
    // Without credentials a call is just sendOnce: no wrapper frame around it.
    send: !auth
      ? (req, _ex, signal) => sendOnce(req, signal)
      : async (req, ex, signal) => {
          const used = await auth.apply(req, ex);
          const res = await sendOnce(req, signal);
          if (res.status !== 401 || !auth.refresh || used === undefined) return res;
          auth.refresh(used);
          await auth.apply(req, ex);
          return sendOnce(req, signal);
        },
    async close(deadline) {
      await auth?.close();
      const closing = Promise.all(targets.map((t) => t.pool.close()));
      const forced = new Promise<void>((resolve) =>
        deadline.addEventListener('abort', () => resolve(void Promise.all(targets.map((t) => t.pool.destroy()))), { once: true }),
      );
      await Promise.race([closing, forced]);
    },
    health() {
      const ejected = balancer.ejected();
      return ejected.length ? { ok: true, detail: `ejected: ${ejected.map((t) => t.origin).join(', ')}` } : { ok: true };
    },
  };
}
