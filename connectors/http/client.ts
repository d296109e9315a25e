/**
 * The outbound HTTP client that every HTTP-based endpoint kind shares (http, soap): undici
 * keep-alive pools, one per base URL, opened lazily and reused by every message; balancing
 * over `urls` with outlier ejection; socket errors mapped to Weft codes. It answers whatever
 * status the upstream sent: what a status means is the endpoint kind's business.
 */
import type { Dispatcher, Pool } from 'undici';
import { lazyModule } from '../../runtime/lazy.ts';
import type { CompileContext, Health } from '../../runtime/contract.ts';
import type { CancelListener, Cancellation } from '../../runtime/engine/cancellation.ts';
import type { Exchange } from '../../runtime/engine/exchange.ts';
import { Balancer, outlierSchema, type Member, type OutlierConfig } from '../../runtime/engine/balancer.ts';
import { ref } from '../../runtime/flow/schema-parts.ts';
import { parseSize } from '../../runtime/units.ts';
import { tlsConnector } from '../tls/undici-connector.ts';
import { loadClientTls, tlsSchema, warnIfInsecure, type ClientTls, type TlsConfig } from '../tls/client-tls.ts';
import { authSchema, createAuth, type AuthConfig } from './auth/auth.ts';
import { networkError } from './network-errors.ts';

const undici = lazyModule<typeof import('undici')>('undici');

export interface HttpClientConfig {
  url?: string;
  urls?: string[];
  maxBody?: string | number;
  outlier?: OutlierConfig;
  auth?: AuthConfig;
  tls?: TlsConfig;
}

/** Schema properties of the options above, for the specs of endpoint kinds built on this client. */
export const httpClientProperties = {
  url: { type: 'string', description: 'Base URL; a call `path` is appended.' },
  urls: { type: 'array', items: { type: 'string' }, minItems: 1, description: 'Several equivalent base URLs, balanced round robin with outlier ejection.' },
  maxBody: { ...ref.size, description: 'Largest answer accepted. Default 16mb.' },
  outlier: outlierSchema,
  auth: authSchema,
  tls: tlsSchema,
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
  /** The loaded `tls` option, for other requests to the same service (a WSDL read at start). */
  readonly tls: ClientTls | undefined;
  /** Warns once at start when the endpoint skips certificate checks (`tls.insecure`). */
  start(): void;
  /** Sends with the endpoint's credentials; a 401 under OAuth2 is retried once with a fresh token. */
  send(req: HttpRequest, ex: Exchange, cancel: Cancellation | undefined): Promise<HttpResponse>;
  close(deadline: AbortSignal): Promise<void>;
  health(): Health;
}

type Headers = Record<string, string | string[] | undefined>;

/** What the calls of one client share: where answers and failures are accounted. */
interface ClientCore {
  readonly name: string;
  readonly balancer: Balancer<Target>;
  readonly parseHeaders: (raw: Buffer[]) => Headers;
}

/**
 * One call, collecting its answer straight from undici's dispatch handler. pool.request()
 * would wrap it in a Readable stream and an AsyncResource and listen on the signal twice, all
 * to be read whole at once here: that was a tenth of the instructions of an S1 request
 * (bench/instructions.ts). The call settles itself (balancer accounting, error mapping), so a
 * send is no async frame of its own. Like pool.request() with a signal, it aborts when
 * `cancel` fires, with its reason; the pool's maxResponseSize still bounds what is collected.
 */
class PendingCall implements Dispatcher.DispatchHandler, CancelListener {
  #status = 0;
  #headers: Headers = {};
  #chunks: Buffer[] = [];
  #size = 0;
  #abort: ((err?: Error) => void) | undefined;
  #aborted: Error | undefined;
  readonly #core: ClientCore;
  readonly #member: Member<Target>;
  readonly #method: string;
  /** The path without a secret query: what answers and messages show. */
  readonly #shown: string;
  readonly #cancel: Cancellation | undefined;
  readonly #resolve: (res: HttpResponse) => void;
  readonly #reject: (err: unknown) => void;

  constructor(core: ClientCore, member: Member<Target>, method: string, shown: string, cancel: Cancellation | undefined, resolve: (res: HttpResponse) => void, reject: (err: unknown) => void) {
    this.#core = core;
    this.#member = member;
    this.#method = method;
    this.#shown = shown;
    this.#resolve = resolve;
    this.#reject = reject;
    this.#cancel = cancel;
    cancel?.listen(this);
  }

