/** A test's own view of NATS JetStream: a fresh stream per test and subscribers that collect. */
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, headers, type Msg, type NatsConnection } from '@nats-io/transport-node';
import { randomUUID } from 'node:crypto';

export const NATS_URL = process.env.WEFT_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
export const NATS_PORT = 4222;

export interface Nats {
  nc: NatsConnection;
  /** A stream `S<id>` taking `t<id>.>`; returns the subject prefix. Deleted by close(). */
  stream(): Promise<{ stream: string; prefix: string }>;
  send(subject: string, body: string | object, hdrs?: Record<string, string>): Promise<void>;
  collect(subject: string): Msg[];
  close(): Promise<void>;
}

export async function openNats(): Promise<Nats> {
  const nc = await connect({ servers: NATS_URL.replace('nats://', '') });
  const jsm: JetStreamManager = await jetstreamManager(nc);
  const made: string[] = [];
  return {
    nc,
    async stream() {
      const id = randomUUID().slice(0, 8);
      const stream = `WEFT_TEST_${id}`;
      await jsm.streams.add({ name: stream, subjects: [`t${id}.>`] });
      made.push(stream);
      return { stream, prefix: `t${id}` };
    },
    async send(subject, body, hdrs = {}) {
      const h = headers();
      const isJson = typeof body === 'object';
      if (isJson) h.set('content-type', 'application/json');
      for (const [k, v] of Object.entries(hdrs)) h.set(k, v);
      await jetstream(nc).publish(subject, isJson ? JSON.stringify(body) : body, { headers: h });
    },
    collect(subject) {
      const got: Msg[] = [];
      nc.subscribe(subject, { callback: (_err, m) => void got.push(m) });
      return got;
    },
    async close() {
      for (const s of made) await jsm.streams.delete(s).catch(() => {});
      await nc.close();
    },
  };
}

export const natsJson = (m: Msg): any => JSON.parse(new TextDecoder().decode(m.data));
