/**
 * What the http trigger answers, and how it goes on the wire. The trigger serves node:http
 * directly: an answer is a status, a plain header object and a finished body, written with one
 * writeHead and one end. (@hono/node-server, which it used before, subclasses the Fetch API's
 * Request and Response at load, which makes Node load its internal fetch implementation, ~20 ms
 * of every start, and wraps every request and answer in objects the trigger never read.)
 */
import type { ServerResponse } from 'node:http';

export interface Answer {
  status: number;
  /** Lower-case names; values already valid for a header (validateHeaderValue). */
  headers: Record<string, string>;
  body: string | Uint8Array | null;
}

/** Writes `a` as the whole answer, with its Content-Length (never chunked). */
export function writeAnswer(out: ServerResponse, a: Answer): void {
  const { body, headers } = a;
  if (body !== null) headers['content-length'] = String(typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength);
  else if (a.status >= 200 && a.status !== 204 && a.status !== 304) headers['content-length'] = '0';
  out.writeHead(a.status, headers);
  out.end(body ?? undefined);
}

/**
 * The path of a request target, percent-decoded as a router matches it (decodeURI: reserved
 * characters stay encoded, so an encoded / cannot split a segment). %25 stays encoded here and
 * becomes % when a param is decoded (paramOf), so "%2541" is the param "%41", not "A".
 */
export function pathOf(url: string): string {
  const q = url.indexOf('?');
  // The absolute form (GET http://host/path), which RFC 9112 says a server must accept.
  const start = url.charCodeAt(0) === 47 ? 0 : absolutePathStart(url);
  const path = url.slice(start, q === -1 ? undefined : q);
  // "http://host" and "http://host?q" name the root (RFC 9110, an empty path is "/").
  if (path === '') return '/';
  if (!path.includes('%')) return path;
  try {
    return decodeURI(path.replaceAll('%25', '%2525'));
  } catch {
    return path;
  }
}

function absolutePathStart(url: string): number {
  const scheme = url.indexOf('://');
  if (scheme === -1) return 0;
  const slash = url.indexOf('/', scheme + 3);
  return slash === -1 ? url.length : slash;
}

/** A matched param's value, percent-decoded. */
export function paramOf(raw: string): string {
  if (!raw.includes('%')) return raw;
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}
