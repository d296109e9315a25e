/**
 * ProtoBuf <-> the value model with protobufjs and the proto3 JSON mapping: field names in
 * lowerCamelCase, int64/uint64 (and fixed/sfixed 64) as decimal strings, enums by name, bytes
 * as base64, google.protobuf.Timestamp and Duration as RFC 3339 / "1.5s" strings, the wrapper
 * types as their bare value, default values omitted, unknown fields ignored, a oneof as its one
 * set field. Unknown enum numbers on the wire stay numbers (proto3 enums are open).
 *
 * protobufjs converts and encodes; the walk around it (`toWire`) checks what protobufjs's
 * `fromObject` would silently coerce or drop (a string in an int32, an unknown enum name, a
 * BigInt) and maps the well-known types, so bad input is an ENCODE error, not a wrong message.
 */
import type protobuf from 'protobufjs';
import { lazyModule, once } from '../lazy.ts';
import { WeftError } from '../errors.ts';
import type { Codec } from './codec.ts';

const pb = lazyModule<typeof protobuf>('protobufjs');

export const PROTOBUF_MEDIA_TYPE = 'application/x-protobuf';

type Plain = Record<string, unknown>;
// protobufjs encodes 64-bit fields from Long values (its `long` dependency); its typings leave the statics out.
const Long = once(() => pb.util.Long as unknown as { fromString(text: string, unsigned?: boolean): unknown; fromNumber(n: number): unknown });

const LONG_TYPES = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);
const INT32 = { int32: [-2147483648, 2147483647], sint32: [-2147483648, 2147483647], sfixed32: [-2147483648, 2147483647], uint32: [0, 4294967295], fixed32: [0, 4294967295] } as Record<string, [number, number]>;
const DECIMAL = /^-?\d+$/;
const RFC3339 = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i;
const DURATION = /^(-)?(\d+)(?:\.(\d{1,9}))?s$/;
const BASE64 = /^[A-Za-z0-9+/\-_]*={0,2}$/;
const WRAPPERS = new Set(['DoubleValue', 'FloatValue', 'Int64Value', 'UInt64Value', 'Int32Value', 'UInt32Value', 'BoolValue', 'StringValue', 'BytesValue'].map((n) => `google.protobuf.${n}`));

function encodeError(path: string, message: string): WeftError {
  return new WeftError('ENCODE', `cannot encode as ProtoBuf: ${path || 'value'} ${message}`);
}

function fullName(t: protobuf.Type): string {
  return t.fullName.slice(1);
}

// ---------------------------------------------------------------- value model -> protobufjs object

function toWire(type: protobuf.Type, value: unknown, path: string, depth: number): unknown {
  if (depth > 100) throw encodeError(path, 'is nested deeper than 100');
  const name = fullName(type);
  if (name === 'google.protobuf.Timestamp' && typeof value === 'string') return timestampFromString(value, path);
  if (name === 'google.protobuf.Duration' && typeof value === 'string') return durationFromString(value, path);
  if (WRAPPERS.has(name) && (typeof value !== 'object' || value === null)) {
    return { value: scalarToWire(type.fields.value, value, `${path}`) };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw encodeError(path, `must be an object for ${name}, got ${Array.isArray(value) ? 'an array' : typeof value}`);
  }
  const out: Plain = {};
  const fields = type.fields;
  for (const key of Object.keys(value)) {
    const v = (value as Plain)[key];
    const field = fields[key] ?? type.fieldsArray.find((f) => f.name === key || (f.options?.json_name ?? '') === key);
    // Unknown fields are ignored, as proto3 JSON parsers may be told to; null means "not set".
    if (!field || v === null || v === undefined) continue;
    const at = path ? `${path}.${key}` : key;
    if (field.map) {
      if (typeof v !== 'object' || Array.isArray(v)) throw encodeError(at, 'must be an object (a map)');
      const m: Plain = {};
      for (const [k, mv] of Object.entries(v as Plain)) m[k] = valueToWire(field, mv, `${at}.${k}`, depth);
      out[field.name] = m;
    } else if (field.repeated) {
      if (!Array.isArray(v)) throw encodeError(at, 'must be an array (a repeated field)');
      out[field.name] = v.map((item, i) => valueToWire(field, item, `${at}[${i}]`, depth));
    } else {
      out[field.name] = valueToWire(field, v, at, depth);
    }
  }
  for (const oneof of type.oneofsArray) {
    const set = oneof.fieldsArray.filter((f) => out[f.name] !== undefined);
    if (set.length > 1) throw encodeError(path, `sets ${set.map((f) => f.name).join(' and ')} of oneof ${oneof.name}; at most one`);
  }
  return out;
}

