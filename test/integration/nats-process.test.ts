/**
 * What a user of a NATS JetStream flow relies on, like the AMQP ones (amqp-process.test.ts), on
 * real `weft run` processes and the real server: SIGTERM finishes and acknowledges what is in
 * flight, two processes on one durable consumer share the work, and a connection that drops
 * mid-stream (cut through a loopback relay) makes the flow not ready and loses nothing.
 */
import assert from 'node:assert/strict';
import { jetstreamManager } from '@nats-io/jetstream';
import { after, before, describe, it } from 'node:test';
import { startTestFlow, writeFlow } from '../support/flow.ts';
import { NATS_PORT, NATS_URL, natsJson, openNats, type Nats } from '../support/nats.ts';
import { spawnFlow } from '../support/process.ts';
import { eventually, ready, serviceSkip } from '../support/services.ts';
import { startTcpProxy } from '../support/tcp-proxy.ts';
import { backend, ids, workFlow } from '../support/worker.ts';

const skip = await serviceSkip('NATS', NATS_PORT);

function natsWorkFlow(url: string, stream: string, p: string, concurrency: number, ackWait = '5s'): string {
  const trigger = `  nats:
    url: ${url}
    stream: ${stream}
    subject: ${p}.in.>
    durable: workers
    concurrency: ${concurrency}
    prefetch: 10
    ackWait: ${ackWait}
    retryDelay: 50ms
    deadLetter: { to: broker, key: ${p}.dead }`;
  return workFlow(trigger, `    nats: { url: "${url}" }`, `${p}.out`);
}

describe('nats flows as processes', { skip }, () => {
  let nats: Nats;
  before(async () => (nats = await openNats()));
  after(() => nats.close());

  it('SIGTERM finishes and acknowledges what is in flight, returns the rest, and exits 0', async () => {
    const { stream, prefix } = await nats.stream();
    const b = await backend(0, true);
    const out = nats.collect(`${prefix}.out`);
    try {
      for (const id of ids(10)) await nats.send(`${prefix}.in.x`, { id });
      // The seven not started are nak'ed back at once; a NATS server older than 2.10 may still
      // hand one of them to this process's lingering pull request, from where it returns after
      // ackWait (kept short here so that the test does not wait long for it).
      const file = writeFlow(natsWorkFlow(NATS_URL, stream, prefix, 3, '3s'));
      const proc = await spawnFlow(file, { BACKEND_URL: b.upstream.url, WORKER: 'w' });
      await eventually(() => b.held.length === 3, 'three messages in flight');
      proc.child.kill('SIGTERM');
      await eventually(() => proc.lines.some((l) => l.msg === 'draining'), 'the process drains');
      b.release();
      assert.equal(await proc.exited, 0);
      await eventually(() => out.length === 3, 'the three in-flight messages published');
      assert.deepEqual(out.map((m) => natsJson(m).id).sort(), [0, 1, 2]);
      // Acknowledged, not merely finished: the server's ack floor is past the three.
      const info = await (await jetstreamManager(nats.nc)).consumers.info(stream, 'workers');
      assert.equal(info.ack_floor.stream_seq, 3, 'the three in-flight messages were acknowledged');
      const b2 = await backend(0);
      const second = await spawnFlow(file, { BACKEND_URL: b2.upstream.url, WORKER: 'w2' });
      try {
        await eventually(() => new Set(out.map((m) => natsJson(m).id)).size === 10, 'the seven not started processed by the next process');
      } finally {
        second.child.kill('SIGTERM');
        assert.equal(await second.exited, 0);
        await b2.upstream.close();
      }
      const seen = out.map((m) => natsJson(m).id as number);
      for (const id of [0, 1, 2]) assert.equal(seen.filter((x) => x === id).length, 1, `message ${id} was finished once, not redelivered`);
    } finally {
      await b.upstream.close();
    }
  });

  it('two processes on one durable consumer share the work (competing consumers)', async () => {
    const { stream, prefix } = await nats.stream();
    const { upstream } = await backend(5);
    const file = writeFlow(natsWorkFlow(NATS_URL, stream, prefix, 2));
    const out = nats.collect(`${prefix}.out`);
    const a = await spawnFlow(file, { BACKEND_URL: upstream.url, WORKER: 'a' });
    const b = await spawnFlow(file, { BACKEND_URL: upstream.url, WORKER: 'b' });
    try {
      await ready(a.adminUrl);
      await ready(b.adminUrl);
      for (const id of ids(100)) await nats.send(`${prefix}.in.x`, { id });
      await eventually(() => new Set(out.map((m) => natsJson(m).id)).size === 100, '100 messages processed');
      const by = (w: string) => out.filter((m) => m.headers?.get('x-worker') === w).length;
      assert.ok(by('a') > 0 && by('b') > 0, `both worked: a=${by('a')} b=${by('b')}`);
      assert.deepEqual([...new Set(out.map((m) => natsJson(m).id))].sort((x, y) => x - y), ids(100));
    } finally {
      a.child.kill('SIGTERM');
      b.child.kill('SIGTERM');
      assert.equal(await a.exited, 0);
      assert.equal(await b.exited, 0);
      await upstream.close();
    }
  });

  it('a server connection lost mid-stream: not ready while down, reconnects, loses nothing', async () => {
    const { stream, prefix } = await nats.stream();
    const { upstream } = await backend(5);
    const proxy = await startTcpProxy(NATS_PORT);
    const out = nats.collect(`${prefix}.out`);
    const flow = await startTestFlow(natsWorkFlow(`nats://127.0.0.1:${proxy.port}`, stream, prefix, 2), { env: { BACKEND_URL: upstream.url, WORKER: 'x' } });
    try {
      await ready(flow.adminUrl);
      const N = 100;
      for (const id of ids(N)) await nats.send(`${prefix}.in.x`, { id });
      await eventually(() => out.length >= 10, 'work under way');
      proxy.cut();
      await eventually(async () => (await fetch(`${flow.adminUrl}/readyz`)).status === 503, 'not ready while the server is away');
      proxy.restore();
      await ready(flow.adminUrl);
      await eventually(() => new Set(out.map((m) => natsJson(m).id)).size === N, `all ${N} processed after reconnecting`);
      const info = await (await jetstreamManager(nats.nc)).consumers.info(stream, 'workers');
      assert.equal(info.num_pending, 0, 'nothing left on the stream');
    } finally {
      await flow.stop();
      await proxy.close();
      await upstream.close();
    }
  });
});
