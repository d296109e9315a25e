/**
 * The ProtoBuf codec's encode walk (compiled per type, no fromObject pass): the bytes equal
 * protobufjs's own fromObject + encode, 64-bit values keep their exact range checks, and an
 * error names the value's path.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import type protobuf from 'protobufjs';
import { createProtobufCodec } from '../../../runtime/codecs/protobuf.ts';
import { WeftError } from '../../../runtime/errors.ts';

const pb = createRequire(import.meta.url)('protobufjs') as typeof protobuf;
const { root } = pb.parse(`
syntax = "proto3";
package t;
enum Color { COLOR_UNSPECIFIED = 0; RED = 1; BLUE = 4; }
message Line { string sku = 1; int32 qty = 2; sint64 cents = 3; }
message Msg {
  int64 big = 1;
  uint64 ubig = 2;
  fixed64 fix = 3;
  repeated Line lines = 4;
  map<string, int32> counts = 5;
  Color color = 6;
  bytes blob = 7;
  double ratio = 8;
  Msg child = 9;
  oneof pick { string a = 10; int32 b = 11; }
}`, { keepCase: false });
root.resolveAll();
const type = root.lookupType('t.Msg');
const codec = createProtobufCodec(type);
const roundTrip = (value: unknown): unknown => codec.decode(codec.encode(value) as Uint8Array);

function encodeError(value: unknown, message: RegExp): void {
  assert.throws(() => codec.encode(value), (err: unknown) => err instanceof WeftError && err.code === 'ENCODE' && message.test(err.message));
}

describe('protobuf codec: encode', () => {
  it('writes the bytes protobufjs writes, and reads them back in the proto3 JSON mapping', () => {
    const value = {
      big: '-9223372036854775808',
      ubig: '18446744073709551615',
      fix: 9007199254740991,
      lines: [{ sku: 'A', qty: 2, cents: '-9007199254740993' }, { sku: 'B', qty: -1, cents: '5' }],
      counts: { x: 1, y: -2 },
      color: 'BLUE',
      blob: Buffer.from('weft').toString('base64'),
      ratio: 'NaN',
      child: { big: '1', child: { a: 'deep' } },
      b: 7,
    };
    const ours = Buffer.from(codec.encode(value));
    const theirs = Buffer.from(type.encode(type.fromObject({ ...value, ratio: NaN })).finish());
    assert.ok(ours.equals(theirs), 'same bytes as fromObject + encode');
    assert.deepEqual(codec.decode(ours), { ...value, fix: '9007199254740991', ratio: NaN });
  });

  it('keeps the 64-bit ranges exact', () => {
    assert.deepEqual(roundTrip({ big: '9223372036854775807', ubig: 0, fix: '18446744073709551615' }), { big: '9223372036854775807', fix: '18446744073709551615' });
    encodeError({ big: '9223372036854775808' }, /big 9223372036854775808 is out of range for int64/);
    encodeError({ ubig: -1 }, /ubig -1 is out of range for uint64/);
    encodeError({ ubig: '-1' }, /ubig -1 is out of range for uint64/);
    encodeError({ ubig: '18446744073709551616' }, /out of range for uint64/);
    encodeError({ big: 2 ** 53 + 2 }, /big must be a 64-bit integer/);
    encodeError({ big: '12x' }, /big must be a 64-bit integer/);
    assert.deepEqual(roundTrip({ big: 12n }), { big: '12' });
  });

  it('names the path of a bad value', () => {
    encodeError({ lines: [{ qty: 1 }, { qty: 2 ** 31 }] }, /lines\[1\]\.qty must be a int32/);
    encodeError({ counts: { x: 'many' } }, /counts\.x must be a int32/);
    encodeError({ child: { child: { color: 'GREEN' } } }, /child\.child\.color "GREEN" is not a member of t\.Color/);
    encodeError({ lines: {} }, /lines must be an array/);
    encodeError({ a: 'x', b: 1 }, /sets a and b of oneof pick/);
    encodeError({ blob: '***' }, /blob must be base64 text/);
    encodeError([], /value must be an object for t\.Msg, got an array/);
  });
});
