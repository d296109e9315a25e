import type { CompileContext, PreparedCall, Publisher, StepDef } from '../contract.ts';
import { WeftError } from '../errors.ts';
import type { Expression } from '../expr/expression.ts';
import type { Template } from '../expr/template.ts';
import { ref } from '../flow/schema-parts.ts';

interface PublishConfig {
  to: string;
  key: string;
  body?: unknown;
  headers?: Record<string, string>;
}

export const publishStep: StepDef<{ publish: PublishConfig }> = {
  name: 'publish',
  summary: "Sends a message to a broker endpoint and waits for the broker's confirm; the body is unchanged.",
  schema: {
    type: 'object',
    properties: {
      publish: {
        type: 'object',
        properties: {
          to: { type: 'string', description: 'Name of a broker endpoint (amqp, mqtt, nats) under `endpoints:`.' },
          key: { ...ref.template, description: 'Routing key (AMQP), topic (MQTT) or subject (NATS).' },
          body: { ...ref.expression, description: 'Message body. Default: the current body.' },
          headers: { ...ref.templateMap, description: 'Message headers (templates).' },
        },
        required: ['to', 'key'],
        additionalProperties: false,
      },
    },
    required: ['publish'],
    additionalProperties: false,
  },
  compile(config, at) {
    const inner = at.child('publish');
    const c = config.publish;
    const endpoint = inner.endpoint(c.to, 'to');
    if (endpoint && !endpoint.publisher) {
      inner.problem('FLOW_REFERENCE', `'${c.to}' is an ${endpoint.kind} endpoint; publish needs amqp, mqtt or nats (use call for ${endpoint.kind})`, 'to');
    }
    const key: Template = inner.template(c.key, 'key');
    const body: Expression | undefined = c.body === undefined ? undefined : inner.expression(c.body, 'body');
    const headers: [string, Template][] = Object.entries(c.headers ?? {}).map(([k, v]) => [k.toLowerCase(), inner.child('headers').template(v, k)]);
    if (!endpoint?.publisher) return () => {};
    const publisher: Publisher = endpoint.publisher;
    const { codec } = publisher;
    return async function publish(ex) {
      const payload = body ? codec.encode(await body.evaluate(ex)) : (ex.rawIn(codec.format) ?? codec.encode(ex.body));
      const h: Record<string, string> = {};
      for (const [k, t] of headers) h[k] = t.constant ?? (await t.render(ex));
      const routing = key.constant ?? (await key.render(ex));
      await publisher.send({ key: routing, payload, contentType: codec.mediaType, headers: h, correlationId: ex.id }, ex.cancel);
    };
  },
};

/** What broker endpoints answer to a `call`: a load problem pointing the user at `publish`. */
export function publishOnly(name: string, kind: string, at: CompileContext): PreparedCall {
  at.problem('FLOW_SCHEMA', `${name} is an ${kind} endpoint: send to it with a publish step, not call`, 'call');
  return () => Promise.reject(new WeftError('INTERNAL', `${name} cannot be called`));
}
