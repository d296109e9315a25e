/**
 * `amqp` endpoint: publishes to a RabbitMQ exchange over one recovering connection and one
 * confirm channel. A `publish` step completes when the broker confirmed the message; a message
 * no queue would receive fails with UNROUTABLE instead of vanishing (mandatory flag).
 */
import type { ChannelModel } from 'amqplib';
import { randomUUID } from 'node:crypto';
import type { Endpoint, EndpointDef, OutboundMessage } from '../../runtime/contract.ts';
import { createUntypedCodec, UNTYPED_FORMATS, type UntypedFormat } from '../../runtime/codecs/formats.ts';
import { WeftError } from '../../runtime/errors.ts';
import { publishOnly } from '../../runtime/steps/publish.ts';
import { confirmedPublisher, type ConfirmedPublish } from './confirm.ts';
import { amqpConnection, redactUrl } from './connection.ts';
import { publishOptions } from './properties.ts';

interface AmqpEndpointConfig {
  url: string;
  exchange?: string;
  exchangeType?: 'direct' | 'topic' | 'fanout' | 'headers';
  format?: UntypedFormat;
  queues?: string[];
}

export const amqpEndpoint: EndpointDef<AmqpEndpointConfig> = {
  name: 'amqp',
  summary: 'Publishes to a RabbitMQ exchange with publisher confirms; unroutable messages are errors.',
  schema: {
    type: 'object',
    properties: {
      url: { type: 'string', pattern: '^amqps?://', 'x-weft-expected': 'an amqp:// or amqps:// URL', description: 'Broker URL.' },
      exchange: { type: 'string', description: 'Exchange to publish to. Default: the default exchange (routing key = queue name).' },
      exchangeType: {
        enum: ['direct', 'topic', 'fanout', 'headers'],
        description: 'Declare the exchange (durable) with this type at connect. Without it the exchange must exist.',
      },
      format: { enum: [...UNTYPED_FORMATS], description: 'Body format of published messages. Default json.' },
      queues: {
        type: 'array',
        items: { type: 'string', minLength: 1 },
        description: 'Durable queues to declare at connect (e.g. a dead-letter queue), so that publishing to them by name through the default exchange is never unroutable.',
      },
    },
    required: ['url'],
    additionalProperties: false,
  },
  create(name, config, at) {
    const exchange = config.exchange ?? '';
    if (config.exchangeType && exchange === '') at.problem('FLOW_SCHEMA', 'exchangeType needs an exchange name', 'exchangeType');
    // A queue is addressed by name only through the default exchange; binding it elsewhere is the consumer's job.
    if (config.queues?.length && exchange !== '') at.problem('FLOW_SCHEMA', 'queues are declared for the default exchange; drop `exchange` or declare them in the consuming flow', 'queues');
    const codec = createUntypedCodec(config.format ?? 'json');
    let publish: ConfirmedPublish | undefined;
    let lastProblem: string | undefined;

    const setup = async (model: ChannelModel): Promise<void> => {
      const ch = await model.createConfirmChannel();
      ch.on('error', (err: Error) => (lastProblem = err.message));
      ch.on('close', () => {
        publish = undefined;
        // Closed by the broker (e.g. the exchange was deleted): recycle to recover.
        model.close().catch(() => {});
      });
      try {
        if (config.exchangeType) await ch.assertExchange(exchange, config.exchangeType, { durable: true });
        else if (exchange !== '') await ch.checkExchange(exchange);
      } catch (err) {
        lastProblem = `exchange '${exchange}' cannot be used: ${(err as Error).message}`;
        throw err;
      }
      for (const q of config.queues ?? []) {
        await ch.assertQueue(q, { durable: true }).catch((err: Error) => {
          lastProblem = `queue '${q}' cannot be declared: ${err.message}`;
          throw err;
        });
      }
      lastProblem = undefined;
      publish = confirmedPublisher(ch, name);
    };
    const connection = amqpConnection({ url: config.url, name: `weft:${at.flow.name}:${name}`, log: at.log, setup, lost: () => (publish = undefined) });

    return {
      name,
      kind: 'amqp',
      publisher: {
        codec,
        async send(m: OutboundMessage, cancel) {
          if (!publish) {
            throw new WeftError('CONNECTION_FAILED', `amqp endpoint ${name} is not connected to ${redactUrl(config.url)}${lastProblem ? `: ${lastProblem}` : ''}`, { endpoint: name });
          }
          const payload = typeof m.payload === 'string' ? Buffer.from(m.payload) : Buffer.from(m.payload.buffer, m.payload.byteOffset, m.payload.byteLength);
          const messageId = randomUUID();
          await publish(exchange, m.key, payload, { ...publishOptions(m.headers, m.contentType, messageId, m.correlationId), messageId }, cancel);
        },
      },
      prepare: (_call, cat) => publishOnly(name, 'amqp', cat),
      start: () => connection.open(),
      stop: () => connection.close(),
      health: () => (publish ? { ok: true } : { ok: false, detail: lastProblem ?? 'broker not connected' }),
    } satisfies Endpoint;
  },
};
