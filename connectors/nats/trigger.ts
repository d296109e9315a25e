/**
 * `nats` trigger: a JetStream durable pull consumer with explicit acks. The consumer lives on
 * the server (durable name), so replicas with the same durable share the work and a restarted
 * process resumes where the last one stopped. `max_ack_pending` caps unacknowledged messages
 * (the prefetch); a failed message is nak'ed with `retryDelay` and the server redelivers it,
 * counting deliveries itself; a message whose ack never came (process killed) is redelivered
 * after `ackWait`.
 */
import type { ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import { lazyModule } from '../../runtime/lazy.ts';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Trigger, TriggerDef } from '../../runtime/contract.ts';
import { createDeliveryHandler, DELIVERY_REQUIRED, DELIVERY_SCHEMA_PROPERTIES, type DeliveryConfig } from '../../runtime/engine/delivery.ts';
import { createLimiter } from '../../runtime/engine/limiter.ts';
import { ref } from '../../runtime/flow/schema-parts.ts';
import { parseDuration } from '../../runtime/units.ts';
import { headersOfNats, natsLink } from './connection.ts';

// The JetStream client is loaded when the trigger starts, not when the runtime starts.
const js = lazyModule<typeof import('@nats-io/jetstream')>('@nats-io/jetstream');

interface NatsTriggerConfig extends DeliveryConfig {
  url: string;
  stream: string;
  subject: string;
  durable?: string;
  prefetch?: number;
  ackWait?: string | number;
}

export const natsTrigger: TriggerDef<NatsTriggerConfig> = {
  name: 'nats',
  summary: 'Consumes a NATS JetStream subject through a durable consumer, at least once: ack after the last step, retries, dead letters.',
  schema: {
    type: 'object',
    properties: {
      url: { type: 'string', pattern: '^nats://', 'x-weft-expected': 'a nats:// URL', description: 'Server URL, e.g. nats://nats:4222.' },
      stream: { type: 'string', minLength: 1, description: 'JetStream stream; created with `subject` when it does not exist.' },
      subject: { type: 'string', minLength: 1, description: 'Subject filter (wildcards * and >).' },
      durable: { type: 'string', pattern: '^[A-Za-z0-9_-]+$', description: 'Durable consumer name, shared by replicas. Default: the flow name.' },
      prefetch: { type: 'integer', minimum: 1, maximum: 65535, description: 'Unacknowledged messages the server hands out (max_ack_pending). Default: concurrency.' },
      ackWait: { ...ref.duration, description: 'Time before an unacknowledged message is delivered again. Default 30s.' },
      ...DELIVERY_SCHEMA_PROPERTIES,
    },
    required: ['url', 'stream', 'subject', ...DELIVERY_REQUIRED],
    additionalProperties: false,
  },

  create(config, at, pipeline, services) {
    const handler = createDeliveryHandler(config, at, pipeline, services);
    const { log, inflight } = services;
    const durable = config.durable ?? at.flow.name;
    const prefetch = config.prefetch ?? handler.concurrency;
    const ackWaitMs = config.ackWait === undefined ? 30_000 : parseDuration(config.ackWait);
    const link = natsLink(config.url, `weft:${at.flow.name}:trigger`, log);
    let messages: ConsumerMessages | undefined;
    let stopping = false;
    /** Pulled but not handed to the limiter when stop() began; returned to the server by stop(). */
    const unstarted: JsMsg[] = [];

    const processOne = async (m: JsMsg): Promise<void> => {
      try {
        const headers = headersOfNats(m.headers);
        const attempt = m.info.deliveryCount;
        const outcome = await handler.handle({
          id: headers['nats-msg-id'] ?? `${config.stream}:${m.seq}`,
          bytes: m.data,
          contentType: headers['content-type'],
          headers,
          params: { subject: m.subject, stream: config.stream, sequence: String(m.seq), attempt: String(attempt) },
          attempt,
        });
        if (outcome.action === 'ack') await m.ackAck().catch((err: Error) => log.warn({ reason: err.message }, 'nats ack not confirmed; the message may come again'));
        else m.nak(outcome.delayMs);
      } finally {
        inflight.leave();
      }
    };
    const limiter = createLimiter(handler.concurrency, processOne);

    const consume = async (nc: NatsConnection): Promise<void> => {
      const jsm = await js.jetstreamManager(nc);
      try {
        await jsm.streams.info(config.stream);
      } catch {
        await jsm.streams.add({ name: config.stream, subjects: [config.subject] });
        log.info({ stream: config.stream, subject: config.subject }, 'created JetStream stream');
      }
      const consumerConfig = {
        durable_name: durable,
        ack_policy: js.AckPolicy.Explicit,
        filter_subject: config.subject,
        max_ack_pending: prefetch,
        ack_wait: ackWaitMs * 1_000_000,
        max_deliver: -1,
      };
      try {
        await jsm.consumers.info(config.stream, durable);
        await jsm.consumers.update(config.stream, durable, { max_ack_pending: prefetch, ack_wait: consumerConfig.ack_wait, filter_subject: config.subject });
      } catch {
        await jsm.consumers.add(config.stream, consumerConfig);
      }
      const consumer = await js.jetstream(nc).consumers.get(config.stream, durable);
      messages = await consumer.consume({ max_messages: prefetch });
      for await (const m of messages) {
        if (stopping) {
          unstarted.push(m);
          continue;
        }
        inflight.enter();
        limiter.submit(m);
      }
    };

    return {
      describe: `nats stream ${config.stream} subject ${config.subject} (durable ${durable})`,
      address: () => config.url,
      start: () => link.open(consume),
      async stop(deadline) {
        stopping = true;
        // Messages pulled but not started go back to the server (nak) for another consumer, but
        // only once the server has dropped this process's pull requests (unsubscribe, then a
        // flush round trip): a nak'ed message is redelivered at once, and into a pull request
        // nobody reads any more it would wait for ackWait.
        messages?.stop();
        const waiting = limiter.drainWaiting();
        await messages?.closed();
        await link.connection?.flush().catch(() => {});
        for (const m of [...waiting, ...unstarted.splice(0)]) m.nak();
        for (const _ of waiting) inflight.leave();
        await limiter.idle(deadline);
        await link.close();
      },
      health: () => (link.connected && messages ? { ok: true } : { ok: false, detail: link.connected ? `not consuming ${config.stream}` : 'server not connected' }),
    } satisfies Trigger;
  },
};
