import type { StepDef } from '../contract.ts';
import { compileSchemaFile } from '../json-schema.ts';

export const validateStep: StepDef<{ validate: { schema: string } }> = {
  name: 'validate',
  summary: 'Checks the body against a JSON Schema file; fails with VALIDATION (400 at a trigger) listing every failing path.',
  schema: {
    type: 'object',
    properties: {
      validate: {
        type: 'object',
        properties: { schema: { type: 'string', description: 'JSON Schema file (JSON or YAML), relative to the flow file.' } },
        required: ['schema'],
        additionalProperties: false,
      },
    },
    required: ['validate'],
    additionalProperties: false,
  },
  compile(config, at) {
    const inner = at.child('validate');
    const file = inner.file(config.validate.schema, 'schema');
    if (!file) return () => {};
    let check: (value: unknown) => void;
    try {
      check = compileSchemaFile(file);
    } catch (err) {
      inner.problem('FLOW_FILE', `'${config.validate.schema}' is not a usable JSON Schema: ${(err as Error).message}`, 'schema');
      return () => {};
    }
    return function validate(ex) {
      check(ex.body);
    };
  },
};
