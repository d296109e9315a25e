/** A pino logger at trace level whose lines a test can search (e.g. for a secret that must not be there). */
import { Writable } from 'node:stream';
import { pino } from 'pino';

export function capturingLogger() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { log: pino({ level: 'trace' }, stream), text: () => lines.join('') };
}

/** A pino logger whose parsed lines a test can wait for (a skipped tick, a failed run). */
export function watchingLogger() {
  const lines: Record<string, unknown>[] = [];
  type Match = (l: Record<string, unknown>) => boolean;
  let waiters: { match: Match; n: number; resolve: (l: Record<string, unknown>) => void }[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      waiters = waiters.filter((w) => !settle(w));
      done();
    },
  });
  const settle = (w: (typeof waiters)[number]): boolean => {
    const matching = lines.filter(w.match);
    if (matching.length < w.n) return false;
    w.resolve(matching[w.n - 1]);
    return true;
  };
  return {
    log: pino({ level: 'debug' }, stream),
    lines,
    /** The `n`th line (seen already or to come) that `match` accepts. */
    line(match: Match, n = 1): Promise<Record<string, unknown>> {
      return new Promise((resolve) => {
        const w = { match, n, resolve };
        if (!settle(w)) waiters.push(w);
      });
    },
  };
}
