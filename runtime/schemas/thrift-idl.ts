/**
 * Thrift IDL files -> ThriftModel, with @creditkarma/thrift-parser as the parser. Includes are
 * resolved relative to the including file; every name is qualified by its file's base name,
 * as Thrift includes do (`inventory.Item` for inventory.thrift). Runs once, at load.
 */
import type {
  ConstValue, FieldDefinition, FunctionType, ThriftDocument, ThriftError, ThriftStatement,
} from '@creditkarma/thrift-parser';
import { readFileSync } from 'node:fs';
import { lazyModule } from '../lazy.ts';
import { basename, dirname, resolve } from 'node:path';
import {
  addField, newStruct, PRIMITIVE_WIRE, TType, type ThriftEnum, type ThriftField, type ThriftModel,
  type ThriftService, type ThriftStruct, type ThriftType,
} from './thrift-model.ts';

const parser = lazyModule<typeof import('@creditkarma/thrift-parser')>('@creditkarma/thrift-parser');

/** A problem in an IDL file; `where` is `file:line:col` inside that file. */
export class IdlError extends Error {}

interface LoadedFile {
  readonly scope: string;
  readonly path: string;
  readonly doc: ThriftDocument;
  /** Include scope name -> scope name of the included file (they are the same: base names). */
  readonly includes: Set<string>;
}

const MAX_INCLUDE_DEPTH = 32;

export function emptyThriftModel(): ThriftModel {
  return { structs: new Map(), enums: new Map(), services: new Map(), consts: new Map() };
}

/** Adds the IDL files (and everything they include) to `model`. Throws IdlError. */
export function loadThriftFiles(files: readonly string[], model: ThriftModel, onRead?: (path: string) => void): void {
  const loaded = new Map<string, LoadedFile>();
  const read = (path: string, depth: number): LoadedFile => {
    const scope = basename(path).replace(/\.thrift$/, '');
    const seen = loaded.get(scope);
    if (seen) {
      if (seen.path !== path) throw new IdlError(`${path}: two IDL files share the base name '${scope}' (${seen.path})`);
      return seen;
    }
    if (depth > MAX_INCLUDE_DEPTH) throw new IdlError(`${path}: includes nest deeper than ${MAX_INCLUDE_DEPTH}`);
    let source: string;
    try {
      source = readFileSync(path, 'utf8');
    } catch (err) {
      throw new IdlError(`cannot read ${path}: ${(err as Error).message}`);
    }
    // Scanner and parser directly: the package's parse() prints errors to stdout; we stop at the first.
    const fail = (e: ThriftError): never => {
      throw new IdlError(`${path}:${e.loc.start.line}:${e.loc.start.column}: ${e.message}`);
    };
    onRead?.(path);
    const doc: ThriftDocument = parser.createParser(parser.createScanner(source, fail).scan(), fail).parse();
    const file: LoadedFile = { scope, path, doc, includes: new Set() };
    loaded.set(scope, file);
    for (const s of doc.body) {
      if (s.type === 'IncludeDefinition') {
        const inc = read(resolve(dirname(path), s.path.value), depth + 1);
        file.includes.add(inc.scope);
      }
    }
    return file;
  };
  for (const f of files) read(f, 0);
  new Binder(model, [...loaded.values()]).bind();
}

type Declared =
  | { kind: 'struct'; struct: ThriftStruct }
  | { kind: 'enum'; enum: ThriftEnum }
  | { kind: 'typedef'; file: LoadedFile; node: Extract<ThriftStatement, { type: 'TypedefDefinition' }> }
  | { kind: 'const'; file: LoadedFile; node: Extract<ThriftStatement, { type: 'ConstDefinition' }> };

/** Two passes: declare every name (so structs can refer to each other), then fill them in. */
class Binder {
  readonly #model: ThriftModel;
  readonly #files: LoadedFile[];
  readonly #names = new Map<string, Declared>();
  readonly #resolvingTypedefs = new Set<string>();

  constructor(model: ThriftModel, files: LoadedFile[]) {
    this.#model = model;
    this.#files = files;
  }

