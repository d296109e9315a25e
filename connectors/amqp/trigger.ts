/**
 * `amqp` trigger: consumes one RabbitMQ queue with manual acknowledgement. Each message is
 * acknowledged only after the pipeline finished (or after its dead letter was confirmed);
 * a failed message is re-published to the queue's retry queue (`<queue>.retry`, a durable
 * queue whose messages expire after `retryDelay` and dead-letter back into the queue) with its
 * attempt count, and the original acked only once that copy was confirmed. A process killed
 * at any point leaves every unfinished message unacknowledged, so RabbitMQ redelivers it to
 * the next consumer.
 */
import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import { randomUUID } from 'node:crypto';
import type { Trigger, TriggerDef } from '../../runtime/contract.ts';
import { createDeliveryHandler, DELIVERY_REQUIRED, DELIVERY_SCHEMA_PROPERTIES, type DeliveryConfig } from '../../runtime/engine/delivery.ts';
import { createLimiter } from '../../runtime/engine/limiter.ts';
import { confirmedPublisher, type ConfirmedPublish } from './confirm.ts';
import { amqpConnection, redactUrl } from './connection.ts';
import { headersOf } from './properties.ts';

interface AmqpTriggerConfig extends DeliveryConfig {
  url: string;
  queue: string;
  declare?: boolean;
  exchange?: { name: string; type?: 'direct' | 'topic' | 'fanout' | 'headers'; keys?: string[] };
  prefetch?: number;
}

/** Headers Weft adds to a retried copy; the flow sees the original routing key, not the retry queue's. */
const ATTEMPTS = 'x-weft-attempts';
const ORIGINAL_KEY = 'x-weft-routing-key';
const ORIGINAL_EXCHANGE = 'x-weft-exchange';

interface Held {
  msg: ConsumeMessage;
  ch: ConfirmChannel;
  publish: ConfirmedPublish;
}

