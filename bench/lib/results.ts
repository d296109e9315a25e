/** The shape of a benchmark run's results, as written to bench/results/*.json. */
import type { LoadResult } from './wrk.ts';

export interface LoadRow {
  scenario: string;
  target: string;
  rounds: LoadResult[];
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** (max - min) / median of req/s over the rounds. */
  rpsSpread: number;
  /** Median CPU time of the target per request, in microseconds: steadier than req/s on a busy machine. */
  cpuUsPerReq: number;
  /** baseline name -> median of per-round ratios of req/s (higher is better for the target). */
  rpsRatio: Record<string, number>;
  /** baseline name -> median of per-round ratios of p99 (lower is better). */
  p99Ratio: Record<string, number>;
  /** The lead-in slices before each round's measured one: load right after the target idled (absent in older results). */
  leadIn?: LoadResult[];
  leadInP99Ms?: number;
  /** baseline name -> median of per-round ratios of the lead-in slices' p99. */
  leadInP99Ratio?: Record<string, number>;
}

export interface StartupSample {
  startupMs: number;
  rssIdleMb: number;
  rssLoadedMb: number;
}

export interface StartupRow {
  target: string;
  samples: StartupSample[];
  startupMs: number;
  rssIdleMb: number;
  rssLoadedMb: number;
  startupSpread: number;
  startupRatio: Record<string, number>;
  rssIdleRatio: Record<string, number>;
}

export interface Machine {
  date: string;
  cpu: string;
  cores: number;
  memoryGb: number;
  kernel: string;
  node: string;
  nginx: string;
  wrk: string;
  nodeRed: string;
  weftCommit: string;
  /** What `node bin/weft.js` ran: "bundle", or "sources" with the reason (bin/entry.ts); absent in older results. */
  weftEntry?: string;
  pinning: string;
}

export interface Settings {
  targets: string[];
  scenarios: string[];
  durationS: number;
  warmupS: number;
  /** Seconds of unmeasured-for-the-ratios load before each measured slice (absent in older results: none). */
  leadInS?: number;
  runs: number;
  connections: number;
}

export interface BenchResults {
  machine: Machine;
  settings: Settings;
  load: LoadRow[];
  startup: StartupRow[];
  skipped: { target: string; why: string }[];
}
