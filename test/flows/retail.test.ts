/**
 * The retail example (flows/retail): the store flow against the three real services on loopback;
 * a confirmed order is announced on the real RabbitMQ. The consumers: retail-choreography.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AMQP_PORT, jsonBody } from '../support/amqp.ts';
import { startRetail, type Retail } from '../support/retail.ts';
import { eventually, serviceSkip } from '../support/services.ts';
import { jsonOf } from '../support/upstream.ts';

const skip = await serviceSkip('RabbitMQ (the store publishes OrderPlaced there)', AMQP_PORT);

describe('retail example: store.yaml', { skip }, () => {
  let retail: Retail;
  before(async () => (retail = await startRetail({ consumers: false })));
  after(() => retail.close());

  const order = (body: unknown) => retail.order(body);
  const stock = async () => (await retail.get('inventory', '/items/KB-1')).available;
  const balance = async () => (await retail.get('accounting', '/accounts/ada')).balance;

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
    // Confirmed means announced: the OrderPlaced event was confirmed by RabbitMQ before the answer.
    await eventually(() => retail.events.length === 1, 'one OrderPlaced event');
    const event = retail.events[0];
    assert.deepEqual(jsonBody(event), {
      type: 'OrderPlaced',
      customer: 'ada',
      sku: 'KB-1',
      qty: 2,
      amount: 99,
      reservation: answer.reservation,
      charge: answer.charge,
      shipment: answer.shipment,
      address: { country: 'DE' },
    });
    assert.equal(event.fields.routingKey, 'order.placed');
    assert.equal(event.properties.headers?.['x-order'], answer.reservation);
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
    assert.equal(retail.events.length, 1, 'a cancelled order is not announced');
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
