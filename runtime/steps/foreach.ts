import type { StepDef } from '../contract.ts';
import { withDetails } from '../engine/error-details.ts';
import { fanOut } from '../engine/fan-out.ts';
import { WeftError } from '../errors.ts';
import { ref } from '../flow/schema-parts.ts';
import { VAR_NAME } from './parallel.ts';
import { forbidRespond, insidePiece } from './scope.ts';

interface ForeachConfig {
  foreach: {
    items: unknown;
    steps: Record<string, unknown>[];
    concurrency?: number;
    collect?: boolean;
    as?: string;
  };
}

export const foreachStep: StepDef<ForeachConfig> = {
  name: 'foreach',
  summary: 'Split and aggregate: runs steps for every item of a list (body = the item, vars.index = its position); the final bodies, in input order, become the body or vars.<as>.',
  schema: {
    type: 'object',
    properties: {
      foreach: {
        type: 'object',
        properties: {
          items: { ...ref.expression, description: 'Expression giving the list. Nothing (no match) is an empty list; any other non-list fails with ITEMS_NOT_ARRAY.' },
          steps: ref.steps,
          concurrency: { type: 'integer', minimum: 1, maximum: 1000, description: 'Items processed at once. Default 1 (in order, one by one).' },
          collect: {
            type: 'boolean',
            description: 'Keep going when an item fails; its place holds { error: { code, message, status } }. Default false: the first failure cancels the rest.',
          },
          as: { type: 'string', pattern: VAR_NAME, description: 'Put the results in vars.<as> and leave the body unchanged.' },
        },
        required: ['items', 'steps'],
        additionalProperties: false,
      },
    },
    required: ['foreach'],
    additionalProperties: false,
  },
  compile(config, at) {
    const inner = at.child('foreach');
    const c = config.foreach;
    const items = inner.expression(c.items, 'items');
    forbidRespond(c.steps, inner.child('steps'), insidePiece('foreach'));
    const steps = inner.steps(c.steps, 'steps');
    const concurrency = c.concurrency ?? 1;
    const settle = c.collect === true;
    const as = c.as;

    return async function foreach(ex) {
      let list = items.evaluate(ex);
      if (list instanceof Promise) list = await list;
      if (list === undefined) list = [];
      if (!Array.isArray(list)) {
        throw new WeftError(
          'ITEMS_NOT_ARRAY',
          `foreach items (${items.source}) must be a list, got ${kindOf(list)}; JSONata unwraps a one-element result: write ${items.source}[] to keep it a list`,
        );
      }
      const all = list;
      const vars = ex.vars;
      const results = await fanOut(all.length, { concurrency, settle, cancel: ex.cancel }, async (index, cancel) => {
        const child = ex.fork({ body: all[index], vars: { ...vars, index }, cancel, deadline: ex.deadline });
        try {
          await steps(child);
        } catch (err) {
          throw withDetails(WeftError.from(err), { index });
        }
        return child.body;
      });
      if (as) ex.vars[as] = results;
      else ex.body = results;
    };
  },
};

function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'object') return 'an object';
  return `a ${typeof v} (${JSON.stringify(v)?.slice(0, 40)})`;
}
