/**
 * Messages per second for consume -> transform -> publish (confirmed) -> ack on RabbitMQ:
 * a Weft flow against a hand-written amqplib consumer doing the same work with the same
 * prefetch and concurrency, in one run on the same broker. Both ack only after the publish
 * was confirmed (at-least-once), so the comparison is like for like.
 *
 *   node_modules/.bin/node bench/amqp-relay.ts [messages=10000] [concurrency=32] [rounds=5]
 *
 * The broker's disk and the shared machine make single runs noisy, so the two alternate for
 * `rounds` rounds and the median of each is reported. Prints a JSON line and a small table;
 * the ratio is weft / baseline (target >= 0.8).
 */
import amqp, { type ConfirmChannel } from 'amqplib';
import { randomUUID } from 'node:crypto';
import { startFlow } from '../runtime/engine/lifecycle.ts';
import { silentLogger } from '../runtime/log.ts';
import { writeFlow } from '../test/support/flow.ts';

const URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const N = Number(process.argv[2] ?? 10000);
const C = Number(process.argv[3] ?? 32);
const ROUNDS = Number(process.argv[4] ?? 5);

const conn = await amqp.connect(URL);
const admin = await conn.createConfirmChannel();

async function fill(queue: string): Promise<void> {
  await admin.assertQueue(queue, { durable: true });
  for (let i = 0; i < N; i++) {
    const body = Buffer.from(JSON.stringify({ id: i, customer: `c-${i % 97}`, lines: [{ sku: 'A-1', qty: (i % 5) + 1 }] }));
    if (!admin.sendToQueue(queue, body, { persistent: true, contentType: 'application/json' })) await new Promise((r) => admin.once('drain', r));
  }
  await admin.waitForConfirms();
}

async function drained(output: string): Promise<void> {
  for (let i = 0; i < 1_000_000; i++) {
    if ((await admin.checkQueue(output)).messageCount >= N) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function baseline(input: string, output: string): Promise<number> {
  const c = await amqp.connect(URL);
  const ch: ConfirmChannel = await c.createConfirmChannel();
  await ch.prefetch(C);
  const began = performance.now();
  await ch.consume(input, (msg) => {
    if (!msg) return;
    const order = JSON.parse(msg.content.toString('utf8')) as { id: number; customer: string; lines: { qty: number }[] };
    const out = { orderId: order.id, customer: order.customer, lines: order.lines, source: 'baseline' };
    ch.publish('', output, Buffer.from(JSON.stringify(out)), { persistent: true, mandatory: true, contentType: 'application/json', messageId: randomUUID() }, (err: unknown) => {
      if (err) ch.nack(msg, false, true);
      else ch.ack(msg);
    });
  });
  await drained(output);
  const ms = performance.now() - began;
  await c.close();
  return (N * 1000) / ms;
}

async function weft(input: string, output: string): Promise<number> {
  const file = writeFlow(`
weft: 1
name: bench-relay
trigger:
  amqp: { url: "${URL}", queue: ${input}, concurrency: ${C}, prefetch: ${C}, deadLetter: { to: rabbit, key: ${input}.dead } }
endpoints:
  rabbit: { amqp: { url: "${URL}" } }
steps:
  - transform: '{ "orderId": body.id, "customer": body.customer, "lines": body.lines, "source": "weft" }'
  - publish: { to: rabbit, key: ${output} }
`);
  await fill(input); // the flow declares nothing before the messages are there
  const began = performance.now();
  const flow = await startFlow(file, { port: 0, adminPort: 0, host: '127.0.0.1', log: silentLogger() });
  await drained(output);
  const ms = performance.now() - began;
  await flow.stop();
  return (N * 1000) / ms;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const bases: number[] = [];
const ours: number[] = [];
const made: string[] = [];
/** Process CPU microseconds per message: [baseline, weft]; shows whether Weft's own work is the cost. */
const cpuPerMsg: [number, number][] = [];
try {
  for (let r = 0; r < ROUNDS; r++) {
    const id = randomUUID().slice(0, 8);
    const queues = [`bench.${id}.base.in`, `bench.${id}.base.out`, `bench.${id}.weft.in`, `bench.${id}.weft.out`];
    made.push(...queues, `${queues[2]}.retry`);
    for (const q of queues) await admin.assertQueue(q, { durable: true });
    await fill(queues[0]);
    let cpu = process.cpuUsage();
    bases.push(await baseline(queues[0], queues[1]));
    const baseCpu = process.cpuUsage(cpu);
    cpu = process.cpuUsage();
    ours.push(await weft(queues[2], queues[3]));
    const weftCpu = process.cpuUsage(cpu);
    cpuPerMsg.push([(baseCpu.user + baseCpu.system) / N, (weftCpu.user + weftCpu.system) / N]);
    for (const q of made.splice(0)) await admin.deleteQueue(q).catch(() => {});
  }
  const base = median(bases);
  const mine = median(ours);
  const result = { bench: 'amqp-relay', messages: N, concurrency: C, rounds: ROUNDS, baselineMsgPerS: Math.round(base), weftMsgPerS: Math.round(mine), ratio: +(mine / base).toFixed(2), perRound: bases.map((b, i) => +(ours[i] / b).toFixed(2)), cpuUsPerMsg: cpuPerMsg.map(([b, w]) => [Math.round(b), Math.round(w)]) };
  console.log(JSON.stringify(result));
  console.log(`| messages | concurrency | amqplib baseline msg/s | weft msg/s | ratio (median of ${ROUNDS}) |\n|---|---|---|---|---|\n| ${N} | ${C} | ${result.baselineMsgPerS} | ${result.weftMsgPerS} | ${result.ratio} |`);
} finally {
  for (const q of made) await admin.deleteQueue(q).catch(() => {});
  await conn.close();
}
