/**
 * Codec benchmark: encode + decode of the ~1 KB order (bench/lib/order.ts) by Weft's codecs,
 * driven by the IDL at run time, against generated code:
 *   - Thrift, binary and compact: Weft's codec vs thrift-compiler `--gen js:node` structs with
 *     the `thrift` package's protocols over its TBufferedTransport (and, to isolate the struct
 *     walk, over Weft's own in-memory transport);
 *   - ProtoBuf: Weft's codec (proto3 JSON mapping in and out) vs `pbjs -t static-module` code,
 *     both with the same plain objects in and out (fromObject + encode, decode + toObject) and
 *     on its own message instances.
 * Before timing, every pair is checked to produce the same bytes and decode each other's.
 * Contenders run interleaved in rotating order; figures are medians over rounds and a ratio is
 * the median of per-round ratios (both sides measured moments apart). Run:
 *
 *   npm run bench:codecs [-- --iterations 20000 --rounds 7 --no-docs]
 *
 * Results: stdout, bench/results/codecs.json and (unless --no-docs) docs/benchmarks.md.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type protobuf from 'protobufjs';
import { createRequire } from 'node:module';
import type { Codec } from '../runtime/codecs/codec.ts';
import { createProtobufCodec } from '../runtime/codecs/protobuf.ts';
import { createThriftCodec } from '../runtime/codecs/thrift.ts';
import { MemoryTransport, type ProtocolName } from '../runtime/codecs/thrift-wire.ts';
import { emptyThriftModel, loadThriftFiles } from '../runtime/schemas/thrift-idl.ts';
import { generateOrderCode, loadGeneratedOrder, ORDER_PROTO, ORDER_THRIFT, type GeneratedOrder } from './lib/codegen.ts';
import { ORDER_PROTO_VALUE, ORDER_THRIFT_VALUE } from './lib/order.ts';
import { writeDocSection } from './lib/report.ts';
import { median, pairedRatio, spread } from './lib/stats.ts';

const { values } = parseArgs({
  options: {
    iterations: { type: 'string', default: '20000' },
    rounds: { type: 'string', default: '7' },
    'no-docs': { type: 'boolean', default: false },
  },
});
const ITERATIONS = Number(values.iterations);
const ROUNDS = Number(values.rounds);
if (!(ITERATIONS >= 100 && ITERATIONS <= 10_000_000)) throw new Error('--iterations must be 100 .. 10000000');
if (!(ROUNDS >= 1 && ROUNDS <= 100)) throw new Error('--rounds must be 1 .. 100');
const ROOT = join(import.meta.dirname, '..');

/** One way of turning the order into bytes and back. */
interface Contender {
  family: string;
  name: string;
  /** The generated-code contender Weft's ratio of this family is taken against. */
  reference?: boolean;
  weft?: boolean;
  encode(): Uint8Array;
  decode(bytes: Uint8Array): unknown;
}

// ------------------------------------------------------------------ Thrift

const THRIFT_PROTOCOLS: ProtocolName[] = ['binary', 'compact'];

