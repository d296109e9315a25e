import type { StepDef } from '../contract.ts';
import { ref } from '../flow/schema-parts.ts';

type Level = 'trace' | 'debug' | 'info' | 'warn' | 'error';
interface LogConfig {
  level?: Level;
  message: string;
}

export const logStep: StepDef<{ log: LogConfig | string }> = {
  name: 'log',
  summary: 'Writes a structured log line (JSON) with the flow name, request id and step.',
  schema: {
    type: 'object',
    properties: {
      log: {
        oneOf: [
          { ...ref.template, description: 'The message (level info).' },
          {
            type: 'object',
            properties: {
              level: { enum: ['trace', 'debug', 'info', 'warn', 'error'], description: 'Default info.' },
              message: ref.template,
            },
            required: ['message'],
            additionalProperties: false,
          },
        ],
      },
    },
    required: ['log'],
    additionalProperties: false,
  },
  compile(config, at) {
    const c: LogConfig = typeof config.log === 'string' ? { message: config.log } : config.log;
    const message = typeof config.log === 'string' ? at.template(c.message, 'log') : at.child('log').template(c.message, 'message');
    const level: Level = c.level ?? 'info';
    const step = at.path;
    return async function log(ex) {
      if (!ex.log.isLevelEnabled(level)) return;
      const text = await message.render(ex);
      ex.log[level]({ reqId: ex.id, step }, text);
    };
  },
};
