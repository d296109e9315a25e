/**
 * Thrift over HTTP (THttpClient / THttpServer): each call is a POST of one unframed message
 * with Content-Type application/x-thrift, the reply is the answer's body. Keep-alive pool
 * from undici, as the http endpoint uses.
 */
import type { ConnectionOptions } from 'node:tls';
import type { Pool } from 'undici';
import { lazyModule } from '../../runtime/lazy.ts';
import { signalOf, type Cancellation } from '../../runtime/engine/cancellation.ts';
import { WeftError } from '../../runtime/errors.ts';
import { networkError } from '../http/network-errors.ts';
import { tlsConnector } from '../tls/undici-connector.ts';
import { INCOMPLETE, type ReplyReader } from './tcp-pool.ts';

const undici = lazyModule<typeof import('undici')>('undici');

const MEDIA_TYPE = 'application/x-thrift';

export class HttpTransport {
  readonly #pool: Pool;
  readonly #url: URL;
  readonly #endpoint: string;

  constructor(url: URL, maxReply: number, max: number, endpoint: string, tls: ConnectionOptions | undefined) {
    this.#url = url;
    this.#endpoint = endpoint;
    const options = { maxResponseSize: maxReply, connections: max, keepAliveTimeout: 4_000 };
    this.#pool = new undici.Pool(url.origin, url.protocol === 'https:' ? { ...options, connect: tlsConnector(tls ?? {}) } : options);
  }

  async request<T>(message: Buffer, read: ReplyReader<T> | undefined, cancel: Cancellation | undefined): Promise<T | undefined> {
    const path = this.#url.pathname + this.#url.search;
    let status: number;
    let bytes: Buffer;
    try {
      const res = await this.#pool.request({
        path,
        method: 'POST',
        headers: { 'content-type': MEDIA_TYPE, accept: MEDIA_TYPE },
        body: message,
        signal: signalOf(cancel),
      });
      status = res.statusCode;
      bytes = Buffer.from(await res.body.arrayBuffer());
    } catch (err) {
      if (cancel?.aborted) throw err;
      throw networkError(err, this.#endpoint, this.#url.href);
    }
    if (status >= 400) {
      throw new WeftError('UPSTREAM_STATUS', `${this.#endpoint} answered ${status} to POST ${this.#url.href}`, {
        endpoint: this.#endpoint,
        details: { upstream: { status, body: bytes.toString('utf8') } },
      });
    }
    if (read === undefined) return undefined;
    const value = read(bytes);
    if (value === INCOMPLETE) throw new WeftError('UPSTREAM_MALFORMED', `reply of ${this.#endpoint} is not valid Thrift: the body ends early`, { endpoint: this.#endpoint });
    return value;
  }

  async stop(deadline: AbortSignal): Promise<void> {
    const forced = new Promise<void>((resolve) => deadline.addEventListener('abort', () => resolve(void this.#pool.destroy()), { once: true }));
    await Promise.race([this.#pool.close(), forced]);
  }
}
