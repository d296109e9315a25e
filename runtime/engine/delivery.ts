/**
 * At-least-once delivery: what every broker trigger (amqp, mqtt, nats) does with one message,
 * so that consume/acknowledge is the same pipeline as request/response, not a second engine.
 *
 * The connector hands over the bytes, headers and broker context of one delivery; this module
 * decodes the body, runs the pipeline and answers how the delivery is to be settled. The
 * connector acknowledges only on `ack`. Failures are retried (the connector redelivers after
 * `delayMs`) until `maxDeliveries`, then sent to the dead-letter target with the error in its
 * headers; a body that cannot be decoded is dead-lettered at once (retrying cannot help).
 * Nothing here acknowledges early, and nothing is dropped: a dead letter that cannot be sent
 * is itself a retry.
 */
import type { CompileContext, OutboundMessage, Pipeline, Publisher, RuntimeServices } from '../contract.ts';
import type { Codec } from '../codecs/codec.ts';
import { createCodecs, formatOfMediaType, mediaTypeOf, UNTYPED_FORMATS, type Format, type UntypedFormat } from '../codecs/formats.ts';
import { WeftError } from '../errors.ts';
import type { Template } from '../expr/template.ts';
import { ref } from '../flow/schema-parts.ts';
import { parseDuration, parseSize } from '../units.ts';
import { Exchange } from './exchange.ts';

/** The options every broker trigger takes beside its protocol's own. */
export interface DeliveryConfig {
  format?: UntypedFormat;
  concurrency?: number;
  maxDeliveries?: number;
  retryDelay?: string | number;
  maxBody?: string | number;
  deadLetter: { to: string; key: string };
}

export const DELIVERY_SCHEMA_PROPERTIES = {
  format: { enum: [...UNTYPED_FORMATS], description: 'Body format when a message has no content type. Default json.' },
  concurrency: { type: 'integer', minimum: 1, maximum: 10000, description: 'Messages processed at once by this process. Default 1 (in order).' },
  maxDeliveries: {
    type: 'integer',
    minimum: 1,
    maximum: 1000,
    description: 'Attempts before a failing message goes to deadLetter. Default 5.',
  },
  retryDelay: { ...ref.duration, description: 'Wait before a failed message is delivered again. Default 1s.' },
  maxBody: { ...ref.size, description: 'Largest message body; larger goes to deadLetter at once. Default 4mb.' },
  deadLetter: {
    type: 'object',
    description: 'Where messages go that cannot be decoded or failed maxDeliveries times: a broker endpoint and key.',
    properties: {
      to: { type: 'string', description: 'Name of a broker endpoint (amqp, mqtt, nats) under `endpoints:`.' },
      key: { ...ref.template, description: 'Routing key, topic or subject (template over the failed message).' },
    },
    required: ['to', 'key'],
    additionalProperties: false,
  },
} as const;

export const DELIVERY_REQUIRED = ['deadLetter'] as const;

/** One message as a broker delivered it. */
export interface Delivery {
  id: string;
  bytes: Uint8Array;
  /** The message's content type property, if it has one. */
  contentType: string | undefined;
  /** Broker properties and headers, lower-cased, as text. */
  headers: Record<string, string>;
  /** Where it came from: routing key, topic or subject, ...; `params` in expressions. */
  params: Record<string, string>;
  /** 1 on the first delivery. */
  attempt: number;
}

export type Settlement = { action: 'ack' } | { action: 'retry'; delayMs: number };

export interface DeliveryHandler {
  readonly concurrency: number;
  readonly maxDeliveries: number;
  handle(d: Delivery): Promise<Settlement>;
}

/** Headers the dead letter carries besides the original ones. */
export const ERROR_HEADERS = {
  code: 'x-weft-error-code',
  message: 'x-weft-error-message',
  step: 'x-weft-error-step',
  endpoint: 'x-weft-error-endpoint',
  attempts: 'x-weft-attempts',
} as const;