function valueToWire(field: protobuf.Field, v: unknown, path: string, depth: number): unknown {
  const rt = field.resolvedType;
  if (rt instanceof pb.Type) return toWire(rt, v, path, depth + 1);
  if (rt instanceof pb.Enum) {
    if (typeof v === 'string' && Object.hasOwn(rt.values, v)) return rt.values[v];
    if (typeof v === 'number' && Number.isInteger(v)) return v; // open enums
    throw encodeError(path, `${JSON.stringify(v)} is not a member of ${rt.fullName.slice(1)}`);
  }
  return scalarToWire(field, v, path);
}

function scalarToWire(field: protobuf.Field, v: unknown, path: string): unknown {
  const t = field.type;
  if (LONG_TYPES.has(t)) {
    const text = typeof v === 'bigint' ? v.toString() : typeof v === 'number' && Number.isSafeInteger(v) ? String(v) : typeof v === 'string' && DECIMAL.test(v) ? v : undefined;
    if (text === undefined) throw encodeError(path, `must be a 64-bit integer (decimal string or safe number), got ${typeof v === 'bigint' ? v : JSON.stringify(v)}`);
    const n = BigInt(text);
    const unsigned = t === 'uint64' || t === 'fixed64';
    if (unsigned ? n < 0n || n >= 2n ** 64n : n < -(2n ** 63n) || n >= 2n ** 63n) throw encodeError(path, `${text} is out of range for ${t}`);
    return Long().fromString(text, unsigned);
  }
  const range = INT32[t];
  if (range) {
    const n = typeof v === 'string' && DECIMAL.test(v) ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < range[0] || n > range[1]) throw encodeError(path, `must be a ${t}, got ${JSON.stringify(v)}`);
    return n;
  }
  switch (t) {
    case 'double':
    case 'float': {
      const n = v === 'NaN' ? NaN : v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : v;
      if (typeof n !== 'number') throw encodeError(path, `must be a number, got ${JSON.stringify(v)}`);
      return n;
    }
    case 'bool':
      if (typeof v !== 'boolean') throw encodeError(path, `must be a boolean, got ${JSON.stringify(v)}`);
      return v;
    case 'string':
      if (typeof v !== 'string') throw encodeError(path, `must be a string, got ${typeof v}`);
      if (!v.isWellFormed()) throw encodeError(path, 'is not valid Unicode (lone surrogate)');
      return v;
    case 'bytes':
      if (v instanceof Uint8Array) return v;
      if (typeof v === 'string' && BASE64.test(v)) return Buffer.from(v, 'base64');
      throw encodeError(path, 'must be base64 text');
  }
  throw encodeError(path, `has unsupported type ${t}`);
}

function timestampFromString(text: string, path: string): Plain {
  const m = RFC3339.exec(text);
  const ms = m ? Date.parse(`${m[1]}${m[3]}`) : NaN;
  if (!m || Number.isNaN(ms)) throw encodeError(path, `must be an RFC 3339 timestamp, got ${JSON.stringify(text)}`);
  const nanos = m[2] ? Number(m[2].slice(1).padEnd(9, '0')) : 0;
  return { seconds: Long().fromNumber(Math.floor(ms / 1000)), nanos };
}

function durationFromString(text: string, path: string): Plain {
  const m = DURATION.exec(text);
  if (!m) throw encodeError(path, `must be a duration such as "1.5s", got ${JSON.stringify(text)}`);
  const sign = m[1] ? -1 : 1;
  const seconds = BigInt(m[2]) * BigInt(sign);
  const nanos = sign * (m[3] ? Number(m[3].padEnd(9, '0')) : 0);
  return { seconds: Long().fromString(seconds.toString()), nanos };
}

