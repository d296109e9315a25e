import type { StepDef } from '../contract.ts';
import type { Expression } from '../expr/expression.ts';
import { ref } from '../flow/schema-parts.ts';

export const setStep: StepDef<{ set: Record<string, unknown> }> = {
  name: 'set',
  summary: 'Sets vars.<name> to the value of each expression, in order (later ones see earlier ones).',
  schema: {
    type: 'object',
    properties: {
      set: {
        type: 'object',
        minProperties: 1,
        propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
        additionalProperties: ref.expression,
      },
    },
    required: ['set'],
    additionalProperties: false,
  },
  compile(config, at) {
    const inner = at.child('set');
    const entries: [string, Expression][] = Object.entries(config.set).map(([name, src]) => [name, inner.expression(src, name)]);
    if (entries.every(([, e]) => e.fast)) {
      return function setFast(ex) {
        for (const [name, expr] of entries) ex.vars[name] = expr.evaluate(ex);
      };
    }
    return async function set(ex) {
      for (const [name, expr] of entries) {
        const v = expr.evaluate(ex);
        ex.vars[name] = v instanceof Promise ? await v : v;
      }
    };
  },
};
