/** A test's own MQTT 5 client on the real Mosquitto: unique topics, QoS 1 sends, collectors. */
import mqtt, { type IPublishPacket, type MqttClient } from 'mqtt';
import { randomUUID } from 'node:crypto';

export const MQTT_URL = process.env.WEFT_TEST_MQTT_URL ?? 'mqtt://127.0.0.1:1883';
export const MQTT_PORT = 1883;

export interface Mqtt {
  client: MqttClient;
  prefix(): string;
  send(topic: string, body: string | object, props?: { contentType?: string; userProperties?: Record<string, string> }): Promise<void>;
  collect(topic: string): Promise<IPublishPacket[]>;
  close(): Promise<void>;
}

export async function openMqtt(): Promise<Mqtt> {
  const client = await mqtt.connectAsync(MQTT_URL, { protocolVersion: 5, clientId: `weft-test-${randomUUID().slice(0, 8)}` });
  const collectors = new Map<string, IPublishPacket[]>();
  client.on('message', (topic, _payload, packet) => collectors.get(topic)?.push(packet));
  return {
    client,
    prefix: () => `weft-test/${randomUUID().slice(0, 8)}`,
    async send(topic, body, props = {}) {
      const isJson = typeof body === 'object';
      await client.publishAsync(topic, isJson ? JSON.stringify(body) : body, {
        qos: 1,
        properties: { contentType: isJson ? 'application/json' : props.contentType, userProperties: props.userProperties },
      });
    },
    async collect(topic) {
      const got: IPublishPacket[] = [];
      collectors.set(topic, got);
      await client.subscribeAsync(topic, { qos: 1 });
      return got;
    },
    close: () => client.endAsync(),
  };
}

export const mqttJson = (p: IPublishPacket): any => JSON.parse(p.payload.toString());