// ---------------------------------------------------------------- protobufjs object -> value model

const TO_OBJECT: protobuf.IConversionOptions = { longs: String, enums: String, bytes: String };

/** Rewrites the well-known types inside a toObject result; only types that contain one are walked. */
function fromWire(type: protobuf.Type, obj: Plain, needs: (t: protobuf.Type) => boolean): unknown {
  const name = fullName(type);
  if (name === 'google.protobuf.Timestamp') return timestampToString(obj);
  if (name === 'google.protobuf.Duration') return durationToString(obj);
  if (WRAPPERS.has(name)) return obj.value ?? defaultOf(type.fields.value);
  for (const field of type.fieldsArray) {
    const rt = field.resolvedType;
    const v = obj[field.name];
    if (v === undefined || !(rt instanceof pb.Type) || !needs(rt)) continue;
    if (field.map) for (const k of Object.keys(v as Plain)) (v as Plain)[k] = fromWire(rt, (v as Plain)[k] as Plain, needs);
    else if (field.repeated) obj[field.name] = (v as Plain[]).map((item) => fromWire(rt, item, needs));
    else obj[field.name] = fromWire(rt, v as Plain, needs);
  }
  return obj;
}

function defaultOf(field: protobuf.Field): unknown {
  return LONG_TYPES.has(field.type) ? '0' : field.type === 'bool' ? false : field.type === 'string' || field.type === 'bytes' ? '' : 0;
}

function timestampToString(obj: Plain): string {
  const seconds = Number(obj.seconds ?? 0);
  const nanos = Number(obj.nanos ?? 0);
  const iso = new Date(seconds * 1000).toISOString().replace('.000Z', '');
  return nanos === 0 ? `${iso}Z` : `${iso}.${fractionOf(nanos)}Z`;
}

function durationToString(obj: Plain): string {
  const seconds = BigInt(String(obj.seconds ?? '0'));
  const nanos = Number(obj.nanos ?? 0);
  const negative = seconds < 0n || nanos < 0;
  const abs = (seconds < 0n ? -seconds : seconds).toString();
  return `${negative ? '-' : ''}${abs}${nanos === 0 ? '' : `.${fractionOf(Math.abs(nanos))}`}s`;
}

/** proto3 JSON writes 0, 3, 6 or 9 fractional digits. */
function fractionOf(nanos: number): string {
  const digits = String(nanos).padStart(9, '0');
  return digits.endsWith('000000') ? digits.slice(0, 3) : digits.endsWith('000') ? digits.slice(0, 6) : digits;
}

/** Memoised: does a type (transitively) contain a well-known type that needs rewriting? */
function wellKnownDetector(): (t: protobuf.Type) => boolean {
  const memo = new Map<protobuf.Type, boolean>();
  const needs = (t: protobuf.Type): boolean => {
    const hit = memo.get(t);
    if (hit !== undefined) return hit;
    const name = fullName(t);
    if (name === 'google.protobuf.Timestamp' || name === 'google.protobuf.Duration' || WRAPPERS.has(name)) return true;
    memo.set(t, false); // cycles: assume no until proven
    const result = t.fieldsArray.some((f) => f.resolvedType instanceof pb.Type && needs(f.resolvedType));
    memo.set(t, result);
    return result;
  };
  return needs;
}

export function createProtobufCodec(type: protobuf.Type): Codec {
  const needs = wellKnownDetector();
  const rewrite = needs(type);
  return {
    format: 'protobuf',
    mediaType: PROTOBUF_MEDIA_TYPE,
    decode(bytes) {
      let obj: Plain;
      try {
        obj = type.toObject(type.decode(bytes), TO_OBJECT);
      } catch (err) {
        throw new WeftError('MALFORMED_BODY', `malformed ProtoBuf (${fullName(type)}): ${(err as Error).message}`);
      }
      return rewrite ? fromWire(type, obj, needs) : obj;
    },
    encode(value) {
      const wire = toWire(type, value, '', 0) as Plain;
      return type.encode(type.fromObject(wire)).finish();
    },
  };
}
