/**
 * `http` endpoint: REST calls over the shared HTTP client (keep-alive pools, balancing over
 * `urls`). Everything a call needs that does not depend on the message (method, templates,
 * codecs, the static headers) is resolved in prepare().
 */
import type { CallConfig, CallResult, CompileContext, Endpoint, EndpointDef, PreparedCall } from '../../runtime/contract.ts';
import type { Codec } from '../../runtime/codecs/codec.ts';
import { asUpstream, createCodecs, formatOfMediaType, FORMATS, mediaTypeOf, type Format } from '../../runtime/codecs/formats.ts';
import { createProtobufCodec } from '../../runtime/codecs/protobuf.ts';
import type { XmlOptions } from '../../runtime/codecs/xml.ts';
import type { Cancellation } from '../../runtime/engine/cancellation.ts';
import type { Exchange } from '../../runtime/engine/exchange.ts';
import { WeftError } from '../../runtime/errors.ts';
import type { Template } from '../../runtime/expr/template.ts';
import { ref } from '../../runtime/flow/schema-parts.ts';
import { createHttpClient, httpClientProperties, type HttpClientConfig, type HttpResponse } from './client.ts';
import { xmlOptionsSchema } from './xml-options.ts';

interface HttpEndpointConfig extends HttpClientConfig {
  /** ProtoBuf message types of request and answer bodies when format is protobuf. */
  request?: string;
  response?: string;
  format?: Format;
  headers?: Record<string, string>;
  xml?: XmlOptions;
}

const METHODS_WITH_BODY = new Set(['POST', 'PUT', 'PATCH']);
/** RFC 9110 9.2.2: trying these twice has the effect of trying once. */
const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);
/** Answers that say "try again later" rather than "this request is wrong". */
const RETRYABLE_STATUSES = new Set([408, 429, 502, 503, 504]);
/** Connection-level headers (RFC 9110 7.6.1) say nothing about the answer; cookies stay private. */
const NOT_SHOWN = new Set(['connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-connection', 'set-cookie']);

const methodOf = (call: CallConfig): string => call.method ?? (call.body !== undefined ? 'POST' : 'GET');

