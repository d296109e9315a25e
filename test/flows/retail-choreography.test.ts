/**
 * The retail example's choreography half, end to end on the real RabbitMQ: store.yaml publishes
 * OrderPlaced; inventory-, accounting- and shipping-events.yaml consume it from queues of their
 * own and call their services (commit the stock, invoice the charge, dispatch the shipment).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { AMQP_PORT } from '../support/amqp.ts';
import { CONSUMERS, startRetail, type Retail } from '../support/retail.ts';
import { eventually, serviceSkip } from '../support/services.ts';
import { jsonOf } from '../support/upstream.ts';

const skip = await serviceSkip('RabbitMQ', AMQP_PORT);
const ORDER = { customer: 'ada', sku: 'KB-1', qty: 1, address: { country: 'GB' } };

describe('retail example: choreography over RabbitMQ', { skip }, () => {
  let retail: Retail;
  before(async () => (retail = await startRetail({ consumers: true })));
  after(() => retail.close());

  /** Resolves once all three services did their part for the confirmed order `o`. */
  type State = Record<'res' | 'inv' | 'shp', Record<string, any>>;
  const followedUp = (o: Record<string, any>): Promise<State> =>
    eventually<State | undefined>(async () => {
      const [res, inv, shp] = await Promise.all([
        retail.get('inventory', `/reservations/${o.reservation}`),
        retail.get('accounting', `/invoices/${o.charge}`),
        retail.get('shipping', `/shipments/${o.shipment}`),
      ]);
      return res.committed === true && inv.id && shp.status === 'DISPATCHED' ? { res, inv, shp } : undefined;
    }, `order ${o.reservation} committed, invoiced and dispatched`) as Promise<State>;

  it('a confirmed order is committed, invoiced and dispatched by the three consumer flows', async () => {
    const res = await retail.order(ORDER);
    assert.equal(res.status, 201);
    const o = await jsonOf(res);
    const { res: reservation, inv } = await followedUp(o);
    assert.deepEqual(reservation, { id: o.reservation, sku: 'KB-1', qty: 1, committed: true });
    assert.deepEqual({ ...inv, id: undefined }, { id: undefined, charge: o.charge, customer: 'ada', amount: 49.5, requests: 1 });
    assert.deepEqual(retail.events.length, 1);
  });

  it('the same event delivered twice changes nothing (the follow-ups are idempotent)', async () => {
    const o = await jsonOf(await retail.order(ORDER));
    const first = await followedUp(o);
    // What a redelivery after a crash looks like to the consumers: the identical event again.
    await eventually(() => retail.events.length === 2, 'the second event');
    const again = retail.events[1];
    retail.broker.ch.publish(retail.exchange, 'order.placed', again.content, { ...again.properties, persistent: true });
    await retail.broker.ch.waitForConfirms();
    const balance = (await retail.get('accounting', '/accounts/ada')).balance;
    await eventually(async () => (await retail.get('accounting', `/invoices/${o.charge}`)).requests === 2, 'accounting handled the copy');
    const second = await followedUp(o);
    assert.equal(second.inv.id, first.inv.id, 'one invoice, not two');
    assert.equal((await retail.get('accounting', '/accounts/ada')).balance, balance, 'nobody charged twice');
    for (const c of CONSUMERS) assert.equal((await retail.broker.ch.checkQueue(`${retail.prefix}.${c}.dead`)).messageCount, 0);
  });

  it('events published while a consumer is down wait in its queue and are handled when it is back', async () => {
    await retail.consumers.shipping!.stop();
    const o = await jsonOf(await retail.order(ORDER));
    await eventually(async () => (await retail.get('accounting', `/invoices/${o.charge}`)).id, 'the others carry on');
    assert.equal((await retail.get('shipping', `/shipments/${o.shipment}`)).status, 'BOOKED');
    assert.equal((await retail.broker.ch.checkQueue(`${retail.prefix}.shipping`)).messageCount, 1, 'kept by the broker');
    await retail.startConsumer('shipping');
    await followedUp(o);
  });

  it('an event a service refuses is retried, then dead-lettered with its error; a foreign one at once', async () => {
    const dead = await retail.broker.collect(`${retail.prefix}.accounting.dead`);
    const ghost = { type: 'OrderPlaced', customer: 'ada', sku: 'KB-1', qty: 1, amount: 1, reservation: 'RES-0', charge: 'CHG-0', shipment: 'SHP-0' };
    const send = (body: unknown) =>
      retail.broker.ch.publish(retail.exchange, 'order.placed', Buffer.from(JSON.stringify(body)), {
        contentType: 'application/json',
        messageId: randomUUID(),
        persistent: true,
      });
    send(ghost);
    send({ type: 'OrderShipped' });
    await retail.broker.ch.waitForConfirms();
    await eventually(() => dead.length === 2, 'two dead letters in accounting');
    const byCode = Object.fromEntries(dead.map((m) => [m.properties.headers?.['x-weft-error-code'], m.properties.headers]));
    assert.equal(byCode.UPSTREAM_STATUS?.['x-weft-attempts'], '5', 'retried up to maxDeliveries');
    assert.equal(byCode.UPSTREAM_STATUS?.['x-weft-error-endpoint'], 'accounting');
    assert.equal(byCode.VALIDATION?.['x-weft-attempts'], '1', 'not an OrderPlaced: dead at once');
    assert.deepEqual(JSON.parse(dead.find((m) => m.properties.headers?.['x-weft-error-code'] === 'UPSTREAM_STATUS')!.content.toString()), ghost);
  });
});

describe('retail example: an order nobody would hear of is not confirmed', { skip }, () => {
  let retail: Retail;
  // An exchange with no queue bound: RabbitMQ cannot route OrderPlaced, so the publish fails.
  before(async () => (retail = await startRetail({ consumers: false, exchange: `weft-test.retail-nobody.${randomUUID().slice(0, 8)}` })));
  after(() => retail.close());

  it('undoes the shipment, the charge and the reservation when the event is not confirmed', async () => {
    const balance = (await retail.get('accounting', '/accounts/ada')).balance;
    const stock = (await retail.get('inventory', '/items/KB-1')).available;
    const res = await retail.order(ORDER);
    assert.equal(res.status, 502);
    const answer = await jsonOf(res);
    assert.equal(answer.status, 'CANCELLED');
    assert.equal(answer.error, 'UNROUTABLE');
    assert.equal(answer.failedAt, 'events');
    assert.deepEqual(answer.undone.map((u: { endpoint: string }) => u.endpoint).sort(), ['accounting', 'inventory', 'shipping']);
    assert.ok(answer.undone.every((u: { ok: boolean }) => u.ok));
    assert.equal((await retail.get('accounting', '/accounts/ada')).balance, balance);
    assert.equal((await retail.get('inventory', '/items/KB-1')).available, stock);
  });
});
