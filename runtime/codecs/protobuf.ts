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
//
// The walk runs per message, so what it needs of protobufjs's reflection (full names, field
// lookups by name and json_name, resolved types, oneofs) is read once per type into a plan:
// protobufjs computes `fullName` anew on every read and its types are behind a lazy module.

interface TypePlan {
  readonly type: protobuf.Type;
  readonly name: string;
  readonly special: 'timestamp' | 'duration' | 'wrapper' | undefined;
  /** Field by name and by json_name. */
  readonly byKey: Map<string, FieldPlan>;
  /** Each oneof's name and member field names. */
  readonly oneofs: readonly { name: string; fields: readonly string[] }[];
}

interface FieldPlan {
  readonly field: protobuf.Field;
  readonly map: boolean;
  readonly repeated: boolean;
  /** The message type of a message field (its plan made on first use: types may recurse). */
  readonly message: (() => TypePlan) | undefined;
  readonly enumType: protobuf.Enum | undefined;
  /** Checks and converts a scalar field's value (chosen once for its type). */
  readonly scalar: ScalarToWire;
}

/** A value's path in messages, built only when an error names it or a message is entered. */
function join(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  return parent && key ? `${parent}.${key}` : parent || key;
}

/** Plans of one codec's types, made when first met. */
type Planner = (type: protobuf.Type) => TypePlan;

function planner(): Planner {
  const plans = new Map<protobuf.Type, TypePlan>();
  const planOf = (type: protobuf.Type): TypePlan => {
    let plan = plans.get(type);
    if (plan) return plan;
    const name = fullName(type);
    const byKey = new Map<string, FieldPlan>();
    plan = {
      type,
      name,
      special: name === 'google.protobuf.Timestamp' ? 'timestamp' : name === 'google.protobuf.Duration' ? 'duration' : WRAPPERS.has(name) ? 'wrapper' : undefined,
      byKey,
      oneofs: type.oneofsArray.map((o) => ({ name: o.name, fields: o.fieldsArray.map((f) => f.name) })),
    };
    plans.set(type, plan);
    for (const field of type.fieldsArray) {
      const rt = field.resolvedType;
      const fp: FieldPlan = {
        field,
        map: field.map,
        repeated: field.repeated,
        message: rt instanceof pb.Type ? once(() => planOf(rt)) : undefined,
        enumType: rt instanceof pb.Enum ? rt : undefined,
        scalar: scalarToWire(field.type),
      };
      byKey.set(field.name, fp);
      const json = field.options?.json_name;
      if (typeof json === 'string' && !byKey.has(json)) byKey.set(json, fp);
    }
    return plan;
  };
  return planOf;
}

function toWire(plan: TypePlan, value: unknown, path: string, depth: number): unknown {
  if (depth > 100) throw encodeError(path, 'is nested deeper than 100');
  if (plan.special === 'timestamp' && typeof value === 'string') return timestampFromString(value, path);
  if (plan.special === 'duration' && typeof value === 'string') return durationFromString(value, path);
  if (plan.special === 'wrapper' && (typeof value !== 'object' || value === null)) {
    return { value: scalarToWire(plan.type.fields.value.type)(value, path, '') };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw encodeError(path, `must be an object for ${plan.name}, got ${Array.isArray(value) ? 'an array' : typeof value}`);
  }
  const out: Plain = {};
  for (const key of Object.keys(value)) {
    const v = (value as Plain)[key];
    const fp = plan.byKey.get(key);
    // Unknown fields are ignored, as proto3 JSON parsers may be told to; null means "not set".
    if (!fp || v === null || v === undefined) continue;
    if (fp.map) {
      const at = join(path, key);
      if (typeof v !== 'object' || Array.isArray(v)) throw encodeError(at, 'must be an object (a map)');
      const m: Plain = {};
      for (const k of Object.keys(v as Plain)) m[k] = valueToWire(fp, (v as Plain)[k], at, k, depth);
      out[fp.field.name] = m;
    } else if (fp.repeated) {
      const at = join(path, key);
      if (!Array.isArray(v)) throw encodeError(at, 'must be an array (a repeated field)');
      const items = new Array(v.length);
      for (let i = 0; i < v.length; i++) items[i] = valueToWire(fp, v[i], at, i, depth);
      out[fp.field.name] = items;
    } else {
      out[fp.field.name] = valueToWire(fp, v, path, key, depth);
    }
  }
  for (const oneof of plan.oneofs) {
    const set = oneof.fields.filter((f) => out[f] !== undefined);
    if (set.length > 1) throw encodeError(path, `sets ${set.join(' and ')} of oneof ${oneof.name}; at most one`);
  }
  return out;
}

