/** Code, validation and docs cannot drift: the published schema and the docs follow the code. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SCHEMA_FILE, schemaText } from '../../runtime/cli.ts';
import { builtInRegistry } from '../../runtime/components.ts';
import { ERROR_CODES } from '../../runtime/errors.ts';
import { flowValidator, GENERATED_VALIDATOR, generateFlowValidator } from '../../runtime/flow/flow-validator.ts';
import { buildFlowSchema } from '../../runtime/flow/schema.ts';

const DOCS = join(import.meta.dirname, '../../docs');
const read = (name: string) => readFileSync(join(DOCS, name), 'utf8');

describe('docs and schema stay in sync with the code', () => {
  it('docs/weft-flow.schema.json is the schema the specs assemble (npm run schema rewrites it)', () => {
    assert.equal(readFileSync(SCHEMA_FILE, 'utf8'), schemaText());
  });

  it('the precompiled flow validator is current, and is what a start uses (npm run schema rewrites it)', async () => {
    const schema = buildFlowSchema(builtInRegistry());
    assert.equal(readFileSync(GENERATED_VALIDATOR, 'utf8'), generateFlowValidator(schema));
    const generated = (await import(GENERATED_VALIDATOR.href)) as { validate: unknown };
    assert.equal(flowValidator(schema), generated.validate);
  });

  it('every error code is documented in docs/errors.md', () => {
    const doc = read('errors.md');
    const missing = Object.keys(ERROR_CODES).filter((code) => !doc.includes(`\`${code}\``));
    assert.deepEqual(missing, []);
  });

  it('docs/errors.md documents no code that does not exist', () => {
    const doc = read('errors.md');
    const listed = [...doc.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]);
    assert.ok(listed.length > 10);
    assert.deepEqual(listed.filter((c) => !(c in ERROR_CODES)), []);
  });

  it('every step, trigger and endpoint kind has a section in docs/flow-reference.md', () => {
    const doc = read('flow-reference.md');
    const registry = builtInRegistry();
    const names = [...registry.steps.keys(), ...registry.triggers.keys(), ...registry.endpoints.keys()];
    const missing = names.filter((n) => !new RegExp(`^### ${n}$`, 'm').test(doc));
    assert.deepEqual(missing, []);
  });

  it('the statuses in docs/errors.md match the catalogue', () => {
    const doc = read('errors.md');
    for (const m of doc.matchAll(/^\| `([A-Z_]+)` \| (\d{3}) \| (yes|no) \|/gm)) {
      const info = ERROR_CODES[m[1] as keyof typeof ERROR_CODES];
      assert.equal(info.status, Number(m[2]), m[1]);
      assert.equal(info.retryable, m[3] === 'yes', m[1]);
    }
  });
});
