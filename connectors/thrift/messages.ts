/**
 * Thrift RPC messages, driven by the IDL model: a call is a message header plus the method's
 * `<name>_args` struct; a reply is a header plus `<name>_result` (field 0 the return value, the
 * others the declared exceptions) or a TApplicationException. Encoding and decoding reuse the
 * run-time struct codec and the `thrift` package's protocols over an in-memory transport.
 */
import { readStruct, writeStruct } from '../../runtime/codecs/thrift.ts';
import { MemoryTransport, protocolFor, TruncatedError, type ProtocolName } from '../../runtime/codecs/thrift-wire.ts';
import { WeftError } from '../../runtime/errors.ts';
import { addField, newStruct, TType, type ThriftFunction } from '../../runtime/schemas/thrift-model.ts';

/** TMessageType of the Thrift protocols. */
export const MessageType = { CALL: 1, REPLY: 2, EXCEPTION: 3, ONEWAY: 4 } as const;

/** TApplicationExceptionType names, by the numbers every Thrift implementation uses. */
const APPLICATION_TYPES = [
  'UNKNOWN', 'UNKNOWN_METHOD', 'INVALID_MESSAGE_TYPE', 'WRONG_METHOD_NAME', 'BAD_SEQUENCE_ID', 'MISSING_RESULT',
  'INTERNAL_ERROR', 'PROTOCOL_ERROR', 'INVALID_TRANSFORM', 'INVALID_PROTOCOL', 'UNSUPPORTED_CLIENT_TYPE',
] as const;

const APPLICATION_EXCEPTION = newStruct('TApplicationException', 'exception');
addField(APPLICATION_EXCEPTION, { id: 1, name: 'message', type: { kind: 'string', wire: TType.STRING }, requiredness: 'default', default: undefined });
addField(APPLICATION_EXCEPTION, { id: 2, name: 'type', type: { kind: 'i32', wire: TType.I32 }, requiredness: 'default', default: undefined });

/** The bytes of one call message (unframed). Throws ENCODE when `args` do not fit the IDL. */
export function encodeCall(protocol: ProtocolName, fn: ThriftFunction, args: unknown, seqid: number): Buffer {
  const trans = new MemoryTransport();
  const p = protocolFor(protocol, trans);
  p.writeMessageBegin(fn.name, fn.oneway ? MessageType.ONEWAY : MessageType.CALL, seqid);
  writeStruct(p, fn.args, args, 'args', 0);
  p.writeMessageEnd();
  return trans.written();
}

/** What a complete reply said: the return value, or the error the flow sees. */
export type Reply = { ok: true; value: unknown } | { ok: false; error: WeftError };

/**
 * Decodes one reply message that must fill `bytes` exactly. Throws TruncatedError when the
 * bytes end early (a buffered stream waits for more), and UPSTREAM_MALFORMED when they are not
 * a reply to this call.
 */
export function decodeReply(protocol: ProtocolName, fn: ThriftFunction, bytes: Uint8Array, seqid: number, endpoint: string): Reply {
  const trans = new MemoryTransport(bytes);
  const p = protocolFor(protocol, trans);
  let reply: Reply;
  try {
    const { fname, mtype, rseqid } = p.readMessageBegin();
    if (mtype === MessageType.EXCEPTION) {
      reply = { ok: false, error: applicationError(readStruct(p, APPLICATION_EXCEPTION, 0), fn.name, endpoint) };
    } else {
      if (mtype !== MessageType.REPLY) throw malformed(endpoint, `message type ${mtype} where a reply was expected`);
      if (String(fname) !== fn.name) throw malformed(endpoint, `a reply to '${String(fname)}' where '${fn.name}' was called`);
      if (rseqid !== seqid) throw malformed(endpoint, `sequence id ${rseqid} where ${seqid} was sent`);
      reply = outcome(fn, readStruct(p, fn.result, 0), endpoint);
    }
    p.readMessageEnd();
  } catch (err) {
    if (err instanceof TruncatedError) throw err;
    if (err instanceof WeftError && err.code === 'UPSTREAM_MALFORMED') throw err;
    throw malformed(endpoint, (err as Error)?.message ?? String(err));
  }
  if (trans.remaining !== 0) throw malformed(endpoint, `${trans.remaining} bytes after the reply`);
  return reply;
}

function outcome(fn: ThriftFunction, result: Record<string, unknown>, endpoint: string): Reply {
  for (const f of fn.result.fields) {
    if (f.id === 0 || result[f.name] === undefined) continue;
    const type = f.type.kind === 'struct' ? f.type.struct.name : f.name;
    return {
      ok: false,
      error: new WeftError('THRIFT_EXCEPTION', `${endpoint}.${fn.name} threw ${type}`, {
        endpoint,
        details: { exception: { type, name: f.name, fields: result[f.name] } },
      }),
    };
  }
  if (result.success !== undefined) return { ok: true, value: result.success };
  if (fn.returnsVoid) return { ok: true, value: null };
  // What generated clients do when a non-void method answers nothing.
  return { ok: false, error: applicationError({ type: 5, message: `${fn.name} failed: unknown result` }, fn.name, endpoint) };
}

function applicationError(x: Record<string, unknown>, method: string, endpoint: string): WeftError {
  const typeId = typeof x.type === 'number' ? x.type : 0;
  const type = APPLICATION_TYPES[typeId] ?? 'UNKNOWN';
  const message = typeof x.message === 'string' ? x.message : '';
  return new WeftError('THRIFT_APPLICATION', `${endpoint}.${method} failed with TApplicationException ${type}${message ? `: ${message}` : ''}`, {
    endpoint,
    details: { application: { type, typeId, message } },
  });
}

function malformed(endpoint: string, message: string): WeftError {
  return new WeftError('UPSTREAM_MALFORMED', `reply of ${endpoint} is not valid Thrift: ${message}`, { endpoint });
}
