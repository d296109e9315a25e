/** Bad flow files: every problem reported at once, as file:line:col CODE message. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { builtInRegistry } from '../../../runtime/components.ts';
import type { RuntimeServices } from '../../../runtime/contract.ts';
import { FlowLoadError, type LoadProblem } from '../../../runtime/errors.ts';
import { loadFlowSource } from '../../../runtime/flow/load.ts';
import { silentLogger } from '../../../runtime/log.ts';

const registry = builtInRegistry();
const services: RuntimeServices = {
  log: silentLogger(),
  port: 0,
  host: '127.0.0.1',
  inflight: { enter() {}, leave() {}, count: 0 },
  draining: new AbortController().signal,
};

function problems(yaml: string, env: Record<string, string> = {}): LoadProblem[] {
  try {
    loadFlowSource('flow.yaml', yaml, { registry, services, env }, '/nonexistent-dir');
  } catch (err) {
    assert.ok(err instanceof FlowLoadError, `expected FlowLoadError, got ${String(err)}`);
    return [...err.problems];
  }
  assert.fail('the flow loaded but should not have');
}

const HEAD = `weft: 1
name: t
trigger:
  http: { path: /x }
`;

describe('flow loading', () => {
  it('loads a valid flow', () => {
    const flow = loadFlowSource('flow.yaml', `${HEAD}steps:\n  - transform: '{"a": 1}'\n`, { registry, services, env: {} });
    assert.equal(flow.info.name, 't');
    assert.equal(flow.trigger.describe, 'GET /x');
  });

  it('reports YAML syntax errors with their position', () => {
    const [p, ...rest] = problems('weft: 1\nname: t\ntrigger:\n  http: { path: /x\n');
    assert.equal(rest.length, 0);
    assert.equal(p.code, 'FLOW_SYNTAX');
    assert.equal(p.file, 'flow.yaml');
    assert.ok(p.line >= 4, `line ${p.line}`);
  });

  it('names an unknown step and suggests the closest', () => {
    const [p] = problems(`${HEAD}steps:\n  - transfrom: body\n`);
    assert.equal(p.code, 'FLOW_SCHEMA');
    assert.equal(p.line, 6);
    assert.equal(p.col, 5);
    assert.match(p.message, /unknown step/);
    assert.match(p.message, /did you mean 'transform'/);
    assert.match(p.message, /expected one of .*call/);
  });

  it('points at an unknown key (a typo must not pass)', () => {
    const [p] = problems(`${HEAD}endpoints:\n  api:\n    http: { url: "http://127.0.0.1:1" }\nsteps:\n  - call: api\n    pth: /a\n`);
    assert.equal(p.code, 'FLOW_SCHEMA');
    assert.deepEqual([p.line, p.col], [10, 5]);
    assert.match(p.message, /unknown key 'pth'.*did you mean 'path'/);
  });

  it('rejects a wrong type with what was expected', () => {
    const [p] = problems(`weft: 1\nname: t\ntrigger:\n  http: { path: /x, maxBody: true }\n`);
    assert.equal(p.code, 'FLOW_SCHEMA');
    assert.equal(p.line, 4);
    assert.match(p.message, /maxBody' must be string or integer, got boolean/);
  });

  it('rejects a bad duration in words, not a regex', () => {
    const [p] = problems(`${HEAD}endpoints:\n  api:\n    http: { url: "http://127.0.0.1:1" }\n    timeout: 2 seconds\n`);
    assert.match(p.message, /must be a duration such as 250ms/);
  });

  it('rejects an unknown endpoint name at the reference', () => {
    const [p] = problems(`${HEAD}endpoints:\n  inventory:\n    http: { url: "http://127.0.0.1:1" }\nsteps:\n  - call: inventroy\n`);
    assert.equal(p.code, 'FLOW_REFERENCE');
    assert.deepEqual([p.line, p.col], [9, 11]);
    assert.match(p.message, /unknown endpoint 'inventroy'; did you mean 'inventory'/);
  });

  it('names a missing environment variable and where it is used', () => {
    const [p] = problems(`${HEAD}endpoints:\n  api:\n    http: { url: "\${env.API_URL}" }\n`);
    assert.equal(p.code, 'FLOW_ENV');
    assert.equal(p.line, 7);
    assert.match(p.message, /API_URL/);
  });

  it('resolves env variables and defaults at load', () => {
    const flow = loadFlowSource(
      'flow.yaml',
      `${HEAD}endpoints:\n  a:\n    http: { url: "\${env.A_URL}" }\n  b:\n    http: { url: "\${env.B_URL:-http://127.0.0.1:2}" }\n`,
      { registry, services, env: { A_URL: 'http://127.0.0.1:1' } },
    );
    assert.equal(flow.endpoints.length, 2);
  });

  it('reports a missing referenced file relative to the flow', () => {
    const [p] = problems(`weft: 1\nname: t\ntrigger:\n  http: { path: /x, schema: schemas/nope.json }\n`);
    assert.equal(p.code, 'FLOW_FILE');
    assert.match(p.message, /schemas\/nope\.json/);
  });

  it('reports expression syntax errors at the column inside the expression', () => {
    const [p] = problems(`${HEAD}steps:\n  - transform: 'body.a +'\n`);
    assert.equal(p.code, 'FLOW_EXPRESSION');
    assert.equal(p.line, 6);
    assert.ok(p.col > 16, `col ${p.col} should point inside the expression`);
  });

  it('reports every problem at once, in file order', () => {
    const ps = problems(
      `weft: 1\nname: Bad_Name\ntrigger:\n  http: { path: /x }\nendpoints:\n  api:\n    http: { url: "\${env.NOPE_1}" }\nsteps:\n  - transfrom: x\n  - respond: { status: 200, colour: red }\n`,
    );
    const codes = ps.map((p) => `${p.line}:${p.code}`);
    assert.deepEqual(codes, ['2:FLOW_SCHEMA', '7:FLOW_ENV', '9:FLOW_SCHEMA', '10:FLOW_SCHEMA']);
    assert.match(ps[0].message, /DNS-1123/);
  });

  it('rejects a step with two kinds', () => {
    const ps = problems(`${HEAD}steps:\n  - transform: body\n    set: { a: 1 }\n`);
    assert.ok(ps.some((p) => /exactly one kind key, found transform and set/.test(p.message)), JSON.stringify(ps));
  });

  it('checks nested steps too', () => {
    const [p] = problems(`${HEAD}steps:\n  - choice:\n      - when: 'true'\n        steps:\n          - fial: {}\n`);
    assert.equal(p.line, 9);
    assert.match(p.message, /did you mean 'fail'/);
  });

  it('rejects a choice whose otherwise is not last', () => {
    const [p] = problems(`${HEAD}steps:\n  - choice:\n      - otherwise: [ { transform: '1' } ]\n      - when: 'true'\n        steps: [ { transform: '2' } ]\n`);
    assert.match(p.message, /must be the last/);
  });

  it('rejects an empty file and a file that is not a mapping', () => {
    assert.equal(problems('')[0].code, 'FLOW_SCHEMA');
    assert.match(problems('- a\n- b\n')[0].message, /must be object/);
  });

  it('stops YAML alias bombs', () => {
    const bomb = `a: &a ["x","x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n`;
    assert.equal(problems(bomb)[0].code, 'FLOW_SYNTAX');
  });
});
