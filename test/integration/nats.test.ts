/** The nats trigger (JetStream durable consumer), nats endpoint and publish against the real server. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestFlow, writeFlow } from '../support/flow.ts';
import { NATS_PORT, NATS_URL, natsJson, openNats, type Nats } from '../support/nats.ts';
import { spawnFlow } from '../support/process.ts';
import { eventually, ready, serviceSkip } from '../support/services.ts';

const skip = await serviceSkip('NATS', NATS_PORT);

function relayFlow(stream: string, p: string, extra = ''): string {
  return `
weft: 1
name: nats-relay
trigger:
  nats:
    url: ${NATS_URL}
    stream: ${stream}
    subject: ${p}.in.>
    maxDeliveries: 3
    retryDelay: 20ms
${extra}
    deadLetter: { to: js, key: ${p}.dead }
endpoints:
  js:
    nats: { url: "${NATS_URL}" }
steps:
  - choice:
      - when: body.poison
        steps:
          - fail: { code: POISONED, message: "poison \${body.id}" }
  - transform: '{ "id": body.id, "subject": params.subject, "tag": headers."x-tag" }'
  - publish: { to: js, key: ${p}.out, headers: { x-seen: "yes" } }
`;
}

describe('nats trigger and publish', { skip }, () => {
  let nats: Nats;
  before(async () => (nats = await openNats()));
  after(() => nats.close());

  it('consumes, transforms and publishes with JetStream acks; poison goes to the dead letter after maxDeliveries', async () => {
    const { stream, prefix } = await nats.stream();
    const flow = await startTestFlow(relayFlow(stream, prefix));
    try {
      await ready(flow.adminUrl);
      const [out, dead] = [nats.collect(`${prefix}.out`), nats.collect(`${prefix}.dead`)];
      for (let i = 0; i < 10; i++) await nats.send(`${prefix}.in.orders`, { id: i }, { 'X-Tag': `t${i}` });
      await nats.send(`${prefix}.in.orders`, { id: 99, poison: true });
      await nats.send(`${prefix}.in.orders`, '{broken', { 'content-type': 'application/json' });
      await eventually(() => out.length === 10 && dead.length === 2, '10 relayed and 2 dead letters');
      const first = out.map(natsJson).find((b) => b.id === 3);
      assert.deepEqual(first, { id: 3, subject: `${prefix}.in.orders`, tag: 't3' });
      assert.equal(out[0].headers?.get('x-seen'), 'yes');
      const byCode = Object.fromEntries(dead.map((m) => [m.headers!.get('x-weft-error-code'), m.headers!.get('x-weft-attempts')]));
      assert.deepEqual(byCode, { POISONED: '3', MALFORMED_BODY: '1' });
    } finally {
      await flow.stop();
    }
  });

  it('SIGKILL mid-stream loses nothing: the durable consumer hands unacked messages to the next process', async (t) => {
    const { stream, prefix } = await nats.stream();
    const file = writeFlow(relayFlow(stream, prefix, '    ackWait: 1s\n    concurrency: 4\n    prefetch: 8'));
    const out = nats.collect(`${prefix}.out`);
    const N = 300;
    for (let i = 0; i < N; i++) await nats.send(`${prefix}.in.x`, { id: i });
    const first = await spawnFlow(file);
    await eventually(() => out.length >= 20, 'first process working');
    first.child.kill('SIGKILL');
    assert.equal(await first.exited, 'SIGKILL');
    const before = out.length;
    const second = await spawnFlow(file);
    try {
      await eventually(() => new Set(out.map((m) => natsJson(m).id)).size === N, `all ${N} processed`);
    } finally {
      second.child.kill('SIGTERM');
      assert.equal(await second.exited, 0);
    }
    const seen = out.map((m) => natsJson(m).id as number);
    assert.deepEqual([...new Set(seen)].sort((a, b) => a - b), [...Array(N).keys()]);
    t.diagnostic(`NATS SIGKILL after ${before} of ${N}: ${seen.length - N} duplicates`);
  });
});
