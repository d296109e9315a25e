/** JSON lines on stdout (pino): one logger per process, bound to the flow's name. */
import { pino } from 'pino';

export type Logger = pino.Logger;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The process logger; the flow name is bound with child({ flow }) once the flow is loaded. */
export function createLogger(level: string = process.env.LOG_LEVEL ?? 'info'): Logger {
  const valid = (LOG_LEVELS as readonly string[]).includes(level) ? level : 'info';
  return pino({
    level: valid,
    base: undefined,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  });
}

/** A logger that writes nothing: tests and `weft validate`. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
