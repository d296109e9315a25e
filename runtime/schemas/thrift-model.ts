/**
 * The resolved shape of Thrift IDL that the run-time codec walks: every typedef followed,
 * every identifier bound to its struct or enum, defaults evaluated. Built once at load.
 */

/** Wire type ids of the Thrift protocols (Thrift.Type in the `thrift` package). */
export const TType = {
  STOP: 0,
  BOOL: 2,
  BYTE: 3,
  DOUBLE: 4,
  I16: 6,
  I32: 8,
  I64: 10,
  STRING: 11,
  STRUCT: 12,
  MAP: 13,
  SET: 14,
  LIST: 15,
} as const;

export type ThriftType =
  | { readonly kind: 'bool' | 'i8' | 'i16' | 'i32' | 'i64' | 'double' | 'string' | 'binary'; readonly wire: number }
  | { readonly kind: 'list' | 'set'; readonly wire: number; readonly elem: ThriftType }
  | { readonly kind: 'map'; readonly wire: number; readonly key: ThriftType; readonly value: ThriftType }
  | { readonly kind: 'struct'; readonly wire: number; readonly struct: ThriftStruct }
  | { readonly kind: 'enum'; readonly wire: number; readonly enum: ThriftEnum };

export interface ThriftField {
  readonly id: number;
  readonly name: string;
  readonly type: ThriftType;
  readonly requiredness: 'required' | 'optional' | 'default';
  /** The IDL default, already in the value model; undefined when there is none. */
  readonly default: unknown;
}

export interface ThriftStruct {
  /** Qualified name: `inventory.Item`. */
  readonly name: string;
  readonly kind: 'struct' | 'union' | 'exception';
  readonly fields: ThriftField[];
  readonly byId: Map<number, ThriftField>;
}

export interface ThriftEnum {
  readonly name: string;
  readonly byName: Map<string, number>;
  readonly byValue: Map<number, string>;
}

export interface ThriftFunction {
  readonly name: string;
  readonly oneway: boolean;
  /** The `<name>_args` struct the protocol sends. */
  readonly args: ThriftStruct;
  /** The `<name>_result` struct: field 0 `success` (absent for void) and the declared exceptions. */
  readonly result: ThriftStruct;
  readonly returnsVoid: boolean;
}

export interface ThriftService {
  readonly name: string;
  /** Own functions and those inherited through `extends`. */
  readonly functions: Map<string, ThriftFunction>;
}

export interface ThriftModel {
  readonly structs: Map<string, ThriftStruct>;
  readonly enums: Map<string, ThriftEnum>;
  readonly services: Map<string, ThriftService>;
  readonly consts: Map<string, unknown>;
}

export const PRIMITIVE_WIRE: Record<string, number> = {
  bool: TType.BOOL,
  i8: TType.BYTE,
  byte: TType.BYTE,
  i16: TType.I16,
  i32: TType.I32,
  i64: TType.I64,
  double: TType.DOUBLE,
  string: TType.STRING,
  binary: TType.STRING,
};

export function newStruct(name: string, kind: ThriftStruct['kind']): ThriftStruct {
  return { name, kind, fields: [], byId: new Map() };
}

export function addField(struct: ThriftStruct, field: ThriftField): void {
  struct.fields.push(field);
  struct.byId.set(field.id, field);
}
