/**
 * `weft k8s` as users run it: the manifests for one flow, checked offline against the
 * Kubernetes schemas, for unknown fields, and across objects; the ConfigMap, mounted the way
 * the Deployment mounts it, holds a flow that loads.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { DRAIN_TIMEOUT_MS } from '../../runtime/engine/lifecycle.ts';
import { createTestPki } from '../support/certs.ts';
import { writeFlow } from '../support/flow.ts';
import { unknownFieldProblems, validateSchemas } from '../support/k8s-check.ts';
import { runWeft, WEFT_BIN } from '../support/process.ts';

const run = promisify(execFile);

const weft = runWeft;

// A flow that reads every kind of file: trigger schema, validate step schema, .proto with an
// import from another folder, .thrift with an include.
const FILES = {
  'schemas/order.schema.json': '{"type":"object","required":["sku"]}',
  'schemas/line.schema.json': '{"type":"object"}',
  'proto/shop/v1/order.proto': 'syntax = "proto3";\npackage shop.v1;\nimport "../../common/money.proto";\nmessage Order { string sku = 1; common.Money price = 2; }\n',
  'proto/common/money.proto': 'syntax = "proto3";\npackage common;\nmessage Money { int64 cents = 1; }\n',
  'idl/shop.thrift': 'include "base.thrift"\nstruct Order { 1: required string sku, 2: base.Money price }\n',
  'idl/base.thrift': 'struct Money { 1: i64 cents }\n',
};
const FLOW = `weft: 1
name: order-intake
schemas:
  proto: [proto/shop/v1/order.proto]
  thrift: [idl/shop.thrift]
trigger:
  http: { method: POST, path: /orders, accept: [json, protobuf], message: shop.v1.Order, schema: schemas/order.schema.json }
endpoints:
  erp:
    http: { url: "\${env.ERP_URL}" }
steps:
  - validate: { schema: schemas/line.schema.json }
  - call: erp
`;

type Obj = { apiVersion: string; kind: string; metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> }; [k: string]: any };

function byKind(objects: Obj[], kind: string): Obj {
  const found = objects.filter((o) => o.kind === kind);
  assert.equal(found.length, 1, `one ${kind}`);
  return found[0];
}

function matches(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);
}

describe('weft k8s', () => {
  it('prints a ConfigMap, Deployment, Service, HPA and PDB that pass the Kubernetes schemas, know every field, and fit together', async () => {
    const file = writeFlow(FLOW, FILES);
    const r = await weft('k8s', file, '--image', 'registry.example/weft:1.0', '--replicas', '3', '--max', '12', '--cpu', '250m', '--memory', '300Mi', '--env', 'ERP_URL=http://erp.billing:8080');
    assert.equal(r.code, 0, r.stderr);
    const objects = parseAllDocuments(r.stdout).map((d) => d.toJS() as Obj);
    assert.deepEqual(objects.map((o) => o.kind), ['ConfigMap', 'Deployment', 'Service', 'HorizontalPodAutoscaler', 'PodDisruptionBudget']);

    validateSchemas(objects);
    assert.deepEqual(unknownFieldProblems(objects), []);

    const cm = byKind(objects, 'ConfigMap');
    const deploy = byKind(objects, 'Deployment');
    const svc = byKind(objects, 'Service');
    const hpa = byKind(objects, 'HorizontalPodAutoscaler');
    const pdb = byKind(objects, 'PodDisruptionBudget');
    for (const o of objects) assert.match(o.metadata.name, /^order-intake(-flow)?$/, 'names derive from the flow');

    const pod = deploy.spec.template;
    const container = pod.spec.containers[0];
    assert.equal(container.image, 'registry.example/weft:1.0');
    assert.equal(deploy.spec.replicas, 3);
    assert.ok(matches(deploy.spec.selector.matchLabels, pod.metadata.labels), 'Deployment selector matches its pods');
    assert.ok(matches(svc.spec.selector, pod.metadata.labels), 'Service selector matches the pods');
    assert.ok(matches(pdb.spec.selector.matchLabels, pod.metadata.labels), 'PDB selector matches the pods');
    const ports = new Map<string, number>(container.ports.map((p: { name: string; containerPort: number }) => [p.name, p.containerPort]));
    for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
      assert.ok(ports.has(container[probe].httpGet.port), `${probe} port exists`);
      assert.equal(ports.get(container[probe].httpGet.port), ports.get('admin'), `${probe} on the admin port`);
    }
    assert.equal(container.livenessProbe.httpGet.path, '/healthz');
    assert.equal(container.readinessProbe.httpGet.path, '/readyz');
    for (const p of svc.spec.ports) assert.ok(ports.has(p.targetPort), `Service targetPort ${p.targetPort} exists`);
    const env = Object.fromEntries(container.env.map((e: { name: string; value: string }) => [e.name, e.value]));
    assert.equal(Number(env.ADMIN_PORT), ports.get('admin'));
    assert.equal(Number(env.PORT), ports.get('http'));
    assert.equal(env.ERP_URL, 'http://erp.billing:8080');
    assert.equal(pod.metadata.annotations['prometheus.io/scrape'], 'true');
    assert.equal(Number(pod.metadata.annotations['prometheus.io/port']), ports.get('admin'));
    assert.equal(pod.metadata.annotations['prometheus.io/path'], '/metrics');

    assert.deepEqual(hpa.spec.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: deploy.metadata.name });
    assert.equal(hpa.spec.minReplicas, 3);
    assert.equal(hpa.spec.maxReplicas, 12);
    assert.equal(container.resources.requests.cpu, '250m');
    assert.equal(container.resources.requests.memory, '300Mi');
    assert.equal(container.resources.limits.memory, '300Mi');

    assert.equal(pod.spec.securityContext.runAsNonRoot, true);
    assert.equal(container.securityContext.readOnlyRootFilesystem, true);
    assert.equal(container.securityContext.allowPrivilegeEscalation, false);
    const preStop = container.lifecycle.preStop.sleep.seconds;
    assert.ok(pod.spec.terminationGracePeriodSeconds > preStop + DRAIN_TIMEOUT_MS / 1000, 'grace period outlasts preStop + drain');

    // The ConfigMap volume, laid out as the kubelet would, is a flow that loads.
    const volume = pod.spec.volumes.find((v: { configMap?: { name: string } }) => v.configMap);
    assert.equal(volume.configMap.name, cm.metadata.name);
    const mount = container.volumeMounts.find((m: { name: string }) => m.name === volume.name);
    assert.deepEqual(container.args, ['run', `${mount.mountPath}/flow.yaml`]);
    const mounted = mkdtempSync(join(tmpdir(), 'weft-k8s-'));
    for (const item of volume.configMap.items as { key: string; path: string }[]) {
      assert.ok(item.key in cm.data, `ConfigMap has ${item.key}`);
      mkdirSync(dirname(join(mounted, item.path)), { recursive: true });
      writeFileSync(join(mounted, item.path), cm.data[item.key]);
    }
    assert.deepEqual(
      volume.configMap.items.map((i: { path: string }) => i.path).sort(),
      ['flow.yaml', 'idl/base.thrift', 'idl/shop.thrift', 'proto/common/money.proto', 'proto/shop/v1/order.proto', 'schemas/line.schema.json', 'schemas/order.schema.json'],
    );
    const loaded = await run(process.execPath, [WEFT_BIN, 'validate', join(mounted, 'flow.yaml')], { env: { ...process.env, ERP_URL: env.ERP_URL } });
    assert.match(loaded.stdout, /flow\.yaml: ok/);
  });

  it('the checks are not vacuous: a misspelled field and a wrong type are caught', () => {
    const deployment = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' }, spec: { selector: { matchLabels: { a: 'b' } }, template: { spec: { containers: [{ name: 'c', image: 'i', imagePullPolicyy: 'Always' }] } } } };
    const problems = unknownFieldProblems([deployment]);
    assert.equal(problems.length, 1);
    assert.match(problems[0], /imagePullPolicyy/);
    assert.throws(() => validateSchemas([{ ...deployment, spec: { ...deployment.spec, replicas: 'three' } }]), /replicas/);
  });

  it('a changed schema file changes the pod template, so applying it rolls the pods', async () => {
    const a = writeFlow(FLOW, FILES);
    const b = writeFlow(FLOW, { ...FILES, 'schemas/line.schema.json': '{"type":"object","required":["qty"]}' });
    const checksum = async (file: string) => {
      const r = await weft('k8s', file, '--image', 'weft:1', '--env', 'ERP_URL=http://erp');
      const d = parseAllDocuments(r.stdout).map((x) => x.toJS() as Obj).find((o) => o.kind === 'Deployment')!;
      return d.spec.template.metadata.annotations['weft.dev/flow-checksum'];
    };
    assert.notEqual(await checksum(a), await checksum(b));
  });

  it('on an invalid flow prints the load errors of weft validate and no manifests', async () => {
    const file = writeFlow('weft: 1\nname: bad\ntrigger:\n  http: { path: /x, mehtod: GET }\nsteps:\n  - transfrom: body\n');
    const k = await weft('k8s', file, '--image', 'weft:1');
    const v = await weft('validate', file);
    assert.equal(k.code, 1);
    assert.equal(k.stdout, '');
    assert.equal(k.stderr.trim(), v.stdout.trim());
    const missingEnv = await weft('k8s', writeFlow(FLOW, FILES), '--image', 'weft:1');
    assert.equal(missingEnv.code, 1);
    assert.match(missingEnv.stderr, /FLOW_ENV .*ERP_URL/);
  });

  it('refuses usage mistakes with exit 2', async () => {
    const file = writeFlow(FLOW, FILES);
    assert.equal((await weft('k8s', file)).code, 2, 'no --image');
    assert.equal((await weft('k8s', file, '--image', 'w', '--replicas', 'zero')).code, 2);
    assert.equal((await weft('k8s', file, '--image', 'w', '--cpu', 'lots')).code, 2);
    const r = await weft('k8s', file, '--image', 'w', '--env', 'ERP_URL=http://erp', '--min', '4', '--replicas', '2');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /min \(4\) <= replicas \(2\)/);
  });

  it('TLS keys and certificates come from a Secret projected beside the ConfigMap, never from the ConfigMap', async () => {
    const pki = createTestPki();
    const passphrase = join(pki.dir, 'passphrase');
    writeFileSync(passphrase, `${pki.passphrase}\n`);
    try {
      const file = writeFlow(
        `weft: 1
name: bank-payments
trigger:
  http: { method: POST, path: /pay }
endpoints:
  bank:
    http:
      url: https://bank.example
      tls: { ca: certs/ca.pem, cert: certs/client.pem, key: certs/client.key, passphrase: { file: ${passphrase} } }
steps:
  - validate: { schema: schemas/payment.schema.json }
  - call: bank
`,
        {
          'schemas/payment.schema.json': '{"type":"object"}',
          'certs/ca.pem': pki.pem.ca,
          'certs/client.pem': pki.pem.clientCert,
          'certs/client.key': readFileSync(pki.files.clientKeyEncrypted, 'utf8'),
        },
      );
      const r = await weft('k8s', file, '--image', 'weft:1', '--namespace', 'payments');
      assert.equal(r.code, 0, r.stderr);
      const objects = parseAllDocuments(r.stdout).map((d) => d.toJS() as Obj);
      validateSchemas(objects);
      assert.deepEqual(unknownFieldProblems(objects), []);
      assert.ok(!r.stdout.includes('PRIVATE KEY') && !r.stdout.includes('BEGIN CERTIFICATE'), 'no key or certificate in the manifests');

      const cm = byKind(objects, 'ConfigMap');
      assert.deepEqual(Object.keys(cm.data).sort(), ['flow.yaml', 'schemas__payment.schema.json']);
      const pod = byKind(objects, 'Deployment').spec.template;
      const volume = pod.spec.volumes.find((v: { name: string }) => v.name === 'flow');
      const [fromConfigMap, fromSecret] = volume.projected.sources;
      assert.equal(fromConfigMap.configMap.name, cm.metadata.name);
      assert.equal(fromSecret.secret.name, 'bank-payments-secret');
      assert.deepEqual(fromSecret.secret.items, [
        { key: 'certs__ca.pem', path: 'certs/ca.pem' },
        { key: 'certs__client.key', path: 'certs/client.key' },
        { key: 'certs__client.pem', path: 'certs/client.pem' },
      ]);

      // What to run for the Secret, and the file outside the flow's folder to mount by hand.
      assert.match(r.stderr, /kubectl create secret generic bank-payments-secret --namespace payments/);
      for (const item of fromSecret.secret.items as { key: string; path: string }[]) {
        assert.ok(r.stderr.includes(`--from-file=${item.key}=${join(dirname(file), item.path)}`), `${item.key} in ${r.stderr}`);
      }
      assert.ok(r.stderr.includes(`outside the flow's folder): ${passphrase}`), r.stderr);

      // Laid out as the kubelet projects both sources, the folder holds a flow that loads.
      const mounted = mkdtempSync(join(tmpdir(), 'weft-k8s-'));
      const place = (path: string, text: string) => {
        mkdirSync(dirname(join(mounted, path)), { recursive: true });
        writeFileSync(join(mounted, path), text);
      };
      for (const item of fromConfigMap.configMap.items as { key: string; path: string }[]) place(item.path, cm.data[item.key]);
      for (const item of fromSecret.secret.items as { key: string; path: string }[]) place(item.path, readFileSync(join(dirname(file), item.path), 'utf8'));
      const loaded = await run(process.execPath, [WEFT_BIN, 'validate', join(mounted, 'flow.yaml')]);
      assert.match(loaded.stdout, /flow\.yaml: ok/);
    } finally {
      pki.remove();
    }
  });

  describe('queue-triggered flows scale on their backlog with KEDA', () => {
    const QUEUE_FLOW = (trigger: string) => `weft: 1
name: order-events
trigger:
${trigger}
endpoints:
  out:
    amqp: { url: "\${env.AMQP_URL}", exchange: shop }
steps:
  - publish: { to: out, key: order.priced }
`;
    const DEAD = 'deadLetter: { to: out, key: dead }';

    it('amqp: a ScaledObject on the queue (host from the pods\' env), no Service, no traffic port, no CPU autoscaler', async () => {
      const file = writeFlow(QUEUE_FLOW(`  amqp: { url: "\${env.AMQP_URL}", queue: orders, ${DEAD} }`));
      const r = await weft('k8s', file, '--image', 'weft:1', '--env', 'AMQP_URL=amqp://guest:guest@rabbit:5672', '--min', '1', '--max', '30', '--queue-target', '50');
      assert.equal(r.code, 0, r.stderr);
      const objects = parseAllDocuments(r.stdout).map((d) => d.toJS() as Obj);
      assert.deepEqual(objects.map((o) => o.kind), ['ConfigMap', 'Deployment', 'ScaledObject', 'PodDisruptionBudget']);
      validateSchemas(objects);
      assert.deepEqual(unknownFieldProblems(objects), []);
      const so = byKind(objects, 'ScaledObject');
      const deploy = byKind(objects, 'Deployment');
      assert.deepEqual(so.spec.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: deploy.metadata.name });
      assert.equal(so.spec.minReplicaCount, 1);
      assert.equal(so.spec.maxReplicaCount, 30);
      assert.deepEqual(so.spec.triggers, [
        { type: 'rabbitmq', metadata: { protocol: 'amqp', queueName: 'orders', mode: 'QueueLength', value: '50', hostFromEnv: 'AMQP_URL' } },
      ]);
      const container = deploy.spec.template.spec.containers[0];
      assert.ok(container.env.some((e: { name: string }) => e.name === 'AMQP_URL'), 'KEDA reads the host from an env the container has');
      assert.deepEqual(container.ports.map((p: { name: string }) => p.name), ['admin']);
      assert.ok(!JSON.stringify(so).includes('guest:guest'), 'the ScaledObject carries no credentials');
    });

    it('nats: a ScaledObject on the stream and durable consumer through the monitoring endpoint', async () => {
      const file = writeFlow(QUEUE_FLOW(`  nats: { url: "nats://nats.messaging:4222", stream: ORDERS, subject: orders.>, durable: pricing, ${DEAD} }`));
      const r = await weft('k8s', file, '--image', 'weft:1', '--env', 'AMQP_URL=amqp://rabbit');
      assert.equal(r.code, 0, r.stderr);
      const objects = parseAllDocuments(r.stdout).map((d) => d.toJS() as Obj);
      validateSchemas(objects);
      assert.deepEqual(unknownFieldProblems(objects), []);
      assert.deepEqual(byKind(objects, 'ScaledObject').spec.triggers, [
        {
          type: 'nats-jetstream',
          metadata: { natsServerMonitoringEndpoint: 'nats.messaging:8222', account: '$G', stream: 'ORDERS', consumer: 'pricing', lagThreshold: '20' },
        },
      ]);
    });

    it('mqtt: KEDA has no MQTT scaler, so the CPU autoscaler stays', async () => {
      const file = writeFlow(QUEUE_FLOW(`  mqtt: { url: "mqtt://broker:1883", topic: orders/#, ${DEAD} }`));
      const r = await weft('k8s', file, '--image', 'weft:1', '--env', 'AMQP_URL=amqp://rabbit');
      assert.equal(r.code, 0, r.stderr);
      const kinds = parseAllDocuments(r.stdout).map((d) => (d.toJS() as Obj).kind);
      assert.deepEqual(kinds, ['ConfigMap', 'Deployment', 'HorizontalPodAutoscaler', 'PodDisruptionBudget']);
    });
  });

  describe('timer flows run as one pod', () => {
    const TIMER_FLOW = `weft: 1
name: nightly-sync
trigger:
  timer: { cron: "0 3 * * *", timezone: Europe/Berlin }
steps:
  - log: syncing
`;

    it('one replica, no autoscaler, Recreate rollouts, the reason on the Deployment', async () => {
      const r = await weft('k8s', writeFlow(TIMER_FLOW), '--image', 'weft:1');
      assert.equal(r.code, 0, r.stderr);
      const objects = parseAllDocuments(r.stdout).map((d) => d.toJS() as Obj);
      assert.deepEqual(objects.map((o) => o.kind), ['ConfigMap', 'Deployment', 'PodDisruptionBudget']);
      validateSchemas(objects);
      assert.deepEqual(unknownFieldProblems(objects), []);
      const deploy = byKind(objects, 'Deployment');
      assert.equal(deploy.spec.replicas, 1);
      assert.deepEqual(deploy.spec.strategy, { type: 'Recreate' });
      assert.match(deploy.metadata.annotations?.['weft.dev/single-replica'] ?? '', /every replica would fire each tick/);
      assert.deepEqual(deploy.spec.template.spec.containers[0].ports.map((p: { name: string }) => p.name), ['admin']);
    });

    it('refuses --replicas, --min or --max above 1', async () => {
      const file = writeFlow(TIMER_FLOW);
      const r = await weft('k8s', file, '--image', 'weft:1', '--replicas', '3', '--max', '6');
      assert.equal(r.code, 1);
      assert.match(r.stderr, /--replicas, --max: a timer flow runs as exactly one replica/);
      assert.equal((await weft('k8s', file, '--image', 'weft:1', '--replicas', '1')).code, 0);
    });
  });
});
