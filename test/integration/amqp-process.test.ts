/**
 * What a user of a queue flow relies on, tested on real `weft run` processes and the real
 * RabbitMQ: SIGKILL mid-work loses nothing, SIGTERM finishes and acks what is in flight,
 * replicas share a queue, and a broker connection that drops mid-stream loses nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AMQP_PORT, AMQP_URL, jsonBody, openBroker, type Broker } from '../support/amqp.ts';
import { startTestFlow, writeFlow } from '../support/flow.ts';
import { spawnFlow, type FlowProcess } from '../support/process.ts';
import { eventually, serviceSkip } from '../support/services.ts';
import { startTcpProxy } from '../support/tcp-proxy.ts';
import { json, startUpstream } from '../support/upstream.ts';
import { backend, sigtermWhileHeld, competingConsumers, cutMidStream, ids, workFlow, type WorkIO } from '../support/worker.ts';

const skip = await serviceSkip('RabbitMQ', AMQP_PORT);

/** The AMQP worker: `prefetch` 10 by default, fast retries, 3 attempts, dead letters to `<input>.dead`. */
function amqpWorkFlow(url: string, input: string, output: string, concurrency: number, prefetch = 10): string {
  const trigger = `  amqp:
    url: ${url}
    queue: ${input}
    concurrency: ${concurrency}
    prefetch: ${prefetch}
    retryDelay: 50ms
    maxDeliveries: 3
    deadLetter: { to: broker, key: ${input}.dead }`;
  return workFlow(trigger, `    amqp: { url: "${url}" }`, output);
}

