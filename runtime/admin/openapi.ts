/**
 * The flow's OpenAPI 3.1 document: the trigger describes its route (connectors know their
 * protocol), this adds what every flow shares: info from the flow's name and description,
 * and the problem document every error answers with. Served at the admin port's
 * /openapi.json and printed by `weft openapi FLOW`.
 */
import type { JSONSchema } from '../contract.ts';
import type { CompiledFlow } from '../flow/compile.ts';

export const PROBLEM_SCHEMA: JSONSchema = {
  type: 'object',
  description: 'RFC 9457 problem document; `code` is stable (docs/errors.md).',
  required: ['type', 'title', 'status', 'detail', 'code', 'requestId'],
  properties: {
    type: { type: 'string', examples: ['urn:weft:error:VALIDATION'] },
    title: { type: 'string' },
    status: { type: 'integer', minimum: 400, maximum: 599 },
    detail: { type: 'string' },
    code: { type: 'string', pattern: '^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$' },
    requestId: { type: 'string' },
    step: { type: 'string', description: 'Path of the step that failed, e.g. steps[2].call.' },
    endpoint: { type: 'string', description: 'The endpoint whose call failed.' },
    violations: { type: 'array', items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } } },
    compensated: { type: 'array', items: { type: 'object' } },
  },
};

export function buildOpenApi(flow: CompiledFlow): JSONSchema {
  const api = flow.trigger.describeApi?.() ?? { paths: {}, schemas: {} };
  return {
    openapi: '3.1.0',
    info: {
      title: flow.info.name,
      version: '1',
      ...(flow.doc.description ? { description: flow.doc.description } : {}),
      'x-weft-trigger': flow.trigger.describe,
    },
    paths: api.paths,
    components: {
      schemas: { ...api.schemas, Problem: PROBLEM_SCHEMA },
      ...(api.securitySchemes && Object.keys(api.securitySchemes).length ? { securitySchemes: api.securitySchemes } : {}),
    },
  };
}
