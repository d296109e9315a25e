/**
 * One AMQP connection that recovers by itself (amqplib's opt-in recovery: exponential backoff
 * with jitter, unbounded retries until stop). `setup` runs after every (re)connect and builds
 * the channels, topology and consumers again; `connected` drives health (/readyz). A broker
 * that is down at start is not fatal: the flow starts, logs each failed attempt, reports not
 * ready, and connects when the broker comes.
 */
import type amqpModule from 'amqplib';
import { lazyModule } from '../../runtime/lazy.ts';
import type { ChannelModel, RecoveringChannelModel } from 'amqplib';
import { settleWithin } from '../../runtime/engine/startup.ts';
import type { Logger } from '../../runtime/log.ts';

// amqplib is loaded when a flow first connects, not when the runtime starts.
const amqp = lazyModule<typeof amqpModule>('amqplib');

export interface AmqpConnection {
  readonly connected: boolean;
  open(): Promise<void>;
  close(): Promise<void>;
}

export interface ConnectionOptions {
  url: string;
  /** Shown in the RabbitMQ management UI, e.g. `weft:order-intake:trigger`. */
  name: string;
  log: Logger;
  setup(model: ChannelModel): Promise<void>;
  /** Called when the connection is lost (before recovery starts). */
  lost?(): void;
}

export function amqpConnection(options: ConnectionOptions): AmqpConnection {
  const { log } = options;
  let conn: RecoveringChannelModel | undefined;
  let connected = false;
  return {
    get connected() {
      return connected;
    },
    async open() {
      conn = await amqp.connect(options.url, {
        clientProperties: { connection_name: options.name },
        recovery: {
          waitForConnect: false,
          initialDelay: 100,
          maxDelay: 5000,
          maxRetries: Infinity,
          setup: options.setup,
        },
      });
      conn.on('connect', () => {
        connected = true;
        log.info({ amqp: options.name }, 'amqp connected');
      });
      conn.on('disconnect', (err: Error) => {
        connected = false;
        options.lost?.();
        log.warn({ amqp: options.name, reason: err.message }, 'amqp connection lost; reconnecting');
      });
      conn.on('reconnect-scheduled', ({ attempt, delay, error }: { attempt: number; delay: number; error: Error }) => {
        log.warn({ amqp: options.name, attempt, delayMs: delay, reason: error.message }, 'amqp broker unreachable; retrying');
      });
      conn.on('error', (err: Error) => log.warn({ amqp: options.name, reason: err.message }, 'amqp connection error'));
      await settleWithin(conn.waitForConnect());
    },
    async close() {
      connected = false;
      await conn?.close();
    },
  };
}

/** The user part of a URL is a secret: logs show the broker without it. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return '(invalid url)';
  }
}
