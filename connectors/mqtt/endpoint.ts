/**
 * `mqtt` endpoint: publishes with QoS 1 and resolves on the broker's PUBACK; an MQTT 5 PUBACK
 * with a failure reason code is PUBLISH_REJECTED.
 */
import type { MqttClient } from 'mqtt';
import type { Endpoint, EndpointDef } from '../../runtime/contract.ts';
import { createUntypedCodec, UNTYPED_FORMATS, type UntypedFormat } from '../../runtime/codecs/formats.ts';
import { WeftError } from '../../runtime/errors.ts';
import { publishOnly } from '../../runtime/steps/publish.ts';
import { mqttClient } from './client.ts';
import { settleWithin } from '../../runtime/engine/startup.ts';

interface MqttEndpointConfig {
  url: string;
  format?: UntypedFormat;
  retain?: boolean;
}

export const mqttEndpoint: EndpointDef<MqttEndpointConfig> = {
  name: 'mqtt',
  summary: 'Publishes with QoS 1 (MQTT 5) and waits for the PUBACK.',
  schema: {
    type: 'object',
    properties: {
      url: { type: 'string', pattern: '^(mqtt|mqtts|ws|wss)://', 'x-weft-expected': 'an mqtt:// or mqtts:// URL', description: 'Broker URL.' },
      format: { enum: [...UNTYPED_FORMATS], description: 'Body format of published messages. Default json.' },
      retain: { type: 'boolean', description: 'Publish as retained messages. Default false.' },
    },
    required: ['url'],
    additionalProperties: false,
  },
  create(name, config, at) {
    const codec = createUntypedCodec(config.format ?? 'json');
    let client: MqttClient | undefined;
    return {
      name,
      kind: 'mqtt',
      publisher: {
        codec,
        async send(m) {
          if (!client?.connected) throw new WeftError('CONNECTION_FAILED', `mqtt endpoint ${name} is not connected to ${config.url}`, { endpoint: name });
          const userProperties: Record<string, string> = { ...m.headers };
          if (m.correlationId) userProperties['correlation-id'] = m.correlationId;
          try {
            await client.publishAsync(m.key, typeof m.payload === 'string' ? m.payload : Buffer.from(m.payload), {
              qos: 1,
              retain: config.retain ?? false,
              properties: { contentType: m.contentType, userProperties },
            });
          } catch (err) {
            throw new WeftError('PUBLISH_REJECTED', `broker did not accept the message on '${m.key}': ${(err as Error).message}`, { endpoint: name, cause: err });
          }
        },
      },
      prepare: (_call, cat) => publishOnly(name, 'mqtt', cat),
      async start() {
        const c = mqttClient(config.url, { clientId: `weft-${at.flow.name}-${name}-${process.pid}`, clean: true }, at.log, name);
        client = c;
        await settleWithin(new Promise((resolve) => c.once('connect', resolve)));
      },
      async stop() {
        await client?.endAsync();
      },
      health: () => (client?.connected ? { ok: true } : { ok: false, detail: 'broker not connected' }),
    } satisfies Endpoint;
  },
};
