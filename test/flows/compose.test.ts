/**
 * docker-compose.yml for the retail example hangs together (no compose engine runs in `npm
 * test`): the baked flow loads with the URLs compose gives it, each URL names a stand-in
 * service on the port that service listens on, and every mounted file exists.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { loadFlowOffline } from '../../runtime/flow/offline.ts';

const ROOT = join(import.meta.dirname, '../..');

type Service = { build?: { args?: Record<string, string> }; environment?: Record<string, string>; command?: string[]; volumes?: string[]; ports?: string[] };

describe('docker-compose.yml (retail example)', () => {
  const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, Service> };
  const store = compose.services.store;

  it('bakes the store flow, which loads with the service URLs compose sets', () => {
    const flow = store.build!.args!.FLOW;
    assert.ok(existsSync(join(ROOT, flow)), flow);
    const loaded = loadFlowOffline(join(ROOT, flow), { env: store.environment });
    assert.equal(loaded.info.name, 'store');
    for (const [name, url] of Object.entries(store.environment!).filter(([k]) => k.endsWith('_URL'))) {
      const { hostname, port } = new URL(url);
      const target = compose.services[hostname];
      assert.ok(target, `${name} names the compose service ${hostname}`);
      assert.deepEqual(target.command, [hostname, port], `${hostname} listens on ${port}`);
      assert.ok(target.volumes!.every((v) => existsSync(join(ROOT, v.split(':')[0]))), `${hostname} mounts files that exist`);
    }
  });

  it('publishes no fixed host port for the flow, so --scale can run several replicas', () => {
    for (const p of store.ports!) assert.doesNotMatch(p, /:/, `port ${p} is ephemeral on the host`);
  });
});
