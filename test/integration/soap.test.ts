/**
 * The soap endpoint against a real SOAP stack (spyne, Debian python3-spyne) serving its WSDL,
 * SOAP 1.1 and 1.2, faults included; and against a recording server for what goes on the
 * wire (SOAPAction, WS-Security) and for the broken answers legacy ESBs give.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startTestFlow, type TestFlow } from '../support/flow.ts';
import { skipUnless } from '../support/services.ts';
import { spyneAvailable, startSpyne, type SpyneService } from '../support/soap/spyne.ts';
import { jsonOf, startUpstream, xml, type Upstream } from '../support/upstream.ts';

const CASES = `
on_error:
  - respond:
      status: 200
      body: '{ "code": error.code, "message": error.message, "fault": error.fault, "upstream": error.upstream.status }'
`;

const spyneFlow = `weft: 1
name: soap-interop
trigger:
  http: { method: POST, path: /t/:case }
endpoints:
  orders11:
    soap: { wsdl: "\${env.SPYNE11}?wsdl", arrays: [getOrderResponse.getOrderResult.lines] }
  orders12:
    soap: { wsdl: "\${env.SPYNE12}?wsdl", version: "1.2" }
  ordersFile:
    soap: { wsdl: orders.wsdl, url: "\${env.SPYNE11}" }
  ordersNoWsdl:
    soap: { url: "\${env.SPYNE11}", namespace: "urn:weft:test:orders" }
steps:
  - choice:
      - when: params.case = "get11"
        steps: [ { call: orders11, operation: getOrder, body: '{ "orderId": body.id }' } ]
      - when: params.case = "get12"
        steps: [ { call: orders12, operation: getOrder, body: '{ "orderId": body.id }' } ]
      - when: params.case = "hello12"
        steps: [ { call: orders12, operation: sayHello, body: '{ "name": body.name, "times": 2 }' } ]
      - when: params.case = "file"
        steps: [ { call: ordersFile, operation: createOrder, body: '{ "customer": body.customer, "total": body.total }' } ]
      - when: params.case = "nowsdl"
        steps: [ { call: ordersNoWsdl, operation: getOrder } ]
${CASES}`;

describe('soap endpoint against spyne', { skip: skipUnless(spyneAvailable(), 'python3-spyne is not installed (apt-get install python3-spyne)') }, () => {
  let spyne: SpyneService;
  let flow: TestFlow;
  let wsdlText: string;

  before(async () => {
    spyne = await startSpyne();
    wsdlText = await (await fetch(`${spyne.soap11}?wsdl`)).text();
    flow = await startTestFlow(spyneFlow, { env: { SPYNE11: spyne.soap11, SPYNE12: spyne.soap12 }, files: { 'orders.wsdl': wsdlText } });
  });
  after(async () => {
    await flow?.stop();
    await spyne?.close();
  });

  const call = async (c: string, body: unknown) =>
    jsonOf(await flow.fetch(`/t/${c}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }));

  it('SOAP 1.1 through the WSDL read at start: the response element as a value, decimals exact', async () => {
    assert.deepEqual(await call('get11', { id: '42' }), {
      getOrderResult: {
        id: '42',
        customer: 'ACME',
        total: '12345678901234567.89',
        lines: [{ sku: 'A-1', qty: '2' }, { sku: 'B-2', qty: '1' }],
      },
    });
  });

  it('SOAP 1.2 with the action parameter', async () => {
    assert.deepEqual(await call('hello12', { name: 'Ada' }), { sayHelloResult: { string: ['Hello, Ada', 'Hello, Ada'] } });
    assert.equal((await call('get12', { id: '7' })).getOrderResult.id, '7');
  });

  it('a WSDL file read at load; the current body as the parts when no body is given', async () => {
    assert.deepEqual(await call('file', { customer: 'ACME', total: '10.50' }), { createOrderResult: 'ORD-ACME-10.50' });
    assert.equal((await call('nowsdl', { orderId: '9' })).getOrderResult.id, '9');
  });

  it('a SOAP 1.1 fault (HTTP 500) -> SOAP_FAULT with code, reason and detail for the flow', async () => {
    const e = await call('get11', { id: 'missing' });
    assert.equal(e.code, 'SOAP_FAULT');
    assert.equal(e.upstream, 500);
    assert.deepEqual(e.fault, { code: 'Client.NotFound', reason: 'no order missing', detail: { orderId: 'missing' } });
  });

  it('a SOAP 1.2 fault: Code/Value, Subcode and Reason/Text', async () => {
    const e = await call('get12', { id: 'missing' });
    assert.equal(e.code, 'SOAP_FAULT');
    assert.deepEqual(e.fault, { code: 'Sender', subcode: 'NotFound', reason: 'no order missing', detail: { orderId: 'missing' } });
  });

  it('a fault without detail', async () => {
    const e = await call('get11', { id: 'bare' });
    assert.equal(e.code, 'SOAP_FAULT');
    assert.equal(e.fault.code, 'Server');
    assert.equal(e.fault.reason, 'database unavailable');
    assert.equal(e.fault.detail, null);
  });

  it('an operation the WSDL file lacks is a load error at the call step', async () => {
    await assert.rejects(
      startTestFlow(spyneFlow.replace('operation: createOrder', 'operation: createOrdr'), {
        env: { SPYNE11: spyne.soap11, SPYNE12: spyne.soap12 },
        files: { 'orders.wsdl': wsdlText },
      }),
      /flow\.yaml:\d+:\d+ FLOW_REFERENCE operation 'createOrdr' is not in the WSDL; did you mean 'createOrder'\?/,
    );
  });

  it('an operation a WSDL URL lacks stops the start with FLOW_WSDL', async () => {
    await assert.rejects(
      startTestFlow(spyneFlow.replace('operation: sayHello', 'operation: sayGoodbye'), {
        env: { SPYNE11: spyne.soap11, SPYNE12: spyne.soap12 },
        files: { 'orders.wsdl': wsdlText },
      }),
      (err: Error & { code?: string }) => err.code === 'FLOW_WSDL' && /sayGoodbye' is not in the WSDL/.test(err.message),
    );
  });
});

describe('soap endpoint: the wire and broken answers', () => {
  let upstream: Upstream;
  let flow: TestFlow;
  const answers: Record<string, [number, string, string]> = {
    html: [500, 'text/html', '<html><head><title>502 Proxy Error</title></head><body>The ESB is down</body></html>'],
    text: [200, 'text/plain', 'OK'],
    empty: [200, 'text/xml', ''],
    oneway: [202, 'text/xml', ''],
    fault200: [200, 'text/xml', '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault><faultcode>s:Server</faultcode><faultstring>busy</faultstring></s:Fault></s:Body></s:Envelope>'],
    notEnvelope: [200, 'text/xml', '<order><id>1</id></order>'],
    broken: [200, 'text/xml; charset=utf-8', '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/">\n<s:Body><r:okResponse xmlns:r="urn:t"><r:v>1</r:v></s:Body></s:Envelope>'],
    hostile: [200, 'text/xml', '<!DOCTYPE e [<!ENTITY x "y">]><e>&x;</e>'],
  };

  before(async () => {
    upstream = await startUpstream((req, res) => {
      const which = /<m?:?(\w+) xmlns="urn:t"/.exec(req.body)?.[1] ?? '';
      const a = answers[which];
      if (a) {
        res.writeHead(a[0], { 'content-type': a[1] });
        return void res.end(a[2]);
      }
      xml(res, 200, `<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body><r:okResponse xmlns:r="urn:t"><r:v>1</r:v></r:okResponse></e:Body></e:Envelope>`);
    });
    flow = await startTestFlow(
      `weft: 1
name: soap-wire
trigger:
  http: { method: POST, path: /t/:op }
endpoints:
  legacy:
    soap:
      url: "\${env.UP}/svc"
      namespace: "urn:t"
      action: "urn:t#{operation}"
      headers: { x-tenant: "t-\${body.tenant}" }
      soapHeaders: '{ "h:Tenant": { "@xmlns:h": "urn:h", "#text": body.tenant } }'
      security: { username: svc, password: "\${env.WS_PASS}", passwordType: digest }
  legacy12:
    soap: { url: "\${env.UP}/svc12", namespace: "urn:t/", version: "1.2" }
steps:
  - choice:
      - when: params.op = "v12"
        steps: [ { call: legacy12, operation: ok, body: '{ "a": "1" }' } ]
      - when: params.op = "html"
        steps: [ { call: legacy, operation: html } ]
      - when: params.op = "text"
        steps: [ { call: legacy, operation: text } ]
      - when: params.op = "empty"
        steps: [ { call: legacy, operation: empty } ]
      - when: params.op = "oneway"
        steps: [ { call: legacy, operation: oneway }, { transform: '{ "answer": body }' } ]
      - when: params.op = "fault200"
        steps: [ { call: legacy, operation: fault200 } ]
      - when: params.op = "notEnvelope"
        steps: [ { call: legacy, operation: notEnvelope } ]
      - when: params.op = "broken"
        steps: [ { call: legacy, operation: broken } ]
      - when: params.op = "hostile"
        steps: [ { call: legacy, operation: hostile } ]
      - otherwise:
          - call: legacy
            operation: ok
            body: '{ "q": { "@id": "1", "#text": "a<b" } }'
${CASES}`,
      { env: { UP: upstream.url, WS_PASS: 'ws-secret' } },
    );
  });
  after(async () => {
    await flow.stop();
    await upstream.close();
  });

  const call = async (op: string) =>
    jsonOf(await flow.fetch(`/t/${op}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"tenant":"acme"}' }));

  it('SOAP 1.1 on the wire: envelope, SOAPAction, SOAP headers, WS-Security digest, HTTP headers', async () => {
    assert.deepEqual(await call('ok'), { v: '1' });
    const req = upstream.requests.at(-1)!;
    assert.equal(req.url, '/svc');
    assert.equal(req.headers['content-type'], 'text/xml; charset=utf-8');
    assert.equal(req.headers.soapaction, '"urn:t#ok"');
    assert.equal(req.headers['x-tenant'], 't-acme');
    assert.match(req.body, /<soap:Envelope xmlns:soap="http:\/\/schemas.xmlsoap.org\/soap\/envelope\/"><soap:Header>/);
    assert.match(req.body, /<h:Tenant xmlns:h="urn:h">acme<\/h:Tenant>/);
    assert.match(req.body, /<soap:Body><ok xmlns="urn:t"><q id="1">a&lt;b<\/q><\/ok><\/soap:Body>/);
    assert.ok(!req.body.includes('ws-secret'), 'a digest password never travels in clear');
    const nonce = /<wsse:Nonce[^>]*>([^<]+)</.exec(req.body)![1];
    const created = /<wsu:Created>([^<]+)</.exec(req.body)![1];
    const digest = /#PasswordDigest">([^<]+)</.exec(req.body)![1];
    const expected = createHash('sha1').update(Buffer.concat([Buffer.from(nonce, 'base64'), Buffer.from(created), Buffer.from('ws-secret')])).digest('base64');
    assert.equal(digest, expected);
    assert.match(req.body, /<wsse:Security [^>]*soap:mustUnderstand="1"/);
  });

  it('SOAP 1.2 on the wire: the action parameter of the media type', async () => {
    assert.deepEqual(await call('v12'), { v: '1' });
    const req = upstream.requests.at(-1)!;
    assert.equal(req.headers['content-type'], 'application/soap+xml; charset=utf-8; action="urn:t/ok"');
    assert.equal(req.headers.soapaction, undefined);
    assert.match(req.body, /xmlns:soap="http:\/\/www.w3.org\/2003\/05\/soap-envelope"/);
  });

  it('an HTML error page -> UPSTREAM_STATUS naming what came instead of SOAP', async () => {
    const e = await call('html');
    assert.equal(e.code, 'UPSTREAM_STATUS');
    assert.equal(e.upstream, 500);
    assert.match(e.message, /with text\/html instead of a SOAP envelope: "502 Proxy Error"/);
  });

  it('text, an empty 200 and XML that is no envelope -> UPSTREAM_MALFORMED; 202 empty is a one-way ack', async () => {
    const text = await call('text');
    assert.equal(text.code, 'UPSTREAM_MALFORMED');
    assert.match(text.message, /text\/plain instead of a SOAP envelope: "OK"/);
    const empty = await call('empty');
    assert.equal(empty.code, 'UPSTREAM_MALFORMED');
    assert.match(empty.message, /empty body instead of a SOAP envelope/);
    assert.equal((await call('notEnvelope')).code, 'UPSTREAM_MALFORMED');
    assert.deepEqual(await call('oneway'), { answer: null });
  });

  it('XML that is not well-formed -> UPSTREAM_MALFORMED saying what is wrong and where', async () => {
    const broken = await call('broken');
    assert.equal(broken.code, 'UPSTREAM_MALFORMED');
    assert.match(broken.message, /text\/xml; charset=utf-8 that is not a SOAP envelope: malformed XML: Expected closing tag 'r:okResponse'.*\(line 2, column \d+\)/);
    const hostile = await call('hostile');
    assert.equal(hostile.code, 'UPSTREAM_MALFORMED');
    assert.match(hostile.message, /DOCTYPE or entity declaration is not accepted \(line 1, column 1\)/);
  });

  it('a fault answered with HTTP 200 is still a SOAP_FAULT', async () => {
    const e = await call('fault200');
    assert.equal(e.code, 'SOAP_FAULT');
    assert.equal(e.upstream, 200);
    assert.deepEqual(e.fault, { code: 'Server', reason: 'busy', detail: null });
  });
});

describe('soap endpoint: WSDLs that cannot be used are load errors', () => {
  const flowWith = (wsdl: string) => `weft: 1
name: soap-wsdl
trigger:
  http: { method: POST, path: /x }
endpoints:
  svc:
    soap: { wsdl: svc.wsdl, url: "http://127.0.0.1:9/" }
steps:
  - call: svc
    operation: anything
`;
  for (const [what, text, message] of [
    ['not XML', '<definitions><oops></definitions>', /FLOW_WSDL svc\.wsdl is not XML/],
    ['not a WSDL', '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"/>', /FLOW_WSDL svc\.wsdl is not a WSDL 1\.1 document/],
    ['hostile', '<!DOCTYPE x [<!ENTITY a "b">]><x/>', /FLOW_WSDL svc\.wsdl is not XML: XML with a DOCTYPE/],
  ] as const) {
    it(`a WSDL that is ${what}`, async () => {
      await assert.rejects(startTestFlow(flowWith(text), { files: { 'svc.wsdl': text } }), message);
    });
  }
});
