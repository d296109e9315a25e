/**
 * `soap` endpoint: SOAP 1.1 and 1.2 over the shared HTTP client (pools, balancing, auth), with
 * envelopes built and read through the XML codec. A WSDL file is read at load, so an operation
 * it lacks is a load error with its line; a WSDL URL is read at start.
 */
import { readFileSync } from 'node:fs';
import { lazyModule } from '../../runtime/lazy.ts';

import type { CallConfig, CallResult, CompileContext, Endpoint, EndpointDef, PreparedCall } from '../../runtime/contract.ts';
import { createXmlCodec, type XmlCodec } from '../../runtime/codecs/xml.ts';
import type { Cancellation } from '../../runtime/engine/cancellation.ts';
import type { Exchange } from '../../runtime/engine/exchange.ts';
import { WeftError } from '../../runtime/errors.ts';
import type { Expression } from '../../runtime/expr/expression.ts';
import type { Template } from '../../runtime/expr/template.ts';
import { ref } from '../../runtime/flow/schema-parts.ts';
import { didYouMean } from '../../runtime/flow/suggest.ts';
import { readSecret, secretSchema, type SecretConfig } from '../http/auth/secret.ts';
import { createHttpClient, httpClientProperties, type HttpClientConfig, type HttpResponse } from '../http/client.ts';
import { upstreamStatusError } from '../http/endpoint.ts';
import { envelopeXml, MEDIA_TYPE, unwrap, type SoapVersion } from './envelope.ts';
import { usernameToken, type PasswordType } from './security.ts';
import { parseWsdl, type Wsdl } from './wsdl.ts';

const undici = lazyModule<typeof import('undici')>('undici');

interface SoapEndpointConfig extends HttpClientConfig {
  wsdl?: string;
  version?: SoapVersion;
  namespace?: string;
  action?: string;
  headers?: Record<string, string>;
  soapHeaders?: unknown;
  security?: { username: string; password: SecretConfig; passwordType?: PasswordType; mustUnderstand?: boolean };
  arrays?: string[];
}

const isUrl = (s: string) => /^https?:\/\//i.test(s);
const XML_TYPE = /^\s*(?:text\/xml|application\/(?:[\w.+-]+\+)?xml)\s*(?:;|$)/i;

