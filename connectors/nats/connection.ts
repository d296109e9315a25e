/**
 * One NATS connection that keeps reconnecting (the client's own reconnect, unbounded, with
 * jitter) and reports whether it is up. A server that is down when the flow starts is not
 * fatal: the first connection is retried in the background while the flow reports not ready.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { lazyModule } from '../../runtime/lazy.ts';
import { settleWithin } from '../../runtime/engine/startup.ts';
import type { Logger } from '../../runtime/log.ts';

// The NATS client is loaded when a flow first connects, not when the runtime starts.
const nats = lazyModule<typeof import('@nats-io/transport-node')>('@nats-io/transport-node');

export interface NatsLink {
  readonly connected: boolean;
  /** Connects in the background; `ready` runs after the first connection. Resolves once connected (or after a short grace). */
  open(ready: (nc: NatsConnection) => Promise<void>): Promise<void>;
  close(): Promise<void>;
  readonly connection: NatsConnection | undefined;
}

export function natsLink(url: string, name: string, log: Logger): NatsLink {
  let nc: NatsConnection | undefined;
  let connected = false;
  let closed = false;
  const servers = url.replace(/^nats:\/\//, '');
  return {
    get connected() {
      return connected;
    },
    get connection() {
      return nc;
    },
    open(ready) {
      let connectedOnce: () => void = () => {};
      const first = new Promise<void>((resolve) => (connectedOnce = resolve));
      void (async () => {
        try {
          nc = await nats.connect({ servers, name, waitOnFirstConnect: true, maxReconnectAttempts: -1, reconnectTimeWait: 500 });
        } catch (err) {
          log.error({ nats: name, reason: (err as Error).message }, 'nats connection failed');
          return;
        }
        if (closed) return void nc.close();
        connected = true;
        connectedOnce();
        log.info({ nats: name }, 'nats connected');
        void (async () => {
          for await (const s of nc.status()) {
            if (s.type === 'disconnect') {
              connected = false;
              log.warn({ nats: name }, 'nats connection lost; reconnecting');
            } else if (s.type === 'reconnect') {
              connected = true;
              log.info({ nats: name }, 'nats reconnected');
            }
          }
        })();
        try {
          await ready(nc);
        } catch (err) {
          log.error({ nats: name, reason: (err as Error).message }, 'nats set-up failed');
        }
      })();
      return settleWithin(first);
    },
    async close() {
      closed = true;
      connected = false;
      if (nc && !nc.isClosed()) await nc.drain().catch(() => nc?.close());
    },
  };
}

/** NATS headers -> the flow's `headers` (lower-cased; repeated values joined by ", "). */
export function headersOfNats(h: Iterable<[string, string[]]> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (h) for (const [k, v] of h) out[k.toLowerCase()] = v.join(', ');
  return out;
}
