/** The retail example (flows/retail): the store flow against the three real services on loopback. */
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startFlow, type RunningFlow } from '../../runtime/engine/lifecycle.ts';
import { silentLogger } from '../../runtime/log.ts';
import { SERVICE_NAMES, startService } from '../../flows/retail/services.ts';
import { jsonOf } from '../support/upstream.ts';

describe('retail example: store.yaml', () => {
  const servers: Server[] = [];
  const urls: Record<string, string> = {};
  let store: RunningFlow;

  before(async () => {
    for (const name of SERVICE_NAMES) {
      const s = await startService(name, 0);
      servers.push(s.server);
      urls[name] = s.url;
    }
    store = await startFlow(join(import.meta.dirname, '../../flows/retail/store.yaml'), {
      port: 0,
      adminPort: 0,
      host: '127.0.0.1',
      log: silentLogger(),
      env: { ...process.env, INVENTORY_URL: urls.inventory, ACCOUNTING_URL: urls.accounting, SHIPPING_URL: urls.shipping },
    });
  });
  after(async () => {
    await store.stop();
    for (const s of servers) {
      s.closeAllConnections();
      await new Promise<void>((r) => s.close(() => r()));
    }
  });

  const order = (body: unknown) =>
    fetch(`${store.url}/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const stock = async () => (await jsonOf(await fetch(`${urls.inventory}/items/KB-1`))).available;
  const balance = async () => (await jsonOf(await fetch(`${urls.accounting}/accounts/ada`))).balance;

  it('confirms an order it can ship: stock reserved, customer charged, shipment booked', async () => {
    const [stockBefore, balanceBefore] = [await stock(), await balance()];
    const res = await order({ customer: 'ada', sku: 'KB-1', qty: 2, address: { country: 'DE' } });
    assert.equal(res.status, 201);
    const answer = await jsonOf(res);
    assert.equal(answer.status, 'CONFIRMED');
    assert.equal(answer.amount, 99);
    assert.match(answer.shipment, /^SHP-/);
    assert.equal(await stock(), stockBefore - 2);
    assert.equal(await balance(), balanceBefore - 99);
  });

  it('when shipping fails, refunds the charge and releases the stock, and says so', async () => {
    const [stockBefore, balanceBefore] = [await stock(), await balance()];
    const res = await order({ customer: 'ada', sku: 'KB-1', qty: 1, address: { country: 'AQ' } });
    assert.equal(res.status, 502);
    const answer = await jsonOf(res);
    // Reserve and charge ran in parallel: they are undone in reverse order of completion.
    answer.undone.sort((a: { endpoint: string }, b: { endpoint: string }) => a.endpoint.localeCompare(b.endpoint));
    assert.deepEqual(answer, {
      status: 'CANCELLED',
      error: 'UPSTREAM_STATUS',
      failedAt: 'shipping',
      reason: "no carrier delivers to 'AQ'",
      undone: [
        { endpoint: 'accounting', ok: true },
        { endpoint: 'inventory', ok: true },
      ],
    });
    assert.equal(await stock(), stockBefore);
    assert.equal(await balance(), balanceBefore);
  });

  it('answers 409 without reserving or charging when stock is short', async () => {
    const balanceBefore = await balance();
    const res = await order({ customer: 'ada', sku: 'MS-2', qty: 50, address: { country: 'DE' } });
    assert.equal(res.status, 409);
    assert.deepEqual(await jsonOf(res), { error: 'OUT_OF_STOCK', available: 3 });
    assert.equal(await balance(), balanceBefore);
  });

  it('answers 404 for an unknown item, 400 for an order that breaks the schema', async () => {
    const missing = await order({ customer: 'ada', sku: 'NO-1', qty: 1, address: { country: 'DE' } });
    assert.equal(missing.status, 404);
    assert.deepEqual(await jsonOf(missing), { error: 'NOT_FOUND', reason: 'no item NO-1' });
    const bad = await order({ customer: 'ada', sku: 'KB-1', qty: 0 });
    assert.equal(bad.status, 400);
    assert.equal((await jsonOf(bad)).code, 'VALIDATION');
  });
});
