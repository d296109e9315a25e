/** bin/entry.ts: the one-file build runs only while it is current; anything else runs the sources. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, beforeEach, describe, it } from 'node:test';
import { BUNDLE_FILE, MANIFEST_FILE, pickEntry, staleInput } from '../../../bin/entry.ts';

const root = mkdtempSync(join(tmpdir(), 'weft-entry-'));
const dist = join(root, 'dist');
const HOUR = 3600;
const now = Date.now() / 1000;

/** A checkout with two sources an hour old and a bundle built from them a minute ago. */
function layout(): void {
  rmSync(root, { recursive: true, force: true });
  mkdirSync(join(root, 'runtime'), { recursive: true });
  mkdirSync(dist);
  for (const f of ['runtime/cli.ts', 'runtime/a.ts']) {
    writeFileSync(join(root, f), '');
    utimesSync(join(root, f), now - HOUR, now - HOUR);
  }
  writeFileSync(join(dist, BUNDLE_FILE), '');
  utimesSync(join(dist, BUNDLE_FILE), now - 60, now - 60);
  writeFileSync(join(dist, MANIFEST_FILE), JSON.stringify({ inputs: ['runtime/cli.ts', 'runtime/a.ts'] }));
}

describe('pickEntry', () => {
  beforeEach(layout);
  after(() => rmSync(root, { recursive: true, force: true }));

  it('runs the bundle when no input is newer', () => {
    const e = pickEntry(root, {});
    assert.equal(e.kind, 'bundle');
    assert.ok(e.url.endsWith('/dist/weft.cjs'), e.url);
    assert.equal(staleInput(root, dist), undefined);
  });

  it('runs the sources, saying why, once an input is edited after the build', () => {
    utimesSync(join(root, 'runtime/a.ts'), now, now);
    const e = pickEntry(root, {});
    assert.equal(e.kind, 'sources');
    assert.ok(e.url.endsWith('/runtime/cli.ts'), e.url);
    assert.match(e.reason ?? '', /runtime\/a\.ts is newer than the bundle/);
  });

  it('runs the sources when an input is gone (renamed, deleted)', () => {
    rmSync(join(root, 'runtime/a.ts'));
    assert.equal(pickEntry(root, {}).kind, 'sources');
  });

  it('runs the sources without a bundle or without its manifest', () => {
    rmSync(join(dist, MANIFEST_FILE));
    assert.equal(pickEntry(root, {}).kind, 'sources');
    rmSync(join(dist, BUNDLE_FILE));
    assert.deepEqual(pickEntry(root, {}), { kind: 'sources', url: pickEntry(root, {}).url });
  });

  it('WEFT_BUNDLE=0 always runs the sources, WEFT_BUNDLE=1 trusts any present bundle', () => {
    assert.equal(pickEntry(root, { WEFT_BUNDLE: '0' }).kind, 'sources');
    utimesSync(join(root, 'runtime/a.ts'), now, now);
    assert.equal(pickEntry(root, { WEFT_BUNDLE: '1' }).kind, 'bundle');
    rmSync(join(dist, BUNDLE_FILE));
    assert.equal(pickEntry(root, { WEFT_BUNDLE: '1' }).kind, 'sources');
  });
});
