import type { StepDef } from '../contract.ts';
import { FORMATS } from '../codecs/formats.ts';
import { compileTypedCodecs, typedFormatProperties, type TypedFormatConfig } from '../codecs/typed.ts';
import { WeftError } from '../errors.ts';
import type { Expression } from '../expr/expression.ts';
import type { Template } from '../expr/template.ts';
import { ref } from '../flow/schema-parts.ts';

interface RespondConfig extends TypedFormatConfig {
  status?: unknown;
  headers?: Record<string, string>;
  body?: unknown;
  format?: string;
}

export const respondStep: StepDef<{ respond: RespondConfig }> = {
  name: 'respond',
  summary: 'Ends the flow with a reply: status, headers, body (default: the current body) and format (default: negotiated).',
  schema: {
    type: 'object',
    properties: {
      respond: {
        type: 'object',
        properties: {
          status: { ...ref.expression, description: 'HTTP status (an expression). Default 200.' },
          headers: { ...ref.templateMap, description: 'Reply headers (templates).' },
          body: { ...ref.expression, description: 'Reply body. Default: the current body.' },
          format: { enum: [...FORMATS], description: 'Wire format of the body. Default: by Accept, else the request format, else json.' },
          ...typedFormatProperties,
        },
        additionalProperties: false,
      },
    },
    required: ['respond'],
    additionalProperties: false,
  },
  compile(config, at) {
    const inner = at.child('respond');
    const c = config.respond;
    const status: Expression | undefined = c.status === undefined ? undefined : inner.expression(c.status, 'status');
    const body: Expression | undefined = c.body === undefined ? undefined : inner.expression(c.body, 'body');
    const headers: [string, Template][] = Object.entries(c.headers ?? {}).map(([k, v]) => [k.toLowerCase(), inner.child('headers').template(v, k)]);
    const format = c.format;
    const typed = compileTypedCodecs(c, inner);
    const codecs = typed.protobuf || typed.thrift ? { protobuf: typed.protobuf, thrift: typed.thrift } : undefined;
    if ((format === 'protobuf' && !c.message) || (format === 'thrift' && !c.struct)) {
      inner.problem('FLOW_SCHEMA', `format ${format} needs the reply's type: give \`${format === 'protobuf' ? 'message' : 'struct'}\``, 'format');
    }
    return async function respond(ex) {
      let code = 200;
      if (status) {
        let s = status.evaluate(ex);
        if (s instanceof Promise) s = await s;
        code = typeof s === 'string' && /^\d{3}$/.test(s) ? Number(s) : (s as number);
        if (!Number.isInteger(code) || code < 100 || code > 599) {
          throw new WeftError('EXPRESSION', `respond status must be an HTTP status code (100-599), got ${JSON.stringify(s)}`);
        }
      }
      let replyHeaders: Record<string, string> | undefined;
      if (headers.length) {
        replyHeaders = {};
        for (const [k, t] of headers) {
          const v = t.render(ex);
          replyHeaders[k] = v instanceof Promise ? await v : v;
        }
      }
      if (body) {
        let v = body.evaluate(ex);
        if (v instanceof Promise) v = await v;
        ex.respond({ status: code, headers: replyHeaders, useBody: false, body: v, format, codecs });
      } else {
        ex.respond({ status: code, headers: replyHeaders, useBody: true, body: undefined, format, codecs });
      }
    };
  },
};
