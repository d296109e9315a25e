/**
 * The options that give the typed formats their type: `message` (a ProtoBuf full name) and
 * `struct` (a qualified Thrift name) with `thrift: { protocol }`. Shared by the http trigger,
 * the respond step and endpoints; resolved against the flow's `schemas:` at load time.
 */
import type { CompileContext, JSONSchema } from '../contract.ts';
import { PROTOCOLS, type ProtocolName } from './thrift-wire.ts';
import type { Codec } from './codec.ts';
import { createProtobufCodec } from './protobuf.ts';
import { createThriftCodec } from './thrift.ts';

export interface TypedFormatConfig {
  message?: string;
  struct?: string;
  thrift?: { protocol?: ProtocolName };
}

export const typedFormatProperties: Record<string, JSONSchema> = {
  message: { type: 'string', description: 'ProtoBuf message type (full name, e.g. shipping.v1.Quote) of protobuf bodies.' },
  struct: { type: 'string', description: 'Thrift struct type (file base name + name, e.g. inventory.Item) of thrift bodies.' },
  thrift: {
    type: 'object',
    properties: { protocol: { enum: [...PROTOCOLS], description: 'Thrift protocol of thrift bodies. Default binary.' } },
    additionalProperties: false,
  },
};

export interface TypedCodecs {
  protobuf?: Codec;
  thrift?: Codec;
}

export function compileTypedCodecs(config: TypedFormatConfig, at: CompileContext): TypedCodecs {
  const out: TypedCodecs = {};
  if (config.message !== undefined) {
    const type = at.schemas.protoMessage(config.message, at, 'message');
    if (type) out.protobuf = createProtobufCodec(type);
  }
  if (config.struct !== undefined) {
    const struct = at.schemas.thriftStruct(config.struct, at, 'struct');
    if (struct) out.thrift = createThriftCodec(struct, { protocol: config.thrift?.protocol });
  }
  return out;
}
