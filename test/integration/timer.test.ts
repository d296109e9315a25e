/**
 * The timer trigger with real timers (short periods) against a real loopback backend that
 * counts, holds and fails calls. Tests wait for calls and log lines, not for fixed times; only
 * "nothing more happens" is checked over a few periods.
 */
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, it } from 'node:test';
import { assertProblem, loadProblems, startTestFlow, writeFlow, type TestFlow } from '../support/flow.ts';
import { watchingLogger } from '../support/log.ts';
import { spawnWeft } from '../support/process.ts';
import { json, startUpstream, type Recorded, type Upstream } from '../support/upstream.ts';

const T = { timeout: 15_000 };

/** A backend whose answers the test decides per call, and whose calls the test can await. */
async function backend(answer: (n: number, res: ServerResponse) => void | Promise<void>) {
  let concurrent = 0;
  let maxConcurrent = 0;
  const waiters: { n: number; resolve: () => void }[] = [];
  const upstream: Upstream = await startUpstream(async (_req: Recorded, res) => {
    concurrent++;
    maxConcurrent = Math.max(maxConcurrent, concurrent);
    res.on('close', () => concurrent--);
    const n = upstream.requests.length;
    for (const w of waiters.filter((w) => n >= w.n)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
    await answer(n, res);
  });
  return {
    upstream,
    get maxConcurrent() {
      return maxConcurrent;
    },
    /** Resolves once `n` calls have arrived. */
    calls: (n: number) => (upstream.requests.length >= n ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ n, resolve }))),
  };
}

const pollFlow = (timer: string, url: string, extra = '') => `weft: 1
name: poller
trigger:
  timer: ${timer}
endpoints:
  source: { http: { url: "${url}" }, timeout: 5s }
steps:
  - call: source
    path: /changes
  - log: "run ${'${params.run}'} got ${'${body.n}'}"
${extra}`;

