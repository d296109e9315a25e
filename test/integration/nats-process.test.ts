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
import { eventually, serviceSkip } from '../support/services.ts';
import { startTcpProxy } from '../support/tcp-proxy.ts';
import { backend, sigtermWhileHeld, competingConsumers, cutMidStream, ids, workFlow, type WorkIO } from '../support/worker.ts';

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
      await sigtermWhileHeld(proc, b, 3);
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

  function natsIO(prefix: string): WorkIO {
    const out = nats.collect(`${prefix}.out`);
    return {
      send: (id) => nats.send(`${prefix}.in.x`, { id }),
      outIds: () => out.map((m) => natsJson(m).id as number),
      outWorkers: () => out.map((m) => m.headers?.get('x-worker') ?? ''),
    };
  }

  it('two processes on one durable consumer share the work (competing consumers)', async () => {
    const { stream, prefix } = await nats.stream();
    const { upstream } = await backend(5);
    try {
      await competingConsumers(writeFlow(natsWorkFlow(NATS_URL, stream, prefix, 2)), upstream.url, natsIO(prefix));
    } finally {
      await upstream.close();
    }
  });

  it('a server connection lost mid-stream: not ready while down, reconnects, loses nothing', async () => {
    const { stream, prefix } = await nats.stream();
    const { upstream } = await backend(5);
    const proxy = await startTcpProxy(NATS_PORT);
    const io = natsIO(prefix);
    const flow = await startTestFlow(natsWorkFlow(`nats://127.0.0.1:${proxy.port}`, stream, prefix, 2), { env: { BACKEND_URL: upstream.url, WORKER: 'x' } });
    try {
      await cutMidStream(proxy, flow.adminUrl, io);
      const info = await (await jetstreamManager(nats.nc)).consumers.info(stream, 'workers');
      assert.equal(info.num_pending, 0, 'nothing left on the stream');
    } finally {
      await flow.stop();
      await proxy.close();
      await upstream.close();
    }
  });
});
