/**
 * The benchmark kit cannot rot silently: every target answers every scenario it claims with the
 * same JSON as the Weft flow, through the real nginx backend. Not a benchmark (no timing).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseExact } from '../../bench/lib/exact-json.ts';
import { startBackend } from '../../bench/lib/nginx.ts';
import { nodeRedInstalled } from '../../bench/lib/node-red.ts';
import { S5_ANSWER } from '../../bench/lib/order.ts';
import { startThriftBackend } from '../../bench/lib/thrift-backend.ts';
import { freePort, hasCommand, stop, waitForAnswer, type Proc } from '../../bench/lib/process.ts';
import { BACKEND, LOAD_SCENARIOS, S3_BRANCHES, SCENARIOS, type ScenarioId } from '../../bench/scenarios.ts';
import { TARGETS } from '../../bench/targets.ts';
import { skipUnless } from '../support/services.ts';

const nginx = hasCommand('/usr/sbin/nginx');
const skipNginx = skipUnless(nginx, 'nginx is not installed (apt-get install nginx-light), the benchmark backend');
// S5's backend is a Thrift server built from code that thrift-compiler generates at test time.
const skipThrift = skipUnless(hasCommand('thrift'), 'thrift-compiler is not installed (apt-get install thrift-compiler), for S5\'s Thrift backend');
const skipNodeRed = skipUnless(nodeRedInstalled(), 'Node-RED is not in bench/.cache (npm run bench -- --targets nodered installs it)');

/** What each scenario must answer, derived from the backend's fixtures. */
const json = (path: string): unknown => JSON.parse(BACKEND[path][1]);
const EXPECTED: Partial<Record<ScenarioId, unknown>> = {
  s1: json('/items/42'),
  s2: { sku: 'A-42', unitPrice: 12.25, qty: 3, total: 36.75, currency: 'EUR' },
  s3: Object.fromEntries(Object.entries(S3_BRANCHES).map(([k, p]) => [k, json(p)])),
  s5: S5_ANSWER,
};

describe('bench targets answer alike', { skip: skipNginx }, () => {
  let backend: Proc;
  let backendPort: number;
  let thrift: Proc | undefined;
  let thriftPort: number | undefined;
  before(async () => {
    backendPort = await freePort();
    backend = startBackend(undefined, backendPort);
    await waitForAnswer(backend, `http://127.0.0.1:${backendPort}`, { method: 'GET', path: '/items/42' }, 10_000);
    if (!skipThrift) {
      thriftPort = await freePort();
      thrift = await startThriftBackend(undefined, thriftPort);
    }
  });
  after(async () => {
    await stop(backend);
    if (thrift) await stop(thrift);
  });

  for (const target of TARGETS) {
    const skip = target.name === 'nodered' ? skipNodeRed : false;
    const scenarios = LOAD_SCENARIOS.filter((s) => target.scenarios.includes(s) && (s !== 's5' || !skipThrift));
    it(`${target.name} answers ${scenarios.join(', ')} as the Weft flows do`, { skip }, async () => {
      for (const id of scenarios) {
        const port = await freePort();
        const proc = target.start(id, { port, backendPort, thriftPort });
        try {
          const body = await waitForAnswer(proc, `http://127.0.0.1:${port}`, SCENARIOS[id], 30_000);
          // Exact: S5's order id is an i64 beyond 2^53.
          assert.deepEqual(parseExact(body), EXPECTED[id], `${target.name} ${id}`);
        } finally {
          await stop(proc);
        }
      }
    });
  }
});
