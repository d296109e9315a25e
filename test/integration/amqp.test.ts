/** The amqp trigger, endpoint and publish step against the real RabbitMQ on 127.0.0.1:5672. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FlowLoadError } from '../../runtime/errors.ts';
import { AMQP_PORT, AMQP_URL, jsonBody, openBroker, type Broker } from '../support/amqp.ts';
import { startTestFlow, type TestFlow } from '../support/flow.ts';
import { eventually, ready, serviceSkip } from '../support/services.ts';

const skip = await serviceSkip('RabbitMQ', AMQP_PORT);

/** A consume -> transform -> publish flow with a dead-letter queue. */
function relayFlow(input: string, output: string, dead: string, extra = '', steps = ''): string {
  return `
weft: 1
name: relay
trigger:
  amqp:
    url: ${AMQP_URL}
    queue: ${input}
    maxDeliveries: 3
    retryDelay: 20ms
    deadLetter: { to: rabbit, key: ${dead} }
${extra}
endpoints:
  rabbit:
    amqp: { url: "${AMQP_URL}" }
steps:
${steps}
  - transform: '{ "id": body.id, "doubled": body.n * 2, "key": params.routingKey, "tag": headers."x-tag" }'
  - publish: { to: rabbit, key: ${output}, headers: { x-source: "\${params.queue}" } }
`;
}

describe('amqp trigger and publish', { skip }, () => {
  let broker: Broker;
  before(async () => (broker = await openBroker()));
  after(() => broker.close());
  const threeQueues = () => Promise.all([broker.queue('in'), broker.queue('out'), broker.queue('dead')]);

  it('consumes, transforms and publishes with confirms; headers and routing key reach the flow', async () => {
    const [input, output, dead] = await threeQueues();
    const flow = await startTestFlow(relayFlow(input, output, dead));
    try {
      const out = await broker.collect(output);
      for (let i = 0; i < 20; i++) await broker.send(input, { id: i, n: i }, { headers: { 'X-Tag': `t${i}` } });
      await eventually(() => out.length === 20, '20 relayed messages');
      const bodies = out.map(jsonBody).sort((a, b) => a.id - b.id);
      assert.deepEqual(bodies[7], { id: 7, doubled: 14, key: input, tag: 't7' });
      assert.equal(out[0].properties.contentType, 'application/json');
      assert.equal(out[0].properties.headers?.['x-source'], input);
      assert.ok(out[0].properties.correlationId, 'the published message carries the input message id');
      const ready = await fetch(`${flow.adminUrl}/readyz`);
      assert.equal(ready.status, 200);
    } finally {
      await flow.stop();
    }
    const left = await broker.ch.checkQueue(input);
    assert.equal(left.messageCount, 0, 'every input message was acknowledged');
  });

  it('retries a failing message, then dead-letters it with code, message, step and attempts', async () => {
    const [input, output, dead] = await threeQueues();
    const poisonStep = `  - choice:
      - when: body.poison
        steps:
          - fail: { code: POISONED, message: "poison \${body.id}" }
`;
    const flow = await startTestFlow(relayFlow(input, output, dead, '', poisonStep));
    try {
      const [out, dl] = [await broker.collect(output), await broker.collect(dead)];
      await broker.send(input, { id: 1, n: 1 });
      await broker.send(input, { id: 2, n: 2, poison: true }, { messageId: 'poison-2', headers: { 'x-tag': 'p' } });
      await broker.send(input, { id: 3, n: 3 });
      await eventually(() => dl.length === 1 && out.length === 2, 'one dead letter and two relayed');
      const h = dl[0].properties.headers!;
      assert.equal(h['x-weft-error-code'], 'POISONED');
      assert.equal(h['x-weft-error-message'], 'poison 2');
      assert.equal(h['x-weft-error-step'], 'steps[0].choice[0].steps[0].fail');
      assert.equal(h['x-weft-attempts'], '3');
      assert.equal(h['x-tag'], 'p', 'original headers are kept');
      assert.deepEqual(jsonBody(dl[0]), { id: 2, n: 2, poison: true }, 'the original body, unchanged');
      assert.equal(dl[0].properties.contentType, 'application/json');
      assert.equal(dl[0].properties.correlationId, 'poison-2');
    } finally {
      await flow.stop();
    }
  });

  it('dead-letters undecodable bodies and unknown content types at once', async () => {
    const [input, output, dead] = await threeQueues();
    const flow = await startTestFlow(relayFlow(input, output, dead, '    maxBody: 1kb'));
    try {
      const dl = await broker.collect(dead);
      await broker.send(input, '{"id": 1, broken', { contentType: 'application/json' });
      await broker.send(input, 'binary', { contentType: 'application/x-unknown' });
      await broker.send(input, Buffer.alloc(2048, 32), { contentType: 'text/plain' });
      await eventually(() => dl.length === 3, 'three dead letters');
      const codes = dl.map((m) => [m.properties.headers!['x-weft-error-code'], m.properties.headers!['x-weft-attempts']]);
      assert.deepEqual(codes.sort(), [['MALFORMED_BODY', '1'], ['PAYLOAD_TOO_LARGE', '1'], ['UNSUPPORTED_MEDIA_TYPE', '1']]);
      assert.equal(dl.find((m) => m.properties.contentType === 'application/json')!.content.toString(), '{"id": 1, broken');
    } finally {
      await flow.stop();
    }
  });

  it('an unroutable publish is an error (UNROUTABLE), retried and dead-lettered, never lost', async () => {
    const [input, dead] = [await broker.queue('in'), await broker.queue('dead')];
    const flow = await startTestFlow(relayFlow(input, 'no-such-queue-anywhere', dead));
    try {
      const dl = await broker.collect(dead);
      await broker.send(input, { id: 9, n: 1 });
      await eventually(() => dl.length === 1, 'the dead letter');
      assert.equal(dl[0].properties.headers!['x-weft-error-code'], 'UNROUTABLE');
      assert.equal(dl[0].properties.headers!['x-weft-error-endpoint'], 'rabbit');
      assert.equal(dl[0].properties.headers!['x-weft-error-step'], 'steps[1].publish');
    } finally {
      await flow.stop();
    }
  });

  it('a dead-letter exchange that does not exist: not ready, named in /readyz, and the message stays on the queue', async () => {
    const input = await broker.queue('in');
    const yaml = `
weft: 1
name: missing-dlx
trigger:
  amqp: { url: "${AMQP_URL}", queue: ${input}, retryDelay: 20ms, deadLetter: { to: dlx, key: dead } }
endpoints:
  dlx:
    amqp: { url: "${AMQP_URL}", exchange: no-such-exchange-${input} }
`;
    const flow = await startTestFlow(yaml);
    try {
      const res = await fetch(`${flow.adminUrl}/readyz`);
      assert.equal(res.status, 503);
      const body = (await res.json()) as { checks: Record<string, { ok: boolean; detail?: string }> };
      assert.match(body.checks.dlx.detail ?? '', /exchange 'no-such-exchange-.*' cannot be used: .*NOT_FOUND/);
      await broker.send(input, 'not json', { contentType: 'application/json' });
      await eventually(async () => (await broker.ch.checkQueue(`${input}.retry`)).messageCount + (await broker.ch.checkQueue(input)).messageCount >= 1, 'the message is kept for retry');
    } finally {
      await flow.stop();
    }
    const kept = (await broker.ch.checkQueue(input)).messageCount + (await broker.ch.checkQueue(`${input}.retry`)).messageCount;
    assert.equal(kept, 1, 'an undeliverable dead letter is never dropped');
  });

  it('keeps queue order with concurrency 1', async () => {
    const [input, output, dead] = await threeQueues();
    const flow = await startTestFlow(relayFlow(input, output, dead, '    concurrency: 1\n    prefetch: 50'));
    try {
      const out = await broker.collect(output);
      for (let i = 0; i < 100; i++) await broker.send(input, { id: i, n: i });
      await eventually(() => out.length === 100, '100 relayed');
      assert.deepEqual(out.map((m) => jsonBody(m).id), [...Array(100).keys()]);
    } finally {
      await flow.stop();
    }
  });

  it('declares an exchange, binds the queue and exposes the routing key', async () => {
    const [input, output, dead] = await threeQueues();
    const exchange = `${input}.x`;
    const flow = await startTestFlow(relayFlow(input, output, dead, `    exchange: { name: ${exchange}, type: topic, keys: [orders.*] }`));
    try {
      await ready(flow.adminUrl);
      const out = await broker.collect(output);
      broker.ch.publish(exchange, 'orders.created', Buffer.from('{"id":1,"n":1}'), { contentType: 'application/json' });
      broker.ch.publish(exchange, 'invoices.created', Buffer.from('{"id":2,"n":1}'), { contentType: 'application/json' });
      await broker.ch.waitForConfirms();
      await eventually(() => out.length === 1, 'the bound message');
      assert.equal(jsonBody(out[0]).key, 'orders.created');
    } finally {
      await flow.stop();
      await broker.ch.deleteExchange(exchange);
    }
  });
});

