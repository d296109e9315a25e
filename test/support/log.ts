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
