/**
 * The outbound HTTP client that every HTTP-based endpoint kind shares (http, soap): undici
 * keep-alive pools, one per base URL, opened lazily and reused by every message; balancing
 * over `urls` with outlier ejection; socket errors mapped to Weft codes. It answers whatever
 * status the upstream sent: what a status means is the endpoint kind's business.
 */
import type { Dispatcher, Pool } from 'undici';
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

type Headers = Record<string, string | string[] | undefined>;

interface Answer {
  status: number;
  headers: Headers;
  bytes: Uint8Array;
}

/**
 * Collects one answer straight from undici's dispatch handler. pool.request() would wrap it in
 * a Readable stream and an AsyncResource and listen on the signal twice, all to be read whole
 * at once here: that was a tenth of the instructions of an S1 request (bench/instructions.ts).
 * Like pool.request(), it aborts the call when `signal` does, with the signal's reason, and
 * the pool's maxResponseSize still bounds what is collected.
 */
class Collector implements Dispatcher.DispatchHandler {
  #status = 0;
  #headers: Headers = {};
  #chunks: Buffer[] = [];
  #size = 0;
  #abort: ((err?: Error) => void) | undefined;
  #aborted: Error | undefined;
  readonly #signal: AbortSignal | undefined;
  readonly #onAbort: (() => void) | undefined;
  readonly #parseHeaders: (raw: Buffer[]) => Headers;
  readonly #resolve: (a: Answer) => void;
  readonly #reject: (err: unknown) => void;

  constructor(signal: AbortSignal | undefined, parseHeaders: (raw: Buffer[]) => Headers, resolve: (a: Answer) => void, reject: (err: unknown) => void) {
    this.#parseHeaders = parseHeaders;
    this.#resolve = resolve;
    this.#reject = reject;
    if (signal === undefined) return;
    if (signal.aborted) {
      this.#aborted = signal.reason as Error;
      return;
    }
    this.#signal = signal;
    this.#onAbort = () => {
      this.#aborted = signal.reason as Error;
      this.#abort?.(this.#aborted);
    };
    signal.addEventListener('abort', this.#onAbort, { once: true });
  }

  onConnect(abort: (err?: Error) => void): void {
    if (this.#aborted !== undefined) abort(this.#aborted);
    else this.#abort = abort;
  }

  onHeaders(status: number, raw: Buffer[]): boolean {
    // 1xx answers (100 Continue, 103 Early Hints) come before the real one.
    if (status < 200) return true;
    this.#status = status;
    this.#headers = this.#parseHeaders(raw);
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.#chunks.push(chunk);
    this.#size += chunk.length;
    return true;
  }

  onComplete(): void {
    this.#done();
    const chunks = this.#chunks;
    const bytes = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, this.#size);
    this.#resolve({ status: this.#status, headers: this.#headers, bytes });
  }

  onError(err: Error): void {
    this.#done();
    this.#reject(err);
  }

  #done(): void {
    if (this.#onAbort !== undefined) this.#signal!.removeEventListener('abort', this.#onAbort);
  }
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
  const { parseHeaders } = undici.util;
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
    let answer: Answer;
    try {
      answer = await new Promise<Answer>((resolve, reject) => {
        pool.dispatch({ path, method: req.method as 'GET', headers: req.headers, body: req.body }, new Collector(signal, parseHeaders, resolve, reject));
      });
    } catch (err) {
      fail(member, signal);
      throw networkError(err, name, `${req.method} ${origin}${shown}`);
    }
    if (answer.status >= 500) balancer.failure(member);
    else balancer.success(member);
    return { status: answer.status, headers: answer.headers, bytes: answer.bytes, method: req.method, path: shown };
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