export const httpEndpoint: EndpointDef<HttpEndpointConfig> = {
  name: 'http',
  summary: 'REST over HTTP/1.1 with keep-alive pools; json, xml or text bodies both ways.',
  schema: {
    type: 'object',
    properties: {
      ...httpClientProperties,
      format: { enum: FORMATS.filter((f) => f !== 'thrift'), description: 'Format of request bodies and the preferred answer format. Default json. protobuf needs `request` and `response`.' },
      request: { type: 'string', description: 'ProtoBuf message type of request bodies (format protobuf).' },
      response: { type: 'string', description: 'ProtoBuf message type of answers (format protobuf, or a protobuf Content-Type).' },
      headers: { ...ref.templateMap, description: 'Headers sent with every call (templates).' },
      xml: xmlOptionsSchema,
    },
    additionalProperties: false,
  },
  create(name, config, at) {
    const client = createHttpClient(name, config, at);
    const format: Format = config.format ?? 'json';
    const responseType = config.response === undefined ? undefined : at.schemas.protoMessage(config.response, at, 'response');
    const requestType = config.request === undefined ? undefined : at.schemas.protoMessage(config.request, at, 'request');
    if (format === 'protobuf' && (config.request === undefined || config.response === undefined)) {
      at.problem('FLOW_SCHEMA', 'format protobuf needs the message types: give `request` and `response`', 'format');
    }
    const codecs = new Map<Format, Codec>(
      [...createCodecs({ xml: config.xml, protobuf: responseType && createProtobufCodec(responseType) })].map(([f, c]) => [f, asUpstream(c, name)]),
    );
    // Requests are encoded with the request type; answers in the same format decode with the response type.
    const preferred = codecs.get(format) ?? codecs.get('json')!;
    const sending = format === 'protobuf' && requestType ? createProtobufCodec(requestType) : preferred;
    const endpointHeaders = compileHeaders(config.headers, at.child('headers'));

    // An upstream answers with the same Content-Type again and again: remember the last one.
    let lastType: string | undefined;
    let lastCodec: Codec = preferred;
    const codecOf = (contentType: string | string[] | undefined): Codec => {
      if (typeof contentType !== 'string') return preferred;
      if (contentType === lastType) return lastCodec;
      const f = formatOfMediaType(mediaTypeOf(contentType));
      lastCodec = (f && codecs.get(f)) || codecs.get('text')!;
      lastType = contentType;
      return lastCodec;
    };

    return {
      name,
      kind: 'http',
      async start() {
        client.start();
      },
      stop: (deadline) => client.close(deadline),
      health: () => client.health(),
      idempotent: (call) => IDEMPOTENT_METHODS.has(methodOf(call)),

      prepare(call: CallConfig, cat: CompileContext): PreparedCall {
        if (call.operation !== undefined) cat.problem('FLOW_SCHEMA', 'http endpoints take method and path, not operation', 'operation');
        if (call.args !== undefined) cat.problem('FLOW_SCHEMA', 'http endpoints take body, not args', 'args');
        const method = methodOf(call);
        const path = call.path === undefined ? undefined : cat.template(call.path, 'path');
        const query = Object.entries(call.query ?? {}).map(([k, v]) => [encodeURIComponent(k), cat.child('query').template(v, k)] as const);
        const headers = [...endpointHeaders, ...compileHeaders(call.headers, cat.child('headers'))];
        const body = call.body !== undefined ? cat.expression(call.body, 'body') : undefined;
        const sendsBody = body !== undefined || METHODS_WITH_BODY.has(method);

        return async function httpCall(ex: Exchange, cancel: Cancellation | undefined): Promise<CallResult> {
          let url = '';
          if (path) {
            // Most paths render synchronously (compiled expressions): no await, no extra tick.
            const rendered = path.constant ?? path.render(ex, encodeURIComponent);
            url += typeof rendered === 'string' ? rendered : await rendered;
          }
          if (query.length) {
            const parts: string[] = [];
            for (const [k, t] of query) parts.push(`${k}=${encodeURIComponent(await t.render(ex))}`);
            url += (url.includes('?') ? '&' : '?') + parts.join('&');
          }
          const h: Record<string, string> = { accept: preferred.mediaType, 'x-request-id': ex.id };
          for (const [k, t] of headers) h[k] = t.constant ?? (await t.render(ex));
          let payload: string | Uint8Array | undefined;
          if (sendsBody) {
            const value = body ? await body.evaluate(ex) : undefined;
            payload = body ? sending.encode(value) : (ex.rawIn(format) ?? sending.encode(ex.body));
            h['content-type'] ??= sending.mediaType;
          }
          const res = await client.send({ method, path: url, headers: h, body: payload }, ex, cancel);
          const codec = codecOf(res.headers['content-type']);
          if (res.status >= 400) throw upstreamStatusError(name, res, bestEffort(codec, res.bytes));
          return { raw: res.bytes.length > 0 ? res.bytes : undefined, codec, status: res.status };
        };
      },
    } satisfies Endpoint;
  },
};

/**
 * UPSTREAM_STATUS for an answer of 400 or more, carrying status, headers (Retry-After for the
 * retry policy) and body for the flow. "Try later" statuses are marked retryable.
 */
export function upstreamStatusError(name: string, res: HttpResponse, body: unknown, what = ''): WeftError {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(res.headers)) if (!NOT_SHOWN.has(k) && v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
  return new WeftError('UPSTREAM_STATUS', `${name} answered ${res.status} to ${res.method} ${res.path}${what}`, {
    endpoint: name,
    retryable: RETRYABLE_STATUSES.has(res.status),
    details: { upstream: { status: res.status, headers, body } },
  });
}

/** Header (or metadata) templates, names lower-cased; shared by the endpoints that send headers. */
export function compileHeaders(headers: Record<string, string> | undefined, at: CompileContext): (readonly [string, Template])[] {
  return Object.entries(headers ?? {}).map(([k, v]) => [k.toLowerCase(), at.template(v, k)] as const);
}

/** An upstream error body for the flow to read: decoded when it can be, else its text. */
export function bestEffort(codec: Codec, bytes: Uint8Array): unknown {
  if (bytes.length === 0) return null;
  try {
    return codec.decode(bytes);
  } catch {
    return new TextDecoder().decode(bytes);
  }
}
