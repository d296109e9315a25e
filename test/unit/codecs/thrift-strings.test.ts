/**
 * Thrift string fields decode strictly as UTF-8 (isUtf8 + toString since bench:codecs showed the
 * fatal TextDecoder as a third of decode): text of any script comes back as written, a BOM is
 * kept as data, and invalid UTF-8 is MALFORMED_BODY, in both protocols.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createThriftCodec } from '../../../runtime/codecs/thrift.ts';
import { WeftError } from '../../../runtime/errors.ts';
import { emptyThriftModel, loadThriftFiles } from '../../../runtime/schemas/thrift-idl.ts';

const dir = mkdtempSync(join(tmpdir(), 'weft-thrift-strings-'));
after(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(join(dir, 'text.thrift'), 'struct Text { 1: string s, 2: list<string> more }\n');
const model = emptyThriftModel();
loadThriftFiles([join(dir, 'text.thrift')], model);
const struct = model.structs.get('text.Text')!;

for (const protocol of ['binary', 'compact'] as const) {
  describe(`thrift codec (${protocol}): string fields`, () => {
    const codec = createThriftCodec(struct, { protocol });
    it('round-trips text of any script, a BOM included', () => {
      const value = { s: '\uFEFFgrüße, 東京, 🧵', more: ['', 'a', 'ℵ'] };
      assert.deepEqual(codec.decode(codec.encode(value) as Uint8Array), value);
    });
    it('refuses invalid UTF-8 with MALFORMED_BODY', () => {
      const bytes = Buffer.from(codec.encode({ s: 'abcd' }) as Uint8Array);
      const at = bytes.indexOf('abcd');
      for (const bad of [[0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80]]) {
        const copy = Buffer.from(bytes);
        copy.set(bad, at);
        assert.throws(() => codec.decode(copy), (e: unknown) => e instanceof WeftError && e.code === 'MALFORMED_BODY' && /not valid UTF-8/.test(e.message));
      }
    });
  });
}