export const soapEndpoint: EndpointDef<SoapEndpointConfig> = {
  name: 'soap',
  summary: 'SOAP 1.1 and 1.2 calls: operation -> body element, SOAPAction, faults as SOAP_FAULT, optional WSDL and WS-Security.',
  schema: {
    type: 'object',
    properties: {
      ...httpClientProperties,
      url: { type: 'string', description: 'Service address. Default: the WSDL address (or the WSDL URL without its query).' },
      wsdl: { type: 'string', description: 'WSDL 1.1 file (read at load) or http(s) URL (read at start).' },
      version: { enum: ['1.1', '1.2'], description: 'SOAP version. Default 1.1, or the only one the WSDL binds.' },
      namespace: { type: 'string', description: 'Namespace of the operation elements. Default: the WSDL targetNamespace.' },
      action: { type: 'string', description: 'SOAPAction when the WSDL does not give one; {operation} is replaced. Default <namespace>/{operation}.' },
      headers: { ...ref.templateMap, description: 'HTTP headers sent with every call (templates).' },
      soapHeaders: { ...ref.expression, description: 'SOAP header entries: an expression giving an object of elements.' },
      security: {
        type: 'object',
        description: 'WS-Security UsernameToken header.',
        properties: {
          username: { type: 'string' },
          password: secretSchema,
          passwordType: { enum: ['text', 'digest'], description: 'PasswordText (default) or PasswordDigest.' },
          mustUnderstand: { type: 'boolean', description: 'Mark the Security header mustUnderstand. Default true.' },
        },
        required: ['username', 'password'],
        additionalProperties: false,
      },
      arrays: {
        type: 'array',
        items: { type: 'string' },
        description: 'Answer paths always decoded as arrays, from the body element, without prefixes (getOrderResponse.getOrderResult.lines).',
      },
    },
    additionalProperties: false,
  },
  create(name, config, at) {
    let wsdl: Wsdl | undefined;
    const wsdlUrl = config.wsdl !== undefined && isUrl(config.wsdl) ? config.wsdl : undefined;
    if (config.wsdl !== undefined && !wsdlUrl) {
      const file = at.file(config.wsdl, 'wsdl');
      if (file) {
        try {
          wsdl = parseWsdl(readFileSync(file), config.wsdl);
        } catch (err) {
          at.problem('FLOW_WSDL', (err as Error).message, 'wsdl');
        }
      }
    }
    const pickVersion = (w: Wsdl | undefined): SoapVersion => {
      if (config.version) return config.version;
      const bound = w ? [...w.operations.values()].flatMap((o) => Object.keys(o.actions) as SoapVersion[]) : [];
      return bound.length > 0 && !bound.includes('1.1') ? '1.2' : '1.1';
    };
    let version = pickVersion(wsdl);
    let namespace = config.namespace ?? wsdl?.namespace;
    if (namespace === undefined && !wsdlUrl) at.problem('FLOW_SCHEMA', 'a soap endpoint needs `namespace` or `wsdl`');

    const url = config.url ?? (config.urls ? undefined : (wsdl?.addresses[version] ?? wsdlUrl?.replace(/\?.*$/, '')));
    if (url === undefined && !config.urls) at.problem('FLOW_SCHEMA', 'a soap endpoint needs `url`, `urls` or a WSDL with a service address');
    const client = createHttpClient(name, { ...config, url: config.urls ? undefined : (url ?? 'http://invalid.invalid') }, at);

    const codec = createXmlCodec();
    const arrays = new Set(config.arrays ?? []);
    const httpHeaders = Object.entries(config.headers ?? {}).map(([k, v]) => [k.toLowerCase(), at.child('headers').template(v, k)] as const);
    const soapHeaders: Expression | undefined = config.soapHeaders !== undefined ? at.expression(config.soapHeaders, 'soapHeaders') : undefined;
    const security = config.security;
    const password = security ? readSecret(security.password, at.child('security'), 'password') : '';
    /** Operations asked for by call steps, checked against a WSDL read at start. */
    const wanted: { operation: string; step: string }[] = [];

    const actionFor = (operation: string): string => {
      const fromWsdl = wsdl?.operations.get(operation)?.actions[version];
      if (fromWsdl !== undefined) return fromWsdl;
      if (config.action !== undefined) return config.action.replaceAll('{operation}', operation);
      const ns = namespace ?? '';
      return ns.endsWith('/') ? ns + operation : `${ns}/${operation}`;
    };

    const checkOperation = (w: Wsdl, operation: string): string | undefined =>
      w.operations.has(operation)
        ? undefined
        : `operation '${operation}' is not in the WSDL${didYouMean(operation, [...w.operations.keys()])} (operations: ${[...w.operations.keys()].join(', ')})`;

    return {
      name,
      kind: 'soap',
      async start() {
        client.start();
        if (!wsdlUrl) return;
        let bytes: Uint8Array;
        // The service's own TLS settings: a WSDL served by it is behind the same private CA.
        const dispatcher = new undici.Agent(client.tls ? { connect: client.tls.options } : {});
        try {
          const url = new URL(wsdlUrl);
          // reset: no keep-alive socket is left behind by a one-off read.
          const res = await dispatcher.request({ origin: url.origin, path: url.pathname + url.search, method: 'GET', signal: AbortSignal.timeout(30_000), reset: true });
          bytes = new Uint8Array(await res.body.arrayBuffer());
          if (res.statusCode !== 200) throw new Error(`answered ${res.statusCode}`);
        } catch (err) {
          throw new WeftError('FLOW_WSDL', `endpoint ${name}: WSDL ${wsdlUrl} cannot be read: ${(err as Error).message}`);
        } finally {
          void dispatcher.close();
        }
        const w = parseWsdl(bytes, wsdlUrl);
        const problems = wanted.map(({ operation, step }) => [step, checkOperation(w, operation)] as const).filter(([, p]) => p);
        if (problems.length) throw new WeftError('FLOW_WSDL', problems.map(([step, p]) => `${step}: ${p}`).join('; '), { endpoint: name });
        wsdl = w;
        version = pickVersion(w);
        namespace = config.namespace ?? w.namespace;
      },
      stop: (deadline) => client.close(deadline),
      health: () => client.health(),

      prepare(call: CallConfig, cat: CompileContext): PreparedCall {
        for (const key of ['method', 'path', 'query', 'args'] as const) {
          if (call[key] !== undefined) cat.problem('FLOW_SCHEMA', `soap endpoints take operation and body, not ${key}`, key);
        }
        const operation = call.operation ?? '';
        if (!call.operation) cat.problem('FLOW_SCHEMA', 'a call to a soap endpoint needs `operation`', 'call');
        if (wsdl) {
          const problem = checkOperation(wsdl, operation);
          if (problem) cat.problem('FLOW_REFERENCE', problem, 'operation');
        } else if (wsdlUrl) {
          wanted.push({ operation, step: cat.path });
        }
        const body = call.body !== undefined ? cat.expression(call.body, 'body') : undefined;
        const headers: (readonly [string, Template])[] = [
          ...httpHeaders,
          ...Object.entries(call.headers ?? {}).map(([k, v]) => [k.toLowerCase(), cat.child('headers').template(v, k)] as const),
        ];

        /**
         * What depends only on the endpoint and the operation (media types, SOAPAction), made
         * once, and again after a WSDL read at start has set the version and namespace.
         */
        let fixed: { wsdl: Wsdl | undefined; accept: string; contentType: string; soapAction: string | undefined } | undefined;
        const fixedFor = () => {
          if (fixed !== undefined && fixed.wsdl === wsdl) return fixed;
          const action = actionFor(operation);
          const v11 = version === '1.1';
          fixed = {
            wsdl,
            accept: `${MEDIA_TYPE[version]}, multipart/related`,
            contentType: v11 ? 'text/xml; charset=utf-8' : `application/soap+xml; charset=utf-8; action="${action}"`,
            soapAction: v11 ? `"${action}"` : undefined,
          };
          return fixed;
        };

        return async function soapCall(ex: Exchange, cancel: Cancellation | undefined): Promise<CallResult> {
          const parts = body ? await body.evaluate(ex) : ex.body;
          let entries = soapHeaders ? ((await soapHeaders.evaluate(ex)) as Record<string, unknown> | undefined) : undefined;
          if (security) entries = { ...entries, ...usernameToken(security.username, password, security.passwordType ?? 'text', security.mustUnderstand ?? true) };
          const xml = envelopeXml(codec, version, entries, operation, namespace ?? '', parts);
          const f = fixedFor();
          const h: Record<string, string> = { accept: f.accept, 'x-request-id': ex.id };
          for (const [k, t] of headers) h[k] = t.constant ?? (await t.render(ex));
          h['content-type'] = f.contentType;
          if (f.soapAction !== undefined) h.soapaction = f.soapAction;
          const res = await client.send({ method: 'POST', path: '', headers: h, body: xml }, ex, cancel);
          return { value: answerOf(name, operation, res, codec, arrays), status: res.status };
        };
      },
    } satisfies Endpoint;
  },
};

