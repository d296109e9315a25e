/**
 * "Load only what the flow uses": a library that only some connectors or formats need is
 * required on first use, not when the runtime starts. hello.yaml must not pay for undici,
 * protobufjs, Thrift or gRPC (together about a third of a start) when it calls none of them.
 */
import { createRequire } from 'node:module';
import { BUNDLED } from './bundled.ts';

const require = createRequire(import.meta.url);

/** The module `id`, required now (synchronously): from the bundle when it carries it, else from node_modules. */
export function requireModule<T>(id: string): T {
  return (BUNDLED[id]?.() ?? require(id)) as T;
}

/** The module `id`, required (synchronously, CommonJS or ESM) the first time a property is read. */
export function lazyModule<T extends object>(id: string): T {
  let loaded: T | undefined;
  return new Proxy({} as T, {
    get(_target, key) {
      loaded ??= requireModule<T>(id);
      return Reflect.get(loaded, key);
    },
  });
}

/** A value computed from lazily loaded modules the first time it is asked for. */
export function once<T>(make: () => T): () => T {
  let value: T | undefined;
  let made = false;
  return () => {
    if (!made) {
      value = make();
      made = true;
    }
    return value as T;
  };
}
