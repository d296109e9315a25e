/** flows/order-events.yaml against the real RabbitMQ and a pricing service on loopback. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startFlow, type RunningFlow } from '../../runtime/engine/lifecycle.ts';
import { silentLogger } from '../../runtime/log.ts';
import { AMQP_PORT, AMQP_URL, jsonBody, openBroker, type Broker } from '../support/amqp.ts';
import { eventually, ready, serviceSkip } from '../support/services.ts';
import { json, startUpstream, type Upstream } from '../support/upstream.ts';

const skip = await serviceSkip('RabbitMQ', AMQP_PORT);

describe('order-events.yaml', { skip }, () => {
  let broker: Broker;
  let pricing: Upstream;
  let flow: RunningFlow;
  let queue: string;
  let exchange: string;
  before(async () => {
    broker = await openBroker();
    queue = await broker.queue('orders');
    exchange = `${queue}.events`;
    pricing = await startUpstream((req, res) => {
      const { lines } = JSON.parse(req.body) as { lines: { qty: number }[] };
      json(res, 200, { total: lines.reduce((t, l) => t + l.qty * 2.5, 0), currency: 'EUR' });
    });
    flow = await startFlow(join(import.meta.dirname, '../../flows/order-events.yaml'), {
      port: 0,
      adminPort: 0,
      host: '127.0.0.1',
      log: silentLogger(),
      env: { ...process.env, AMQP_URL, ORDERS_QUEUE: queue, EVENTS_EXCHANGE: exchange, PRICING_URL: pricing.url },
    });
    await ready(flow.adminUrl!);
  });
  after(async () => {
    await flow.stop();
    await pricing.close();
    await broker.ch.deleteExchange(exchange).catch(() => {});
    await broker.close();
  });

  it('prices an order and publishes order.priced; a bad order goes to the dead-letter queue at once', async () => {
    const events = await broker.queue('priced');
    await broker.ch.bindQueue(events, exchange, 'order.priced');
    const dead = `${queue}.dead`;
    await broker.ch.assertQueue(dead, { durable: true });
    const [got, dl] = [await broker.collect(events), await broker.collect(dead)];
    await broker.send(queue, { customer: 'c-7', lines: [{ sku: 'A-1', qty: 4 }] }, { messageId: 'order-1' });
    await broker.send(queue, { customer: 'c-8', lines: [{ sku: 'lower-case', qty: 1 }] }, { messageId: 'order-2' });
    await eventually(() => got.length === 1 && dl.length === 1, 'one event and one dead letter');
    assert.deepEqual(jsonBody(got[0]), { orderId: 'order-1', customer: 'c-7', total: 10, currency: 'EUR' });
    assert.equal(got[0].properties.headers?.['x-customer'], 'c-7');
    assert.equal(dl[0].properties.headers?.['x-weft-error-code'], 'VALIDATION');
    assert.equal(dl[0].properties.headers?.['x-weft-attempts'], '1');
    assert.equal(pricing.requests.length, 1, 'the bad order never reached pricing');
    await broker.ch.deleteQueue(dead);
  });
});
