/**
 * Thrift structs <-> the value model, driven by the IDL at run time (no generated code), over
 * the `thrift` package's binary and compact protocols.
 *
 * Value model: structs are objects keyed by field name; i8/i16/i32 and double are numbers;
 * i64 is a number when it is a safe integer and a BigInt beyond 2^53 (JSON writes it as exact
 * digits), and accepts a number, a BigInt or a decimal string; enums are member names (a number
 * is accepted on input); binary is base64 (a Uint8Array is accepted); set is an array; map is an
 * object when its keys are strings, numbers or enums, else an array of { key, value }; a union
 * is an object with exactly one field.
 */
import { isUtf8 } from 'node:buffer';
import { WeftError } from '../errors.ts';
import { TType, type ThriftField, type ThriftStruct, type ThriftType } from '../schemas/thrift-model.ts';
import type { Codec } from './codec.ts';
import {
  bigIntOfInt64, int64FromBigInt, MemoryTransport, protocolFor, TruncatedError,
  type ProtocolName, type ThriftProtocol,
} from './thrift-wire.ts';

export const THRIFT_MEDIA_TYPE = 'application/x-thrift';
const MAX_DEPTH = 64;
const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;
const DECIMAL = /^-?\d+$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function encodeError(path: string, message: string): WeftError {
  return new WeftError('ENCODE', `cannot encode as Thrift: ${path || 'value'} ${message}`);
}
function decodeError(message: string): WeftError {
  return new WeftError('MALFORMED_BODY', `malformed Thrift: ${message}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

// ---------------------------------------------------------------- writing

export function writeStruct(p: ThriftProtocol, s: ThriftStruct, value: unknown, path: string, depth: number): void {
  if (depth > MAX_DEPTH) throw encodeError(path, `is nested deeper than ${MAX_DEPTH}`);
  if (!isObject(value)) throw encodeError(path, `must be an object for ${s.name}, got ${typeof value}`);
  let set = 0;
  p.writeStructBegin(s.name);
  for (const f of s.fields) {
    let v = value[f.name];
    if ((v === undefined || v === null) && f.default !== undefined && s.kind === 'struct') v = f.default;
    if (v === undefined || v === null) {
      if (f.requiredness === 'required') throw encodeError(path, `misses required field '${f.name}' of ${s.name}`);
      continue;
    }
    set++;
    p.writeFieldBegin(f.name, f.type.wire, f.id);
    writeValue(p, f.type, v, path ? `${path}.${f.name}` : f.name, depth + 1);
    p.writeFieldEnd();
  }
  if (s.kind === 'union' && set !== 1) throw encodeError(path, `must set exactly one field of union ${s.name}, not ${set}`);
  p.writeFieldStop();
  p.writeStructEnd();
}

function writeValue(p: ThriftProtocol, t: ThriftType, v: unknown, path: string, depth: number): void {
  switch (t.kind) {
    case 'bool':
      if (typeof v !== 'boolean') throw encodeError(path, `must be a boolean, got ${JSON.stringify(v)}`);
      return p.writeBool(v);
    case 'i8':
      return p.writeByte(int(v, path, -128, 127));
    case 'i16':
      return p.writeI16(int(v, path, -32768, 32767));
    case 'i32':
      return p.writeI32(int(v, path, -2147483648, 2147483647));
    case 'i64':
      return p.writeI64(int64FromBigInt(i64(v, path)));
    case 'double':
      if (typeof v !== 'number') throw encodeError(path, `must be a number, got ${JSON.stringify(v)}`);
      return p.writeDouble(v);
    case 'string':
      if (typeof v !== 'string') throw encodeError(path, `must be a string, got ${typeof v}`);
      if (!v.isWellFormed()) throw encodeError(path, 'is not valid Unicode (lone surrogate)');
      return p.writeString(v);
    case 'binary':
      return p.writeBinary(binary(v, path));
    case 'enum': {
      const n = typeof v === 'string' ? t.enum.byName.get(v) : typeof v === 'number' && t.enum.byValue.has(v) ? v : undefined;
      if (n === undefined) throw encodeError(path, `${JSON.stringify(v)} is not a member of ${t.enum.name}`);
      return p.writeI32(n);
    }
    case 'struct':
      return writeStruct(p, t.struct, v, path, depth);
    case 'list':
    case 'set': {
      if (!Array.isArray(v)) throw encodeError(path, `must be an array, got ${typeof v}`);
      if (depth > MAX_DEPTH) throw encodeError(path, `is nested deeper than ${MAX_DEPTH}`);
      if (t.kind === 'list') p.writeListBegin(t.elem.wire, v.length);
      else p.writeSetBegin(t.elem.wire, v.length);
      for (let i = 0; i < v.length; i++) writeValue(p, t.elem, v[i], `${path}[${i}]`, depth + 1);
      if (t.kind === 'list') p.writeListEnd();
      else p.writeSetEnd();
      return;
    }
    case 'map': {
      if (depth > MAX_DEPTH) throw encodeError(path, `is nested deeper than ${MAX_DEPTH}`);
      const entries = mapEntries(t, v, path);
      p.writeMapBegin(t.key.wire, t.value.wire, entries.length);
      for (const [k, val] of entries) {
        writeValue(p, t.key, k, `${path}{key}`, depth + 1);
        writeValue(p, t.value, val, `${path}.${String(k)}`, depth + 1);
      }
      p.writeMapEnd();
      return;
    }
  }
}

/** Maps with scalar keys are objects (keys are strings there, converted back); others are entry arrays. */
function mapEntries(t: Extract<ThriftType, { kind: 'map' }>, v: unknown, path: string): [unknown, unknown][] {
  if (Array.isArray(v)) {
    return v.map((e, i) => {
      if (!isObject(e) || !('key' in e)) throw encodeError(`${path}[${i}]`, 'must be a { key, value } entry');
      return [e.key, e.value];
    });
  }
  if (!isObject(v)) throw encodeError(path, `must be an object or an array of { key, value }, got ${typeof v}`);
  const k = t.key.kind;
  return Object.entries(v).map(([key, val]) => {
    if (k === 'i8' || k === 'i16' || k === 'i32' || k === 'double') {
      if (key.trim() === '' || !Number.isFinite(Number(key))) throw encodeError(path, `key ${JSON.stringify(key)} is not a number`);
      return [Number(key), val];
    }
    if (k === 'bool') return [key === 'true' ? true : key === 'false' ? false : key, val];
    return [key, val];
  });
}

function int(v: unknown, path: string, min: number, max: number): number {
  const n = typeof v === 'string' && DECIMAL.test(v) ? Number(v) : typeof v === 'bigint' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw encodeError(path, `must be an integer in ${min}..${max}, got ${typeof v === 'bigint' ? v : JSON.stringify(v)}`);
  }
  return n;
}

function i64(v: unknown, path: string): bigint {
  let n: bigint | undefined;
  if (typeof v === 'bigint') n = v;
  else if (typeof v === 'number' && Number.isSafeInteger(v)) n = BigInt(v);
  else if (typeof v === 'string' && DECIMAL.test(v)) n = BigInt(v);
  if (n === undefined || n < I64_MIN || n > I64_MAX) {
    throw encodeError(path, `must be a 64-bit integer (number, or decimal string beyond 2^53), got ${typeof v === 'bigint' ? v : JSON.stringify(v)}`);
  }
  return n;
}

function binary(v: unknown, path: string): Uint8Array {
  if (v instanceof Uint8Array) return v;
  if (typeof v === 'string' && BASE64.test(v.replace(/\s/g, ''))) return Buffer.from(v, 'base64');
  throw encodeError(path, 'must be base64 text');
}

// ---------------------------------------------------------------- reading

export function readStruct(p: ThriftProtocol, s: ThriftStruct, depth: number): Record<string, unknown> {
  if (depth > MAX_DEPTH) throw decodeError(`nested deeper than ${MAX_DEPTH}`);
  const out: Record<string, unknown> = {};
  p.readStructBegin();
  for (let guard = 0; ; guard++) {
    const { ftype, fid } = p.readFieldBegin();
    if (ftype === TType.STOP) break;
    const f = s.byId.get(fid);
    if (!f) {
      // Unknown fields are skipped: a newer peer may send fields this IDL does not know yet.
      skip(p, ftype, depth + 1);
    } else {
      if (ftype !== f.type.wire) throw decodeError(`field ${s.name}.${f.name} (id ${fid}) has wire type ${ftype}, the IDL says ${f.type.wire}`);
      out[f.name] = readValue(p, f.type, depth + 1, f);
    }
    p.readFieldEnd();
  }
  p.readStructEnd();
  for (const f of s.fields) {
    if (out[f.name] !== undefined) continue;
    if (f.requiredness === 'required') throw decodeError(`required field '${f.name}' of ${s.name} is missing`);
    if (f.default !== undefined && s.kind === 'struct') out[f.name] = f.default;
  }
  return out;
}

function readValue(p: ThriftProtocol, t: ThriftType, depth: number, field?: ThriftField): unknown {
  switch (t.kind) {
    case 'bool':
      return p.readBool();
    case 'i8':
      return p.readByte();
    case 'i16':
      return p.readI16();
    case 'i32':
      return p.readI32();
    case 'i64': {
      const n = bigIntOfInt64(p.readI64());
      return n >= -9007199254740991n && n <= 9007199254740991n ? Number(n) : n;
    }
    case 'double':
      return p.readDouble();
    case 'string':
      return utf8(p.readBinary());
    case 'binary':
      return Buffer.from(p.readBinary()).toString('base64');
    case 'enum': {
      const n = p.readI32();
      const name = t.enum.byValue.get(n);
      if (name === undefined) throw decodeError(`${n} is not a value of ${t.enum.name}${field ? ` (field ${field.name})` : ''}`);
      return name;
    }
    case 'struct':
      return readStruct(p, t.struct, depth);
    case 'list':
    case 'set': {
      if (depth > MAX_DEPTH) throw decodeError(`nested deeper than ${MAX_DEPTH}`);
      const { etype, size } = t.kind === 'list' ? p.readListBegin() : p.readSetBegin();
      checkSize(p, size);
      if (size > 0 && etype !== t.elem.wire) throw decodeError(`${t.kind} elements have wire type ${etype}, the IDL says ${t.elem.wire}`);
      // No preallocation: a hostile size cannot make us allocate more than the input holds.
      const items: unknown[] = [];
      for (let i = 0; i < size; i++) items.push(readValue(p, t.elem, depth + 1));
      if (t.kind === 'list') p.readListEnd();
      else p.readSetEnd();
      return items;
    }
    case 'map': {
      if (depth > MAX_DEPTH) throw decodeError(`nested deeper than ${MAX_DEPTH}`);
      const { ktype, vtype, size } = p.readMapBegin();
      checkSize(p, size);
      if (size > 0 && (ktype !== t.key.wire || vtype !== t.value.wire)) throw decodeError(`map has wire types ${ktype}/${vtype}, the IDL says ${t.key.wire}/${t.value.wire}`);
      const scalarKeys = t.key.kind !== 'struct' && t.key.kind !== 'list' && t.key.kind !== 'set' && t.key.kind !== 'map' && t.key.kind !== 'binary';
      const obj: Record<string, unknown> = scalarKeys ? Object.create(null) : {};
      const entries: { key: unknown; value: unknown }[] = [];
      for (let i = 0; i < size; i++) {
        const key = readValue(p, t.key, depth + 1);
        const value = readValue(p, t.value, depth + 1);
        if (scalarKeys) obj[String(key)] = value;
        else entries.push({ key, value });
      }
      p.readMapEnd();
      return scalarKeys ? { ...obj } : entries;
    }
  }
}

/**
 * Every element takes at least one byte, so a size beyond the bytes left cannot be read from
 * this input. It is reported as truncation: a reader of a stream (Thrift RPC over a buffered
 * transport) waits for more bytes, a reader of a whole body answers MALFORMED_BODY.
 */
function checkSize(p: ThriftProtocol, size: number): void {
  const left = (p as unknown as { trans: MemoryTransport }).trans.remaining;
  if (size < 0) throw decodeError(`a container claims ${size} elements`);
  if (size > left) throw new TruncatedError(`a container claims ${size} elements but ${left} bytes are left`);
}

function skip(p: ThriftProtocol, type: number, depth: number): void {
  if (depth > MAX_DEPTH) throw decodeError(`nested deeper than ${MAX_DEPTH}`);
  p.skip(type);
}

// isUtf8 + toString rather than a fatal TextDecoder: the same check, at a third of the cost on
// the short strings Thrift structs are made of (bench:codecs, decode).
function utf8(bytes: Buffer): string {
  if (!isUtf8(bytes)) throw decodeError('a string field is not valid UTF-8');
  return bytes.toString('utf8');
}

/** Turns anything the protocols or our transport throw into MALFORMED_BODY. */
export function asDecodeError(err: unknown): WeftError {
  if (err instanceof WeftError) return err;
  if (err instanceof TruncatedError) return decodeError(`truncated: ${err.message}`);
  if (err instanceof RangeError) return decodeError(`truncated or garbage: ${err.message}`);
  return decodeError((err as Error)?.message ?? String(err));
}

export interface ThriftCodecOptions {
  protocol?: ProtocolName;
}

/** A codec for one struct type (a message body is one struct, as in Thrift's TSerializer). */
export function createThriftCodec(struct: ThriftStruct, options: ThriftCodecOptions = {}): Codec {
  const protocol = options.protocol ?? 'binary';
  return {
    format: 'thrift',
    mediaType: THRIFT_MEDIA_TYPE,
    decode(bytes) {
      const trans = new MemoryTransport(bytes);
      try {
        const value = readStruct(protocolFor(protocol, trans), struct, 0);
        if (trans.remaining !== 0) throw decodeError(`${trans.remaining} bytes after the end of ${struct.name}`);
        return value;
      } catch (err) {
        throw asDecodeError(err);
      }
    },
    encode(value) {
      const trans = new MemoryTransport();
      writeStruct(protocolFor(protocol, trans), struct, value, '', 0);
      return trans.written();
    },
  };
}