function thriftContenders(g: GeneratedOrder): Contender[] {
  const model = emptyThriftModel();
  loadThriftFiles([ORDER_THRIFT], model);
  const struct = model.structs.get('order.Order')!;
  const int64 = (n: bigint | number): unknown => {
    const b = Buffer.alloc(8);
    b.writeBigInt64BE(BigInt(n));
    return new g.Int64(b);
  };
  // Generated code holds its own instances, i64 as node-int64 and enums as numbers: built once,
  // as a service using generated code would hold them.
  const v = ORDER_THRIFT_VALUE;
  const instance = new g.types.Order({
    ...v,
    id: int64(v.id),
    customer: new g.types.Customer({ ...v.customer, id: int64(v.customer.id), shipTo: new g.types.Address(v.customer.shipTo) }),
    lines: v.lines.map((l) => new g.types.Line({ ...l, cents: int64(l.cents) })),
    status: g.types.Status[v.status],
    createdMs: int64(v.createdMs),
  });
  const out: Contender[] = [];
  for (const protocol of THRIFT_PROTOCOLS) {
    const family = `Thrift ${protocol}`;
    const Protocol = protocol === 'binary' ? g.thrift.TBinaryProtocol : g.thrift.TCompactProtocol;
    const codec: Codec = createThriftCodec(struct, { protocol });
    out.push({ family, name: 'weft (IDL at run time)', weft: true, encode: () => codec.encode(v) as Uint8Array, decode: (b) => codec.decode(b) });
    out.push({
      family,
      name: 'generated + TBufferedTransport',
      reference: true,
      encode() {
        let bytes: Buffer | undefined;
        const trans = new g.thrift.TBufferedTransport(undefined, (msg) => (bytes = msg));
        instance.write(new Protocol(trans));
        trans.flush();
        return bytes!;
      },
      decode(bytes) {
        // How the package's receiver feeds a TBufferedTransport: the bytes as its input buffer.
        const trans = new g.thrift.TBufferedTransport();
        trans.inBuf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        trans.writeCursor = bytes.byteLength;
        const order = new g.types.Order();
        order.read(new Protocol(trans));
        return order;
      },
    });
    out.push({
      family,
      name: 'generated + Weft transport',
      encode() {
        const trans = new MemoryTransport();
        instance.write(new Protocol(trans));
        return trans.written();
      },
      decode(bytes) {
        const order = new g.types.Order();
        order.read(new Protocol(new MemoryTransport(bytes)));
        return order;
      },
    });
  }
  return out;
}

// ------------------------------------------------------------------ ProtoBuf

function protobufContenders(g: GeneratedOrder): Contender[] {
  const pb = createRequire(import.meta.url)('protobufjs') as typeof protobuf;
  const root = new pb.Root();
  root.loadSync(ORDER_PROTO, { keepCase: false });
  root.resolveAll();
  const codec = createProtobufCodec(root.lookupType('bench.Order'));
  const Order = g.pb.Order;
  const TO_OBJECT = { longs: String, enums: String, bytes: String };
  const message = Order.fromObject(ORDER_PROTO_VALUE);
  const family = 'ProtoBuf';
  return [
    { family, name: 'weft (proto3 JSON mapping)', weft: true, encode: () => codec.encode(ORDER_PROTO_VALUE) as Uint8Array, decode: (b) => codec.decode(b) },
    {
      family,
      name: 'pbjs static, plain objects',
      reference: true,
      encode: () => Order.encode(Order.fromObject(ORDER_PROTO_VALUE)).finish(),
      decode: (b) => Order.toObject(Order.decode(b), TO_OBJECT),
    },
    { family, name: 'pbjs static, message instances', encode: () => Order.encode(message).finish(), decode: (b) => Order.decode(b) },
  ];
}

// ------------------------------------------------------------------ same content, checked

/** Every contender of a family writes the same bytes, and Weft decodes them to the order. */
function checkEquivalent(cs: Contender[], g: GeneratedOrder): number {
  const weft = cs.find((c) => c.weft)!;
  const expected = weft.family === 'ProtoBuf' ? ORDER_PROTO_VALUE : ORDER_THRIFT_VALUE;
  const bytes = Buffer.from(weft.encode());
  assert.deepEqual(weft.decode(bytes), expected, `${weft.family}: Weft's round trip`);
  for (const c of cs) {
    const theirs = Buffer.from(c.encode());
    assert.ok(theirs.equals(bytes), `${c.family}: ${c.name} writes other bytes than Weft (${theirs.length} vs ${bytes.length})`);
    c.decode(bytes);
  }
  if (weft.family === 'ProtoBuf') {
    assert.deepEqual(g.pb.Order.toObject(g.pb.Order.decode(bytes), { longs: String, enums: String }), ORDER_PROTO_VALUE, 'pbjs reads what Weft wrote');
  } else {
    const order = cs.find((c) => c.reference)!.decode(bytes) as { id: { buffer: Buffer; offset: number } };
    assert.equal(order.id.buffer.readBigInt64BE(order.id.offset), ORDER_THRIFT_VALUE.id, 'generated code reads the i64 Weft wrote');
  }
  return bytes.length;
}

// ------------------------------------------------------------------ timing

let sink = 0;
function opsPerSecond(n: number, fn: () => unknown): number {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) if (fn() === undefined) sink++;
  return n / ((performance.now() - t0) / 1000);
}

