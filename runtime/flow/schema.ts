/**
 * Assembles ONE JSON Schema (draft-07) for the whole flow language from the registered
 * component specs. The same schema validates flows at load time and is published for editors
 * (docs/weft-flow.schema.json; a test keeps the file in sync).
 *
 * A step, trigger or endpoint is an object named by exactly one kind key (`call:`,
 * `transform:`, `http:`). Each such place is a union: `oneOf` of "has key K" for the kind
 * check, and `if has K then K's schema` so that only the chosen kind's errors are reported.
 */
import type { JSONSchema, Spec } from '../contract.ts';
import { ENDPOINT_COMMON } from '../engine/endpoint-policy.ts';
import type { Registry } from '../registry.ts';
import { schemasSchema } from '../schemas/schema-set.ts';
import { DURATION_PATTERN, SIZE_PATTERN } from '../units.ts';
import { EXPECTED_KEYWORD, UNION_KEYWORD } from './schema-parts.ts';

export const FLOW_SCHEMA_ID = 'https://weft.dev/schemas/flow-v1.json';
export const NAME_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';

export function buildFlowSchema(registry: Registry): JSONSchema {
  const definitions: Record<string, JSONSchema> = {
    expression: {
      type: ['string', 'number', 'boolean', 'null'],
      description:
        'A JSONata expression over { body, headers, params, query, vars, env, error, flow, auth }. A JSON literal is an expression; a constant string must be quoted inside it.',
    },
    template: { type: 'string', description: 'Text with ${ expression } parts; $${ is a literal ${.' },
    duration: {
      type: ['string', 'integer'],
      pattern: DURATION_PATTERN,
      minimum: 0,
      [EXPECTED_KEYWORD]: 'a duration such as 250ms, 2s, 1m or 1h',
      description: 'A duration: 250ms, 2s, 1m, 1h, or milliseconds.',
    },
    size: {
      type: ['string', 'integer'],
      pattern: SIZE_PATTERN,
      minimum: 0,
      [EXPECTED_KEYWORD]: 'a size such as 512kb or 1mb',
      description: 'A size: 512kb, 1mb, or bytes.',
    },
    steps: { type: 'array', items: { $ref: '#/definitions/step' }, description: 'Steps run in order.' },
  };

  const steps = [...registry.steps.values()];
  for (const def of steps) definitions[`step.${def.name}`] = { description: def.summary, ...def.schema };
  definitions.step = union('step', steps, (d) => ({ $ref: `#/definitions/step.${d.name}` }));

  const endpoints = [...registry.endpoints.values()];
  for (const def of endpoints) {
    definitions[`endpoint.${def.name}`] = {
      type: 'object',
      description: def.summary,
      properties: { [def.name]: def.schema, ...ENDPOINT_COMMON },
      required: [def.name],
      additionalProperties: false,
    };
  }
  definitions.endpoint = union('endpoint', endpoints, (d) => ({ $ref: `#/definitions/endpoint.${d.name}` }));

  const triggers = [...registry.triggers.values()];
  for (const def of triggers) {
    definitions[`trigger.${def.name}`] = {
      type: 'object',
      description: def.summary,
      properties: { [def.name]: def.schema },
      required: [def.name],
      additionalProperties: false,
    };
  }

  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: FLOW_SCHEMA_ID,
    title: 'Weft flow',
    description: 'One integration flow: a trigger, the endpoints it calls, and the steps each message goes through.',
    type: 'object',
    required: ['weft', 'name', 'trigger'],
    additionalProperties: false,
    properties: {
      weft: { const: 1, description: 'Flow language version.' },
      name: {
        type: 'string',
        pattern: NAME_PATTERN,
        maxLength: 63,
        [EXPECTED_KEYWORD]: 'a DNS-1123 label (lower-case letters, digits and -, at most 63)',
        description: 'The flow name: used in logs, metrics and Kubernetes object names.',
      },
      description: { type: 'string' },
      schemas: schemasSchema,
      trigger: union('trigger', triggers, (d) => ({ $ref: `#/definitions/trigger.${d.name}` })),
      endpoints: {
        type: 'object',
        description: 'The other systems this flow calls, declared once, called by name.',
        propertyNames: { pattern: '^[A-Za-z][A-Za-z0-9_-]*$' },
        additionalProperties: { $ref: '#/definitions/endpoint' },
      },
      steps: { $ref: '#/definitions/steps' },
      on_error: { $ref: '#/definitions/steps', description: 'Runs when a step fails and nothing handled it.' },
    },
    definitions,
  };
}

function union(kind: string, defs: readonly Spec[], member: (d: Spec) => JSONSchema): JSONSchema {
  const keys = defs.map((d) => d.name);
  return {
    type: 'object',
    [UNION_KEYWORD]: { kind, keys },
    oneOf: keys.map((k) => ({ required: [k] })),
    allOf: defs.map((d) => ({ if: { required: [d.name] }, then: member(d) })),
  };
}
