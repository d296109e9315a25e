/**
 * The OpenAPI 3.1 document of a flow: served on the admin port of a running flow, printed by
 * `weft openapi`, and valid against the OpenAPI 3.1 schema (@seriousme/openapi-schema-validator).
 */
import { Validator } from '@seriousme/openapi-schema-validator';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { startTestFlow, writeFlow, type TestFlow } from '../support/flow.ts';
import { WEFT_BIN } from '../support/process.ts';

const run = promisify(execFile);
/** The validator's input type (its SpecData is not exported). */
type SpecData = Record<string, unknown>;
const FLOWS = join(import.meta.dirname, '../../flows');

const FILES = {
  'schemas/order.schema.json': JSON.stringify({
    $schema: 'http://json-schema.org/draft-07/schema#',
    type: 'object',
    required: ['sku', 'qty'],
    properties: { sku: { type: 'string' }, qty: { type: 'integer', minimum: 1 } },
  }),
  'proto/order.proto': 'syntax = "proto3";\npackage shop.v1;\nmessage Order { string sku = 1; int32 qty = 2; }\n',
  'idl/shop.thrift': 'struct Order { 1: required string sku, 2: i32 qty }\n',
};

const FLOW = `weft: 1
name: order-intake
description: Takes an order in any of four formats.
schemas:
  proto: [proto/order.proto]
  thrift: [idl/shop.thrift]
trigger:
  http:
    method: POST
    path: /orders/:customer/lines/:line
    accept: [json, xml, protobuf, thrift]
    schema: schemas/order.schema.json
    message: shop.v1.Order
    struct: shop.Order
    thrift: { protocol: compact }
    timeout: 2s
steps:
  - transform: '{ "customer": params.customer, "sku": body.sku }'
`;

async function validOpenApi31(doc: unknown): Promise<void> {
  const validator = new Validator();
  const res = await validator.validate(doc as SpecData);
  assert.equal(validator.version, '3.1');
  assert.ok(res.valid, JSON.stringify(res.errors, null, 2));
}

type Doc = {
  openapi: string;
  info: { title: string; description?: string };
  paths: Record<string, Record<string, { parameters: { name: string; in: string }[]; requestBody?: { content: Record<string, { schema?: Record<string, unknown> }> }; responses: Record<string, unknown> }>>;
  components: { schemas: Record<string, Record<string, unknown>> };
};

describe('OpenAPI document', () => {
  let flow: TestFlow;
  before(async () => {
    flow = await startTestFlow(FLOW, { files: FILES });
  });
  after(() => flow.stop());

  it('is served on the admin port, valid OpenAPI 3.1, and describes the route and every body format', async () => {
    const res = await fetch(`${flow.adminUrl}/openapi.json`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json');
    const doc = (await res.json()) as Doc;
    await validOpenApi31(doc);
    assert.equal(doc.openapi, '3.1.0');
    assert.equal(doc.info.title, 'order-intake');
    assert.equal(doc.info.description, 'Takes an order in any of four formats.');
    const op = doc.paths['/orders/{customer}/lines/{line}'].post;
    assert.deepEqual(op.parameters.filter((p) => p.in === 'path').map((p) => p.name), ['customer', 'line']);
    const content = op.requestBody!.content;
    assert.deepEqual(Object.keys(content).sort(), ['application/json', 'application/x-protobuf', 'application/x-thrift', 'application/xml']);
    assert.deepEqual(content['application/json'].schema, { $ref: '#/components/schemas/order' });
    assert.deepEqual(doc.components.schemas.order.required, ['sku', 'qty'], 'the trigger schema file is embedded');
    assert.equal(content['application/x-protobuf'].schema!['x-weft-protobuf-message'], 'shop.v1.Order');
    assert.equal(content['application/x-thrift'].schema!['x-weft-thrift-struct'], 'shop.Order');
    assert.equal(content['application/x-thrift'].schema!['x-weft-thrift-protocol'], 'compact');
    for (const status of ['200', '400', '406', '413', '415', '504', 'default']) assert.ok(op.responses[status], `response ${status}`);
    assert.ok(doc.components.schemas.Problem);

    // The check is not vacuous: the same document with a response lacking its description fails.
    const broken = structuredClone(doc) as unknown as { paths: Record<string, Record<string, { responses: Record<string, unknown> }>> };
    broken.paths['/orders/{customer}/lines/{line}'].post.responses['200'] = { content: {} };
    assert.equal((await new Validator().validate(broken as unknown as SpecData)).valid, false);
  });

  it('is what the route really does: the documented path answers, a body the schema rejects gets the documented 400 problem', async () => {
    const ok = await flow.fetch('/orders/c1/lines/2', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"sku":"A","qty":1}' });
    assert.equal(ok.status, 200);
    const bad = await flow.fetch('/orders/c1/lines/2', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"sku":"A"}' });
    assert.equal(bad.status, 400);
    assert.equal(bad.headers.get('content-type'), 'application/problem+json');
    const problem = (await bad.json()) as Record<string, unknown>;
    const doc = (await (await fetch(`${flow.adminUrl}/openapi.json`)).json()) as Doc;
    for (const key of doc.components.schemas.Problem.required as string[]) assert.ok(key in problem, `problem has ${key}`);
  });

  it('is printed by weft openapi for the example flows, each valid OpenAPI 3.1', async () => {
    for (const name of ['hello.yaml', 'customer-360.yaml', 'json-to-xml-bridge.yaml', 'retail/store.yaml']) {
      const { stdout } = await run(process.execPath, [WEFT_BIN, 'openapi', join(FLOWS, name)]);
      await validOpenApi31(JSON.parse(stdout));
    }
  });

  it('weft openapi on an invalid flow prints the load problems and no document', async () => {
    const file = writeFlow('weft: 1\nname: broken\ntrigger:\n  http: { path: /x, mehtod: GET }\n');
    const err = await run(process.execPath, [WEFT_BIN, 'openapi', file]).then(
      () => assert.fail('expected exit 1'),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
    assert.equal(err.code, 1);
    assert.equal(err.stdout, '');
    assert.match(err.stderr, /:4:21 FLOW_SCHEMA unknown key 'mehtod'/);
  });
});