describe('amqp load errors', () => {
  it('a dead-letter target or publish target that is not a broker endpoint is a load error', async () => {
    const yaml = `
weft: 1
name: bad
trigger:
  amqp: { url: "amqp://127.0.0.1:1", queue: q, deadLetter: { to: missing, key: dead } }
endpoints:
  web: { http: { url: "http://127.0.0.1:1" } }
steps:
  - publish: { to: web, key: x }
`;
    await assert.rejects(startTestFlow(yaml), (err: unknown) => {
      assert.ok(err instanceof FlowLoadError);
      const text = err.message;
      assert.match(text, /:5:\d+ FLOW_REFERENCE unknown endpoint 'missing'/);
      assert.match(text, /:9:\d+ FLOW_REFERENCE 'web' is an http endpoint; publish needs amqp, mqtt or nats/);
      return true;
    });
  });

  it('a broker that is down at start: the flow starts, is not ready, and keeps trying', async () => {
    const yaml = `
weft: 1
name: waiting
trigger:
  amqp: { url: "amqp://127.0.0.1:1", queue: q, deadLetter: { to: rabbit, key: dead } }
endpoints:
  rabbit: { amqp: { url: "amqp://127.0.0.1:1" } }
`;
    const flow: TestFlow = await startTestFlow(yaml);
    try {
      const res = await fetch(`${flow.adminUrl}/readyz`);
      assert.equal(res.status, 503);
      const body = (await res.json()) as { checks: Record<string, { ok: boolean; detail?: string }> };
      assert.deepEqual(body.checks.trigger, { ok: false, detail: 'broker not connected' });
      assert.equal(body.checks.rabbit.ok, false);
    } finally {
      await flow.stop();
    }
  });
});
