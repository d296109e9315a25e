/** The mqtt trigger (QoS 1, persistent session), mqtt endpoint and publish against the real Mosquitto. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startTestFlow, writeFlow } from '../support/flow.ts';
import { MQTT_PORT, MQTT_URL, mqttJson, openMqtt, type Mqtt } from '../support/mqtt.ts';
import { spawnFlow } from '../support/process.ts';
import { eventually, ready, serviceSkip } from '../support/services.ts';

const skip = await serviceSkip('Mosquitto', MQTT_PORT);

function relayFlow(p: string, clientId: string): string {
  return `
weft: 1
name: mqtt-relay
trigger:
  mqtt:
    url: ${MQTT_URL}
    topic: ${p}/in/+
    clientId: ${clientId}
    sessionExpiry: 5m
    maxDeliveries: 3
    retryDelay: 10ms
    deadLetter: { to: broker, key: ${p}/dead }
endpoints:
  broker:
    mqtt: { url: "${MQTT_URL}" }
steps:
  - choice:
      - when: body.poison
        steps:
          - fail: { code: POISONED, message: "poison \${body.id}" }
  - transform: '{ "id": body.id, "topic": params.topic, "tag": headers."x-tag" }'
  - publish: { to: broker, key: ${p}/out, headers: { x-seen: "yes" } }
`;
}

describe('mqtt trigger and publish', { skip }, () => {
  let m: Mqtt;
  before(async () => (m = await openMqtt()));
  after(() => m.close());

  it('relays with QoS 1, in order; poison goes to the dead letter after maxDeliveries', async () => {
    const p = m.prefix();
    const flow = await startTestFlow(relayFlow(p, `weft-test-${randomUUID().slice(0, 8)}`));
    try {
      await ready(flow.adminUrl);
      const [out, dead] = [await m.collect(`${p}/out`), await m.collect(`${p}/dead`)];
      for (let i = 0; i < 10; i++) await m.send(`${p}/in/a`, { id: i }, { userProperties: { 'X-Tag': `t${i}` } });
      await m.send(`${p}/in/b`, { id: 99, poison: true });
      await m.send(`${p}/in/b`, 'not json', { contentType: 'application/json' });
      await eventually(() => out.length === 10 && dead.length === 2, '10 relayed, 2 dead letters');
      assert.deepEqual(out.map((x) => mqttJson(x).id), [...Array(10).keys()], 'in order');
      assert.deepEqual(mqttJson(out[4]), { id: 4, topic: `${p}/in/a`, tag: 't4' });
      assert.equal(out[0].properties?.contentType, 'application/json');
      assert.equal(out[0].properties?.userProperties?.['x-seen'], 'yes');
      const codes = dead.map((x) => [x.properties?.userProperties?.['x-weft-error-code'], x.properties?.userProperties?.['x-weft-attempts']]);
      assert.deepEqual(codes, [['POISONED', '3'], ['MALFORMED_BODY', '1']]);
    } finally {
      await flow.stop();
    }
  });

  it('persistent session: messages sent while the flow is down arrive when it is back', async () => {
    const p = m.prefix();
    const clientId = `weft-test-${randomUUID().slice(0, 8)}`;
    const yaml = relayFlow(p, clientId);
    const out = await m.collect(`${p}/out`);
    const first = await startTestFlow(yaml);
    await ready(first.adminUrl);
    await first.stop();
    for (let i = 0; i < 5; i++) await m.send(`${p}/in/x`, { id: i });
    const second = await startTestFlow(yaml);
    try {
      await eventually(() => out.length === 5, 'the five sent while down');
      assert.deepEqual(out.map((x) => mqttJson(x).id), [0, 1, 2, 3, 4]);
    } finally {
      await second.stop();
    }
  });

  it('SIGKILL mid-stream loses nothing: the broker redelivers the unacknowledged message to the resumed session', async (t) => {
    const p = m.prefix();
    const file = writeFlow(relayFlow(p, `weft-test-${randomUUID().slice(0, 8)}`));
    const out = await m.collect(`${p}/out`);
    const first = await spawnFlow(file);
    await ready(first.adminUrl);
    const N = 200;
    for (let i = 0; i < N; i++) await m.send(`${p}/in/k`, { id: i });
    await eventually(() => out.length >= 10, 'first process working');
    first.child.kill('SIGKILL');
    assert.equal(await first.exited, 'SIGKILL');
    const before = out.length;
    const second = await spawnFlow(file);
    try {
      await eventually(() => new Set(out.map((x) => mqttJson(x).id)).size === N, `all ${N} processed`);
    } finally {
      second.child.kill('SIGTERM');
      assert.equal(await second.exited, 0);
    }
    const seen = out.map((x) => mqttJson(x).id as number);
    assert.deepEqual([...new Set(seen)].sort((a, b) => a - b), [...Array(N).keys()]);
    t.diagnostic(`MQTT SIGKILL after ${before} of ${N}: ${seen.length - N} duplicates`);
  });
});
