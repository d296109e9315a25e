/**
 * A pool of TCP connections to one Thrift server, with framed or buffered transport. Thrift
 * servers answer the calls of one connection in order, one at a time, so a connection carries
 * one call at a time and concurrency comes from the pool (`pool` connections at most, later
 * calls wait for a free one). A connection that fails, times out or desynchronises is dropped;
 * the next call opens a new one (that is the reconnect). Replies are bounded by `maxReply`.
 */
import { connect, type Socket } from 'node:net';
import { connect as connectTls, type ConnectionOptions } from 'node:tls';
import type { Cancellation } from '../../runtime/engine/cancellation.ts';
import { WeftError } from '../../runtime/errors.ts';
import { networkError } from '../http/network-errors.ts';

/** Returned by a reply reader when the bytes so far are not a whole reply yet. */
export const INCOMPLETE: unique symbol = Symbol('weft.thrift.incomplete');
export type ReplyReader<T> = (bytes: Buffer) => T | typeof INCOMPLETE;

export interface TcpPoolOptions {
  host: string;
  port: number;
  framed: boolean;
  max: number;
  maxReply: number;
  endpoint: string;
  /** TLS options (the endpoint's `tls`); plain TCP without them. */
  tls?: ConnectionOptions;
}

interface Waiter {
  resolve(c: Connection): void;
  reject(err: unknown): void;
}

/** One socket and the bytes it has received since the current call was sent. */
class Connection {
  readonly socket: Socket;
  #chunks: Buffer[] = [];
  #size = 0;
  #wake: ((err?: unknown) => void) | undefined;
  dead = false;

  constructor(socket: Socket, onDead: (c: Connection) => void) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.#chunks.push(chunk);
      this.#size += chunk.length;
      this.#wake?.();
    });
    const die = (err?: unknown) => {
      if (this.dead) return;
      this.dead = true;
      onDead(this);
      this.#wake?.(err ?? Object.assign(new Error('connection closed before the reply was complete'), { code: 'ECONNRESET' }));
    };
    socket.on('error', die);
    socket.on('close', () => die());
  }

  get received(): number {
    return this.#size;
  }

  /** The bytes received so far, as one buffer. */
  bytes(): Buffer {
    if (this.#chunks.length > 1) this.#chunks = [Buffer.concat(this.#chunks, this.#size)];
    return this.#chunks[0] ?? Buffer.alloc(0);
  }

  /**
   * Resolves true on the next data, false when `idleMs` pass without any; rejects when the
   * socket dies or `cancel` fires.
   */
  more(cancel: Cancellation | undefined, idleMs?: number): Promise<boolean> {
    return new Promise((resolve, reject) => {
      if (this.dead) return reject(Object.assign(new Error('connection closed before the reply was complete'), { code: 'ECONNRESET' }));
      if (cancel?.aborted) return reject(cancel.reason);
      const listener = { cancelled: (reason: unknown) => finish(reason) };
      const idle = idleMs === undefined ? undefined : setTimeout(() => finish(undefined, false), idleMs);
      const finish = (err?: unknown, data = true) => {
        this.#wake = undefined;
        clearTimeout(idle);
        cancel?.unlisten(listener);
        if (err === undefined) resolve(data);
        else reject(err);
      };
      cancel?.listen(listener);
      this.#wake = finish;
    });
  }

  reset(): void {
    this.#chunks = [];
    this.#size = 0;
  }
}

export class TcpPool {
  readonly #o: TcpPoolOptions;
  #idle: Connection[] = [];
  #open = 0;
  #busy = 0;
  #waiters: Waiter[] = [];
  #stopping = false;
  #lastError: string | undefined;
  #idleWait: (() => void) | undefined;
  // Every live connection, so stop() can destroy what is still busy at the deadline.
  #all = new Set<Connection>();

  constructor(options: TcpPoolOptions) {
    this.#o = options;
  }

  get target(): string {
    return `${this.#o.host}:${this.#o.port}`;
  }

