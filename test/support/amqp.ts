/** A test's own view of RabbitMQ: fresh queues, a producer with confirms, a collecting consumer. */
import amqp, { type ChannelModel, type ConfirmChannel, type ConsumeMessage, type Options } from 'amqplib';
import { randomUUID } from 'node:crypto';

export const AMQP_URL = process.env.WEFT_TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
export const AMQP_PORT = 5672;

export interface Broker {
  ch: ConfirmChannel;
  /** A queue name nobody else uses; deleted (with its retry queue) by close(). */
  queue(prefix: string): Promise<string>;
  send(queue: string, body: string | Buffer | object, options?: Options.Publish): Promise<void>;
  /** Starts collecting every message of `queue` (acked at once). */
  collect(queue: string): Promise<ConsumeMessage[]>;
  close(): Promise<void>;
}

export async function openBroker(): Promise<Broker> {
  const conn: ChannelModel = await amqp.connect(AMQP_URL);
  const ch = await conn.createConfirmChannel();
  const made: string[] = [];
  return {
    ch,
    async queue(prefix) {
      const name = `weft-test.${prefix}.${randomUUID().slice(0, 8)}`;
      await ch.assertQueue(name, { durable: true });
      made.push(name, `${name}.retry`);
      return name;
    },
    async send(queue, body, options = {}) {
      const isJson = typeof body === 'object' && !Buffer.isBuffer(body);
      const content = Buffer.isBuffer(body) ? body : Buffer.from(isJson ? JSON.stringify(body) : (body as string));
      ch.sendToQueue(queue, content, { persistent: true, contentType: isJson ? 'application/json' : undefined, ...options });
      await ch.waitForConfirms();
    },
    async collect(queue) {
      const got: ConsumeMessage[] = [];
      await ch.consume(queue, (m) => {
        if (m) {
          got.push(m);
          ch.ack(m);
        }
      });
      return got;
    },
    async close() {
      for (const q of made) await ch.deleteQueue(q).catch(() => {});
      await conn.close().catch(() => {});
    },
  };
}

export const jsonBody = (m: ConsumeMessage): any => JSON.parse(m.content.toString('utf8'));