interface Sample {
  encode: number;
  decode: number;
  /** encode + decode of one message per second. */
  roundTrip: number;
}

function slice(c: Contender, n: number): Sample {
  const bytes = c.encode();
  const encode = opsPerSecond(n, () => c.encode());
  const decode = opsPerSecond(n, () => c.decode(bytes));
  return { encode, decode, roundTrip: 1 / (1 / encode + 1 / decode) };
}

const rotate = <T>(xs: T[], by: number): T[] => xs.map((_, i) => xs[(i + by) % xs.length]);

// ------------------------------------------------------------------ run

generateOrderCode();
const g = loadGeneratedOrder();
const families = [...thriftContenders(g), ...protobufContenders(g)].reduce((m, c) => m.set(c.family, [...(m.get(c.family) ?? []), c]), new Map<string, Contender[]>());
const sizes = new Map<string, number>();
for (const [family, cs] of families) sizes.set(family, checkEquivalent(cs, g));

const all = [...families.values()].flat();
const samples = new Map<Contender, Sample[]>(all.map((c) => [c, []]));
for (const c of all) slice(c, ITERATIONS); // warm-up: every path optimised before it counts
for (let r = 0; r < ROUNDS; r++) {
  for (const c of rotate(all, r)) samples.get(c)!.push(slice(c, ITERATIONS));
  console.error(`round ${r + 1}/${ROUNDS} done`);
}

interface Row {
  family: string;
  name: string;
  bytes: number;
  encodeOps: number;
  decodeOps: number;
  roundTripOps: number;
  spread: number;
  /** Weft's round trip / this contender's, median of per-round ratios (only for generated-code rows). */
  weftRatio?: number;
}

const rows: Row[] = all.map((c) => {
  const own = samples.get(c)!;
  const weft = families.get(c.family)!.find((x) => x.weft)!;
  return {
    family: c.family,
    name: c.name,
    bytes: sizes.get(c.family)!,
    encodeOps: median(own.map((s) => s.encode)),
    decodeOps: median(own.map((s) => s.decode)),
    roundTripOps: median(own.map((s) => s.roundTrip)),
    spread: spread(own.map((s) => s.roundTrip)),
    weftRatio: c.weft ? undefined : pairedRatio(samples.get(weft)!.map((s) => s.roundTrip), own.map((s) => s.roundTrip)),
  };
});

const k = (n: number): string => `${(n / 1000).toFixed(1)} k`;
const table = [
  '| format | contender | bytes | encode /s | decode /s | encode+decode /s | spread | Weft vs this |',
  '|---|---|--:|--:|--:|--:|--:|--:|',
  ...rows.map((r) => {
    const ref = all.find((c) => c.family === r.family && c.name === r.name)!.reference;
    const ratio = r.weftRatio === undefined ? '' : `${ref ? '**' : ''}${r.weftRatio.toFixed(2)}x${ref ? '**' : ''}`;
    return `| ${r.family} | ${r.name} | ${r.bytes} | ${k(r.encodeOps)} | ${k(r.decodeOps)} | ${k(r.roundTripOps)} | ${Math.round(r.spread * 100)} % | ${ratio} |`;
  }),
].join('\n');
const machine = `Measured ${new Date().toISOString()} on ${cpus()[0]?.model ?? 'unknown'}, ${cpus().length} cores; Node ${process.version}; thrift-compiler 0.17 with thrift ${createRequire(import.meta.url)('thrift/package.json').version}, protobufjs ${createRequire(import.meta.url)('protobufjs/package.json').version}.`;
const command = `Command: \`npm run bench:codecs -- --iterations ${ITERATIONS} --rounds ${ROUNDS}\` (${ITERATIONS} encodes and ${ITERATIONS} decodes per contender per round, one warm-up round, medians; **bold**: the target ratio, >= 0.70x).`;
console.log(`${machine}\n${command}\n\n${table}`);
mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
writeFileSync(join(ROOT, 'bench/results/codecs.json'), JSON.stringify({ at: new Date().toISOString(), node: process.version, iterations: ITERATIONS, rounds: ROUNDS, rows, sink }, null, 2));
if (!values['no-docs']) {
  writeDocSection('codecs', `${machine}\n${command}\n\n${table}`);
  console.error('updated docs/benchmarks.md');
}