export const amqpTrigger: TriggerDef<AmqpTriggerConfig> = {
  name: 'amqp',
  summary: 'Consumes a RabbitMQ (AMQP 0-9-1) queue, at least once: ack after the last step, retries, dead letters.',
  schema: {
    type: 'object',
    properties: {
      url: { type: 'string', pattern: '^amqps?://', 'x-weft-expected': 'an amqp:// or amqps:// URL', description: 'Broker URL, e.g. amqp://user:pass@rabbit:5672/vhost.' },
      queue: { type: 'string', minLength: 1, description: 'Queue to consume.' },
      declare: { type: 'boolean', description: 'Declare the queue (durable) and its retry queue at connect. Default true; false only checks they exist.' },
      exchange: {
        type: 'object',
        description: 'Declare an exchange (durable) and bind the queue to it.',
        properties: {
          name: { type: 'string', minLength: 1 },
          type: { enum: ['direct', 'topic', 'fanout', 'headers'], description: 'Default topic.' },
          keys: { type: 'array', items: { type: 'string' }, description: 'Binding keys. Default ["#"].' },
        },
        required: ['name'],
        additionalProperties: false,
      },
      prefetch: { type: 'integer', minimum: 1, maximum: 65535, description: 'Unacknowledged messages the broker hands this process. Default: concurrency.' },
      ...DELIVERY_SCHEMA_PROPERTIES,
    },
    required: ['url', 'queue', ...DELIVERY_REQUIRED],
    additionalProperties: false,
  },

  create(config, at, pipeline, services) {
    const handler = createDeliveryHandler(config, at, pipeline, services);
    const { log, inflight } = services;
    const queue = config.queue;
    const retryQueue = `${queue}.retry`;
    const declare = config.declare ?? true;
    const prefetch = config.prefetch ?? handler.concurrency;
    let stopping = false;
    let consuming: { ch: Channel; tag: string } | undefined;

    const settle = (held: Held, action: (ch: ConfirmChannel) => void): void => {
      try {
        action(held.ch);
      } catch (err) {
        // The channel died under the message: the broker has already put it back.
        log.warn({ queue, reason: (err as Error).message }, 'could not settle a message on a closed channel; the broker redelivers it');
      }
    };

    /**
     * Puts a copy of the message on `target` carrying how many attempts it has had, and acks
     * the original only once the copy is confirmed (else returns it to the queue): the count
     * lives in the message, so it survives any process.
     */
    const replaceWithCopy = async (held: Held, tried: number, routingKey: string, exchange: string, target: string, expiration?: number): Promise<void> => {
      const { msg } = held;
      try {
        const copy = { ...msg.properties.headers, [ATTEMPTS]: tried, [ORIGINAL_KEY]: routingKey, [ORIGINAL_EXCHANGE]: exchange };
        await held.publish('', target, msg.content, {
          ...msg.properties,
          headers: copy,
          messageId: msg.properties.messageId ?? randomUUID(),
          expiration: expiration === undefined ? undefined : String(expiration),
          persistent: true,
          mandatory: true,
        });
        settle(held, (ch) => ch.ack(msg));
      } catch (err) {
        log.warn({ queue, reason: (err as Error).message }, 'copy not confirmed; returning the message to the queue');
        settle(held, (ch) => ch.nack(msg, false, true));
      }
    };

    const processOne = async (held: Held): Promise<void> => {
      const { msg } = held;
      try {
        const table = msg.properties.headers ?? {};
        const tried = Number(table[ATTEMPTS] ?? 0);
        const headers = headersOf(msg.properties);
        const routingKey = headers[ORIGINAL_KEY] ?? msg.fields.routingKey;
        const exchange = headers[ORIGINAL_EXCHANGE] ?? msg.fields.exchange;
        for (const h of [ATTEMPTS, ORIGINAL_KEY, ORIGINAL_EXCHANGE]) delete headers[h];
        // Redelivered: its last delivery never finished (the process was killed or crashed,
        // perhaps by this very message; or the connection dropped). Count that attempt before
        // running anything, in a copy at the back of the queue, so that a message that kills
        // every process still reaches maxDeliveries; past it, the handler dead-letters it.
        const attempt = tried + (msg.fields.redelivered ? 2 : 1);
        if (msg.fields.redelivered && attempt <= handler.maxDeliveries) return await replaceWithCopy(held, tried + 1, routingKey, exchange, queue);
        const outcome = await handler.handle({
          id: msg.properties.messageId ?? randomUUID(),
          bytes: msg.content,
          contentType: msg.properties.contentType,
          headers,
          params: { queue, exchange, routingKey, redelivered: String(msg.fields.redelivered), attempt: String(attempt) },
          attempt,
        });
        if (outcome.action === 'ack') return settle(held, (ch) => ch.ack(msg));
        await replaceWithCopy(held, attempt, routingKey, exchange, retryQueue, outcome.delayMs);
      } finally {
        inflight.leave();
      }
    };
    const limiter = createLimiter(handler.concurrency, processOne);

    const setup = async (model: ChannelModel): Promise<void> => {
      const ch = await model.createConfirmChannel();
      ch.on('error', (err: Error) => log.warn({ queue, reason: err.message }, 'amqp channel error'));
      ch.on('close', () => {
        if (consuming?.ch === ch) consuming = undefined;
        // A channel the broker closed (queue deleted, access refused) while the connection
        // lives: recycle the connection so recovery declares and consumes again.
        if (!stopping) model.close().catch(() => {});
      });
      const publish = confirmedPublisher(ch, undefined);
      if (declare) {
        await ch.assertQueue(queue, { durable: true });
        await ch.assertQueue(retryQueue, { durable: true, arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': queue } });
      } else {
        await ch.checkQueue(queue);
        await ch.checkQueue(retryQueue);
      }
      if (config.exchange) {
        const { name, type = 'topic', keys = ['#'] } = config.exchange;
        await ch.assertExchange(name, type, { durable: true });
        for (const key of keys) await ch.bindQueue(queue, name, key);
      }
      await ch.prefetch(prefetch);
      if (stopping) return;
      const { consumerTag } = await ch.consume(
        queue,
        (msg) => {
          if (msg === null) {
            log.warn({ queue }, 'the broker cancelled the consumer (queue deleted?); reconnecting');
            model.close().catch(() => {});
            return;
          }
          inflight.enter();
          limiter.submit({ msg, ch, publish });
        },
        { noAck: false },
      );
      consuming = { ch, tag: consumerTag };
    };

    const connection = amqpConnection({ url: config.url, name: `weft:${at.flow.name}:trigger`, log, setup, lost: () => (consuming = undefined) });

    return {
      describe: `amqp queue ${queue} at ${redactUrl(config.url)}`,
      // Where it listens: the broker (without credentials); the queue is in `describe`.
      address: () => redactUrl(config.url),
      start: () => connection.open(),
      async stop(deadline) {
        stopping = true;
        const c = consuming;
        if (c) await c.ch.cancel(c.tag).catch(() => {});
        // Prefetched but not started: back to the queue for another consumer, unprocessed.
        for (const held of limiter.drainWaiting()) {
          settle(held, (ch) => ch.nack(held.msg, false, true));
          inflight.leave();
        }
        await limiter.idle(deadline);
        // Close the channel before the connection: amqplib may send a connection close ahead
        // of acks still queued on a channel, and the broker would then redeliver those.
        if (c) await c.ch.close().catch(() => {});
        await connection.close();
      },
      health: () => (consuming ? { ok: true } : { ok: false, detail: connection.connected ? `not consuming ${queue}` : 'broker not connected' }),
    } satisfies Trigger;
  },
};
