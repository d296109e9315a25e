/**
 * The `schemas:` of a flow: .proto and .thrift files loaded once at load time, and the types
 * that codecs and connectors ask for by name. ProtoBuf names are full names
 * (`shipping.v1.Quote`); Thrift names are qualified by the IDL file's base name
 * (`inventory.Item`). An unknown name is a load error at the place that names it.
 */
import type protobuf from 'protobufjs';
import { lazyModule } from '../lazy.ts';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { CompileContext } from '../contract.ts';
import { didYouMean } from '../flow/suggest.ts';
import { emptyThriftModel, IdlError, loadThriftFiles } from './thrift-idl.ts';
import type { ThriftModel, ThriftService, ThriftStruct } from './thrift-model.ts';

const pb = lazyModule<typeof protobuf>('protobufjs');

export interface SchemasConfig {
  proto?: string[];
  thrift?: string[];
}

export const schemasSchema = {
  type: 'object',
  description: 'IDL files loaded once at start, relative to the flow file.',
  properties: {
    proto: { type: 'array', items: { type: 'string' }, description: '.proto files; imports resolve relative to each file; google/protobuf well-known types are built in.' },
    thrift: { type: 'array', items: { type: 'string' }, description: '.thrift files; includes resolve relative to each file.' },
  },
  additionalProperties: false,
} as const;

export class SchemaSet {
  #proto: protobuf.Root | undefined;
  /** The ProtoBuf root; made on first use, so flows without .proto files never load protobufjs. */
  get proto(): protobuf.Root {
    return (this.#proto ??= new pb.Root());
  }
  readonly thrift: ThriftModel = emptyThriftModel();
  /** Every IDL file read, imports and includes too (absolute): what a deployment must ship. */
  readonly files = new Set<string>();
  #protoLoaded = false;

  /** Loads the files, reporting each problem at the file's entry in the flow. */
  static load(config: SchemasConfig | undefined, at: CompileContext): SchemaSet {
    const set = new SchemaSet();
    const protoAt = at.child('proto');
    const protoFiles: string[] = [];
    (config?.proto ?? []).forEach((f, i) => {
      const path = protoAt.file(f, i);
      if (path) protoFiles.push(path);
    });
    if (protoFiles.length) {
      // Imports resolve against the importing file's folder, then the flow's folder.
      set.proto.resolvePath = (origin, target) => {
        if (isAbsolute(target)) return target;
        if (target.startsWith('google/protobuf/')) return target; // protobufjs has them built in
        return origin ? resolve(dirname(origin), target) : resolve(at.flow.dir, target);
      };
      try {
        set.proto.loadSync(protoFiles, { keepCase: false });
        for (const f of set.proto.files) if (isAbsolute(f)) set.files.add(f);
        set.proto.resolveAll();
        set.#protoLoaded = true;
      } catch (err) {
        protoAt.problem('FLOW_FILE', `cannot load .proto files: ${(err as Error).message}`);
      }
    }
    const thriftAt = at.child('thrift');
    (config?.thrift ?? []).forEach((f, i) => {
      const path = thriftAt.file(f, i);
      if (!path) return;
      try {
        loadThriftFiles([path], set.thrift, (read) => set.files.add(read));
      } catch (err) {
        if (!(err instanceof IdlError) && !(err instanceof Error)) throw err;
        thriftAt.problem('FLOW_FILE', `cannot load ${f}: ${err.message}`, i);
      }
    });
    return set;
  }

  protoMessage(name: string, at: CompileContext, key: string | number): protobuf.Type | undefined {
    const found = this.#protoLookup(name);
    if (found instanceof pb.Type) return found;
    at.problem('FLOW_REFERENCE', `unknown ProtoBuf message '${name}'${this.#protoSuggest(name, pb.Type)}`, key);
    return undefined;
  }

  protoService(name: string, at: CompileContext, key: string | number): protobuf.Service | undefined {
    const found = this.#protoLookup(name);
    if (found instanceof pb.Service) return found;
    at.problem('FLOW_REFERENCE', `unknown ProtoBuf service '${name}'${this.#protoSuggest(name, pb.Service)}`, key);
    return undefined;
  }

  thriftStruct(name: string, at: CompileContext, key: string | number): ThriftStruct | undefined {
    const found = this.thrift.structs.get(name);
    if (!found) at.problem('FLOW_REFERENCE', `unknown Thrift struct '${name}'${suggest(name, this.thrift.structs.keys(), 'schemas.thrift')}`, key);
    return found;
  }

  thriftService(name: string, at: CompileContext, key: string | number): ThriftService | undefined {
    const found = this.thrift.services.get(name);
    if (!found) at.problem('FLOW_REFERENCE', `unknown Thrift service '${name}'${suggest(name, this.thrift.services.keys(), 'schemas.thrift')}`, key);
    return found;
  }

  #protoLookup(name: string): protobuf.ReflectionObject | null {
    if (!this.#protoLoaded) return null;
    try {
      return this.proto.lookup(name.startsWith('.') ? name : `.${name}`);
    } catch {
      return null;
    }
  }

  #protoSuggest(name: string, kind: typeof protobuf.Type | typeof protobuf.Service): string {
    const names: string[] = [];
    const walk = (ns: protobuf.NamespaceBase): void => {
      for (const o of ns.nestedArray) {
        if (o instanceof kind && !o.fullName.startsWith('.google.protobuf.')) names.push(o.fullName.slice(1));
        if (o instanceof pb.Namespace || o instanceof pb.Type) walk(o as protobuf.NamespaceBase);
      }
    };
    if (this.#protoLoaded) walk(this.proto);
    return suggest(name, names, 'schemas.proto');
  }
}

function suggest(name: string, known: Iterable<string>, where: string): string {
  const list = [...known];
  if (list.length === 0) return ` (no types are loaded: declare the file under ${where})`;
  return `${didYouMean(name, list)} (known: ${list.slice(0, 8).join(', ')}${list.length > 8 ? ', ...' : ''})`;
}
