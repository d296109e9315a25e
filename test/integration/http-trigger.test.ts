/** The http trigger as a client meets it: real sockets on 127.0.0.1, real flows. */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startTestFlow, type TestFlow } from '../support/flow.ts';
import { jsonOf } from '../support/upstream.ts';

const SCHEMA = JSON.stringify({
  type: 'object',
  required: ['sku', 'qty'],
  properties: { sku: { type: 'string' }, qty: { type: 'integer', minimum: 1 } },
});

describe('http trigger', () => {
  let flow: TestFlow;
  before(async () => {
    flow = await startTestFlow(
      `weft: 1
name: trigger-test
trigger:
  http:
    method: POST
    path: /items/:id
    accept: [json, xml, text]
    schema: item.schema.json
    maxBody: 2kb
    xml: { arrays: [item.tag] }
steps:
  - choice:
      - when: query.mode = "echo"
        steps:
          - respond: {}
      - when: query.mode = "created"
        steps:
          - respond: { status: 201, headers: { location: "/items/\${params.id}" }, body: '{ "id": params.id }' }
      - when: query.mode = "boom"
        steps:
          - fail: { status: 409, code: ITEM_CONFLICT, message: "item \${params.id} exists" }
      - when: query.mode = "note"
        steps:
          - respond: { headers: { X-Note: "\${query.note}", Content-Type: application/vnd.weft+json }, body: '{ "noted": true }' }
  - transform: '{ "id": params.id, "sku": body.sku, "qty": body.qty, "ct": headers."content-type", "tags": body.tag }'
`,
      { files: { 'item.schema.json': SCHEMA } },
    );
  });
  after(() => flow.stop());

  const post = (path: string, body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
    flow.fetch(path, { method: 'POST', body, headers });

  it('answers with path params, headers and the decoded body', async () => {
    const res = await post('/items/7', '{"sku":"A-1","qty":2}');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.ok(res.headers.get('x-request-id'));
    assert.deepEqual(await jsonOf(res), { id: '7', sku: 'A-1', qty: 2, ct: 'application/json' });
  });

  it('checks the schema against the decoded XML value too', async () => {
    // XML decodes to { item: { ... } }: the root element is the one key, so this body has no
    // top-level sku or qty, and the schema says so.
    const res = await post('/items/8', '<item><sku>B-2</sku><qty>3</qty></item>', { 'content-type': 'application/xml' });
    assert.equal(res.status, 400);
    const problem = await jsonOf(res);
    assert.equal(problem.code, 'VALIDATION');
    assert.deepEqual(problem.violations.map((v: { path: string }) => v.path).sort(), ['qty', 'sku']);
  });

  it('negotiates the answer format from Accept', async () => {
    const res = await post('/items/9', '{"sku":"C-3","qty":1}', { 'content-type': 'application/json', accept: 'application/xml' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/xml');
    const text = await res.text();
    assert.match(text, /<sku>C-3<\/sku>/);
    assert.match(text, /<id>9<\/id>/);
  });

  it('answers 406 when no offered format is acceptable', async () => {
    const res = await post('/items/9', '{"sku":"C-3","qty":1}', { 'content-type': 'application/json', accept: 'image/png' });
    assert.equal(res.status, 406);
    assert.equal((await jsonOf(res)).code, 'NOT_ACCEPTABLE');
  });

  it('passes an unchanged body through without re-encoding it', async () => {
    const raw = '{ "sku" : "D-4",   "qty": 1 }';
    const res = await post('/items/1?mode=echo', raw);
    assert.equal(await res.text(), raw);
  });

  it('keeps integers beyond 2^53 exact', async () => {
    const res = await post('/items/1', '{"sku":"E-5","qty":12345678901234567890}');
    assert.equal(res.status, 200);
    assert.match(await res.text(), /"qty":12345678901234567890/);
  });

  it('respond sets status, headers and body', async () => {
    const res = await post('/items/42?mode=created', '{"sku":"F-6","qty":1}');
    assert.equal(res.status, 201);
    assert.equal(res.headers.get('location'), '/items/42');
    assert.deepEqual(await jsonOf(res), { id: '42' });
  });

  it('a fail step becomes a problem document with its code and status', async () => {
    const res = await post('/items/5?mode=boom', '{"sku":"G-7","qty":1}');
    assert.equal(res.status, 409);
    assert.equal(res.headers.get('content-type'), 'application/problem+json');
    const p = await jsonOf(res);
    assert.equal(p.code, 'ITEM_CONFLICT');
    assert.equal(p.detail, 'item 5 exists');
    assert.equal(p.step, 'steps[0].choice[2].steps[0].fail');
  });

  describe('bad input', () => {
    it('malformed JSON -> 400 MALFORMED_BODY', async () => {
      const res = await post('/items/1', '{"sku": ');
      assert.equal(res.status, 400);
      assert.equal((await jsonOf(res)).code, 'MALFORMED_BODY');
    });

    it('malformed XML -> 400 MALFORMED_BODY', async () => {
      const res = await post('/items/1', '<item><sku>x</item>', { 'content-type': 'text/xml' });
      assert.equal(res.status, 400);
      assert.equal((await jsonOf(res)).code, 'MALFORMED_BODY');
    });

    it('hostile XML (entity expansion) -> 400 HOSTILE_XML', async () => {
      const bomb = '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]><item>&lol2;</item>';
      const res = await post('/items/1', bomb, { 'content-type': 'application/xml' });
      assert.equal(res.status, 400);
      assert.equal((await jsonOf(res)).code, 'HOSTILE_XML');
    });

    it('schema violations -> 400 VALIDATION listing every failing path', async () => {
      const res = await post('/items/1', '{"qty": 0}');
      assert.equal(res.status, 400);
      const p = await jsonOf(res);
      assert.equal(p.code, 'VALIDATION');
      assert.deepEqual(
        p.violations.map((v: { path: string }) => v.path).sort(),
        ['qty', 'sku'],
      );
    });

    it('unsupported Content-Type -> 415 saying what to send', async () => {
      const res = await post('/items/1', 'a=1', { 'content-type': 'application/x-www-form-urlencoded' });
      assert.equal(res.status, 415);
      const p = await jsonOf(res);
      assert.equal(p.code, 'UNSUPPORTED_MEDIA_TYPE');
      assert.match(p.detail, /application\/json/);
    });

    it('oversized body -> 413, by Content-Length and by streaming', async () => {
      const big = JSON.stringify({ sku: 'x'.repeat(4096), qty: 1 });
      const res = await post('/items/1', big);
      assert.equal(res.status, 413);
      assert.equal((await jsonOf(res)).code, 'PAYLOAD_TOO_LARGE');
      const chunks = new ReadableStream({
        start(c) {
          for (let i = 0; i < 8; i++) c.enqueue(new TextEncoder().encode('x'.repeat(1024)));
          c.close();
        },
      });
      const streamed = await flow.fetch('/items/1', {
        method: 'POST',
        body: chunks,
        headers: { 'content-type': 'application/json' },
        duplex: 'half',
      } as RequestInit);
      assert.equal(streamed.status, 413);
    });

    it('unknown path -> 404, wrong method -> 405 with Allow', async () => {
      const nf = await flow.fetch('/nope');
      assert.equal(nf.status, 404);
      assert.equal((await jsonOf(nf)).code, 'NOT_FOUND');
      const na = await flow.fetch('/items/1');
      assert.equal(na.status, 405);
      assert.equal(na.headers.get('allow'), 'POST');
      assert.equal((await jsonOf(na)).code, 'METHOD_NOT_ALLOWED');
    });

    it('405 for any other method on the route, 404 for any method elsewhere', async () => {
      for (const method of ['PROPFIND', 'HEAD', 'DELETE']) {
        const res = await flow.fetch('/items/1', { method });
        assert.equal(res.status, 405, method);
        assert.equal(res.headers.get('allow'), 'POST');
      }
      const elsewhere = await flow.fetch('/items/1/more', { method: 'PROPFIND' });
      assert.equal(elsewhere.status, 404);
      assert.equal((await jsonOf(elsewhere)).code, 'NOT_FOUND');
    });

    it('respond headers replace the default ones by name, and a bad value is a 500 problem', async () => {
      const ok = await post('/items/1?mode=note&note=hi', '{"sku":"N-1","qty":1}');
      assert.equal(ok.status, 200);
      assert.equal(ok.headers.get('x-note'), 'hi');
      assert.equal(ok.headers.get('content-type'), 'application/vnd.weft+json', 'one content-type, the respond step\'s');
      assert.deepEqual(await ok.json(), { noted: true });
      const bad = await post(`/items/1?mode=note&note=${encodeURIComponent('a\r\nset-cookie: x=1')}`, '{"sku":"N-1","qty":1}');
      assert.equal(bad.status, 500);
      assert.equal(bad.headers.get('content-type'), 'application/problem+json');
      assert.equal(bad.headers.get('set-cookie'), null);
      assert.equal((await jsonOf(bad)).code, 'INTERNAL');
    });

    it('keeps serving after all of the above', async () => {
      const res = await post('/items/1', '{"sku":"OK-1","qty":1}');
      assert.equal(res.status, 200);
    });
  });

  it('serves /healthz and /readyz on the admin port', async () => {
    const live = await fetch(`${flow.adminUrl}/healthz`);
    assert.equal(live.status, 200);
    const ready = await fetch(`${flow.adminUrl}/readyz`);
    assert.equal(ready.status, 200);
    assert.equal((await jsonOf(ready)).status, 'ready');
  });
});

describe('http trigger with XML', () => {
  let flow: TestFlow;
  before(async () => {
    flow = await startTestFlow(`weft: 1
name: xml-test
trigger:
  http:
    method: POST
    path: /orders
    accept: [xml, json]
    xml: { arrays: [order.line] }
steps:
  - transform: '{ "receipt": { "@for": body.order.\`@id\`, "count": $count(body.order.line), "first": body.order.line[0].sku } }'
`);
  });
  after(() => flow.stop());

  it('decodes XML attributes, forced arrays, and answers XML to an XML request', async () => {
    const res = await flow.fetch('/orders', {
      method: 'POST',
      headers: { 'content-type': 'application/xml; charset=utf-8' },
      body: '<?xml version="1.0"?><order id="o-1"><line><sku>007</sku></line></order>',
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/xml');
    const text = await res.text();
    assert.match(text, /<receipt for="o-1">/);
    assert.match(text, /<count>1<\/count>/);
    assert.match(text, /<first>007<\/first>/, 'no number coercion: 007 stays 007');
  });

  it('answers JSON to the same XML request when Accept asks for it', async () => {
    const res = await flow.fetch('/orders', {
      method: 'POST',
      headers: { 'content-type': 'application/xml', accept: 'application/json' },
      body: '<order id="o-2"><line><sku>1</sku></line><line><sku>2</sku></line></order>',
    });
    assert.deepEqual(await jsonOf(res), { receipt: { '@for': 'o-2', count: 2, first: '1' } });
  });
});

describe('http trigger on a GET route', () => {
  let flow: TestFlow;
  before(async () => {
    flow = await startTestFlow(`weft: 1
name: get-test
trigger:
  http: { path: /files/:dir/:name }
steps:
  - transform: '{ "dir": params.dir, "name": params.name }'
`);
  });
  after(() => flow.stop());

  it('percent-decodes path params; an encoded slash stays inside its param', async () => {
    const res = await flow.fetch('/files/a%2Fb/caf%C3%A9%20menu');
    assert.deepEqual(await jsonOf(res), { dir: 'a/b', name: 'café menu' });
    const literal = await flow.fetch('/files/x/%2541');
    assert.deepEqual(await jsonOf(literal), { dir: 'x', name: '%41' }, '%25 decodes once, to %');
    const broken = await flow.fetch('/files/x/%E0%A4%A');
    assert.deepEqual(await jsonOf(broken), { dir: 'x', name: '%E0%A4%A' }, 'a malformed escape stays as sent');
  });

  /** Sends `head` (request line and headers) on a socket of its own; resolves with all it gets back until the server closes. */
  const rawExchange = (head: (host: string) => string, end = true): Promise<string> =>
    new Promise<string>((resolve, reject) => {
      const url = new URL(flow.url);
      const s = connect(Number(url.port), url.hostname, () => (end ? s.end(head(url.host)) : s.write(head(url.host))));
      let out = '';
      s.setEncoding('utf8').on('data', (d: string) => (out += d)).on('end', () => resolve(out)).on('error', reject);
    });

  it('accepts a request target in absolute form (RFC 9112)', async () => {
    const raw = await rawExchange((host) => `GET http://${host}/files/abs/x?q=1 HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
    assert.match(raw, /^HTTP\/1\.1 200 /);
    assert.match(raw, /\{"dir":"abs","name":"x"\}$/);
    const root = await rawExchange((host) => `GET http://${host} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
    assert.match(root, /"detail":"no route for GET \/"/, 'no path after the authority is the root path');
  });

  it('answers HEAD like GET, with its Content-Length and no body', async () => {
    const get = await flow.fetch('/files/d/n');
    const body = await get.text();
    const head = await flow.fetch('/files/d/n', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), String(Buffer.byteLength(body)));
    assert.equal(await head.text(), '');
  });

  it('a body sent to an unknown path is refused at once, not read to its end', async () => {
    // The sender announces 1 GB and stops after the headers: the 404 comes anyway, and closes.
    const raw = await rawExchange((host) => `POST /elsewhere HTTP/1.1\r\nHost: ${host}\r\nContent-Type: text/plain\r\nContent-Length: 1000000000\r\n\r\n`, false);
    assert.match(raw, /^HTTP\/1\.1 404 /);
    assert.match(raw, /\r\nconnection: close\r\n/i);
    assert.match(raw, /"code":"NOT_FOUND"/);
    assert.equal((await flow.fetch('/files/d/n')).status, 200);
  });
});
