/** Every example flow users copy loads, and runs against real services on loopback. */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startFlow, type RunningFlow } from '../../runtime/engine/lifecycle.ts';
import { silentLogger } from '../../runtime/log.ts';
import { CLIENT, startAuthServer, startResourceServer, type AuthServer } from '../support/oauth-server.ts';
import { skipUnless } from '../support/services.ts';
import { spyneAvailable, startSpyne, type SpyneService } from '../support/soap/spyne.ts';
import { json, jsonOf, startUpstream, xml, type Upstream } from '../support/upstream.ts';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';

const FLOWS = join(import.meta.dirname, '../../flows');

function start(name: string, env: Record<string, string> = {}): Promise<RunningFlow> {
  return startFlow(join(FLOWS, name), { port: 0, adminPort: 0, host: '127.0.0.1', log: silentLogger(), env: { ...process.env, ...env } });
}

describe('example flows', () => {
  it('every flow in flows/ loads', async () => {
    const files = readdirSync(FLOWS).filter((f) => f.endsWith('.yaml'));
    assert.ok(files.length >= 3);
    for (const f of files) {
      const running = await start(f);
      // A timer listens nowhere; every other trigger has an address.
      assert.ok(running.url !== undefined || running.flow.trigger.describe.startsWith('timer '), f);
      await running.stop();
    }
  });

  describe('hello.yaml', () => {
    let flow: RunningFlow;
    before(async () => (flow = await start('hello.yaml')));
    after(() => flow.stop());

    it('greets in JSON by default, in XML when asked', async () => {
      assert.deepEqual(await jsonOf(await fetch(`${flow.url}/hello/ada`)), { greeting: 'Hello, ada!', flow: 'hello' });
      const res = await fetch(`${flow.url}/hello/ada?lang=fr`, { headers: { accept: 'application/xml' } });
      assert.equal(await res.text(), '<?xml version="1.0" encoding="UTF-8"?><root><greeting>Bonjour, ada!</greeting><flow>hello</flow></root>');
    });

    it('refuses a name that is too long with its own code', async () => {
      const res = await fetch(`${flow.url}/hello/${'x'.repeat(41)}`);
      assert.equal(res.status, 400);
      assert.equal((await jsonOf(res)).code, 'NAME_TOO_LONG');
    });
  });

  describe('json-to-xml-bridge.yaml', () => {
    let legacy: Upstream;
    let flow: RunningFlow;
    before(async () => {
      legacy = await startUpstream((req, res) => {
        if (req.body.includes('<customer>blocked</customer>')) {
          return json(res, 409, { error: { reason: 'customer is blocked' } });
        }
        const skus = [...req.body.matchAll(/<line sku="([^"]+)"><qty>(\d+)<\/qty><\/line>/g)];
        const lines = skus.map(([, sku, qty]) => `<line sku="${sku}"><price>${Number(qty) * 9.5}</price></line>`).join('');
        xml(res, 200, `<?xml version="1.0"?><orderResult><id>ORD-1</id><state>booked</state>${lines}</orderResult>`);
      });
      flow = await start('json-to-xml-bridge.yaml', { ORDERS_XML_URL: legacy.url });
    });
    after(async () => {
      await flow.stop();
      await legacy.close();
    });

    const order = (body: unknown) =>
      fetch(`${flow.url}/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

    it('turns a JSON order into XML for the backend and its XML answer into JSON', async () => {
      const res = await order({ customer: 'c-42', lines: [{ sku: 'A-1', qty: 2 }] });
      assert.equal(res.status, 201);
      assert.deepEqual(await jsonOf(res), { orderId: 'ORD-1', state: 'booked', lines: [{ sku: 'A-1', price: 19 }] });
      const sent = legacy.requests.at(-1)!;
      assert.equal(sent.headers['content-type'], 'application/xml');
      assert.equal(
        sent.body,
        '<?xml version="1.0" encoding="UTF-8"?><order source="weft"><customer>c-42</customer><line sku="A-1"><qty>2</qty></line></order>',
      );
    });

    it('maps the backend refusal to 409 with its reason', async () => {
      const res = await order({ customer: 'blocked', lines: [{ sku: 'A-1', qty: 1 }] });
      assert.equal(res.status, 409);
      assert.deepEqual(await jsonOf(res), { error: 'REJECTED', reason: 'customer is blocked' });
    });

    it('rejects an order that breaks the schema before calling anyone', async () => {
      const calls = legacy.requests.length;
      const res = await order({ customer: 'c-1', lines: [{ sku: 'bad sku', qty: 0 }] });
      assert.equal(res.status, 400);
      assert.equal((await jsonOf(res)).code, 'VALIDATION');
      assert.equal(legacy.requests.length, calls);
    });
  });

  describe('customer-360.yaml', () => {
    let customers: Upstream;
    let orders: Upstream;
    let flow: RunningFlow;
    before(async () => {
      customers = await startUpstream((req, res) => {
        if (req.url === '/customers/c-42') return json(res, 200, { id: 'c-42', name: 'Ada', tier: 'gold', accountNo: 'AC 7' });
        json(res, 404, { error: 'not found' });
      });
      orders = await startUpstream((req, res) =>
        json(res, 200, {
          items: [
            { id: 'o1', total: 10, status: 'open' },
            { id: 'o2', total: 5, status: 'paid' },
            { id: 'o3', total: 2.5, status: 'open' },
          ],
        }),
      );
      flow = await start('customer-360.yaml', { CUSTOMERS_URL: customers.url, ORDERS_URL: orders.url });
    });
    after(async () => {
      await flow.stop();
      await customers.close();
      await orders.close();
    });

    it('calls the two services in sequence and merges their answers', async () => {
      const res = await fetch(`${flow.url}/customers/c-42?limit=2`);
      assert.equal(res.status, 200);
      assert.deepEqual(await jsonOf(res), {
        id: 'c-42',
        name: 'Ada',
        tier: 'gold',
        orders: [
          { id: 'o1', total: 10 },
          { id: 'o2', total: 5 },
          { id: 'o3', total: 2.5 },
        ],
        openTotal: 12.5,
      });
      assert.equal(orders.requests.at(-1)!.url, '/orders?account=AC%207&limit=2');
    });

    it('answers 404 when the customer service does not know the id', async () => {
      const calls = orders.requests.length;
      const res = await fetch(`${flow.url}/customers/c-0`);
      assert.equal(res.status, 404);
      assert.deepEqual(await jsonOf(res), { error: 'NO_SUCH_CUSTOMER', id: 'c-0' });
      assert.equal(orders.requests.length, calls, 'the second service is not called');
    });
  });

  describe('soap-facade.yaml', { skip: skipUnless(spyneAvailable(), 'python3-spyne is not installed (apt-get install python3-spyne)') }, () => {
    let spyne: SpyneService;
    let flow: RunningFlow;
    before(async () => {
      spyne = await startSpyne();
      flow = await start('soap-facade.yaml', { ORDERS_SOAP_URL: spyne.soap11 });
    });
    after(async () => {
      await flow?.stop();
      await spyne?.close();
    });

    it('answers JSON from the SOAP service, and a SOAP fault as 404', async () => {
      assert.deepEqual(await jsonOf(await fetch(`${flow.url}/orders/42`)), {
        id: '42',
        customer: 'ACME',
        total: '12345678901234567.89',
        lines: [{ sku: 'A-1', qty: 2 }, { sku: 'B-2', qty: 1 }],
      });
      const missing = await fetch(`${flow.url}/orders/missing`);
      assert.equal(missing.status, 404);
      assert.deepEqual(await jsonOf(missing), { error: 'no such order', id: 'missing' });
      const failing = await fetch(`${flow.url}/orders/bare`);
      assert.equal(failing.status, 502);
      assert.deepEqual(await jsonOf(failing), { error: 'database unavailable', fault: 'Server' });
    });
  });

  describe('saas-client-credentials.yaml', () => {
    let auth: AuthServer;
    let api: Upstream;
    let flow: RunningFlow;
    before(async () => {
      auth = await startAuthServer({ scope: 'invoices:read' });
      api = await startResourceServer(auth, (path) => ({ path, items: [{ amount: 10 }, { amount: 32.5 }] }));
      flow = await start('saas-client-credentials.yaml', {
        SAAS_API_URL: api.url,
        SAAS_TOKEN_URL: auth.tokenUrl,
        SAAS_CLIENT_ID: CLIENT.id,
        SAAS_CLIENT_SECRET: CLIENT.secret,
      });
    });
    after(async () => {
      await flow.stop();
      await api.close();
      await auth.close();
    });

    it('calls the API with a token from the authorization server, fetched once', async () => {
      for (let i = 0; i < 3; i++) {
        assert.deepEqual(await jsonOf(await fetch(`${flow.url}/invoices/2026-01`)), { month: '2026-01', count: 2, total: 42.5 });
      }
      assert.equal(auth.tokenRequests, 1);
      assert.equal(api.requests[0].url, '/v1/invoices?month=2026-01');
    });
  });

  describe('secured-api.yaml', () => {
    let idp: Upstream;
    let orders: Upstream;
    let flow: RunningFlow;
    let sign: (sub: string, scope: string) => Promise<string>;
    before(async () => {
      const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
      const jwk = { ...(await exportJWK(publicKey)), kid: 'idp-1', alg: 'ES256' };
      idp = await startUpstream((_req, res) => json(res, 200, { keys: [jwk] }));
      orders = await startUpstream((req, res) => json(res, 200, { id: req.url.split('/').pop(), customer: 'ada', total: 42 }));
      sign = (sub, scope) =>
        new SignJWT({ sub, scope })
          .setProtectedHeader({ alg: 'ES256', kid: 'idp-1' })
          .setIssuer('https://idp.test/')
          .setAudience('orders-api')
          .setExpirationTime('5m')
          .sign(privateKey);
      flow = await start('secured-api.yaml', { IDP_JWKS_URL: `${idp.url}/jwks`, IDP_ISSUER: 'https://idp.test/', ORDERS_URL: orders.url });
    });
    after(async () => {
      await flow.stop();
      await orders.close();
      await idp.close();
    });

    it("shows the caller's own order, forwarding the token", async () => {
      const token = await sign('ada', 'orders:read');
      const res = await fetch(`${flow.url}/orders/42`, { headers: { authorization: `Bearer ${token}` } });
      assert.deepEqual(await jsonOf(res), { id: '42', total: 42, customer: 'ada' });
      assert.equal(orders.requests[0].headers.authorization, `Bearer ${token}`);
      assert.equal(orders.requests[0].headers['x-customer'], 'ada');
    });

    it("hides another customer's order, and refuses a missing token or scope before calling", async () => {
      const seen = orders.requests.length;
      const other = await fetch(`${flow.url}/orders/42`, { headers: { authorization: `Bearer ${await sign('grace', 'orders:read')}` } });
      assert.equal(other.status, 404);
      assert.equal((await fetch(`${flow.url}/orders/42`)).status, 401);
      const noScope = await fetch(`${flow.url}/orders/42`, { headers: { authorization: `Bearer ${await sign('ada', 'profile')}` } });
      assert.equal(noScope.status, 403);
      assert.match(noScope.headers.get('www-authenticate') ?? '', /insufficient_scope/);
      assert.equal(orders.requests.length, seen + 1, 'only the first request reached the backend');
    });
  });
});