function valueToWire(fp: FieldPlan, v: unknown, parent: string, key: string | number, depth: number): unknown {
  if (fp.message) return toWire(fp.message(), v, join(parent, key), depth + 1);
  const e = fp.enumType;
  if (e) {
    if (typeof v === 'string' && Object.hasOwn(e.values, v)) return e.values[v];
    if (typeof v === 'number' && Number.isInteger(v)) return v; // open enums
    throw encodeError(join(parent, key), `${JSON.stringify(v)} is not a member of ${e.fullName.slice(1)}`);
  }
  return fp.scalar(v, parent, key);
}

const I64_RANGE = { signed: [-(2n ** 63n), 2n ** 63n - 1n], unsigned: [0n, 2n ** 64n - 1n] } as const;

/**
 * A 64-bit value as protobufjs's writer takes it: a safe integer stays a number (the writer
 * splits it into two 32-bit halves itself), larger ones become a Long.
 */
function longToWire(t: string, v: unknown, parent: string, key: string | number): unknown {
  const unsigned = t === 'uint64' || t === 'fixed64';
  // Up to 15 digits a decimal string is a safe integer: no BigInt needed to check it.
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.length <= 15 && DECIMAL.test(v) ? Number(v) : undefined;
  if (n !== undefined && Number.isSafeInteger(n)) {
    if (unsigned && n < 0) throw encodeError(join(parent, key), `${v} is out of range for ${t}`);
    return n;
  }
  const text = typeof v === 'bigint' ? v.toString() : typeof v === 'string' && DECIMAL.test(v) ? v : undefined;
  if (text === undefined) throw encodeError(join(parent, key), `must be a 64-bit integer (decimal string or safe number), got ${typeof v === 'bigint' ? v : JSON.stringify(v)}`);
  const big = BigInt(text);
  const [min, max] = unsigned ? I64_RANGE.unsigned : I64_RANGE.signed;
  if (big < min || big > max) throw encodeError(join(parent, key), `${text} is out of range for ${t}`);
  return Long().fromString(text, unsigned);
}

type ScalarToWire = (v: unknown, parent: string, key: string | number) => unknown;

/** The converter of one scalar type; errors name the value's path. */
function scalarToWire(t: string): ScalarToWire {
  if (LONG_TYPES.has(t)) return (v, parent, key) => longToWire(t, v, parent, key);
  const range = INT32[t];
  if (range) {
    return (v, parent, key) => {
      const n = typeof v === 'string' && DECIMAL.test(v) ? Number(v) : v;
      if (typeof n !== 'number' || !Number.isInteger(n) || n < range[0] || n > range[1]) throw encodeError(join(parent, key), `must be a ${t}, got ${JSON.stringify(v)}`);
      return n;
    };
  }
  switch (t) {
    case 'double':
    case 'float':
      return (v, parent, key) => {
        if (typeof v === 'number') return v;
        const n = v === 'NaN' ? NaN : v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : undefined;
        if (n === undefined) throw encodeError(join(parent, key), `must be a number, got ${JSON.stringify(v)}`);
        return n;
      };
    case 'bool':
      return (v, parent, key) => {
        if (typeof v !== 'boolean') throw encodeError(join(parent, key), `must be a boolean, got ${JSON.stringify(v)}`);
        return v;
      };
    case 'string':
      return (v, parent, key) => {
        if (typeof v !== 'string') throw encodeError(join(parent, key), `must be a string, got ${typeof v}`);
        if (!v.isWellFormed()) throw encodeError(join(parent, key), 'is not valid Unicode (lone surrogate)');
        return v;
      };
    case 'bytes':
      return (v, parent, key) => {
        if (v instanceof Uint8Array) return v;
        if (typeof v === 'string' && BASE64.test(v)) return Buffer.from(v, 'base64');
        throw encodeError(join(parent, key), 'must be base64 text');
      };
  }
  return (_v, parent, key) => {
    throw encodeError(join(parent, key), `has unsupported type ${t}`);
  };
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
  const plan = planner()(type);
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
      // toWire already gives what the encoder takes (numbers for enums, Longs, Buffers), checked:
      // no fromObject pass after it.
      return type.encode(toWire(plan, value, '', 0) as Plain).finish();
    },
  };
}
