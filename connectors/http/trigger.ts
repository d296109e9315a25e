/**
 * `http` trigger: one route, matched by hono's router, served by node:http (answer.ts). Per
 * request it reads and decodes the body (within maxBody, by Content-Type), checks the body
 * schema, runs the pipeline and encodes the reply in the negotiated format. Route, codecs, the
 * schema check and the Accept negotiation are all prepared once in create().
 */
import { METHOD_NAME_ALL } from 'hono/router';
import { TrieRouter } from 'hono/router/trie-router';
import { randomUUID } from 'node:crypto';
import { createServer, validateHeaderName, validateHeaderValue, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Pipeline, RuntimeServices, Trigger, TriggerDef } from '../../runtime/contract.ts';
import type { Codec } from '../../runtime/codecs/codec.ts';
import { createCodecs, createNegotiator, formatOfMediaType, FORMATS, mediaTypeOf, TYPED_FORMATS, type Format } from '../../runtime/codecs/formats.ts';
import { compileTypedCodecs, typedFormatProperties, type TypedFormatConfig } from '../../runtime/codecs/typed.ts';
import type { XmlOptions } from '../../runtime/codecs/xml.ts';
import { Cancellation } from '../../runtime/engine/cancellation.ts';
import { Exchange, type Reply } from '../../runtime/engine/exchange.ts';
import { WeftError } from '../../runtime/errors.ts';
import { compileSchemaFile } from '../../runtime/json-schema.ts';
import { ref } from '../../runtime/flow/schema-parts.ts';
import { parseDuration, parseSize } from '../../runtime/units.ts';
import { paramOf, pathOf, writeAnswer, type Answer } from './answer.ts';
import { hasBody, readBody } from './body.ts';
import { corsSchema, createCors, type Cors, type CorsConfig } from './cors.ts';
import { describeRoute } from './openapi.ts';
import { PROBLEM_TYPE, problemOf } from './problem.ts';
import { createRateLimit, rateLimitSchema, type RateLimitConfig } from './rate-limit.ts';
import { challengeOf, createGuard, triggerAuthSchema, type TriggerAuthConfig } from './security/guard.ts';
import { xmlOptionsSchema } from './xml-options.ts';

interface HttpTriggerConfig extends TypedFormatConfig {
  method?: string;
  path: string;
  accept?: Format[];
  schema?: string;
  maxBody?: string | number;
  timeout?: string | number;
  xml?: XmlOptions;
  auth?: TriggerAuthConfig;
  rateLimit?: RateLimitConfig;
  cors?: CorsConfig;
}

const DEFAULT_MAX_BODY = 1024 * 1024;
const DEFAULT_REPLY: Reply = { status: 200, headers: undefined, useBody: true, body: undefined, format: undefined };
const NO_BODY_STATUS = new Set([204, 205, 304]);

/** The route label of requests that matched no route: one series, whatever paths were tried. */
const UNMATCHED_ROUTE = '(unmatched)';

/** The status observed for a request whose caller hung up before its answer (nginx uses the same). */
const CALLER_CLOSED = 499;

