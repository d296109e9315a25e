/**
 * `http` endpoint: REST calls over undici keep-alive pools (one per base URL, opened lazily,
 * reused by every message). Everything a call needs that does not depend on the message
 * (method, templates, codecs, the static headers) is resolved in prepare().
 */
import { Pool } from 'undici';
import type { CallConfig, CallResult, CompileContext, Endpoint, EndpointDef, PreparedCall } from '../../runtime/contract.ts';
import type { Codec } from '../../runtime/codecs/codec.ts';
import { asUpstream, createCodecs, formatOfMediaType, FORMATS, mediaTypeOf, type Format } from '../../runtime/codecs/formats.ts';
import { createProtobufCodec } from '../../runtime/codecs/protobuf.ts';
import type { XmlOptions } from '../../runtime/codecs/xml.ts';
import type { Exchange } from '../../runtime/engine/exchange.ts';
import { WeftError } from '../../runtime/errors.ts';
import type { Template } from '../../runtime/expr/template.ts';
import { ref } from '../../runtime/flow/schema-parts.ts';
import { parseSize } from '../../runtime/units.ts';
import { networkError } from './network-errors.ts';
import { xmlOptionsSchema } from './xml-options.ts';

interface HttpEndpointConfig {
  /** ProtoBuf message types of request and answer bodies when format is protobuf. */
  request?: string;
  response?: string;
  url?: string;
  urls?: string[];
  format?: Format;
  headers?: Record<string, string>;
  maxBody?: string | number;
  xml?: XmlOptions;
}

const DEFAULT_MAX_BODY = 16 * 1024 * 1024;
const METHODS_WITH_BODY = new Set(['POST', 'PUT', 'PATCH']);

interface Target {
  pool: Pool;
  origin: string;
  basePath: string;
}

