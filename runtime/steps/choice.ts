import type { StepDef, StepFn } from '../contract.ts';
import type { Expression } from '../expr/expression.ts';
import { ref } from '../flow/schema-parts.ts';
import { truthy } from './values.ts';

interface Branch {
  when?: unknown;
  steps?: Record<string, unknown>[];
  otherwise?: Record<string, unknown>[];
}

export const choiceStep: StepDef<{ choice: Branch[] }> = {
  name: 'choice',
  summary: 'Content-based routing: runs the steps of the first branch whose `when` is true, else `otherwise`.',
  schema: {
    type: 'object',
    properties: {
      choice: {
        type: 'array',
        minItems: 1,
        items: {
          type: 'object',
          properties: { when: ref.expression, steps: ref.steps, otherwise: ref.steps },
          additionalProperties: false,
          minProperties: 1,
        },
      },
    },
    required: ['choice'],
    additionalProperties: false,
  },
  compile(config, at) {
    const inner = at.child('choice');
    const branches: { when: Expression; steps: StepFn }[] = [];
    let otherwise: StepFn | undefined;
    config.choice.forEach((b, i) => {
      const here = inner.child(i);
      if (b.otherwise !== undefined) {
        if (b.when !== undefined || b.steps !== undefined) here.problem('FLOW_SCHEMA', 'an `otherwise` branch has no `when` or `steps`: put its steps under `otherwise`');
        if (i !== config.choice.length - 1) here.problem('FLOW_SCHEMA', 'the `otherwise` branch must be the last one');
        otherwise = here.steps(b.otherwise, 'otherwise');
        return;
      }
      if (b.when === undefined) here.problem('FLOW_SCHEMA', 'a branch needs `when` (or is the last branch, `otherwise`)');
      if (b.steps === undefined) here.problem('FLOW_SCHEMA', 'a `when` branch needs `steps`');
      branches.push({ when: here.expression(b.when, 'when'), steps: here.steps(b.steps, 'steps') });
    });
    return async function choice(ex) {
      for (const b of branches) {
        let v = b.when.evaluate(ex);
        if (v instanceof Promise) v = await v;
        if (truthy(v)) return b.steps(ex);
      }
      if (otherwise) return otherwise(ex);
    };
  },
};
