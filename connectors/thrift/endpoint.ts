/**
 * `thrift` endpoint: calls methods of a Thrift service declared in the flow's `schemas:`, by
 * name, with no generated code. TCP (framed or buffered transport, a pool of connections
 * opened at start and reopened on failure) or HTTP; binary or compact protocol. Declared
 * exceptions become THRIFT_EXCEPTION, TApplicationException becomes THRIFT_APPLICATION.
 * Timeouts come from the endpoint policy through the call's cancellation.
 */
import type { CallConfig, CallResult, CompileContext, Endpoint, EndpointDef, PreparedCall } from '../../runtime/contract.ts';
import { PROTOCOLS, TruncatedError, type ProtocolName } from '../../runtime/codecs/thrift-wire.ts';
import type { Cancellation } from '../../runtime/engine/cancellation.ts';
import type { Exchange } from '../../runtime/engine/exchange.ts';
import { checkRpcArgs, rpcOperation, unloadable } from '../../runtime/engine/rpc-call.ts';
import { ref } from '../../runtime/flow/schema-parts.ts';
import { parseSize } from '../../runtime/units.ts';
import { loadClientTls, tlsSchema, warnIfInsecure, type ClientTls, type TlsConfig } from '../tls/client-tls.ts';
import { HttpTransport } from './http-transport.ts';
import { decodeReply, encodeCall, type Reply } from './messages.ts';
import { INCOMPLETE, TcpPool, type ReplyReader } from './tcp-pool.ts';

interface ThriftEndpointConfig {
  url: string;
  service: string;
  protocol?: ProtocolName;
  transport?: 'framed' | 'buffered';
  pool?: number;
  maxBody?: string | number;
  tls?: TlsConfig;
}

interface Transport {
  request<T>(message: Buffer, read: ReplyReader<T> | undefined, cancel: Cancellation | undefined): Promise<T | undefined>;
  stop(deadline: AbortSignal): Promise<void>;
}

const DEFAULT_MAX_BODY = 16 * 1024 * 1024;
const DEFAULT_POOL = 8;

export const thriftEndpoint: EndpointDef<ThriftEndpointConfig> = {
  name: 'thrift',
  summary: 'Thrift RPC by IDL, no generated code: TCP (framed or buffered) or HTTP, binary or compact, pooled connections.',
  schema: {
    type: 'object',
    properties: {
      url: { type: 'string', description: '`tcp://host:port`, or `http(s)://host:port/path` for Thrift over HTTP.' },
      service: { type: 'string', description: 'Service name qualified by its IDL file, e.g. `pricing.Pricing`; the file is under `schemas.thrift`.' },
      protocol: { enum: [...PROTOCOLS], description: 'Wire protocol. Default binary.' },
      transport: { enum: ['framed', 'buffered'], description: 'TCP transport. Default framed. Not used over HTTP.' },
      pool: { type: 'integer', minimum: 1, maximum: 1024, description: 'Most TCP connections (calls in flight); later calls wait for one. Default 8.' },
      maxBody: { ...ref.size, description: 'Largest reply accepted. Default 16mb.' },
      tls: { ...tlsSchema, description: 'TLS: over TCP it turns TLS on (`tls: {}` for the default trust store); over HTTP it needs an https:// URL.' },
    },
    required: ['url', 'service'],
    additionalProperties: false,
  },
  create(name, config, at) {
    const service = at.schemas.thriftService(config.service, at, 'service');
    const protocol: ProtocolName = config.protocol ?? 'binary';
    const maxReply = config.maxBody === undefined ? DEFAULT_MAX_BODY : parseSize(config.maxBody);
    const max = config.pool ?? DEFAULT_POOL;
    const tls = loadClientTls(config.tls, at);
    const transport = createTransport(name, config, max, maxReply, tls, at);
    let seqid = 0;

    return {
      name,
      kind: 'thrift',
      async start() {
        warnIfInsecure(tls, at.log, name);
        if (transport instanceof TcpPool) await transport.warm();
      },
      stop: async (deadline) => transport?.stop(deadline),
      health: () => (transport instanceof TcpPool ? transport.health() : { ok: true }),

      prepare(call: CallConfig, cat: CompileContext): PreparedCall {
        if (call.headers !== undefined) cat.problem('FLOW_SCHEMA', 'thrift calls take no headers', 'headers');
        if (!service) return unloadable;
        const fn = rpcOperation(call, service.functions, service.name, cat);
        if (!fn) return unloadable;
        const params = fn.args.fields;
        checkRpcArgs(call.args, params.map((f) => f.name), params.filter((f) => f.requiredness === 'required').map((f) => f.name), `${service.name}.${fn.name}`, cat);
        const args = call.args === undefined ? undefined : cat.expression(call.args, 'args');
        const readReply = (bytes: Buffer, id: number): Reply | typeof INCOMPLETE => {
          try {
            return decodeReply(protocol, fn, bytes, id, name);
          } catch (err) {
            if (err instanceof TruncatedError) return INCOMPLETE; // a buffered stream: wait for more
            throw err;
          }
        };

        return async function thriftCall(ex: Exchange, cancel: Cancellation | undefined): Promise<CallResult> {
          const value = args ? await args.evaluate(ex) : ex.body;
          const id = (seqid = (seqid + 1) & 0x7fffffff);
          const message = encodeCall(protocol, fn, value, id);
          const read: ReplyReader<Reply> | undefined = fn.oneway ? undefined : (bytes) => readReply(bytes, id);
          const reply = await transport!.request(message, read, cancel);
          if (reply === undefined) return { value: null }; // oneway: nothing comes back
          if (!reply.ok) throw reply.error;
          return { value: reply.value };
        };
      },
    } satisfies Endpoint;
  },
};

function createTransport(name: string, config: ThriftEndpointConfig, max: number, maxReply: number, tls: ClientTls | undefined, at: CompileContext): Transport | undefined {
  let url: URL;
  try {
    url = new URL(config.url);
  } catch {
    at.problem('FLOW_SCHEMA', `'${config.url}' is not a URL: give tcp://host:port or http://host:port/path`, 'url');
    return undefined;
  }
  if (url.protocol === 'http:' || url.protocol === 'https:') {
    if (config.transport !== undefined) at.problem('FLOW_SCHEMA', 'transport applies to tcp:// URLs; over HTTP each message is one request', 'transport');
    if (tls && url.protocol === 'http:') at.problem('FLOW_SCHEMA', `\`tls\` over HTTP needs an https:// URL, and '${config.url}' is plain http`, 'tls');
    return new HttpTransport(url, maxReply, max, name, tls?.options);
  }
  if (url.protocol !== 'tcp:' || !url.hostname || !url.port) {
    at.problem('FLOW_SCHEMA', `'${config.url}' is not a Thrift address: give tcp://host:port or http://host:port/path`, 'url');
    return undefined;
  }
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return new TcpPool({ host, port: Number(url.port), framed: (config.transport ?? 'framed') === 'framed', max, maxReply, endpoint: name, tls: tls?.options });
}
