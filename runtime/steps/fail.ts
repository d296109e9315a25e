import type { StepDef } from '../contract.ts';
import { CODE_PATTERN, WeftError } from '../errors.ts';
import { ref } from '../flow/schema-parts.ts';

interface FailConfig {
  status?: number;
  code?: string;
  message?: string;
}

export const failStep: StepDef<{ fail: FailConfig }> = {
  name: 'fail',
  summary: 'Raises an error with a code, status and message; on_error or a catch may handle it.',
  schema: {
    type: 'object',
    properties: {
      fail: {
        type: 'object',
        properties: {
          status: { type: 'integer', minimum: 400, maximum: 599, description: 'HTTP status a trigger answers with. Default 500.' },
          code: { type: 'string', pattern: CODE_PATTERN.source, 'x-weft-expected': 'an UPPER_SNAKE_CASE code', description: 'Default FAILED.' },
          message: { ...ref.template, description: 'What went wrong (a template).' },
        },
        additionalProperties: false,
      },
    },
    required: ['fail'],
    additionalProperties: false,
  },
  compile(config, at) {
    const c = config.fail;
    const message = at.child('fail').template(c.message ?? 'the flow failed', 'message');
    const code = c.code ?? 'FAILED';
    const status = c.status ?? 500;
    return async function fail(ex) {
      throw new WeftError(code, await message.render(ex), { status });
    };
  },
};
