/**
 * `nats` endpoint: publishes to NATS JetStream and waits for the stream's publish ack, so a
 * published message is stored before the flow goes on. A subject no stream captures fails
 * with UNROUTABLE (no responders) instead of vanishing.
 */
import { lazyModule } from '../../runtime/lazy.ts';
import { randomUUID } from 'node:crypto';
import type { Endpoint, EndpointDef } from '../../runtime/contract.ts';
import { createUntypedCodec, UNTYPED_FORMATS, type UntypedFormat } from '../../runtime/codecs/formats.ts';
import { WeftError } from '../../runtime/errors.ts';
import { publishOnly } from '../../runtime/steps/publish.ts';
import { natsLink } from './connection.ts';

const nats = lazyModule<typeof import('@nats-io/transport-node')>('@nats-io/transport-node');
const js = lazyModule<typeof import('@nats-io/jetstream')>('@nats-io/jetstream');

interface NatsEndpointConfig {
  url: string;
  format?: UntypedFormat;
}

export const natsEndpoint: EndpointDef<NatsEndpointConfig> = {
  name: 'nats',
  summary: 'Publishes to NATS JetStream and waits for the publish ack; subjects no stream takes are errors.',
  schema: {
    type: 'object',
    properties: {
      url: { type: 'string', pattern: '^nats://', 'x-weft-expected': 'a nats:// URL', description: 'Server URL, e.g. nats://nats:4222.' },
      format: { enum: [...UNTYPED_FORMATS], description: 'Body format of published messages. Default json.' },
    },
    required: ['url'],
    additionalProperties: false,
  },
  create(name, config, at) {
    const codec = createUntypedCodec(config.format ?? 'json');
    const link = natsLink(config.url, `weft:${at.flow.name}:${name}`, at.log);
    return {
      name,
      kind: 'nats',
      publisher: {
        codec,
        async send(m, cancel) {
          const nc = link.connection;
          if (!nc || !link.connected) throw new WeftError('CONNECTION_FAILED', `nats endpoint ${name} is not connected to ${config.url}`, { endpoint: name });
          const h = nats.headers();
          for (const [k, v] of Object.entries(m.headers)) h.set(k, v);
          if (m.contentType) h.set('content-type', m.contentType);
          if (m.correlationId) h.set('correlation-id', m.correlationId);
          try {
            cancel?.throwIfAborted();
            await js.jetstream(nc).publish(m.key, typeof m.payload === 'string' ? new TextEncoder().encode(m.payload) : m.payload, { headers: h, msgID: randomUUID() });
          } catch (err) {
            const e = err as Error & { name?: string };
            if (cancel?.aborted) throw err;
            if (e.name === 'NoRespondersError' || /no responders/i.test(e.message)) {
              throw new WeftError('UNROUTABLE', `no JetStream stream takes subject '${m.key}'`, { endpoint: name, cause: err });
            }
            throw new WeftError('PUBLISH_REJECTED', `JetStream did not store the message on '${m.key}': ${e.message}`, { endpoint: name, cause: err });
          }
        },
      },
      prepare: (_call, cat) => publishOnly(name, 'nats', cat),
      start: () => link.open(async () => {}),
      stop: () => link.close(),
      health: () => (link.connected ? { ok: true } : { ok: false, detail: 'server not connected' }),
    } satisfies Endpoint;
  },
};