export const httpEndpoint: EndpointDef<HttpEndpointConfig> = {
  name: 'http',
  summary: 'REST over HTTP/1.1 with keep-alive pools; json, xml or text bodies both ways.',
  schema: {
    type: 'object',
    properties: {
      url: { type: 'string', description: 'Base URL; a call `path` is appended.' },
      urls: { type: 'array', items: { type: 'string' }, minItems: 1, description: 'Several base URLs, used in turn (round robin).' },
      format: { enum: FORMATS.filter((f) => f !== 'thrift'), description: 'Format of request bodies and the preferred answer format. Default json. protobuf needs `request` and `response`.' },
      request: { type: 'string', description: 'ProtoBuf message type of request bodies (format protobuf).' },
      response: { type: 'string', description: 'ProtoBuf message type of answers (format protobuf, or a protobuf Content-Type).' },
      headers: { ...ref.templateMap, description: 'Headers sent with every call (templates).' },
      maxBody: { ...ref.size, description: 'Largest answer accepted. Default 16mb.' },
      xml: xmlOptionsSchema,
    },
    additionalProperties: false,
  },
  create(name, config, at) {
    const urls = config.urls ?? (config.url !== undefined ? [config.url] : []);
    if (urls.length === 0) at.problem('FLOW_SCHEMA', 'an http endpoint needs `url` or `urls`');
    if (config.url !== undefined && config.urls !== undefined) at.problem('FLOW_SCHEMA', 'give `url` or `urls`, not both', 'urls');
    const maxResponseSize = config.maxBody === undefined ? DEFAULT_MAX_BODY : parseSize(config.maxBody);
    const targets: Target[] = [];
    urls.forEach((raw) => {
      let url: URL;
      try {
        url = new URL(raw);
        if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http(s)');
      } catch {
        at.problem('FLOW_SCHEMA', `'${raw}' is not an http(s) URL`, config.urls ? 'urls' : 'url');
        return;
      }
      targets.push({
        pool: new Pool(url.origin, { maxResponseSize, keepAliveTimeout: 4_000 }),
        origin: url.origin,
        basePath: url.pathname.replace(/\/$/, ''),
      });
    });

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
    const staticHeaders = at.child('headers');
    const endpointHeaders = compileHeaders(config.headers, staticHeaders);
    let next = 0;

    const codecOf = (contentType: string | string[] | undefined): Codec => {
      if (typeof contentType !== 'string') return preferred;
      const f = formatOfMediaType(mediaTypeOf(contentType));
      return (f && codecs.get(f)) || codecs.get('text')!;
    };

    return {
      name,
      kind: 'http',
      async start() {},
      async stop(deadline) {
        const closing = Promise.all(targets.map((t) => t.pool.close()));
        const forced = new Promise<void>((resolve) =>
          deadline.addEventListener('abort', () => resolve(void Promise.all(targets.map((t) => t.pool.destroy()))), { once: true }),
        );
        await Promise.race([closing, forced]);
      },
      health: () => ({ ok: true }),

      prepare(call: CallConfig, cat: CompileContext): PreparedCall {
        if (call.operation !== undefined) cat.problem('FLOW_SCHEMA', 'http endpoints take method and path, not operation', 'operation');
        if (call.args !== undefined) cat.problem('FLOW_SCHEMA', 'http endpoints take body, not args', 'args');
        const method = call.method ?? (call.body !== undefined ? 'POST' : 'GET');
        const path = call.path === undefined ? undefined : cat.template(call.path, 'path');
        const query = Object.entries(call.query ?? {}).map(([k, v]) => [encodeURIComponent(k), cat.child('query').template(v, k)] as const);
        const headers = [...endpointHeaders, ...compileHeaders(call.headers, cat.child('headers'))];
        const body = call.body !== undefined ? cat.expression(call.body, 'body') : undefined;
        const sendsBody = body !== undefined || METHODS_WITH_BODY.has(method);

        return async function httpCall(ex: Exchange, signal: AbortSignal | undefined): Promise<CallResult> {
          const target = targets[targets.length === 1 ? 0 : next++ % targets.length];
          let url = target.basePath;
          if (path) url += path.constant ?? (await path.render(ex, encodeURIComponent));
          if (query.length) {
            const parts: string[] = [];
            for (const [k, t] of query) parts.push(`${k}=${encodeURIComponent(await t.render(ex))}`);
            url += (url.includes('?') ? '&' : '?') + parts.join('&');
          }
          if (!url.startsWith('/')) url = `/${url}`;
          const h: Record<string, string> = { accept: preferred.mediaType, 'x-request-id': ex.id };
          for (const [k, t] of headers) h[k] = t.constant ?? (await t.render(ex));
          let payload: string | Uint8Array | undefined;
          if (sendsBody) {
            const value = body ? await body.evaluate(ex) : undefined;
            payload = body ? sending.encode(value) : (ex.rawIn(format) ?? sending.encode(ex.body));
            h['content-type'] ??= sending.mediaType;
          }
          let res;
          try {
            res = await target.pool.request({ path: url, method: method as 'GET', headers: h, body: payload, signal });
          } catch (err) {
            throw networkError(err, name, `${method} ${target.origin}${url}`);
          }
          let bytes: Uint8Array;
          try {
            bytes = new Uint8Array(await res.body.arrayBuffer());
          } catch (err) {
            throw networkError(err, name, `${method} ${target.origin}${url}`);
          }
          const codec = codecOf(res.headers['content-type']);
          if (res.statusCode >= 400) {
            throw new WeftError('UPSTREAM_STATUS', `${name} answered ${res.statusCode} to ${method} ${url}`, {
              endpoint: name,
              details: { upstream: { status: res.statusCode, body: bestEffort(codec, bytes) } },
            });
          }
          return { raw: bytes.length > 0 ? bytes : undefined, codec, status: res.statusCode };
        };
      },
    } satisfies Endpoint;
  },
};

/** Header (or metadata) templates, names lower-cased; shared by the endpoints that send headers. */
export function compileHeaders(headers: Record<string, string> | undefined, at: CompileContext): (readonly [string, Template])[] {
  return Object.entries(headers ?? {}).map(([k, v]) => [k.toLowerCase(), at.template(v, k)] as const);
}

/** An upstream error body for the flow to read: decoded when it can be, else its text. */
function bestEffort(codec: Codec, bytes: Uint8Array): unknown {
  if (bytes.length === 0) return null;
  try {
    return codec.decode(bytes);
  } catch {
    return new TextDecoder().decode(bytes);
  }
}
