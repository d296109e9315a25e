/**
 * AMQP message properties and headers <-> the flow's `headers` (lower-cased text). Header
 * values in AMQP tables may be numbers, booleans, byte buffers or nested tables; flows see
 * them as text (tables as JSON), the way HTTP headers are text.
 */
import type { MessageProperties, Options } from 'amqplib';

const PROPERTY_HEADERS = {
  contentType: 'content-type',
  contentEncoding: 'content-encoding',
  messageId: 'message-id',
  correlationId: 'correlation-id',
  replyTo: 'reply-to',
  type: 'type',
  appId: 'app-id',
  userId: 'user-id',
  timestamp: 'timestamp',
  priority: 'priority',
  expiration: 'expiration',
} as const;

export function headersOf(props: MessageProperties): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(props.headers ?? {})) {
    if (v !== undefined && v !== null) out[k.toLowerCase()] = asText(v);
  }
  for (const [prop, header] of Object.entries(PROPERTY_HEADERS)) {
    const v = (props as unknown as Record<string, unknown>)[prop];
    if (v !== undefined && v !== null) out[header] = asText(v);
  }
  return out;
}

function asText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  if (typeof v === 'object') return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
  return String(v);
}

/** Properties of an outgoing message; known property names leave the header table. */
export function publishOptions(headers: Record<string, string>, contentType: string | undefined, messageId: string, correlationId?: string): Options.Publish {
  const table: Record<string, string> = {};
  const options: Options.Publish = { persistent: true, mandatory: true, messageId, contentType, correlationId, timestamp: Math.floor(Date.now() / 1000) };
  for (const [k, v] of Object.entries(headers)) {
    if (k === 'content-type' || k === 'message-id' || k === 'timestamp') continue;
    if (k === 'correlation-id') options.correlationId = v;
    else if (k === 'reply-to') options.replyTo = v;
    else if (k === 'type') options.type = v;
    else if (k === 'app-id') options.appId = v;
    else table[k] = v;
  }
  options.headers = table;
  return options;
}