export function createDeliveryHandler(
  config: DeliveryConfig,
  at: CompileContext,
  pipeline: Pipeline,
  services: RuntimeServices,
): DeliveryHandler {
  const fallback: Format = config.format ?? 'json';
  const codecs = createCodecs();
  const maxDeliveries = config.maxDeliveries ?? 5;
  const retryDelayMs = config.retryDelay === undefined ? 1000 : parseDuration(config.retryDelay);
  const maxBody = config.maxBody === undefined ? 4 * 1024 * 1024 : parseSize(config.maxBody);
  const dl = at.child('deadLetter');
  const deadEndpoint = dl.endpoint(config.deadLetter.to, 'to');
  if (deadEndpoint && !deadEndpoint.publisher) {
    dl.problem('FLOW_REFERENCE', `deadLetter needs a broker endpoint (amqp, mqtt, nats); '${config.deadLetter.to}' is ${deadEndpoint.kind}`, 'to');
  }
  const deadKey: Template = dl.template(config.deadLetter.key, 'key');
  const { log } = services;
  const flow = { name: at.flow.name };
  const env = Object.freeze({ ...process.env });

  const decode = (ex: Exchange, d: Delivery): void => {
    if (d.bytes.length > maxBody) {
      throw new WeftError('PAYLOAD_TOO_LARGE', `message of ${d.bytes.length} bytes exceeds maxBody ${maxBody}`);
    }
    let format: Format | undefined = fallback;
    if (d.contentType) {
      format = formatOfMediaType(mediaTypeOf(d.contentType));
    }
    const codec = format && codecs.get(format);
    if (!codec) throw new WeftError('UNSUPPORTED_MEDIA_TYPE', `content type ${d.contentType} has no codec here; send json, xml or text`);
    if (d.bytes.length === 0) return;
    ex.setDecoded(d.bytes, codec, codec.decode(d.bytes));
  };

  const deadLetter = async (ex: Exchange, d: Delivery, e: WeftError): Promise<Settlement> => {
    const headers: Record<string, string> = { ...d.headers };
    delete headers['content-type'];
    headers[ERROR_HEADERS.code] = e.code;
    headers[ERROR_HEADERS.message] = e.message;
    headers[ERROR_HEADERS.attempts] = String(d.attempt);
    if (e.step) headers[ERROR_HEADERS.step] = e.step;
    if (e.endpoint) headers[ERROR_HEADERS.endpoint] = e.endpoint;
    try {
      const key = deadKey.constant ?? (await deadKey.render(ex));
      const message: OutboundMessage = { key, payload: d.bytes, contentType: d.contentType, headers, correlationId: d.id };
      await (deadEndpoint?.publisher as Publisher).send(message, undefined);
    } catch (err) {
      const why = WeftError.from(err);
      log.error({ msgId: d.id, code: why.code, deadLetter: config.deadLetter.to, err: why }, `dead letter could not be sent (${why.message}); the message stays on the broker and is retried`);
      return { action: 'retry', delayMs: retryDelayMs };
    }
    log.warn({ msgId: d.id, code: e.code, step: e.step, attempts: d.attempt, deadLetter: config.deadLetter.to }, `message dead-lettered: ${e.message}`);
    return { action: 'ack' };
  };

  return {
    concurrency: config.concurrency ?? 1,
    maxDeliveries,
    async handle(d) {
      const ex = new Exchange({ id: d.id, log, env, flow, headers: d.headers, params: d.params });
      // Attempts that never finished count too (the broker's redelivery count, or the AMQP
      // trigger's own): a message that kills the process every time is stopped here instead
      // of killing every process after it.
      if (d.attempt > maxDeliveries) {
        const unfinished = new WeftError('REDELIVERY_LIMIT', `delivered ${d.attempt - 1} times without finishing (the process handling it stopped each time: crash, kill or lost connection)`);
        return deadLetter(ex, { ...d, attempt: d.attempt - 1 }, unfinished);
      }
      try {
        decode(ex, d);
      } catch (err) {
        return deadLetter(ex, d, WeftError.from(err, 'MALFORMED_BODY'));
      }
      try {
        await pipeline.run(ex);
        return { action: 'ack' };
      } catch (err) {
        const e = WeftError.from(err);
        // A 4xx error (VALIDATION, a `fail` with status 409, ...) is the message's own fault:
        // delivering it again cannot help, so it goes to the dead-letter target at once.
        if (d.attempt >= maxDeliveries || (e.status >= 400 && e.status < 500)) return deadLetter(ex, d, e);
        log.warn({ msgId: d.id, code: e.code, step: e.step, attempt: d.attempt, maxDeliveries, retryInMs: retryDelayMs }, `message failed, will retry: ${e.message}`);
        return { action: 'retry', delayMs: retryDelayMs };
      }
    },
  };
}
