/**
 * `grpc` endpoint: unary calls to a service of the flow's `schemas.proto`, over @grpc/grpc-js,
 * with the request and response types from the same protobufjs root the schema set loaded and
 * the ProtoBuf codec (proto3 JSON mapping) both ways. The channel opens at start and
 * reconnects by itself; the call's deadline is the endpoint policy's (timeout or what is left of
 * the request's budget), sent to the server as grpc-timeout.
 */
import type { Client, ServiceError } from '@grpc/grpc-js';
import { createSecureContext } from 'node:tls';
import { lazyModule } from '../../runtime/lazy.ts';
import type protobuf from 'protobufjs';
import type { CallConfig, CallResult, CompileContext, Endpoint, EndpointDef, PreparedCall } from '../../runtime/contract.ts';
import { asUpstream } from '../../runtime/codecs/formats.ts';
import { createProtobufCodec } from '../../runtime/codecs/protobuf.ts';
import type { Cancellation } from '../../runtime/engine/cancellation.ts';
import type { Exchange } from '../../runtime/engine/exchange.ts';
import { checkRpcArgs, rpcOperation, unloadable } from '../../runtime/engine/rpc-call.ts';
import { ref } from '../../runtime/flow/schema-parts.ts';
import { parseSize } from '../../runtime/units.ts';
import { compileHeaders } from '../http/endpoint.ts';
import { loadClientTls, tlsSchema, warnIfInsecure, type TlsConfig } from '../tls/client-tls.ts';
import { grpcError } from './status.ts';

const grpc = lazyModule<typeof import('@grpc/grpc-js')>('@grpc/grpc-js');

interface GrpcEndpointConfig {
  url: string;
  service: string;
  headers?: Record<string, string>;
  maxBody?: string | number;
  tls?: TlsConfig;
}

const DEFAULT_MAX_BODY = 16 * 1024 * 1024;
const identity = (b: Buffer): Buffer => b;

export const grpcEndpoint: EndpointDef<GrpcEndpointConfig> = {
  name: 'grpc',
  summary: 'Unary gRPC calls by .proto (no generated code) over @grpc/grpc-js; deadline from the timeout, metadata from headers.',
  schema: {
    type: 'object',
    properties: {
      url: { type: 'string', description: 'Target: `host:port` (or `grpc://host:port`, or a gRPC name such as `dns:///host:port`). Plaintext (h2c) unless `tls` is given.' },
      service: { type: 'string', description: 'Full name of the service, e.g. `shipping.v1.Shipping`; its file is under `schemas.proto`.' },
      headers: { ...ref.templateMap, description: 'Metadata sent with every call (templates).' },
      maxBody: { ...ref.size, description: 'Largest answer accepted. Default 16mb.' },
      tls: { ...tlsSchema, description: 'Call over TLS (`tls: {}` for the default trust store): private CA, client certificate, server name.' },
    },
    required: ['url', 'service'],
    additionalProperties: false,
  },
  create(name, config, at) {
    const service = at.schemas.protoService(config.service, at, 'service');
    const target = config.url.replace(/^grpc:\/\//, '');
    const maxBody = config.maxBody === undefined ? DEFAULT_MAX_BODY : parseSize(config.maxBody);
    const endpointHeaders = compileHeaders(config.headers, at.child('headers'));
    const tls = loadClientTls(config.tls, at);
    const channelOptions: Record<string, string | number> = { 'grpc.max_receive_message_length': maxBody };
    if (tls?.options.servername !== undefined) channelOptions['grpc.ssl_target_name_override'] = tls.options.servername;
    let client: Client | undefined;

    return {
      name,
      kind: 'grpc',
      async start() {
        warnIfInsecure(tls, at.log, name);
        const credentials = tls
          ? grpc.credentials.createFromSecureContext(createSecureContext(tls.options), { rejectUnauthorized: !tls.insecure })
          : grpc.credentials.createInsecure();
        client = new grpc.Client(target, credentials, channelOptions);
        client.getChannel().getConnectivityState(true); // start connecting now, not at the first message
      },
      async stop() {
        client?.close();
      },
      health() {
        const state = client?.getChannel().getConnectivityState(false);
        return state === grpc.connectivityState.TRANSIENT_FAILURE ? { ok: false, detail: `cannot connect to ${target}` } : { ok: true };
      },

      prepare(call: CallConfig, cat: CompileContext): PreparedCall {
        if (!service) return unloadable;
        const methods = new Map(Object.entries(service.methods));
        const method = rpcOperation(call, methods, service.fullName.slice(1), cat);
        if (!method) return unloadable;
        if (method.requestStream || method.responseStream) {
          cat.problem('FLOW_SCHEMA', `${method.name} is a streaming method; the grpc endpoint makes unary calls`, 'operation');
          return unloadable;
        }
        const requestType = method.resolvedRequestType as protobuf.Type;
        const responseType = method.resolvedResponseType as protobuf.Type;
        checkRpcArgs(call.args, requestType.fieldsArray.map((f) => f.name), [], requestType.fullName.slice(1), cat);
        const args = call.args === undefined ? undefined : cat.expression(call.args, 'args');
        const requestCodec = createProtobufCodec(requestType);
        const responseCodec = asUpstream(createProtobufCodec(responseType), name);
        const headers = [...endpointHeaders, ...compileHeaders(call.headers, cat.child('headers'))];
        const path = `/${service.fullName.slice(1)}/${method.name}`;

        return async function grpcCall(ex: Exchange, cancel: Cancellation | undefined): Promise<CallResult> {
          const value = args ? await args.evaluate(ex) : ex.body;
          const bytes = requestCodec.encode(value) as Uint8Array;
          const metadata = new grpc.Metadata();
          metadata.set('x-request-id', ex.id);
          for (const [k, t] of headers) metadata.set(k, t.constant ?? (await t.render(ex)));
          const deadline = cancel?.deadline;
          const answer = await new Promise<Buffer>((resolve, reject) => {
            if (cancel?.aborted) return reject(cancel.reason);
            const listener = {
              cancelled: (reason: unknown) => {
                reject(reason);
                pending.cancel();
              },
            };
            const pending = client!.makeUnaryRequest(
              path,
              identity,
              identity,
              Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
              metadata,
              deadline === undefined ? {} : { deadline: new Date(deadline) },
              (err: ServiceError | null, reply?: Buffer) => {
                cancel?.unlisten(listener);
                if (err) reject(grpcError(err, name, path, tls !== undefined));
                else resolve(reply ?? Buffer.alloc(0));
              },
            );
            cancel?.listen(listener);
          });
          return { raw: answer, codec: responseCodec };
        };
      },
    } satisfies Endpoint;
  },
};