  cancelled(reason: unknown): void {
    this.#aborted = reason as Error;
    this.#abort?.(this.#aborted);
  }

  onConnect(abort: (err?: Error) => void): void {
    if (this.#aborted !== undefined) abort(this.#aborted);
    else this.#abort = abort;
  }

  onHeaders(status: number, raw: Buffer[]): boolean {
    // 1xx answers (100 Continue, 103 Early Hints) come before the real one.
    if (status < 200) return true;
    this.#status = status;
    this.#headers = this.#core.parseHeaders(raw);
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.#chunks.push(chunk);
    this.#size += chunk.length;
    return true;
  }

  onComplete(): void {
    this.#cancel?.unlisten(this);
    const chunks = this.#chunks;
    const bytes = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, this.#size);
    const { balancer } = this.#core;
    if (this.#status >= 500) balancer.failure(this.#member);
    else balancer.success(this.#member);
    this.#resolve({ status: this.#status, headers: this.#headers, bytes, method: this.#method, path: this.#shown });
  }

  onError(err: Error): void {
    const cancel = this.#cancel;
    cancel?.unlisten(this);
    // A cancelled call says nothing about the target; a timed-out one does.
    const cancelled = cancel?.aborted && (cancel.reason as Error | undefined)?.name !== 'TimeoutError';
    if (!cancelled) this.#core.balancer.failure(this.#member);
    this.#reject(networkError(err, this.#core.name, `${this.#method} ${this.#member.target.origin}${this.#shown}`));
  }
}

export function createHttpClient(name: string, config: HttpClientConfig, at: CompileContext): HttpClient {
  const urls = config.urls ?? (config.url !== undefined ? [config.url] : []);
  if (urls.length === 0) at.problem('FLOW_SCHEMA', `an ${at.path.split('.').pop()} endpoint needs \`url\` or \`urls\``);
  if (config.url !== undefined && config.urls !== undefined) at.problem('FLOW_SCHEMA', 'give `url` or `urls`, not both', 'urls');
  const maxResponseSize = config.maxBody === undefined ? DEFAULT_MAX_BODY : parseSize(config.maxBody);
  const tls = loadClientTls(config.tls, at);
  const poolOptions = { maxResponseSize, keepAliveTimeout: 4_000 };
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
    if (tls && url.protocol === 'http:') at.problem('FLOW_SCHEMA', `\`tls\` applies to https:// URLs, and '${raw}' is plain http`, 'tls');
    targets.push({
      pool: new undici.Pool(url.origin, url.protocol === 'https:' ? { ...poolOptions, connect: tlsConnector(tls?.options ?? {}) } : poolOptions),
      origin: url.origin,
      basePath: url.pathname.replace(/\/$/, ''),
    });
  }
  const balancer = new Balancer(targets, config.outlier);
  const auth = createAuth(name, config.auth, at.child('auth'));

  const core: ClientCore = { name, balancer, parseHeaders: undici.util.parseHeaders };

  const sendOnce = (req: HttpRequest, cancel: Cancellation | undefined): Promise<HttpResponse> =>
    new Promise((resolve, reject) => {
      const member = balancer.pick();
      const { pool, basePath } = member.target;
      let path = basePath + req.path;
      if (!path.startsWith('/')) path = `/${path}`;
      const shown = path;
      if (req.secretQuery) path += (path.includes('?') ? '&' : '?') + req.secretQuery;
      pool.dispatch({ path, method: req.method as 'GET', headers: req.headers, body: req.body }, new PendingCall(core, member, req.method, shown, cancel, resolve, reject));
    });

  return {
    tls,
    start: () => warnIfInsecure(tls, at.log, name),
    // Without credentials a call is just sendOnce: no wrapper frame around it.
    send: !auth
      ? (req, _ex, cancel) => sendOnce(req, cancel)
      : async (req, ex, cancel) => {
          const used = await auth.apply(req, ex);
          const res = await sendOnce(req, cancel);
          if (res.status !== 401 || !auth.refresh || used === undefined) return res;
          auth.refresh(used);
          await auth.apply(req, ex);
          return sendOnce(req, cancel);
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