describe('amqp flows as processes', { skip }, () => {
  let broker: Broker;
  before(async () => (broker = await openBroker()));
  after(() => broker.close());

  it('SIGKILL while working loses nothing: the next process gets every unfinished message', async (t) => {
    const [input, output] = [await broker.queue('kill-in'), await broker.queue('kill-out')];
    const { upstream } = await backend(10);
    const file = writeFlow(amqpWorkFlow(AMQP_URL, input, output, 4));
    const out = await broker.collect(output);
    try {
      const N = 200;
      for (const id of ids(N)) await broker.send(input, { id });
      const first = await spawnFlow(file, { BACKEND_URL: upstream.url, WORKER: 'first' });
      await eventually(() => out.length >= 20, 'the first process is working');
      first.child.kill('SIGKILL');
      assert.equal(await first.exited, 'SIGKILL');
      const doneBefore = out.length;
      assert.ok(doneBefore < N, 'killed mid-stream');
      const second = await spawnFlow(file, { BACKEND_URL: upstream.url, WORKER: 'second' });
      try {
        await eventually(() => new Set(out.map((m) => jsonBody(m).id)).size === N, `all ${N} messages processed`);
      } finally {
        second.child.kill('SIGTERM');
        assert.equal(await second.exited, 0);
      }
      const seen = out.map((m) => jsonBody(m).id as number);
      assert.deepEqual([...new Set(seen)].sort((a, b) => a - b), ids(N), 'none missing');
      const duplicates = seen.length - N;
      t.diagnostic(`SIGKILL after ${doneBefore} of ${N}: ${duplicates} duplicates (at-least-once; at most the in-flight ones)`);
      assert.ok(duplicates <= 10, `duplicates ${duplicates} are bounded by the prefetch window`);
      assert.equal((await broker.ch.checkQueue(input)).messageCount, 0);
    } finally {
      await upstream.close();
    }
  });

  it('SIGTERM finishes and acknowledges what is in flight, returns the rest, and exits 0', async () => {
    const [input, output] = [await broker.queue('term-in'), await broker.queue('term-out')];
    const b = await backend(0, true);
    const file = writeFlow(amqpWorkFlow(AMQP_URL, input, output, 3));
    const out = await broker.collect(output);
    try {
      for (const id of ids(10)) await broker.send(input, { id });
      const proc = await spawnFlow(file, { BACKEND_URL: b.upstream.url, WORKER: 'w' });
      await sigtermWhileHeld(proc, b, 3);
      await eventually(() => out.length === 3, 'the three in-flight messages published');
      assert.deepEqual(out.map((m) => jsonBody(m).id).sort(), [0, 1, 2]);
      assert.equal((await broker.ch.checkQueue(input)).messageCount, 7, 'the seven not started are back on the queue, unacked');
    } finally {
      await b.upstream.close();
    }
  });

  /** What the tests see of a worker flow on `input` -> `output`. */
  async function amqpIO(input: string, output: string): Promise<WorkIO> {
    const out = await broker.collect(output);
    return {
      send: (id) => broker.send(input, { id }),
      outIds: () => out.map((m) => jsonBody(m).id as number),
      outWorkers: () => out.map((m) => String(m.properties.headers?.['x-worker'])),
    };
  }

  it('two processes on one queue share the work (competing consumers)', async () => {
    const [input, output] = [await broker.queue('share-in'), await broker.queue('share-out')];
    const { upstream } = await backend(5);
    try {
      await competingConsumers(writeFlow(amqpWorkFlow(AMQP_URL, input, output, 2)), upstream.url, await amqpIO(input, output));
    } finally {
      await upstream.close();
    }
  });

  it('a broker connection lost mid-stream: not ready while down, reconnects, loses nothing', async () => {
    const [input, output] = [await broker.queue('cut-in'), await broker.queue('cut-out')];
    const { upstream } = await backend(5);
    const proxy = await startTcpProxy(AMQP_PORT);
    const url = `amqp://guest:guest@127.0.0.1:${proxy.port}`;
    const flow = await startTestFlow(amqpWorkFlow(url, input, output, 2), { env: { BACKEND_URL: upstream.url, WORKER: 'x' } });
    try {
      await cutMidStream(proxy, flow.adminUrl, await amqpIO(input, output));
      assert.equal((await broker.ch.checkQueue(input)).messageCount, 0);
    } finally {
      await flow.stop();
      await proxy.close();
      await upstream.close();
    }
  });

  it('a message that kills the process every time is dead-lettered after maxDeliveries, the others are processed', async (t) => {
    const [input, output] = [await broker.queue('crash-in'), await broker.queue('crash-out')];
    const dead = `${input}.dead`;
    await broker.ch.assertQueue(dead, { durable: true });
    let current: FlowProcess | undefined;
    let kills = 0;
    // The poison's call kills the flow process with SIGKILL while it handles the message.
    const upstream = await startUpstream((req, res) => {
      if ((JSON.parse(req.body) as { poison?: boolean }).poison) {
        kills++;
        current?.child.kill('SIGKILL');
        return void res.destroy();
      }
      json(res, 200, { by: 'backend' });
    });
    // One message at a time: a crash then returns only the message that caused it (every
    // unacknowledged message of a dying process counts one delivery; see docs/messaging.md).
    const file = writeFlow(amqpWorkFlow(AMQP_URL, input, output, 1, 1));
    const [out, dl] = [await broker.collect(output), await broker.collect(dead)];
    try {
      for (const id of ids(30)) await broker.send(input, id === 10 ? { id, poison: true } : { id });
      const alive = (p: FlowProcess) => p.child.exitCode === null && p.child.signalCode === null;
      // Bounded: maxDeliveries (3) crashes, then one process that dead-letters the poison.
      for (let round = 0; round < 6 && dl.length === 0; round++) {
        const proc = (current = await spawnFlow(file, { BACKEND_URL: upstream.url, WORKER: `w${round}` }));
        await eventually(() => !alive(proc) || dl.length > 0, 'a crash or the dead letter');
        if (alive(proc)) {
          await eventually(() => new Set(out.map((m) => jsonBody(m).id)).size === 29, 'the 29 others processed');
          proc.child.kill('SIGTERM');
          assert.equal(await proc.exited, 0);
        }
      }
      assert.equal(kills, 3, 'the poison killed maxDeliveries processes, then was not run again');
      assert.equal(dl.length, 1);
      const h = dl[0].properties.headers ?? {};
      assert.equal(h['x-weft-error-code'], 'REDELIVERY_LIMIT');
      assert.equal(h['x-weft-attempts'], '3');
      assert.match(String(h['x-weft-error-message']), /delivered 3 times without finishing/);
      assert.deepEqual(jsonBody(dl[0]), { id: 10, poison: true }, 'the original body');
      assert.deepEqual([...new Set(out.map((m) => jsonBody(m).id))].sort((a, b) => a - b), ids(30).filter((i) => i !== 10), 'none of the others lost');
      t.diagnostic(`poison: ${kills} kills, ${out.length - 29} duplicates among the others`);
    } finally {
      if (current && current.child.exitCode === null && current.child.signalCode === null) current.child.kill('SIGKILL');
      await upstream.close();
      await broker.ch.deleteQueue(dead).catch(() => {});
    }
  });
});
