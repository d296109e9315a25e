/** flows/stock-watch.yaml on a short period against the real RabbitMQ and an inventory service on loopback. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startFlow, type RunningFlow } from '../../runtime/engine/lifecycle.ts';
import { AMQP_PORT, AMQP_URL, jsonBody, openBroker, type Broker } from '../support/amqp.ts';
import { watchingLogger } from '../support/log.ts';
import { eventually, serviceSkip } from '../support/services.ts';
import { json, startUpstream, type Upstream } from '../support/upstream.ts';

const skip = await serviceSkip('RabbitMQ', AMQP_PORT);

describe('stock-watch.yaml', { skip }, () => {
  let broker: Broker;
  let inventory: Upstream;
  let flow: RunningFlow;
  let exchange: string;
  let events: string;
  const watch = watchingLogger();
  before(async () => {
    broker = await openBroker();
    events = await broker.queue('stock-low');
    exchange = `${events}.events`;
    await broker.ch.assertExchange(exchange, 'topic', { durable: true });
    await broker.ch.bindQueue(events, exchange, 'stock.low');
    // First poll: two items low; second: the inventory service is down (both tries the
    // endpoint's retry makes); then one item.
    inventory = await startUpstream((req, res) => {
      const n = inventory.requests.length;
      if (n === 2 || n === 3) return json(res, 503, { error: 'maintenance' });
      const items = n === 1 ? [{ sku: 'A-1', available: 2 }, { sku: 'B-7', available: 0 }] : [{ sku: 'C-3', available: 4 }];
      json(res, 200, { below: new URL(req.url, 'http://x').searchParams.get('below'), items });
    });
    flow = await startFlow(join(import.meta.dirname, '../../flows/stock-watch.yaml'), {
      port: 0,
      adminPort: 0,
      host: '127.0.0.1',
      log: watch.log,
      env: { ...process.env, AMQP_URL, EVENTS_EXCHANGE: exchange, INVENTORY_URL: inventory.url, POLL_EVERY: '100ms', LOW_STOCK: '5' },
    });
  });
  after(async () => {
    await flow.stop();
    await inventory.close();
    await broker.ch.deleteExchange(exchange).catch(() => {});
    await broker.close();
  });

  it('publishes one stock.low event per low item on every poll, and goes on after a failed poll', { timeout: 15_000 }, async () => {
    const got = await broker.collect(events);
    await eventually(() => got.length >= 3 || undefined, 'three stock.low events', 10_000);
    const bodies = got.slice(0, 3).map(jsonBody);
    assert.deepEqual(bodies.map((b) => [b.sku, b.available]), [['A-1', 2], ['B-7', 0], ['C-3', 4]]);
    assert.equal(inventory.requests[0].url, '/stock?below=5');
    // The poll after the first ran at start and found the service down: logged, not fatal.
    await watch.line((l) => l.msg === 'stock poll failed (UPSTREAM_STATUS); the next tick tries again');
    assert.ok(watch.lines.some((l) => l.msg === '2 items low on stock'));
    assert.equal(bodies[0].seenAt, bodies[1].seenAt, 'items of one poll carry its tick time');
  });
});