export const httpTrigger: TriggerDef<HttpTriggerConfig> = {
  name: 'http',
  summary: 'Serves one HTTP route; the flow answers each request.',
  schema: {
    type: 'object',
    properties: {
      method: { enum: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'], description: 'Default GET.' },
      path: { type: 'string', pattern: '^/', 'x-weft-expected': 'a path starting with /', description: 'Route path; `:name` captures params.name.' },
      accept: {
        type: 'array',
        items: { enum: [...FORMATS] },
        minItems: 1,
        uniqueItems: true,
        description: 'Request body formats decoded, by Content-Type. Default [json].',
      },
      schema: { type: 'string', description: 'JSON Schema file of the decoded body; failures answer 400 listing every path.' },
      maxBody: { ...ref.size, description: 'Largest request body; larger answers 413. Default 1mb.' },
      timeout: {
        ...ref.duration,
        description: 'Time budget of one request: every call gets what is left of it, none starts once it is spent (504 DEADLINE_EXCEEDED). Default: none.',
      },
      xml: xmlOptionsSchema,
      auth: triggerAuthSchema,
      rateLimit: rateLimitSchema,
      cors: corsSchema,
      ...typedFormatProperties,
    },
    required: ['path'],
    additionalProperties: false,
  },

  create(config, at, pipeline, services) {
    const method = config.method ?? 'GET';
    const accept: readonly Format[] = config.accept ?? ['json'];
    const maxBody = config.maxBody === undefined ? DEFAULT_MAX_BODY : parseSize(config.maxBody);
    const budgetMs = config.timeout === undefined ? undefined : parseDuration(config.timeout);
    const budgetName = `the request timeout of ${budgetMs} ms`;
    const codecs = createCodecs({ xml: config.xml, ...compileTypedCodecs(config, at) });
    for (const f of accept) {
      if (TYPED_FORMATS.includes(f) && (f === 'protobuf' ? config.message : config.struct) === undefined) {
        at.problem('FLOW_SCHEMA', `accept: ${f} needs the body's type: give \`${f === 'protobuf' ? 'message' : 'struct'}\``, 'accept');
      }
    }
    const negotiate = createNegotiator(FORMATS);
    let check: ((value: unknown) => void) | undefined;
    let schemaFile: string | undefined;
    if (config.schema !== undefined) {
      const file = at.file(config.schema, 'schema');
      schemaFile = file;
      if (file) {
        try {
          check = compileSchemaFile(file);
        } catch (err) {
          at.problem('FLOW_FILE', `'${config.schema}' is not a usable JSON Schema: ${(err as Error).message}`, 'schema');
        }
      }
    }
    const { log, inflight, draining } = services;
    // Who may call (security/guard.ts); without `auth` nothing runs per request.
    const guard = config.auth === undefined ? undefined : createGuard(config.auth, at.child('auth'), services.metrics);
    // How many may call (rate-limit.ts) and from which web origins (cors.ts). Without them a
    // request pays an `undefined` test for each, nothing more.
    const limit = config.rateLimit === undefined ? undefined : createRateLimit(config.rateLimit, at.child('rateLimit'), { authenticated: guard !== undefined, route: config.path, observer: services.metrics?.rateLimit });
    const arrivalLimit = limit?.stage === 'arrival' ? limit : undefined;
    const callerLimit = limit?.stage === 'caller' ? limit : undefined;
    const cors = config.cors === undefined ? undefined : createCors(config.cors, at.child('cors'), method);
    const allow = cors?.allow ?? method;
    const flow = { name: at.flow.name };
    const env = at.flow.env;

    /** `edge`: headers every answer to the request carries (CORS, RateLimit-*), when the trigger has them. */
    const respondError = (err: unknown, id: string, edge?: Record<string, string>): Answer => {
      const e = WeftError.from(err);
      if (e.status >= 500) log.error({ reqId: id, code: e.code, step: e.step, endpoint: e.endpoint, err: e }, e.message);
      // A flood of refusals must not become a flood of log lines: the metrics count them.
      else if (e.code === 'RATE_LIMITED') log.debug({ reqId: id, code: e.code }, e.message);
      else log.info({ reqId: id, code: e.code, step: e.step }, e.message);
      const headers: Record<string, string> = edge === undefined ? { 'content-type': PROBLEM_TYPE, 'x-request-id': id } : { ...edge, 'content-type': PROBLEM_TYPE, 'x-request-id': id };
      if (e.code === 'PAYLOAD_TOO_LARGE' || draining.aborted) headers.connection = 'close';
      if (e.code === 'METHOD_NOT_ALLOWED') headers.allow = allow;
      const challenge = challengeOf(e);
      if (challenge !== undefined) headers['www-authenticate'] = challenge;
      return { status: e.status, headers, body: JSON.stringify(problemOf(e, id)) };
    };

    const requests = services.metrics?.requests;
    const observe = (route: string, req: IncomingMessage, res: Answer, began: number): void =>
      requests?.observe(route, req.method!, res.status, (performance.now() - began) / 1000);

    const handle = async (req: IncomingMessage, outgoing: ServerResponse, params: Record<string, string>): Promise<Answer> => {
      const headers = req.headers as Record<string, string>;
      const id = headers['x-request-id'] || randomUUID();
      const arrived = performance.now();
      let edge: Record<string, string> | undefined;
      if (cors !== undefined) cors.allowOrigin(headers.origin, (edge = {}));
      if (arrivalLimit !== undefined) {
        try {
          arrivalLimit.admit(req, undefined, (edge ??= {}));
        } catch (err) {
          // Refused before anything is allocated for the request: no Exchange, no body read.
          req.resume();
          const refused = respondError(err, id, edge);
          observe(config.path, req, refused, arrived);
          return refused;
        }
      }
      inflight.enter();
      // A caller that hangs up cancels the calls its request still has in flight (and starts no
      // new ones), as Go's request context does for KrakenD: no upstream work for nobody.
      const cancel = new Cancellation();
      outgoing.on('close', () => {
        if (!outgoing.writableFinished) cancel.abort(new WeftError('ABORTED', 'the caller closed the connection before it was answered'));
      });
      let res: Answer;
      try {
        const negotiated = negotiate(headers.accept);
        if (negotiated === 'none') {
          throw new WeftError('NOT_ACCEPTABLE', `cannot answer in any of: ${headers.accept}; offered: ${FORMATS.join(', ')}`);
        }
        // The budget starts when the request arrived, so reading a slow body counts against it.
        const deadline = budgetMs === undefined ? undefined : { at: arrived + budgetMs, what: budgetName };
        const ex = new Exchange({ id, log, env, flow, headers, params, query: queryOf(req.url), deadline, cancel });
        if (guard !== undefined) await guard.check(ex, req);
        if (callerLimit !== undefined) {
          try {
            callerLimit.admit(req, ex.auth, (edge ??= {}));
          } catch (err) {
            req.resume();
            throw err;
          }
        }
        let requestFormat: Format | undefined;
        if (hasBody(req)) {
          const contentType = headers['content-type'];
          const format = contentType ? formatOfMediaType(mediaTypeOf(contentType)) : accept[0];
          if (!format || !accept.includes(format)) {
            req.resume();
            throw new WeftError('UNSUPPORTED_MEDIA_TYPE', `Content-Type ${contentType} is not accepted; send ${accept.map((f) => codecs.get(f)!.mediaType).join(' or ')}`);
          }
          const bytes = await readBody(req, maxBody);
          if (bytes.length > 0) {
            const codec = codecs.get(format);
            if (!codec) throw new WeftError('UNSUPPORTED_MEDIA_TYPE', `${format} bodies are not accepted here`);
            ex.setDecoded(bytes, codec, codec.decode(bytes));
            requestFormat = format;
          }
        }
        if (check) check(ex.body);
        await pipeline.run(ex);
        res = reply(ex, negotiated === 'any' ? (requestFormat ?? 'json') : negotiated, codecs, draining.aborted, edge);
      } catch (err) {
        if (cancel.aborted) {
          log.info({ reqId: id }, 'the caller closed the connection: its work was cancelled');
          // nginx's 499: nobody reads it, but the metrics tell hang-ups from failures.
          res = { status: CALLER_CLOSED, headers: {}, body: null };
        } else res = respondError(err, id, edge);
      } finally {
        inflight.leave();
      }
      // Observed here rather than by a middleware: see the routes below.
      observe(config.path, req, res, arrived);
      return res;
    };

    /** An answer on the unhappy paths (404, 405, a failure outside `handle`), observed like `handle`'s. */
    const failing = (route: string, req: IncomingMessage, err: unknown): Answer => {
      const began = performance.now();
      const res = respondError(err, idOf(req), corsOf(req));
      observe(route, req, res, began);
      return res;
    };
    const corsOf = (req: IncomingMessage): Record<string, string> | undefined => {
      if (cors === undefined) return undefined;
      const out: Record<string, string> = {};
      cors.allowOrigin(req.headers.origin, out);
      return out;
    };

    /** OPTIONS on the route with `cors`: the preflight, answered here; the flow does not run. */
    const preflight = (req: IncomingMessage, cors: Cors): Answer => {
      const began = performance.now();
      const id = idOf(req);
      let res: Answer;
      try {
        const allowed = cors.preflight(req.headers);
        // Not a preflight (no Origin or Access-Control-Request-Method): what OPTIONS means in RFC 9110.
        const headers: Record<string, string> = allowed === undefined ? { allow: cors.allow, 'x-request-id': id } : { ...allowed, 'x-request-id': id };
        res = { status: 204, headers, body: null };
      } catch (err) {
        res = respondError(err, id);
      }
      observe(config.path, req, res, began);
      return res;
    };

    // The route's own method, and any method on its path (for 405 and the CORS preflight).
    const route = new TrieRouter<true>();
    route.add(method, config.path, true);
    const anyMethod = new TrieRouter<true>();
    anyMethod.add(METHOD_NAME_ALL, config.path, true);
    const unmatched = (req: IncomingMessage, path: string): Answer => {
      const m = req.method!;
      if (anyMethod.match(m, path)[0].length === 0) return failing(UNMATCHED_ROUTE, req, new WeftError('NOT_FOUND', `no route for ${m} ${path}`));
      if (cors !== undefined && m === 'OPTIONS') return preflight(req, cors);
      return failing(config.path, req, new WeftError('METHOD_NOT_ALLOWED', `${m} is not allowed on ${config.path}; use ${method}`));
    };
    const send = (req: IncomingMessage, outgoing: ServerResponse, res: Answer): void => {
      // A body nobody read (404, 405, a refusal before the read): node:http would read and drop
      // all of it to keep the connection, however long the sender goes on; closing costs less.
      if (!req.complete && hasBody(req)) res.headers.connection = 'close';
      try {
        writeAnswer(outgoing, res);
      } catch (err) {
        // Only a header value nothing checked could get here; the caller still gets an answer.
        if (!outgoing.headersSent) writeAnswer(outgoing, failing(config.path, req, err));
        else outgoing.destroy();
      }
    };
    const listener = (req: IncomingMessage, outgoing: ServerResponse): void => {
      let res: Answer | Promise<Answer>;
      try {
        const path = pathOf(req.url!);
        // HEAD is GET without the body (node:http drops it), as RFC 9110 has it.
        const found = route.match(req.method === 'HEAD' ? 'GET' : req.method!, path)[0];
        if (found.length === 0) res = unmatched(req, path);
        else {
          const raw = found[0][1] as Record<string, string>;
          const params: Record<string, string> = {};
          for (const k in raw) params[k] = paramOf(raw[k]);
          res = handle(req, outgoing, params);
        }
      } catch (err) {
        res = failing(config.path, req, err);
      }
      if (res instanceof Promise) {
        res.then(
          (answer) => send(req, outgoing, answer),
          (err: unknown) => send(req, outgoing, failing(config.path, req, err)),
        );
      } else send(req, outgoing, res);
    };

    let server: Server | undefined;
    return {
      describe: `${method} ${config.path}`,
      describeApi: () =>
        describeRoute(
          { method, path: config.path, accept, schemaFile, message: config.message, struct: config.struct, thriftProtocol: config.thrift?.protocol, codecs, timeout: budgetMs !== undefined, security: guard?.description, rateLimited: limit !== undefined },
          at.flow.name,
        ),
      address() {
        const a = server?.address() as AddressInfo | null | undefined;
        if (!a) return undefined;
        const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
        return `http://${host}:${a.port}`;
      },
      start() {
        server = createServer(listener);
        const s = server;
        return new Promise<void>((resolve, reject) => {
          s.once('error', (err) => reject(new Error(`cannot listen on ${services.host}:${services.port}: ${err.message}`)));
          s.listen(services.port, services.host, () => resolve());
        });
      },
      async stop(deadline) {
        const s = server;
        if (!s) return;
        // Stop accepting; idle keep-alive sockets go now, busy ones after their reply.
        const closed = new Promise<void>((resolve) => s.close(() => resolve()));
        s.closeIdleConnections();
        const forced = new Promise<void>((resolve) => deadline.addEventListener('abort', () => resolve(), { once: true }));
        await Promise.race([closed, forced]);
        s.closeAllConnections();
        await guard?.close();
      },
      health: () => ({ ok: server?.listening === true }),
    } satisfies Trigger;
  },
};

function idOf(req: IncomingMessage): string {
  return (req.headers['x-request-id'] as string | undefined) || randomUUID();
}

function queryOf(url: string | undefined): Record<string, string | string[]> {
  const q = url?.indexOf('?') ?? -1;
  if (q === -1) return {};
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of new URLSearchParams(url!.slice(q + 1))) {
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

/**
 * The answer to the flow's reply. Reply headers are lower-case already (the respond step makes
 * them so), so merging by key is exact; their values are checked here, so a bad one is still
 * this request's error. `edge` headers (CORS, RateLimit-*) come first, so a respond step's own
 * headers win.
 */
function reply(ex: Exchange, wanted: Format, codecs: Map<Format, Codec>, closing: boolean, edge: Record<string, string> | undefined): Answer {
  const r = ex.reply ?? DEFAULT_REPLY;
  const format = (r.format as Format | undefined) ?? wanted;
  const codec = r.codecs?.[format] ?? codecs.get(format);
  if (!codec) {
    throw new WeftError('NOT_ACCEPTABLE', `cannot answer in ${format}: no ${format === 'protobuf' ? 'message' : 'struct'} type for the reply (set it on respond or the trigger)`);
  }
  const headers: Record<string, string> = edge === undefined ? { 'x-request-id': ex.id } : { ...edge, 'x-request-id': ex.id };
  if (closing) headers.connection = 'close';
  let payload: string | Uint8Array | null = null;
  if (!NO_BODY_STATUS.has(r.status)) {
    // Raw passthrough only when the reply has no type of its own that could differ from the request's.
    const raw = r.useBody && !r.codecs?.[format] ? ex.rawIn(format) : undefined;
    const value = raw === undefined ? (r.useBody ? ex.body : r.body) : undefined;
    if (raw !== undefined || value !== undefined) {
      payload = raw ?? codec.encode(value);
      headers['content-type'] = codec.mediaType;
    }
  }
  if (r.headers) {
    for (const k in r.headers) {
      validateHeaderName(k);
      validateHeaderValue(k, r.headers[k]);
      headers[k] = r.headers[k];
    }
  }
  return { status: r.status, headers, body: payload };
}
