import type { StepDef, StepFn } from '../contract.ts';
import { fanOut } from '../engine/fan-out.ts';
import { WeftError } from '../errors.ts';
import { ref } from '../flow/schema-parts.ts';
import { parseDuration } from '../units.ts';
import { forbidRespond, insidePiece, soonerDeadline } from './scope.ts';

type StepConfig = Record<string, unknown>;

interface ParallelConfig {
  parallel: Record<string, StepConfig | StepConfig[]>;
  settle?: boolean;
  timeout?: string | number;
}

export const VAR_NAME = '^[A-Za-z_][A-Za-z0-9_]*$';

export const parallelStep: StepDef<ParallelConfig> = {
  name: 'parallel',
  summary: 'Scatter-gather: runs named branches concurrently; each branch\'s final body lands in vars.<branch>. Fails fast (aborting the others) unless `settle: true`.',
  schema: {
    type: 'object',
    properties: {
      parallel: {
        type: 'object',
        minProperties: 1,
        propertyNames: { pattern: VAR_NAME, 'x-weft-expected': 'a variable name (letters, digits, _)' },
        additionalProperties: {
          if: { type: 'array' },
          then: ref.steps,
          else: { $ref: '#/definitions/step' },
          description: 'A step, or a list of steps, run on its own copy of body and vars.',
        },
      },
      settle: {
        type: 'boolean',
        description: 'Let every branch finish; a failed branch becomes vars.<branch> = { error: { code, message, status } }. Default false: the first failure cancels the others.',
      },
      timeout: { ...ref.duration, description: 'Time limit for the whole group: calls in every branch get at most what is left of it.' },
    },
    required: ['parallel'],
    additionalProperties: false,
  },
  compile(config, at) {
    const inner = at.child('parallel');
    const names = Object.keys(config.parallel);
    const branches: StepFn[] = names.map((name) => {
      const branch = config.parallel[name];
      forbidRespond(branch, inner.child(name), insidePiece('a parallel branch'));
      return inner.steps(Array.isArray(branch) ? branch : [branch], name);
    });
    const settle = config.settle === true;
    const timeoutMs = config.timeout === undefined ? undefined : parseDuration(config.timeout);
    const what = `the parallel timeout of ${timeoutMs} ms (${at.path})`;

    return async function parallel(ex) {
      for (const name of names) {
        if (ex.vars[name] !== undefined) {
          throw new WeftError('VAR_CONFLICT', `parallel branch '${name}' would overwrite vars.${name}, which is already set; rename the branch or the variable`);
        }
      }
      const deadline = soonerDeadline(ex.deadline, timeoutMs, what);
      const vars = ex.vars;
      // Not an async job: the branch's own promise carries its body, one frame less per branch.
      const results = await fanOut(branches.length, { concurrency: Infinity, settle, cancel: ex.cancel }, (i, cancel) => {
        const child = ex.fork({ vars: { ...vars }, cancel, deadline });
        const pending = branches[i](child);
        return pending === undefined ? child.body : pending.then(() => child.body);
      });
      names.forEach((name, i) => (ex.vars[name] = results[i]));
    };
  },
};
