/** The http endpoint against real backends on 127.0.0.1, including ones that misbehave. */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startTestFlow, type TestFlow } from '../support/flow.ts';
import { json, jsonOf, startUpstream, xml, type Upstream } from '../support/upstream.ts';

describe('http endpoint', () => {
  let backend: Upstream;
  let flow: TestFlow;
  let connections = 0;

  before(async () => {
    backend = await startUpstream(async (req, res) => {
      const path = req.url.split('?')[0];
      if (path.startsWith('/echo')) return json(res, 200, { method: req.method, url: req.url, body: req.body, ct: req.headers['content-type'] });
      if (path === '/xml') return xml(res, 200, '<answer code="A"><item>1</item><item>2</item></answer>');
      if (path === '/missing') return json(res, 404, { error: 'no such thing' });
      if (path === '/broken') {
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.end('{"half":');
      }
      if (path === '/html-error') {
        res.writeHead(500, { 'content-type': 'text/html' });
        return void res.end('<html><body>Internal Server Error</body></html>');
      }
      if (path === '/slow') return void setTimeout(() => json(res, 200, { late: true }), 2000);
      if (path === '/reset') return void res.socket?.destroy();
      if (path === '/chunked') {
        // Two writes apart in time: the answer arrives in more than one chunk.
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"parts":');
        return void setTimeout(() => res.end('[1,2]}'), 20);
      }
      if (path === '/early') {
        res.writeEarlyHints({ link: '</style.css>; rel=preload' });
        return json(res, 200, { after: 'hints' });
      }
      if (path === '/big') return json(res, 200, { pad: 'x'.repeat(4096) });
      if (path === '/raw') {
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.end('{ "kept" :  "as is" }');
      }
      json(res, 500, { unexpected: path });
    });
    const refused = createServer();
    await new Promise<void>((r) => refused.listen(0, '127.0.0.1', r));
    const closedPort = (refused.address() as AddressInfo).port;
    await new Promise<void>((r) => refused.close(() => r()));

    flow = await startTestFlow(
      `weft: 1
name: endpoint-test
trigger:
  http: { method: POST, path: /t/:case }
endpoints:
  api:
    http: { url: "\${env.BACKEND}/", headers: { x-api-key: "k-\${env.KEY_SUFFIX}" } }
    timeout: 300ms
  legacy:
    http: { url: "\${env.BACKEND}", format: xml, xml: { arrays: [answer.item] } }
  nowhere:
    http: { url: "http://127.0.0.1:\${env.CLOSED_PORT}" }
  small:
    http: { url: "\${env.BACKEND}", maxBody: 1kb }
steps:
  - choice:
      - when: params.case = "get"
        steps:
          - call: api
            path: /echo/\${body.name}
            query: { q: "\${body.q}", n: "2" }
            headers: { x-trace: "t-\${body.name}" }
      - when: params.case = "post"
        steps:
          - call: api
            path: /echo
            body: '{ "wrapped": body }'
      - when: params.case = "put-current"
        steps:
          - call: api
            method: PUT
            path: /echo
      - when: params.case = "xml"
        steps:
          - call: legacy
            path: /xml
            as: answer
          - transform: '{ "code": vars.answer.answer.\`@code\`, "items": vars.answer.answer.item }'
      - when: params.case = "xml-out"
        steps:
          - call: legacy
            path: /echo
            body: '{ "order": { "@id": "1", "sku": "A" } }'
      - when: params.case = "missing"
        steps: [ { call: api, path: /missing } ]
      - when: params.case = "broken"
        steps: [ { call: api, path: /broken }, { transform: 'body.half' } ]
      - when: params.case = "html"
        steps: [ { call: api, path: /html-error } ]
      - when: params.case = "slow"
        steps: [ { call: api, path: /slow } ]
      - when: params.case = "reset"
        steps: [ { call: api, path: /reset } ]
      - when: params.case = "refused"
        steps: [ { call: nowhere, path: /x } ]
      - when: params.case = "raw"
        steps: [ { call: api, path: /raw } ]
      - when: params.case = "chunked"
        steps: [ { call: api, path: /chunked } ]
      - when: params.case = "early"
        steps: [ { call: api, path: /early } ]
      - when: params.case = "big"
        steps: [ { call: small, path: /big } ]
on_error:
  - choice:
      - when: error.code = "UPSTREAM_STATUS"
        steps:
          - respond:
              status: 424
              body: '{ "code": error.code, "endpoint": error.endpoint, "upstream": error.upstream, "step": error.step }'
`,
      { env: { BACKEND: backend.url, KEY_SUFFIX: 'secret', CLOSED_PORT: String(closedPort) } },
    );
  });
  after(async () => {
    await flow.stop();
    await backend.close();
  });

  const call = (c: string, body: unknown = {}) =>
    flow.fetch(`/t/${c}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': `req-${c}` }, body: JSON.stringify(body) });

  it('GET with an encoded path, query, headers and the request id', async () => {
    const res = await call('get', { name: 'a b/c', q: 'x&y' });
    assert.equal(res.status, 200);
    const answer = await jsonOf(res);
    assert.equal(answer.method, 'GET');
    assert.equal(answer.url, '/echo/a%20b%2Fc?q=x%26y&n=2');
    const seen = backend.requests.at(-1)!;
    assert.equal(seen.headers['x-api-key'], 'k-secret');
    assert.equal(seen.headers['x-trace'], 't-a b/c');
    assert.equal(seen.headers['x-request-id'], 'req-get');
    assert.equal(seen.headers.accept, 'application/json');
  });

  it('POST with a body expression', async () => {
    const answer = await jsonOf(await call('post', { n: 1 }));
    assert.equal(answer.method, 'POST');
    assert.equal(answer.ct, 'application/json');
    assert.deepEqual(JSON.parse(answer.body), { wrapped: { n: 1 } });
  });

  it('PUT sends the current body, unchanged bytes as they came', async () => {
    const raw = '{"keep" :  "spacing"}';
    const res = await flow.fetch('/t/put-current', { method: 'POST', headers: { 'content-type': 'application/json' }, body: raw });
    const answer = await jsonOf(res);
    assert.equal(answer.method, 'PUT');
    assert.equal(answer.body, raw);
  });

  it('decodes an XML answer with forced arrays', async () => {
    assert.deepEqual(await jsonOf(await call('xml')), { code: 'A', items: ['1', '2'] });
  });

  it('encodes an XML request body', async () => {
    const answer = await jsonOf(await call('xml-out'));
    assert.equal(answer.ct, 'application/xml');
    assert.match(answer.body, /<order id="1"><sku>A<\/sku><\/order>/);
  });

  it('passes an upstream answer through byte for byte', async () => {
    assert.equal(await (await call('raw')).text(), '{ "kept" :  "as is" }');
  });

  it('upstream 4xx -> UPSTREAM_STATUS with status and body visible to on_error', async () => {
    const res = await call('missing');
    assert.equal(res.status, 424);
    const answer = await jsonOf(res);
    assert.equal(answer.upstream.headers['content-type'], 'application/json');
    assert.equal(answer.upstream.headers.connection, undefined, 'hop-by-hop headers are not upstream facts');
    delete answer.upstream.headers;
    assert.deepEqual(answer, {
      code: 'UPSTREAM_STATUS',
      endpoint: 'api',
      upstream: { status: 404, body: { error: 'no such thing' } },
      step: 'steps[0].choice[5].steps[0].call',
    });
  });

  it('an HTML error page is an UPSTREAM_STATUS with its text, not a crash', async () => {
    const res = await call('html');
    const answer = await jsonOf(res);
    assert.equal(answer.upstream.status, 500);
    assert.match(answer.upstream.body, /Internal Server Error/);
  });

  it('malformed upstream JSON -> 502 UPSTREAM_MALFORMED', async () => {
    const res = await call('broken');
    assert.equal(res.status, 502);
    const p = await jsonOf(res);
    assert.equal(p.code, 'UPSTREAM_MALFORMED');
    assert.equal(p.endpoint, 'api');
  });

  it('slow upstream -> 504 TIMEOUT after the endpoint timeout', async () => {
    const began = performance.now();
    const res = await call('slow');
    assert.equal(res.status, 504);
    const p = await jsonOf(res);
    assert.equal(p.code, 'TIMEOUT');
    assert.equal(p.endpoint, 'api');
    assert.ok(performance.now() - began < 1500, 'answered at the timeout, not when the upstream did');
    assert.ok(!JSON.stringify(p).includes('127.0.0.1'), 'no internal addresses in the problem body');
  });

  it('an answer in several chunks arrives whole', async () => {
    const res = await call('chunked');
    assert.equal(res.status, 200);
    assert.deepEqual(await jsonOf(res), { parts: [1, 2] });
  });

  it('informational answers (103 Early Hints) before the real one are skipped', async () => {
    const res = await call('early');
    assert.equal(res.status, 200);
    assert.deepEqual(await jsonOf(res), { after: 'hints' });
  });

  it('an answer beyond the endpoint maxBody -> UPSTREAM_TOO_LARGE', async () => {
    const res = await call('big');
    const p = await jsonOf(res);
    assert.equal(p.code, 'UPSTREAM_TOO_LARGE');
    assert.equal(p.endpoint, 'small');
  });

  it('connection reset -> 502 CONNECTION_RESET', async () => {
    const res = await call('reset');
    assert.equal(res.status, 502);
    assert.equal((await jsonOf(res)).code, 'CONNECTION_RESET');
  });

  it('connection refused -> 502 CONNECTION_REFUSED', async () => {
    const res = await call('refused');
    assert.equal(res.status, 502);
    const p = await jsonOf(res);
    assert.equal(p.code, 'CONNECTION_REFUSED');
    assert.equal(p.endpoint, 'nowhere');
  });

  it('reuses keep-alive connections across messages', async () => {
    const before = backend.connections;
    for (let i = 0; i < 20; i++) {
      const answer = await jsonOf(await call('get', { name: `n${i}`, q: '1' }));
      assert.equal(answer.method, 'GET');
    }
    assert.ok(backend.connections - before <= 1, `20 sequential calls opened ${backend.connections - before} new connections`);
  });
});
