/**
 * The ~1 KB order of the codec benchmark and of scenario S5 (bench/idl/order.thrift and
 * order.proto): nested structs, a list of structs with lists of strings, a string map, an enum,
 * i64 beyond 2^53 and plain strings. One content, written in each side's value model.
 */
import { createRequire } from 'node:module';
import type protobuf from 'protobufjs';
import { ORDER_PROTO } from './codegen.ts';

const LINES = [
  { sku: 'DSK-WAL-160', title: 'Walnut desk, 160 x 80 cm, oiled', qty: 1, cents: 64900, weight: 38.5, tags: ['furniture', 'office', 'wood', 'bulky'] },
  { sku: 'CHR-ERG-BLK', title: 'Ergonomic chair, black mesh', qty: 2, cents: 32950, weight: 17.25, tags: ['furniture', 'office', 'seating'] },
  { sku: 'LMP-BRS-01', title: 'Brass desk lamp with linen shade', qty: 3, cents: 8990, weight: 2.4, tags: ['lighting', 'brass'] },
  { sku: 'CBL-TRY-120', title: 'Cable tray, 120 cm, powder-coated steel', qty: 1, cents: 2490, weight: 1.1, tags: ['accessories', 'steel'] },
  { sku: 'MAT-FLT-XL', title: 'Felt desk mat, extra large, anthracite', qty: 2, cents: 3900, weight: 0.8, tags: ['accessories', 'felt', 'gift-wrap'] },
];

/** An i64 that a JavaScript number cannot hold exactly (2^53 + 1, and a large negative one). */
export const ORDER_ID = 9007199254740993n;
const CUSTOMER_ID = -4611686018427387905n;
const CREATED_MS = 1764144000123;

/** Weft's Thrift value model: i64 beyond 2^53 as BigInt, safe ones as numbers, enum by name. */
export const ORDER_THRIFT_VALUE = {
  id: ORDER_ID,
  customer: {
    id: CUSTOMER_ID,
    name: 'Ada Lovelace',
    email: 'ada.lovelace@example.org',
    shipTo: { street: '12 St James\'s Square', city: 'London', zip: 'SW1Y 4JH', country: 'GB' },
  },
  lines: LINES,
  attributes: { channel: 'web', campaign: 'winter-sale-2026', locale: 'en-GB', giftMessage: 'Happy birthday, with love from all of us', warehouse: 'north-2' },
  status: 'SHIPPED',
  createdMs: CREATED_MS,
  note: 'Leave at the reception desk; call ahead if the parcel does not fit through the door.',
  gift: true,
};

/** The same order in the proto3 JSON mapping (what Weft's ProtoBuf codec and toObject with longs: String give). */
export const ORDER_PROTO_VALUE = {
  ...ORDER_THRIFT_VALUE,
  id: String(ORDER_ID),
  customer: { ...ORDER_THRIFT_VALUE.customer, id: String(CUSTOMER_ID) },
  lines: LINES.map((l) => ({ ...l, cents: String(l.cents) })),
  createdMs: String(CREATED_MS),
};

/** What S5 answers for this order: the Pricing.price result as JSON (orderId as exact JSON digits). */
export const S5_ANSWER = {
  orderId: ORDER_ID,
  status: 'SHIPPED',
  items: LINES.reduce((n, l) => n + l.qty, 0),
  totalCents: LINES.reduce((n, l) => n + l.qty * l.cents, 0),
  currency: 'EUR',
};

let encoded: Uint8Array | undefined;
/** S5's request body: the order encoded by protobufjs (not by Weft's codec), made once. */
export function orderProtobuf(): Uint8Array {
  if (encoded) return encoded;
  const pb = createRequire(import.meta.url)('protobufjs') as typeof protobuf;
  const Order = pb.loadSync(ORDER_PROTO).lookupType('bench.Order');
  return (encoded = Order.encode(Order.fromObject(ORDER_PROTO_VALUE)).finish());
}
