/**
 * The OpenAPI 3.1 description of the http trigger's one route: the path with its parameters,
 * the request body per accepted format (JSON and XML described by the trigger's JSON Schema,
 * ProtoBuf and Thrift as binary bodies of the named type), the answers and the problem
 * documents of the errors the trigger itself raises. Built once, from the validated config.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { ApiDescription, JSONSchema } from '../../runtime/contract.ts';
import type { Codec } from '../../runtime/codecs/codec.ts';
import type { Format } from '../../runtime/codecs/formats.ts';
import { ERROR_CODES } from '../../runtime/errors.ts';
import { PROBLEM_TYPE } from './problem.ts';
import type { SecurityDescription } from './security/guard.ts';

export interface RouteDescription {
  method: string;
  path: string;
  accept: readonly Format[];
  /** Absolute path of the body's JSON Schema file, when the trigger names one. */
  schemaFile: string | undefined;
  message: string | undefined;
  struct: string | undefined;
  thriftProtocol: string | undefined;
  /** Codecs of every format the route can answer in. */
  codecs: ReadonlyMap<Format, Codec>;
  timeout: boolean;
  /** The trigger's `auth`, when it has one. */
  security: SecurityDescription | undefined;
  /** Whether the trigger has a `rateLimit` (429 answers). */
  rateLimited: boolean;
}

const BODYLESS = new Set(['GET', 'DELETE']);

/** `/orders/:customer` -> `/orders/{customer}` and the parameter names, in order. */
export function openApiPath(path: string): { path: string; params: string[] } {
  const params: string[] = [];
  const converted = path.replace(/:([A-Za-z0-9_]+)(\{[^}]*\})?\??/g, (_m, name: string) => {
    params.push(name);
    return `{${name}}`;
  });
  return { path: converted, params };
}

export function describeRoute(route: RouteDescription, flowName: string): ApiDescription {
  const { path, params } = openApiPath(route.path);
  const schemas: Record<string, JSONSchema> = {};
  let bodySchema: JSONSchema | undefined;
  if (route.schemaFile) {
    const name = schemaName(route.schemaFile);
    schemas[name] = parseYaml(readFileSync(route.schemaFile, 'utf8')) as JSONSchema;
    bodySchema = { $ref: `#/components/schemas/${name}` };
  }
  const typed = (format: Format): JSONSchema | undefined => {
    if (format === 'protobuf' && route.message) {
      return { type: 'string', contentMediaType: route.codecs.get('protobuf')?.mediaType, description: `ProtoBuf message ${route.message} (binary wire format; see the flow's schemas.proto).`, 'x-weft-protobuf-message': route.message };
    }
    if (format === 'thrift' && route.struct) {
      const protocol = route.thriftProtocol ?? 'binary';
      return { type: 'string', contentMediaType: route.codecs.get('thrift')?.mediaType, description: `Thrift struct ${route.struct}, ${protocol} protocol (see the flow's schemas.thrift).`, 'x-weft-thrift-struct': route.struct, 'x-weft-thrift-protocol': protocol };
    }
    return undefined;
  };
  const contentOf = (format: Format, schema: JSONSchema | undefined): JSONSchema => {
    if (format === 'protobuf' || format === 'thrift') return { schema: typed(format) };
    if (format === 'xml') {
      const note = schema ? '; the schema applies to the mapped value' : '';
      return { schema: { ...(schema ?? {}), description: `XML, mapped to values by the Weft XML convention (docs/xml-convention.md)${note}.` } };
    }
    if (format === 'text') return { schema: { type: 'string' } };
    return schema ? { schema } : {};
  };

  const operation: JSONSchema = {
    operationId: camel(flowName),
    summary: `The ${flowName} flow`,
    parameters: [
      ...params.map((name) => ({ name, in: 'path', required: true, schema: { type: 'string' } })),
      { name: 'x-request-id', in: 'header', required: false, description: 'Correlation id; generated when absent and echoed in the answer.', schema: { type: 'string' } },
    ],
    responses: responses(route, contentOf),
  };
  const securitySchemes: Record<string, JSONSchema> = {};
  if (route.security) {
    securitySchemes[route.security.name] = route.security.scheme;
    // OpenAPI 3.1: for schemes other than oauth2/openIdConnect the list holds role names; the scopes are ours.
    operation.security = [{ [route.security.name]: [...route.security.scopes] }];
  }
  if (!BODYLESS.has(route.method)) {
    const content: Record<string, JSONSchema> = {};
    for (const format of route.accept) {
      const codec = route.codecs.get(format);
      if (codec) content[mediaTypeKey(codec)] = contentOf(format, bodySchema);
    }
    operation.requestBody = { required: false, content };
  }
  return { paths: { [path]: { [route.method.toLowerCase()]: operation } }, schemas, securitySchemes };
}

function responses(route: RouteDescription, contentOf: (format: Format, schema: JSONSchema | undefined) => JSONSchema): JSONSchema {
  const answer: Record<string, JSONSchema> = {};
  for (const [format, codec] of route.codecs) answer[mediaTypeKey(codec)] = contentOf(format, undefined);
  const out: Record<string, JSONSchema> = {
    '200': { description: "The flow's answer (a respond step may choose another status), in the format the Accept header asks for.", content: answer },
  };
  const problem = (...codes: (keyof typeof ERROR_CODES)[]) => ({
    description: codes.map((c) => `${c}: ${ERROR_CODES[c].title}`).join('; '),
    content: { [PROBLEM_TYPE]: { schema: { $ref: '#/components/schemas/Problem' } } },
  });
  if (!BODYLESS.has(route.method)) {
    out['400'] = problem(...(route.schemaFile ? (['MALFORMED_BODY', 'VALIDATION'] as const) : (['MALFORMED_BODY'] as const)));
    out['413'] = problem('PAYLOAD_TOO_LARGE');
    out['415'] = problem('UNSUPPORTED_MEDIA_TYPE');
  }
  out['406'] = problem('NOT_ACCEPTABLE');
  if (route.timeout) out['504'] = problem('DEADLINE_EXCEEDED');
  if (route.rateLimited) {
    const seconds = (description: string) => ({ description, schema: { type: 'integer', minimum: 0 } });
    out['429'] = {
      ...problem('RATE_LIMITED'),
      headers: {
        'Retry-After': seconds('Seconds until a request can be admitted again.'),
        'RateLimit-Limit': seconds('Requests admitted at once (the bucket size).'),
        'RateLimit-Remaining': seconds('Requests left in the bucket: 0 on a 429.'),
        'RateLimit-Reset': seconds('Seconds until the full limit is available again.'),
      },
    };
  }
  if (route.security) {
    out['401'] = problem('UNAUTHENTICATED');
    if (route.security.scopes.length) out['403'] = problem('FORBIDDEN');
    if (route.security.remote) out['503'] = problem('AUTH_UNAVAILABLE');
  }
  out.default = { description: 'Any other error, as a problem document with its stable code (docs/errors.md).', content: { [PROBLEM_TYPE]: { schema: { $ref: '#/components/schemas/Problem' } } } };
  return out;
}

function mediaTypeKey(codec: Codec): string {
  return codec.mediaType.split(';')[0].trim();
}

function schemaName(file: string): string {
  const base = basename(file).replace(/(\.schema)?\.(json|ya?ml)$/i, '');
  return base.replace(/[^A-Za-z0-9._-]/g, '_') || 'Body';
}

function camel(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}
