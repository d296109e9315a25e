/** The benchmark kit's own arithmetic and reporting: wrk parsing, medians, paired ratios, chart. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { XMLValidator } from 'fast-xml-parser';
import { chartSvg } from '../../../bench/lib/chart.ts';
import { markdownTables } from '../../../bench/lib/report.ts';
import type { BenchResults, LoadRow } from '../../../bench/lib/results.ts';
import { median, pairedRatio, spread } from '../../../bench/lib/stats.ts';
import { parseWrk } from '../../../bench/lib/wrk.ts';

// The layout wrk 4.1 prints with --latency (units vary per line).
const WRK = `Running 3s test @ http://127.0.0.1:40123/items/42
  1 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    21.40ms   12.02ms 154.78ms   90.12%
    Req/Sec     2.17k   211.30     2.52k    71.00%
  Latency Distribution
     50%  850.00us
     75%   24.01ms
     90%   31.50ms
     99%    1.20s
  6480 requests in 3.00s, 1.52MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:   2160.25
Transfer/sec:    519.00KB
`;

test('wrk output: req/s, percentiles in any unit, errors', () => {
  assert.deepEqual(parseWrk(WRK), { rps: 2160.25, p50Ms: 0.85, p99Ms: 1200, requests: 6480, errors: 7 });
  assert.throws(() => parseWrk('unable to connect to 127.0.0.1:1 Connection refused'), /not understood/);
});

test('median, spread and the median of per-round ratios', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 2, 3]), 2.5);
  assert.ok(Number.isNaN(median([])));
  assert.equal(spread([90, 100, 110]), 0.2);
  assert.equal(spread([5]), 0);
  // Round 2 was slow for both; the paired ratio stays 0.5 where the ratio of medians would not.
  assert.equal(pairedRatio([50, 10, 60], [100, 20, 120]), 0.5);
});

test('the chart has one labelled bar per target and scenario, and is well-formed SVG', () => {
  const row = (scenario: string, target: string, rps: number, ratio?: number): LoadRow => ({
    scenario, target, rounds: [], rps, p50Ms: 1, p99Ms: 2, rpsSpread: 0, cpuUsPerReq: 80,
    rpsRatio: ratio === undefined ? {} : { hono: ratio }, p99Ratio: {},
  });
  const results = {
    settings: { runs: 3 },
    load: [row('s1', 'weft', 900, 0.9), row('s1', 'hono', 1000), row('s2', 'weft', 300, 1.5), row('s2', 'hono', 200)],
  } as unknown as BenchResults;
  const svg = chartSvg(results, { s1: 'S1 <passthrough>', s2: 'S2' }, 'hono');
  assert.equal(XMLValidator.validate(svg), true);
  assert.equal(svg.match(/<rect x=/g)?.length, 4);
  assert.match(svg, /900 \(0\.90x\)/);
  assert.match(svg, /300 \(1\.50x\)/);
  assert.match(svg, /S1 &lt;passthrough>/);
});

test('the table shows the steady p99 ratio and the lead-in slices\' "p99 after idle" ratio apart', () => {
  const row = (target: string, p99Ratio: Record<string, number>, leadInP99Ratio?: Record<string, number>): LoadRow => ({
    scenario: 's3', target, rounds: [], rps: 1000, p50Ms: 1, p99Ms: 2, rpsSpread: 0, cpuUsPerReq: 80,
    rpsRatio: target === 'hono' ? {} : { hono: 0.95 }, p99Ratio, ...(leadInP99Ratio ? { leadInP99Ratio } : {}),
  });
  const results = {
    settings: { runs: 3 },
    load: [row('weft', { hono: 1.1 }, { hono: 2.5 }), row('hono', {}, {}), row('old', { hono: 1.2 })],
    startup: [],
    skipped: [],
  } as unknown as BenchResults;
  const lines = markdownTables(results).split('\n');
  assert.match(lines[0], /\| p99 vs hono \| p99 after idle vs hono \|$/);
  assert.match(lines.find((l) => l.includes('| weft |'))!, /\| 1\.10x \| 2\.50x \|$/);
  assert.match(lines.find((l) => l.includes('| old |'))!, /\| 1\.20x \|  \|$/, 'results from before lead-ins: an empty cell');
});
