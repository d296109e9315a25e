/**
 * `mqtt` trigger: subscribes with QoS 1 on a persistent session (clean start off, a fixed
 * client id and a session expiry), so messages published while the flow is down are kept by
 * the broker and delivered when it is back. The PUBACK is sent only after the pipeline
 * finished or the message was dead-lettered: a process killed mid-message never acknowledged
 * it, and the broker sends it again when the session resumes.
 *
 * mqtt.js handles incoming packets one at a time and waits for our callback before the next,
 * so an MQTT trigger processes in order, one message per process (MQTT has no per-message
 * negative acknowledgement either): a failure is retried in place after `retryDelay`. Scale out
 * with MQTT 5 shared subscriptions (`topic: $share/group/orders/#`) and several processes,
 * each with its own clientId.
 */
import type { IPublishPacket, MqttClient } from 'mqtt';
import type { Trigger, TriggerDef } from '../../runtime/contract.ts';
import { createDeliveryHandler, DELIVERY_REQUIRED, DELIVERY_SCHEMA_PROPERTIES, type DeliveryConfig } from '../../runtime/engine/delivery.ts';
import { ref } from '../../runtime/flow/schema-parts.ts';
import { parseDuration } from '../../runtime/units.ts';
import { headersOfMqtt, mqttClient } from './client.ts';

interface MqttTriggerConfig extends DeliveryConfig {
  url: string;
  topic: string;
  clientId?: string;
  qos?: 1 | 2;
  sessionExpiry?: string | number;
  keepalive?: string | number;
}

export const mqttTrigger: TriggerDef<MqttTriggerConfig> = {
  name: 'mqtt',
  summary: 'Subscribes to an MQTT topic (QoS 1, persistent session), at least once: PUBACK after the last step, retries, dead letters.',
  schema: {
    type: 'object',
    properties: {
      url: { type: 'string', pattern: '^(mqtt|mqtts|ws|wss)://', 'x-weft-expected': 'an mqtt:// or mqtts:// URL', description: 'Broker URL.' },
      topic: { type: 'string', minLength: 1, description: 'Topic filter; wildcards + and #, $share/group/... for shared subscriptions.' },
      clientId: { type: 'string', minLength: 1, description: 'Client id that names the persistent session. Default: weft-<flow name>.' },
      qos: { enum: [1, 2], description: 'Subscription QoS. Default 1.' },
      sessionExpiry: { ...ref.duration, description: 'How long the broker keeps the session (and queued messages) while the flow is away. Default 7d as 168h.' },
      keepalive: { ...ref.duration, description: 'MQTT keepalive. A message with its retries must finish within it. Default 60s.' },
      ...DELIVERY_SCHEMA_PROPERTIES,
      concurrency: { const: 1, description: 'MQTT delivers one message at a time per session; scale with shared subscriptions.' },
    },
    required: ['url', 'topic', ...DELIVERY_REQUIRED],
    additionalProperties: false,
  },

  create(config, at, pipeline, services) {
    const handler = createDeliveryHandler(config, at, pipeline, services);
    const { log, inflight } = services;
    const clientId = config.clientId ?? `weft-${at.flow.name}`;
    const sessionExpiry = Math.round((config.sessionExpiry === undefined ? 168 * 3_600_000 : parseDuration(config.sessionExpiry)) / 1000);
    const keepalive = Math.max(1, Math.round((config.keepalive === undefined ? 60_000 : parseDuration(config.keepalive)) / 1000));
    let client: MqttClient | undefined;
    let stopping = false;
    let current: Promise<void> | undefined;
    let subscribed = false;

    /** One message, retried in place until it is done or dead-lettered (or the flow stops). */
    const processOne = async (packet: IPublishPacket): Promise<boolean> => {
      const bytes = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
      const headers = headersOfMqtt(packet.properties);
      for (let attempt = 1; !stopping; attempt++) {
        const outcome = await handler.handle({
          id: headers['message-id'] ?? `${clientId}:${packet.messageId ?? 0}:${Date.now()}`,
          bytes,
          contentType: packet.properties?.contentType,
          headers,
          params: { topic: packet.topic, attempt: String(attempt), dup: String(packet.dup) },
          attempt,
        });
        if (outcome.action === 'ack') return true;
        await new Promise((r) => setTimeout(r, outcome.delayMs));
      }
      return false;
    };

    return {
      describe: `mqtt topic ${config.topic} as ${clientId}`,
      address: () => config.url,
      async start() {
        const c = mqttClient(config.url, { clientId, clean: false, keepalive, resubscribe: true, properties: { sessionExpiryInterval: sessionExpiry } }, log, 'trigger');
        client = c;
        // Called by mqtt.js for every PUBLISH; the PUBACK goes out when `done` is called.
        c.handleMessage = (packet, done) => {
          if (stopping) return; // never acknowledged: the broker keeps it for the next session
          inflight.enter();
          current = processOne(packet)
            .then((finished) => {
              if (finished) done();
            })
            .catch((err: unknown) => log.error({ err }, 'mqtt message handling failed; not acknowledged'))
            .finally(() => {
              inflight.leave();
              current = undefined;
            });
        };
        c.on('connect', (ack) => {
          if (ack.sessionPresent && subscribed) return;
          c.subscribe(config.topic, { qos: config.qos ?? 1 }, (err) => {
            if (err) log.error({ topic: config.topic, reason: err.message }, 'mqtt subscribe failed');
            else subscribed = true;
          });
        });
      },
      async stop(deadline) {
        stopping = true;
        const finished = current ? await Promise.race([current.then(() => true), new Promise<false>((r) => deadline.addEventListener('abort', () => r(false), { once: true }))]) : true;
        // A forced end destroys the socket at once and may drop the PUBACK just written for the
        // message that finished, so the broker would send it again: end gracefully then.
        await client?.endAsync(!finished || !client.connected);
      },
      health: () => (client?.connected && subscribed ? { ok: true } : { ok: false, detail: client?.connected ? `not subscribed to ${config.topic}` : 'broker not connected' }),
    } satisfies Trigger;
  },
};
