import type { StepDef } from '../contract.ts';
import { WeftError } from '../errors.ts';
import { ref } from '../flow/schema-parts.ts';

interface TryConfig {
  try: { steps: Record<string, unknown>[]; catch: Record<string, unknown>[] };
}

export const tryStep: StepDef<TryConfig> = {
  name: 'try',
  summary: 'Local error handling: when a step under `steps` fails, `catch` runs with the failure in `error`; it may respond, fail again, or let the flow continue.',
  schema: {
    type: 'object',
    properties: {
      try: {
        type: 'object',
        properties: {
          steps: ref.steps,
          catch: { ...ref.steps, description: 'Runs when a step under `steps` fails; `error` holds the failure.' },
        },
        required: ['steps', 'catch'],
        additionalProperties: false,
      },
    },
    required: ['try'],
    additionalProperties: false,
  },
  compile(config, at) {
    const inner = at.child('try');
    const steps = inner.steps(config.try.steps, 'steps');
    const handler = inner.steps(config.try.catch, 'catch');
    return async function tryCatch(ex) {
      try {
        await steps(ex);
      } catch (err) {
        // Cancelled work (a sibling branch failed, the caller left) is not this catch's to handle.
        if (ex.cancel?.aborted) throw err;
        const outer = ex.error;
        ex.error = WeftError.from(err).toContext();
        try {
          await handler(ex);
        } finally {
          // Nested: after an inner catch, an outer catch sees its own error again.
          ex.error = outer;
        }
      }
    };
  },
};
