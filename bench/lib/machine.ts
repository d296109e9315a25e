/** The machine and versions a run was measured on, recorded beside its figures. */
import { spawnSync } from 'node:child_process';
import { cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { pickEntry } from '../../bin/entry.ts';
import { NGINX } from './nginx.ts';
import { NODE_RED_VERSION } from './node-red.ts';
import type { Pinning } from './process.ts';
import type { Machine } from './results.ts';

function output(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', cwd: join(import.meta.dirname, '../..') });
  return r.status === null ? 'absent' : `${r.stdout}${r.stderr}`.trim().split('\n')[0];
}

/** Which code the weft target runs, as bin/weft.js will choose it: startup figures differ by about 2x. */
export function weftEntry(): string {
  const e = pickEntry(join(import.meta.dirname, '../..'));
  return e.reason ? `${e.kind}: ${e.reason}` : e.kind;
}

export function collectMachine(pin: Pinning): Machine {
  return {
    date: new Date().toISOString(),
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGb: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    nginx: output(NGINX, ['-v']).replace('nginx version: ', ''),
    wrk: output('wrk', ['-v']).split(' [')[0],
    nodeRed: NODE_RED_VERSION,
    weftCommit: output('git', ['rev-parse', '--short', 'HEAD']),
    weftEntry: weftEntry(),
    pinning: pin.target === undefined ? 'none' : `targets on CPU ${pin.target}, wrk and backend on CPU ${pin.load}`,
  };
}
