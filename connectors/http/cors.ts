/**
 * The http trigger's `cors`: which web origins may call the route from a browser (the Fetch
 * standard's CORS protocol). Everything is resolved once in the trigger's create(): the origin
 * set, the header values. Per request the trigger asks for the headers of an actual answer
 * (allowOrigin), and answers OPTIONS on its path with preflight().
 *
 * CORS tells a browser what it may let a page read; it is not access control. A request from
 * an origin not listed still runs the flow (a non-browser client sends what it likes); its
 * answer just carries no Access-Control-* headers, so the browser withholds it from the page.
 * A preflight from such an origin is refused with a 403 problem document, which says why in
 * the browser's network panel, where an answer without headers would leave a guess.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { CompileContext } from '../../runtime/contract.ts';
import { WeftError } from '../../runtime/errors.ts';
import { ref } from '../../runtime/flow/schema-parts.ts';
import { parseDuration } from '../../runtime/units.ts';

export interface CorsConfig {
  origins: '*' | string[];
  methods?: string[];
  headers?: string[];
  exposeHeaders?: string[];
  credentials?: boolean;
  maxAge?: string | number;
}

const ORIGIN = { type: 'string', pattern: '^[A-Za-z][A-Za-z0-9+.-]*://[^/?#\\s*]+$', 'x-weft-expected': 'an origin: scheme://host[:port], without path or trailing slash' } as const;
const HEADER_NAME = { type: 'string', pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$", 'x-weft-expected': 'a header name' } as const;

export const corsSchema = {
  type: 'object',
  description: 'Which web origins may call the route from a browser: preflights answered, Access-Control-* headers on answers.',
  properties: {
    // if/then/else rather than oneOf: a mistake then gets one precise message, not one per branch.
    origins: {
      type: ['string', 'array'],
      if: { type: 'string' },
      then: { const: '*' },
      else: { items: ORIGIN, minItems: 1, uniqueItems: true },
      description: 'Allowed origins, as the browser sends them (https://app.example.com:8443), or "*" for any.',
    },
    methods: { type: 'array', items: { enum: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] }, minItems: 1, uniqueItems: true, description: "Methods a preflight may ask for. Default: the route's method." },
    headers: { type: 'array', items: HEADER_NAME, uniqueItems: true, description: 'Request headers a page may send (e.g. content-type, authorization). Default: whatever the preflight asks for.' },
    exposeHeaders: { type: 'array', items: HEADER_NAME, uniqueItems: true, description: 'Answer headers a page may read beyond the CORS-safelisted ones. Default none.' },
    credentials: { type: 'boolean', description: 'Let pages send cookies and Authorization (Access-Control-Allow-Credentials). Not with origins "*". Default false.' },
    maxAge: { ...ref.duration, description: 'How long a browser may reuse a preflight answer (Access-Control-Max-Age). Default: the browser\'s (5s).' },
  },
  required: ['origins'],
  additionalProperties: false,
} as const;

/** The headers of an answer, lower-case names; what a preflight asks is refused as CORS_REJECTED. */
export interface Cors {
  /** `Allow` of an OPTIONS answer that is not a preflight: the route's method and OPTIONS. */
  readonly allow: string;
  /** Writes the CORS headers of an actual answer to a request from `origin` into `out`. */
  allowOrigin(origin: string | undefined, out: Record<string, string>): void;
  /** The headers of a 204 answer to a preflight; throws CORS_REJECTED. Undefined: not a preflight. */
  preflight(headers: IncomingHttpHeaders): Record<string, string> | undefined;
}

export function createCors(config: CorsConfig, at: CompileContext, routeMethod: string): Cors {
  const anyOrigin = config.origins === '*';
  const credentials = config.credentials === true;
  if (anyOrigin && credentials) {
    at.problem('FLOW_SCHEMA', 'credentials: true needs a list of origins: browsers refuse credentials with Access-Control-Allow-Origin "*"', 'credentials');
  }
  // Browsers send scheme and host in lower case.
  const allowed = new Set(anyOrigin ? [] : (config.origins as string[]).map((o) => o.toLowerCase()));
  const methods = config.methods ?? [routeMethod];
  if (!methods.includes(routeMethod)) at.problem('FLOW_SCHEMA', `methods must include the route's own method ${routeMethod}`, 'methods');
  const allowedHeaders = config.headers === undefined ? undefined : new Set(config.headers.map((h) => h.toLowerCase()));
  const maxAge = config.maxAge === undefined ? undefined : String(Math.floor(parseDuration(config.maxAge) / 1000));

  // Answers for a fixed "*" do not depend on the request; for a list they do, which caches must know.
  const actual: Record<string, string> = {};
  if (credentials) actual['access-control-allow-credentials'] = 'true';
  if (config.exposeHeaders?.length) actual['access-control-expose-headers'] = config.exposeHeaders.join(', ');
  const preflightFixed: Record<string, string> = { ...actual, 'access-control-allow-methods': methods.join(', ') };
  delete preflightFixed['access-control-expose-headers'];
  if (allowedHeaders?.size) preflightFixed['access-control-allow-headers'] = config.headers!.join(', ');
  if (maxAge !== undefined) preflightFixed['access-control-max-age'] = maxAge;

  const originOf = (origin: string | undefined): string | undefined => {
    if (anyOrigin) return '*';
    return origin !== undefined && allowed.has(origin) ? origin : undefined;
  };

  return {
    allow: `${routeMethod}, OPTIONS`,
    allowOrigin(origin, out) {
      if (anyOrigin) {
        out['access-control-allow-origin'] = '*';
        Object.assign(out, actual);
        return;
      }
      out.vary = 'Origin';
      if (origin === undefined || !allowed.has(origin)) return;
      out['access-control-allow-origin'] = origin;
      Object.assign(out, actual);
    },
    preflight(headers) {
      const origin = headers.origin;
      const wanted = headers['access-control-request-method'];
      if (origin === undefined || wanted === undefined) return undefined;
      const allowOrigin = originOf(origin);
      if (allowOrigin === undefined) throw rejected(`origin ${origin} may not call this route`);
      if (!methods.includes(wanted)) throw rejected(`method ${wanted} is not allowed from other origins; allowed: ${methods.join(', ')}`);
      const out: Record<string, string> = { ...preflightFixed, 'access-control-allow-origin': allowOrigin };
      if (!anyOrigin) out.vary = 'Origin';
      const asked = headers['access-control-request-headers'];
      if (asked !== undefined && asked !== '') {
        if (allowedHeaders === undefined) {
          // No list given: allow what the page asks for, and say the answer depends on it.
          out['access-control-allow-headers'] = asked;
          out.vary = anyOrigin ? 'Access-Control-Request-Headers' : 'Origin, Access-Control-Request-Headers';
        } else {
          const refused = asked.split(',').map((h) => h.trim().toLowerCase()).filter((h) => h !== '' && !allowedHeaders.has(h));
          if (refused.length) throw rejected(`header${refused.length > 1 ? 's' : ''} ${refused.join(', ')} may not be sent from other origins; allowed: ${config.headers!.join(', ') || 'none'}`);
        }
      }
      return out;
    },
  };
}

function rejected(message: string): WeftError {
  return new WeftError('CORS_REJECTED', message);
}