  bind(): void {
    for (const file of this.#files) {
      for (const s of file.doc.body) {
        const q = (n: string) => `${file.scope}.${n}`;
        switch (s.type) {
          case 'StructDefinition':
          case 'UnionDefinition':
          case 'ExceptionDefinition': {
            const kind = s.type === 'StructDefinition' ? 'struct' : s.type === 'UnionDefinition' ? 'union' : 'exception';
            this.#declare(file, s.name.value, { kind: 'struct', struct: newStruct(q(s.name.value), kind) });
            break;
          }
          case 'EnumDefinition': {
            const e: ThriftEnum = { name: q(s.name.value), byName: new Map(), byValue: new Map() };
            let next = 0;
            for (const m of s.members) {
              const value = m.initializer ? Number(intLiteral(m.initializer.value.value)) : next;
              e.byName.set(m.name.value, value);
              e.byValue.set(value, m.name.value);
              next = value + 1;
            }
            this.#declare(file, s.name.value, { kind: 'enum', enum: e });
            break;
          }
          case 'TypedefDefinition':
            this.#declare(file, s.name.value, { kind: 'typedef', file, node: s });
            break;
          case 'ConstDefinition':
            this.#declare(file, s.name.value, { kind: 'const', file, node: s });
            break;
        }
      }
    }
    for (const [name, d] of this.#names) {
      if (d.kind === 'struct') this.#model.structs.set(name, d.struct);
      if (d.kind === 'enum') this.#model.enums.set(name, d.enum);
    }
    for (const [name, d] of this.#names) {
      if (d.kind === 'const') this.#model.consts.set(name, this.#constValue(d.file, d.node.initializer, this.#type(d.file, d.node.fieldType)));
    }
    for (const file of this.#files) {
      for (const s of file.doc.body) {
        if (s.type === 'StructDefinition' || s.type === 'UnionDefinition' || s.type === 'ExceptionDefinition') {
          const struct = (this.#names.get(`${file.scope}.${s.name.value}`) as { struct: ThriftStruct }).struct;
          for (const f of s.fields) addField(struct, this.#field(file, f, struct.name));
        }
      }
    }
    // Services last: `extends` may name a service of another file, bound in any order.
    const pending = new Map<string, { file: LoadedFile; node: Extract<ThriftStatement, { type: 'ServiceDefinition' }> }>();
    for (const file of this.#files) {
      for (const s of file.doc.body) if (s.type === 'ServiceDefinition') pending.set(`${file.scope}.${s.name.value}`, { file, node: s });
    }
    const service = (name: string, chain: string[]): ThriftService => {
      const done = this.#model.services.get(name);
      if (done) return done;
      const p = pending.get(name);
      if (!p) throw new IdlError(`unknown service ${name} (extended by ${chain.at(-1)})`);
      if (chain.includes(name)) throw new IdlError(`service ${name} extends itself`);
      const functions = new Map(p.node.extends ? service(this.#qualify(p.file, p.node.extends.value), [...chain, name]).functions : []);
      for (const fn of p.node.functions) {
        const fname = fn.name.value;
        const args = newStruct(`${name}.${fname}_args`, 'struct');
        for (const f of fn.fields) addField(args, this.#field(p.file, f, args.name));
        const result = newStruct(`${name}.${fname}_result`, 'union');
        const returnsVoid = fn.returnType.type === 'VoidKeyword';
        if (!returnsVoid) {
          addField(result, { id: 0, name: 'success', type: this.#type(p.file, fn.returnType), requiredness: 'optional', default: undefined });
        }
        for (const f of fn.throws) {
          const field = this.#field(p.file, f, result.name);
          if (field.type.kind !== 'struct' || field.type.struct.kind !== 'exception') {
            throw new IdlError(`${p.file.path}:${f.loc.start.line}: ${name}.${fname} throws ${field.name}, which is not an exception`);
          }
          addField(result, { ...field, requiredness: 'optional' });
        }
        functions.set(fname, { name: fname, oneway: fn.oneway, args, result, returnsVoid });
      }
      const s: ThriftService = { name, functions };
      this.#model.services.set(name, s);
      return s;
    };
    for (const name of pending.keys()) service(name, []);
  }

  #declare(file: LoadedFile, name: string, d: Declared): void {
    const q = `${file.scope}.${name}`;
    if (this.#names.has(q)) throw new IdlError(`${file.path}: '${name}' is declared twice`);
    this.#names.set(q, d);
  }

  /** `Item` inside inventory.thrift -> `inventory.Item`; `common.Money` stays when common is included. */
  #qualify(file: LoadedFile, name: string): string {
    const dot = name.indexOf('.');
    if (dot !== -1) {
      const scope = name.slice(0, dot);
      if (scope === file.scope || file.includes.has(scope)) return name;
    }
    return `${file.scope}.${name}`;
  }

  #field(file: LoadedFile, f: FieldDefinition, owner: string): ThriftField {
    if (f.fieldID === null) throw new IdlError(`${file.path}:${f.loc.start.line}: field ${owner}.${f.name.value} has no id (implicit ids are not supported)`);
    const type = this.#type(file, f.fieldType);
    return {
      id: f.fieldID.value,
      name: f.name.value,
      type,
      requiredness: f.requiredness ?? 'default',
      default: f.defaultValue ? this.#constValue(file, f.defaultValue, type) : undefined,
    };
  }

  #type(file: LoadedFile, t: FunctionType): ThriftType {
    switch (t.type) {
      case 'ListType':
        return { kind: 'list', wire: TType.LIST, elem: this.#type(file, t.valueType) };
      case 'SetType':
        return { kind: 'set', wire: TType.SET, elem: this.#type(file, t.valueType) };
      case 'MapType':
        return { kind: 'map', wire: TType.MAP, key: this.#type(file, t.keyType), value: this.#type(file, t.valueType) };
      case 'Identifier':
        return this.#named(file, t.value, t.loc.start.line);
      case 'VoidKeyword':
        throw new IdlError(`${file.path}:${t.loc.start.line}: void is only a return type`);
      default: {
        const kw = t.type.replace(/Keyword$/, '').toLowerCase();
        const kind = (kw === 'byte' ? 'i8' : kw) as 'i8';
        return { kind, wire: PRIMITIVE_WIRE[kw] };
      }
    }
  }

  #named(file: LoadedFile, name: string, line: number): ThriftType {
    const q = this.#qualify(file, name);
    const d = this.#names.get(q);
    if (!d || d.kind === 'const') throw new IdlError(`${file.path}:${line}: unknown type '${name}'`);
    if (d.kind === 'struct') return { kind: 'struct', wire: TType.STRUCT, struct: d.struct };
    if (d.kind === 'enum') return { kind: 'enum', wire: TType.I32, enum: d.enum };
    if (this.#resolvingTypedefs.has(q)) throw new IdlError(`${file.path}:${line}: typedef ${q} refers to itself`);
    this.#resolvingTypedefs.add(q);
    try {
      return this.#type(d.file, d.node.definitionType);
    } finally {
      this.#resolvingTypedefs.delete(q);
    }
  }

  /** An IDL constant as a value of the value model, checked against its type. */
  #constValue(file: LoadedFile, v: ConstValue, type: ThriftType): unknown {
    const where = `${file.path}:${v.loc.start.line}`;
    switch (v.type) {
      case 'IntConstant': {
        const n = intLiteral(v.value.value);
        if (type.kind === 'double') return Number(n);
        if (type.kind === 'bool') return n !== 0n;
        if (type.kind === 'enum') return enumName(type.enum, Number(n), where);
        return type.kind === 'i64' && !Number.isSafeInteger(Number(n)) ? n : Number(n);
      }
      case 'DoubleConstant':
        return Number(v.value.value);
      case 'BooleanLiteral':
        return v.value;
      case 'StringLiteral':
        return type.kind === 'binary' ? Buffer.from(v.value).toString('base64') : v.value;
      case 'ConstList': {
        const elem = type.kind === 'list' || type.kind === 'set' ? type.elem : type;
        return v.elements.map((e) => this.#constValue(file, e, elem));
      }
      case 'ConstMap': {
        const out: Record<string, unknown> = {};
        for (const p of v.properties) {
          const keyType = type.kind === 'map' ? type.key : { kind: 'string', wire: TType.STRING } as ThriftType;
          const key = this.#constValue(file, p.name, keyType);
          const field = type.kind === 'struct' ? type.struct.fields.find((f) => f.name === key) : undefined;
          const valueType = type.kind === 'map' ? type.value : (field?.type ?? type);
          out[String(key)] = this.#constValue(file, p.initializer, valueType);
        }
        return out;
      }
      case 'Identifier': {
        // An enum member (`Color.RED`, `colors.Color.RED`) or another constant.
        const name = v.value;
        const lastDot = name.lastIndexOf('.');
        if (lastDot !== -1) {
          const en = this.#names.get(this.#qualify(file, name.slice(0, lastDot)));
          if (en?.kind === 'enum') {
            const value = en.enum.byName.get(name.slice(lastDot + 1));
            if (value === undefined) throw new IdlError(`${where}: ${name} is not a member of ${en.enum.name}`);
            return type.kind === 'enum' ? name.slice(lastDot + 1) : value;
          }
        }
        const c = this.#names.get(this.#qualify(file, name));
        if (c?.kind === 'const') return this.#constValue(c.file, c.node.initializer, type);
        throw new IdlError(`${where}: unknown constant '${name}'`);
      }
    }
  }
}

function intLiteral(text: string): bigint {
  return text.startsWith('-0x') ? -BigInt(text.slice(1)) : BigInt(text);
}

function enumName(e: ThriftEnum, value: number, where: string): string {
  const name = e.byValue.get(value);
  if (name === undefined) throw new IdlError(`${where}: ${value} is not a value of ${e.name}`);
  return name;
}