/** The answer's body element content; faults, error pages and empty bodies as clear errors. */
function answerOf(name: string, operation: string, res: HttpResponse, codec: XmlCodec, arrays: ReadonlySet<string>): unknown {
  const type = String(res.headers['content-type'] ?? 'no content type');
  if (res.bytes.length === 0) {
    if (res.status === 202 || res.status === 204) return null; // one-way operation acknowledged
    if (res.status >= 400) throw upstreamStatusError(name, res, null, ' with an empty body instead of a SOAP envelope');
    throw new WeftError('UPSTREAM_MALFORMED', `${name} answered ${res.status} to ${operation} with an empty body instead of a SOAP envelope`, { endpoint: name });
  }
  let answer;
  let broken: string | undefined;
  try {
    answer = unwrap(codec.decode(res.bytes), arrays);
  } catch (err) {
    answer = undefined;
    // XML that is not well-formed: the codec's message says what and where (line, column).
    // Other types (an HTML error page) are named by their excerpt instead.
    if (XML_TYPE.test(type) && err instanceof WeftError) broken = err.message;
  }
  if (answer === undefined) {
    const what = broken ? ` with ${type} that is not a SOAP envelope: ${broken}` : ` with ${type} instead of a SOAP envelope: ${excerpt(res.bytes)}`;
    if (res.status >= 400) throw upstreamStatusError(name, res, new TextDecoder().decode(res.bytes), what);
    throw new WeftError('UPSTREAM_MALFORMED', `${name} answered ${res.status} to ${operation}${what}`, { endpoint: name });
  }
  if (answer.kind === 'fault') {
    const f = answer.fault;
    throw new WeftError('SOAP_FAULT', `${name} answered a SOAP fault to ${operation}: ${f.code}${f.subcode ? `/${f.subcode}` : ''}: ${f.reason}`, {
      endpoint: name,
      details: { fault: f, upstream: { status: res.status } },
    });
  }
  if (res.status >= 400) throw upstreamStatusError(name, res, answer.kind === 'result' ? answer.value : null);
  return answer.kind === 'result' ? answer.value : null;
}

/** A short, single-line view of a non-SOAP answer: an HTML page's title, else its start. */
function excerpt(bytes: Uint8Array): string {
  const text = new TextDecoder().decode(bytes.subarray(0, 4096));
  const title = /<title[^>]*>([^<]*)<\/title>/i.exec(text)?.[1];
  const plain = (title ?? text.replace(/<[^>]*>/g, ' ')).replace(/\s+/g, ' ').trim();
  return JSON.stringify(plain.length > 120 ? `${plain.slice(0, 120)}...` : plain);
}
