/**
 * What a user of an MQTT flow relies on, like the AMQP ones (amqp-process.test.ts), on real
 * `weft run` processes and the real Mosquitto: SIGTERM finishes and acknowledges the message in
 * flight (the rest stay queued in the persistent session), and a broker connection that drops
 * mid-stream (cut through a loopback relay) makes the flow not ready and loses nothing.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startTestFlow, writeFlow } from '../support/flow.ts';
import { MQTT_PORT, MQTT_URL, mqttJson, openMqtt, type Mqtt } from '../support/mqtt.ts';
import { spawnFlow } from '../support/process.ts';
import { eventually, ready, serviceSkip } from '../support/services.ts';
import { startTcpProxy } from '../support/tcp-proxy.ts';
import { backend, sigtermWhileHeld, cutMidStream, ids, workFlow, type WorkIO } from '../support/worker.ts';

const skip = await serviceSkip('Mosquitto', MQTT_PORT);

function mqttWorkFlow(url: string, p: string, clientId: string): string {
  const trigger = `  mqtt:
    url: ${url}
    topic: ${p}/in/+
    clientId: ${clientId}
    sessionExpiry: 5m
    retryDelay: 50ms
    deadLetter: { to: broker, key: ${p}/dead }`;
  return workFlow(trigger, `    mqtt: { url: "${url}" }`, `${p}/out`);
}

describe('mqtt flows as processes', { skip }, () => {
  let m: Mqtt;
  before(async () => (m = await openMqtt()));
  after(() => m.close());

  it('SIGTERM finishes and acknowledges the message in flight, exits 0; the rest wait in the session', async () => {
    const p = m.prefix();
    const file = writeFlow(mqttWorkFlow(MQTT_URL, p, `weft-test-${randomUUID().slice(0, 8)}`));
    const b = await backend(0, true);
    const out = await m.collect(`${p}/out`);
    try {
      const proc = await spawnFlow(file, { BACKEND_URL: b.upstream.url, WORKER: 'w' });
      await ready(proc.adminUrl);
      for (const id of ids(10)) await m.send(`${p}/in/x`, { id });
      await sigtermWhileHeld(proc, b, 1);
      await eventually(() => out.length === 1, 'the in-flight message published');
      assert.equal(mqttJson(out[0]).id, 0);
      const b2 = await backend(0);
      const second = await spawnFlow(file, { BACKEND_URL: b2.upstream.url, WORKER: 'w2' });
      try {
        await eventually(() => new Set(out.map((x) => mqttJson(x).id)).size === 10, 'the other nine, kept by the broker, processed by the next session');
      } finally {
        second.child.kill('SIGTERM');
        assert.equal(await second.exited, 0);
        await b2.upstream.close();
      }
      const seen = out.map((x) => mqttJson(x).id as number);
      assert.equal(seen.filter((x) => x === 0).length, 1, 'the finished message was acknowledged: the broker did not send it again');
      assert.deepEqual(seen, ids(10), 'in order, none missing');
    } finally {
      await b.upstream.close();
    }
  });

  it('a broker connection lost mid-stream: not ready while down, reconnects, loses nothing', async () => {
    const p = m.prefix();
    const { upstream } = await backend(5);
    const proxy = await startTcpProxy(MQTT_PORT);
    const out = await m.collect(`${p}/out`);
    const io: WorkIO = {
      send: (id) => m.send(`${p}/in/x`, { id }),
      outIds: () => out.map((x) => mqttJson(x).id as number),
      outWorkers: () => out.map((x) => String(x.properties?.userProperties?.['x-worker'])),
    };
    const flow = await startTestFlow(mqttWorkFlow(`mqtt://127.0.0.1:${proxy.port}`, p, `weft-test-${randomUUID().slice(0, 8)}`), {
      env: { BACKEND_URL: upstream.url, WORKER: 'x' },
    });
    try {
      await cutMidStream(proxy, flow.adminUrl, io);
    } finally {
      await flow.stop();
      await proxy.close();
      await upstream.close();
    }
  });
});
