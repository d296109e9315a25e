import type { StepDef } from '../contract.ts';
import { ref } from '../flow/schema-parts.ts';
import { then } from './values.ts';

export const transformStep: StepDef<{ transform: unknown }> = {
  name: 'transform',
  summary: "Replaces the body with the expression's value.",
  schema: {
    type: 'object',
    properties: { transform: ref.expression },
    required: ['transform'],
    additionalProperties: false,
  },
  compile(config, at) {
    const expr = at.expression(config.transform, 'transform');
    return function transform(ex) {
      return then(expr.evaluate(ex), (value) => {
        ex.body = value;
      });
    };
  },
};
