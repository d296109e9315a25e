/**
 * The run's results as Markdown tables (printed, and put into docs/benchmarks.md between its
 * markers) and the SVG chart beside it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SCENARIOS, type ScenarioId } from '../scenarios.ts';
import { chartSvg } from './chart.ts';
import type { BenchResults } from './results.ts';

const DOC = join(import.meta.dirname, '../../docs/benchmarks.md');
const SVG = join(import.meta.dirname, '../../docs/benchmarks.svg');
/** The reference the chart and the headline ratios use: Weft's own stack, hand-written. */
export const REFERENCE = 'hono';

const titles = Object.fromEntries(Object.values(SCENARIOS).map((s) => [s.id, s.title]));
const x = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? '' : `${n.toFixed(2)}x`);
const pct = (n: number) => `${Math.round(n * 100)} %`;

export function markdownTables(r: BenchResults): string {
  const baselines = [...new Set(r.load.flatMap((row) => Object.keys(row.rpsRatio)).concat(r.startup.flatMap((row) => Object.keys(row.startupRatio))))];
  const lines: string[] = [];
  if (r.load.length > 0) {
    lines.push(
      `| scenario | target | req/s | p50 ms | p99 ms | spread | CPU us/req | ${baselines.map((b) => `req/s vs ${b}`).join(' | ')} | p99 vs ${REFERENCE} | p99 after idle vs ${REFERENCE} |`,
      `|---|---|--:|--:|--:|--:|--:|${baselines.map(() => '--:').join('|')}|--:|--:|`,
    );
    for (const row of r.load) {
      lines.push(
        `| ${titles[row.scenario as ScenarioId]} | ${row.target} | ${Math.round(row.rps)} | ${row.p50Ms.toFixed(2)} | ${row.p99Ms.toFixed(2)} | ${pct(row.rpsSpread)} | ${Math.round(row.cpuUsPerReq)} | ${baselines
          .map((b) => (b === row.target ? '1.00x' : x(row.rpsRatio[b])))
          .join(' | ')} | ${row.target === REFERENCE ? '1.00x' : x(row.p99Ratio[REFERENCE])} | ${row.target === REFERENCE ? '1.00x' : x(row.leadInP99Ratio?.[REFERENCE])} |`,
      );
    }
    lines.push('');
  }
  if (r.startup.length > 0) {
    lines.push(
      `| S4 target | ready ms | spread | RSS idle MB | RSS after S1 load MB | ready vs ${REFERENCE} | RSS idle vs ${REFERENCE} |`,
      '|---|--:|--:|--:|--:|--:|--:|',
    );
    for (const row of r.startup) {
      const self = row.target === REFERENCE;
      lines.push(
        `| ${row.target} | ${row.startupMs.toFixed(0)} | ${pct(row.startupSpread)} | ${row.rssIdleMb.toFixed(1)} | ${row.rssLoadedMb.toFixed(1)} | ${self ? '1.00x' : x(row.startupRatio[REFERENCE])} | ${self ? '1.00x' : x(row.rssIdleRatio[REFERENCE])} |`,
      );
    }
    lines.push('');
  }
  for (const s of r.skipped) lines.push(`Skipped ${s.target}: ${s.why}.`);
  return lines.join('\n');
}

function machineBlock(r: BenchResults): string {
  const m = r.machine;
  const s = r.settings;
  return [
    `Measured ${m.date} on ${m.cpu}, ${m.cores} cores, ${m.memoryGb} GB, Linux ${m.kernel}; Node ${m.node}, nginx ${m.nginx}, ${m.wrk}, Node-RED ${m.nodeRed}, Weft at ${m.weftCommit}${m.weftEntry ? ` running its ${m.weftEntry}` : ''}.`,
    `Pinning: ${m.pinning}. wrk: 1 thread, ${s.connections} connections, ${s.warmupS} s warm-up then ${s.runs} rounds of ${s.durationS} s slices per target, rotating order${s.leadInS ? `, each after a ${s.leadInS} s lead-in slice on the same target ("p99 after idle")` : ''}.`,
    `Command: \`npm run bench -- --targets ${s.targets.join(',')} --scenarios ${s.scenarios.join(',')} --duration ${s.durationS} --warmup ${s.warmupS}${s.leadInS !== undefined ? ` --lead-in ${s.leadInS}` : ''} --runs ${s.runs} --connections ${s.connections}\``,
    '',
    '"spread" is (max - min) / median of the rounds of one target: how noisy the machine was.',
  ].join('\n');
}

/** Rewrites the part of docs/benchmarks.md between `<!-- bench:NAME:begin -->` and its end marker. */
export function writeDocSection(name: string, body: string): void {
  const [begin, end] = [`<!-- bench:${name}:begin -->`, `<!-- bench:${name}:end -->`];
  const doc = readFileSync(DOC, 'utf8');
  const a = doc.indexOf(begin);
  const b = doc.indexOf(end);
  if (a < 0 || b < a) throw new Error(`docs/benchmarks.md lacks the ${begin} ... ${end} markers`);
  writeFileSync(DOC, `${doc.slice(0, a + begin.length)}\n${body}\n${doc.slice(b)}`);
}

/** Rewrites the results section of docs/benchmarks.md and docs/benchmarks.svg. */
export function writeDocs(r: BenchResults): void {
  writeDocSection('results', [machineBlock(r), '', markdownTables(r), '![req/s per target](benchmarks.svg)'].join('\n'));
  if (r.load.length > 0) writeFileSync(SVG, chartSvg(r, titles, REFERENCE));
}