  /** Opens the first connection, so a misconfigured address shows at start (health), not at the first message. */
  async warm(): Promise<void> {
    try {
      const c = await this.#connect(undefined);
      this.#idle.push(c);
    } catch {
      // Recorded in #lastError: the endpoint reports unhealthy and retries on the first call.
    }
  }

  health(): { ok: boolean; detail?: string } {
    return this.#lastError === undefined ? { ok: true } : { ok: false, detail: this.#lastError };
  }

  /**
   * Sends one message and, unless `read` is undefined (oneway), reads its reply. The connection
   * is returned to the pool only after a clean exchange; on any failure it is closed.
   */
  async request<T>(message: Buffer, read: ReplyReader<T> | undefined, cancel: Cancellation | undefined): Promise<T | undefined> {
    const c = await this.#acquire(cancel);
    this.#busy++;
    let reusable = false;
    try {
      c.reset();
      await this.#write(c, message, cancel);
      const result = read === undefined ? undefined : await this.#readReply(c, read, cancel);
      // A oneway call that got bytes back has desynchronised the connection.
      reusable = !c.dead && (read !== undefined || c.received === 0);
      return result;
    } catch (err) {
      // A cancellation is the caller's (the endpoint policy names it TIMEOUT or ABORTED).
      if (cancel?.aborted) throw err;
      throw networkError(err, this.#o.endpoint, this.target);
    } finally {
      this.#busy--;
      this.#release(c, reusable);
      if (this.#busy === 0) this.#idleWait?.();
    }
  }

  async stop(deadline: AbortSignal): Promise<void> {
    this.#stopping = true;
    for (const w of this.#waiters.splice(0)) w.reject(new WeftError('SHUTTING_DOWN', `endpoint ${this.#o.endpoint} is stopping`));
    for (const c of this.#idle.splice(0)) c.socket.end();
    if (this.#busy > 0) {
      await new Promise<void>((resolve) => {
        this.#idleWait = resolve;
        deadline.addEventListener('abort', () => resolve(), { once: true });
      });
    }
    this.#all.forEach((c) => c.socket.destroy());
  }

  async #acquire(cancel: Cancellation | undefined): Promise<Connection> {
    if (this.#stopping) throw new WeftError('SHUTTING_DOWN', `endpoint ${this.#o.endpoint} is stopping`);
    for (let c = this.#idle.pop(); c; c = this.#idle.pop()) if (!c.dead) return c;
    if (this.#open < this.#o.max) return this.#connect(cancel);
    return new Promise<Connection>((resolve, reject) => {
      // A waiter can be cancelled after #release took it off the queue, while a connection is
      // being opened for it: that connection must go back to the pool, or it stays counted as
      // open, used by nobody, and after `max` such hang-ups every call waits forever.
      let settled = false;
      const listener = {
        cancelled: (reason: unknown) => {
          settled = true;
          this.#waiters = this.#waiters.filter((w) => w !== waiter);
          reject(reason);
        },
      };
      const waiter: Waiter = {
        resolve: (c) => {
          cancel?.unlisten(listener);
          if (settled) return this.#release(c, true);
          settled = true;
          resolve(c);
        },
        reject: (err) => {
          cancel?.unlisten(listener);
          settled = true;
          reject(err);
        },
      };
      this.#waiters.push(waiter);
      cancel?.listen(listener);
    });
  }

  #release(c: Connection, reusable: boolean): void {
    if (!reusable || this.#stopping) c.socket.destroy();
    const waiter = this.#waiters.shift();
    if (!waiter) {
      if (reusable && !this.#stopping) this.#idle.push(c);
      return;
    }
    if (reusable && !c.dead) return waiter.resolve(c);
    // The freed slot goes to the waiter as a fresh connection.
    this.#connect(undefined).then(waiter.resolve, waiter.reject);
  }

  #connect(cancel: Cancellation | undefined): Promise<Connection> {
    this.#open++;
    return new Promise<Connection>((resolve, reject) => {
      if (cancel?.aborted) {
        this.#open--;
        return reject(cancel.reason);
      }
      // Not net.connect's own `signal` option: it would stay bound to the socket and kill it,
      // pooled and serving another call by then, when this call's timer fires later.
      const { host, port, tls } = this.#o;
      const socket = tls ? connectTls({ ...tls, host, port }).setNoDelay(true).setKeepAlive(true) : connect({ host, port, noDelay: true, keepAlive: true });
      const listener = {
        cancelled: (reason: unknown) => {
          socket.off('error', fail);
          this.#open--;
          socket.destroy();
          reject(reason);
        },
      };
      const fail = (err: unknown) => {
        cancel?.unlisten(listener);
        this.#open--;
        this.#lastError = `cannot connect to ${this.target}: ${(err as Error)?.message ?? err}`;
        socket.destroy();
        reject(networkError(err, this.#o.endpoint, this.target));
      };
      cancel?.listen(listener);
      socket.once('error', fail);
      // A TLS socket is usable once the handshake is done (and the peer verified), not at connect.
      socket.once(tls ? 'secureConnect' : 'connect', () => {
        cancel?.unlisten(listener);
        socket.off('error', fail);
        this.#lastError = undefined;
        const c = new Connection(socket, (dead) => {
          this.#open--;
          this.#all.delete(dead);
          this.#idle = this.#idle.filter((i) => i !== dead);
        });
        this.#all.add(c);
        resolve(c);
      });
    });
  }

  #write(c: Connection, message: Buffer, cancel: Cancellation | undefined): Promise<void> {
    return new Promise((resolve, reject) => {
      if (cancel?.aborted) return reject(cancel.reason);
      let data = message;
      if (this.#o.framed) {
        const header = Buffer.allocUnsafe(4);
        header.writeInt32BE(message.length);
        data = Buffer.concat([header, message]);
      }
      c.socket.write(data, (err) => (err ? reject(err) : resolve()));
    });
  }

  async #readReply<T>(c: Connection, read: ReplyReader<T>, cancel: Cancellation | undefined): Promise<T> {
    const { framed, maxReply, endpoint } = this.#o;
    // A buffered reply has no length: it is complete when it decodes. Decoding is retried when
    // the bytes have doubled since the last try, or when the peer pauses (BUFFERED_IDLE_MS), so
    // a reply in many small chunks costs a few decodes, not one per chunk.
    let tried = 0;
    let paused = false;
    // Bounded: each pass waits for new bytes or a pause, and the reply is capped at maxReply.
    for (;;) {
      const bytes = c.bytes();
      if (framed && bytes.length >= 4) {
        const size = bytes.readInt32BE(0);
        if (size < 0 || size > maxReply) throw tooLarge(endpoint, size, maxReply);
        if (bytes.length >= 4 + size) {
          if (bytes.length > 4 + size) throw new WeftError('UPSTREAM_MALFORMED', `${endpoint} sent ${bytes.length - 4 - size} bytes after the reply frame`, { endpoint });
          const value = read(bytes.subarray(4));
          if (value === INCOMPLETE) throw new WeftError('UPSTREAM_MALFORMED', `reply of ${endpoint} is not valid Thrift: it ends before its frame does`, { endpoint });
          return value;
        }
      } else if (!framed && bytes.length > tried && (paused || bytes.length >= 2 * tried)) {
        tried = bytes.length;
        const value = read(bytes);
        if (value !== INCOMPLETE) return value;
        if (bytes.length > maxReply) throw tooLarge(endpoint, bytes.length, maxReply);
      }
      paused = !(await c.more(cancel, !framed && c.received > tried ? BUFFERED_IDLE_MS : undefined));
    }
  }
}

const BUFFERED_IDLE_MS = 2;

function tooLarge(endpoint: string, size: number, max: number): WeftError {
  return new WeftError('UPSTREAM_TOO_LARGE', `reply of ${endpoint} (${size} bytes) exceeds maxBody (${max} bytes)`, { endpoint });
}
