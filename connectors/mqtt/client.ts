/**
 * One MQTT 5 client per trigger or endpoint. mqtt.js reconnects by itself (every
 * `reconnectPeriod`, unbounded) and re-subscribes; `connected` drives health. MQTT 5 because
 * it carries a content type and user properties (headers) with each message.
 */
import type { IClientOptions, MqttClient } from 'mqtt';
import { lazyModule } from '../../runtime/lazy.ts';
import type { Logger } from '../../runtime/log.ts';

// mqtt.js is loaded when a flow first connects, not when the runtime starts.
const mqtt = lazyModule<typeof import('mqtt')>('mqtt');

export function mqttClient(url: string, options: IClientOptions, log: Logger, label: string): MqttClient {
  const client = mqtt.connect(url, { protocolVersion: 5, reconnectPeriod: 500, connectTimeout: 5000, ...options });
  client.on('connect', () => log.info({ mqtt: label }, 'mqtt connected'));
  client.on('offline', () => log.warn({ mqtt: label }, 'mqtt broker unreachable; reconnecting'));
  client.on('error', (err: Error) => log.warn({ mqtt: label, reason: err.message }, 'mqtt error'));
  return client;
}

/** MQTT 5 user properties -> `headers` (lower-cased; repeated values joined by ", "). */
export function headersOfMqtt(props: { contentType?: string; userProperties?: Record<string, string | string[]> } | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(props?.userProperties ?? {})) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  if (props?.contentType) out['content-type'] = props.contentType;
  return out;
}
