/**
 * The generated-code side of the codec benchmark and of scenario S5: bench/idl/order.thrift
 * through thrift-compiler (`--gen js:node`, the official Node generator) and bench/idl/order.proto
 * through protobufjs-cli (`pbjs -t static-module`), generated at bench time, never committed.
 * Weft reads the same IDL files at run time, so both sides carry the same message.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '../..');
export const ORDER_THRIFT = join(ROOT, 'bench/idl/order.thrift');
export const ORDER_PROTO = join(ROOT, 'bench/idl/order.proto');
/** Inside node_modules, so that the generated code's require('thrift') and require('protobufjs/minimal') resolve. */
export const GEN_DIR = join(ROOT, 'node_modules/.cache/weft-bench-order');

function run(cmd: string, args: string[], what: string): void {
  const r = spawnSync(cmd, args, { cwd: GEN_DIR, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${what} failed: ${r.error?.message ?? r.stderr}`);
}

const newer = (out: string, src: string): boolean => existsSync(out) && statSync(out).mtimeMs >= statSync(src).mtimeMs;

/** Generates the code unless it is already newer than the IDL. Needs thrift-compiler (Debian). */
export function generateOrderCode(): void {
  mkdirSync(GEN_DIR, { recursive: true });
  if (!newer(join(GEN_DIR, 'gen-nodejs/order_types.js'), ORDER_THRIFT)) {
    run('thrift', ['--gen', 'js:node', '-o', GEN_DIR, ORDER_THRIFT], 'thrift --gen js:node (is thrift-compiler installed?)');
  }
  const pbjs = createRequire(import.meta.url).resolve('protobufjs-cli/bin/pbjs');
  if (!newer(join(GEN_DIR, 'order_pb.js'), ORDER_PROTO)) {
    run(process.execPath, [pbjs, '-t', 'static-module', '-w', 'commonjs', '--no-comments', '-o', join(GEN_DIR, 'order_pb.js'), ORDER_PROTO], 'pbjs -t static-module');
  }
}

/** What the bench uses of a generated Thrift struct class (the generated code ships no types). */
export interface ThriftStructClass {
  new (args?: object): ThriftStructInstance;
}
export interface ThriftStructInstance {
  read(input: unknown): void;
  write(output: unknown): void;
  [field: string]: unknown;
}

/** What the bench uses of a pbjs static message class. */
export interface PbStaticMessage {
  encode(message: object): { finish(): Uint8Array };
  decode(bytes: Uint8Array): object;
  fromObject(value: object): object;
  toObject(message: object, options: object): Record<string, unknown>;
  verify(value: object): string | null;
}

export interface ThriftPackage {
  TBinaryProtocol: new (trans: unknown) => unknown;
  TCompactProtocol: new (trans: unknown) => unknown;
  TBufferedTransport: new (buffer?: Buffer, onFlush?: (msg: Buffer) => void) => { inBuf: Buffer; writeCursor: number; flush(): void };
  TFramedTransport: unknown;
  createConnection(host: string, port: number, options: object): { once(event: string, cb: (...a: unknown[]) => void): void; on(event: string, cb: (...a: unknown[]) => void): void; end(): void };
  createClient(service: unknown, connection: unknown): Record<string, (...args: unknown[]) => void>;
  createServer(service: unknown, handler: object, options: object): { listen(port: number, host: string, cb: () => void): void; address(): { port: number }; close(): void; on(event: 'error', listener: (err: Error) => void): void };
}

export interface GeneratedOrder {
  thrift: ThriftPackage;
  /** order_types.js: Order, Customer, Line, Address, Priced and the Status enum. */
  types: Record<string, ThriftStructClass> & { Status: Record<string, number> };
  /** Pricing.js: the service for createClient/createServer. */
  Pricing: unknown;
  /** node-int64, the i64 carrier of generated Thrift code. */
  Int64: new (buffer: Buffer) => { buffer: Buffer; toString(): string };
  /** order_pb.js: the `bench` package of static classes. */
  pb: Record<string, PbStaticMessage> & { Status: Record<string, number> };
}

/** Loads the generated modules (generateOrderCode() first). */
export function loadGeneratedOrder(): GeneratedOrder {
  const require = createRequire(join(GEN_DIR, 'index.js'));
  return {
    thrift: require('thrift'),
    types: require('./gen-nodejs/order_types.js'),
    Pricing: require('./gen-nodejs/Pricing.js'),
    Int64: require(createRequire(require.resolve('thrift')).resolve('node-int64')),
    pb: require('./order_pb.js').bench,
  };
}