/** A counter's value in the flow's /metrics, 0 when the series is absent. */
async function metric(flow: TestFlow, series: string): Promise<number> {
  const text = await (await fetch(`${flow.adminUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.split(' ')[1]);
}

describe('timer trigger', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  it('runs the steps every period with a null body, a tick id and params', T, async () => {
    const b = await backend((n, res) => json(res, 200, { n }));
    cleanup.push(() => b.upstream.close());
    const flow = await startTestFlow(`weft: 1
name: poller
trigger:
  timer: { every: 50ms }
endpoints:
  source: { http: { url: "${b.upstream.url}" } }
steps:
  - call: source
    method: POST
    path: /changes
    body: '{ "body": body, "vars": vars, "scheduled": params.scheduled, "run": params.run }'
`);
    cleanup.push(() => flow.stop());
    assert.equal((await fetch(`${flow.adminUrl}/readyz`)).status, 200);
    await b.calls(3);
    const sent = b.upstream.requests.slice(0, 3).map((r) => JSON.parse(r.body) as Record<string, unknown>);
    assert.deepEqual(sent.map((s) => [s.body, s.vars, s.run]), [[null, {}, '1'], [null, {}, '2'], [null, {}, '3']]);
    const times = sent.map((s) => Date.parse(s.scheduled as string));
    // A fixed rate from the start: ticks fall on whole periods (a busy machine may skip one).
    for (const gap of [times[1] - times[0], times[2] - times[1]]) assert.ok(gap > 0 && gap % 50 === 0, `gap ${gap}`);
    const ids = b.upstream.requests.slice(0, 3).map((r) => r.headers['x-request-id']);
    assert.deepEqual(ids, sent.map((s) => `poller@${s.scheduled as string}`));
    assert.ok((await metric(flow, 'weft_timer_runs_total{outcome="ok",flow="poller"}')) >= 3);
  });

  it('never overlaps runs: a tick during a slow run is skipped and logged', T, async () => {
    let release: () => void = () => {};
    const held = new Promise<void>((r) => (release = r));
    const b = await backend(async (n, res) => {
      if (n === 1) await held;
      json(res, 200, { n });
    });
    cleanup.push(() => b.upstream.close());
    const watch = watchingLogger();
    const flow = await startTestFlow(pollFlow('{ every: 50ms }', b.upstream.url), { log: watch.log });
    cleanup.push(() => flow.stop());
    await b.calls(1);
    // Two ticks pass while the first run waits on the backend.
    const skip = await watch.line((l) => l.msg === 'timer tick skipped: the previous run is still going', 2);
    assert.match(String(skip.running), /^poller@/);
    assert.equal(b.upstream.requests.length, 1);
    assert.ok((await metric(flow, 'weft_timer_skipped_total{flow="poller"}')) >= 2);
    release();
    await b.calls(3);
    assert.equal(b.maxConcurrent, 1);
    assert.ok(watch.lines.some((l) => l.msg === 'run 1 got 1'));
  });

  it('goes on after failed runs: on_error runs, the error is logged with its code', T, async () => {
    const b = await backend((n, res) => (n <= 2 ? json(res, 503, { down: true }) : json(res, 200, { n })));
    cleanup.push(() => b.upstream.close());
    const watch = watchingLogger();
    const flow = await startTestFlow(pollFlow('{ every: 50ms }', b.upstream.url, `on_error:
  - log: { level: warn, message: "poll failed: ${'${error.code}'}" }
`), { log: watch.log });
    cleanup.push(() => flow.stop());
    await watch.line((l) => l.msg === 'run 3 got 3');
    const failures = watch.lines.filter((l) => l.level === 50 && String(l.msg).startsWith('timer run failed'));
    assert.deepEqual(failures.map((l) => [l.code, l.step]), [['UPSTREAM_STATUS', 'steps[0].call'], ['UPSTREAM_STATUS', 'steps[0].call']]);
    assert.equal(watch.lines.filter((l) => l.msg === 'poll failed: UPSTREAM_STATUS').length, 2);
    assert.equal(await metric(flow, 'weft_timer_runs_total{outcome="UPSTREAM_STATUS",flow="poller"}'), 2);
  });

  it('stop() waits for the running tick, then schedules nothing more', T, async () => {
    let release: () => void = () => {};
    const held = new Promise<void>((r) => (release = r));
    const b = await backend(async (n, res) => {
      await held;
      json(res, 200, { n });
    });
    cleanup.push(() => b.upstream.close());
    const watch = watchingLogger();
    const flow = await startTestFlow(pollFlow('{ every: 50ms }', b.upstream.url), { log: watch.log });
    await b.calls(1);
    let stopped = false;
    const stopping = flow.stop().then(() => (stopped = true));
    assert.equal((await fetch(`${flow.adminUrl}/readyz`)).status, 503);
    assert.equal(stopped, false, 'stop() must wait for the run in flight');
    release();
    await stopping;
    assert.ok(watch.lines.some((l) => l.msg === 'run 1 got 1'), 'the running tick finished');
    await sleep(200);
    assert.equal(b.upstream.requests.length, 1, 'no tick after stop()');
  });

  it('cancels a run that outlasts the drain timeout', T, async () => {
    const b = await backend(() => new Promise<void>(() => {}));
    cleanup.push(() => b.upstream.close());
    const watch = watchingLogger();
    const flow = await startTestFlow(pollFlow('{ every: 50ms }', b.upstream.url), { log: watch.log, drainTimeoutMs: 100 });
    await b.calls(1);
    await flow.stop();
    const failed = await watch.line((l) => String(l.msg).startsWith('timer run failed'));
    assert.equal(failed.code, 'ABORTED');
  });

  it('timeout bounds a run, so a hanging backend does not hold the schedule back', T, async () => {
    const b = await backend((n, res) => (n === 1 ? undefined : json(res, 200, { n })));
    cleanup.push(() => b.upstream.close());
    const watch = watchingLogger();
    const flow = await startTestFlow(pollFlow('{ every: 50ms, timeout: 120ms }', b.upstream.url), { log: watch.log });
    cleanup.push(() => flow.stop());
    const failed = await watch.line((l) => String(l.msg).startsWith('timer run failed'));
    assert.equal(failed.code, 'DEADLINE_EXCEEDED');
    assert.match(String(failed.msg), /the timer run timeout of 120 ms/);
    await watch.line((l) => l.msg === 'run 2 got 2');
  });

  it('runOnStart runs once at start, long before the first tick', T, async () => {
    const b = await backend((n, res) => json(res, 200, { n }));
    cleanup.push(() => b.upstream.close());
    const flow = await startTestFlow(pollFlow('{ every: 1h, runOnStart: true }', b.upstream.url));
    cleanup.push(() => flow.stop());
    await b.calls(1);
    assert.equal((await fetch(`${flow.adminUrl}/readyz`)).status, 200);
  });

  it('does not start with a bad schedule or a respond step', async () => {
    const cron = await loadProblems(`weft: 1
name: t
trigger:
  timer:
    cron: "61 * * * *"
`);
    assertProblem(cron, 5, /FLOW_SCHEMA invalid cron expression "61 \* \* \* \*": Invalid value for minute: 61/);
    const zone = await loadProblems(`weft: 1
name: t
trigger:
  timer: { cron: "0 9 * * MON-FRI", timezone: Mars/Olympus }
`);
    assertProblem(zone, 4, /unknown timezone 'Mars\/Olympus'/);
    const both = await loadProblems(`weft: 1
name: t
trigger:
  timer:
    every: 5s
    cron: "* * * * *"
`);
    assertProblem(both, 6, /exactly one of `every` \(a duration\) or `cron`/);
    const neither = await loadProblems(`weft: 1
name: t
trigger:
  timer: { runOnStart: true }
`);
    assertProblem(neither, 4, /exactly one of `every`/);
    const zoneWithEvery = await loadProblems(`weft: 1
name: t
trigger:
  timer: { every: 5s, timezone: UTC }
`);
    assertProblem(zoneWithEvery, 4, /`timezone` applies to `cron` only/);
    const never = await loadProblems(`weft: 1
name: t
trigger:
  timer: { cron: "0 0 30 2 *" }
`);
    assertProblem(never, 4, /never fires/);
    const period = await loadProblems(`weft: 1
name: t
trigger:
  timer: { every: 5 minutes }
`);
    assertProblem(period, 4, /'trigger.timer.every' must be a duration/);
    const respond = await loadProblems(`weft: 1
name: t
trigger:
  timer: { every: 5s }
steps:
  - log: x
  - respond: { status: 200 }
on_error:
  - try:
      steps: [{ log: y }]
      catch:
        - respond: { status: 500 }
`);
    assertProblem(respond, 7, /respond is not allowed in a timer flow: nobody waits for an answer/);
    assertProblem(respond, 12, /respond is not allowed in a timer flow/);
  });

  it('runs through the real CLI and exits 0 on SIGTERM', T, async () => {
    const b = await backend((n, res) => json(res, 200, { n }));
    cleanup.push(() => b.upstream.close());
    const p = spawnWeft(['run', writeFlow(pollFlow('{ every: 50ms, runOnStart: true }', b.upstream.url)), '--port', '0', '--admin-port', '0', '--host', '127.0.0.1']);
    cleanup.push(async () => {
      if (p.child.exitCode === null) p.child.kill('SIGKILL');
    });
    const ready = await p.ready;
    assert.equal(ready.route, 'timer every 50 ms, and once on start');
    await b.calls(2);
    p.child.kill('SIGTERM');
    assert.equal(await p.exited, 0);
    assert.ok(p.logs.some((l) => l.msg === 'run 1 got 1'));
  });
});
