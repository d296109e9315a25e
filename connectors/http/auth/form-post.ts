/**
 * What the OAuth2 clients of Weft share (the client credentials grant of endpoints, token
 * introspection at the trigger): authenticating the client per RFC 6749 2.3.1 and POSTing a
 * form whose answer is a JSON object. A body that is not JSON is never echoed anywhere: it
 * could hold a token.
 */
import type { Pool } from 'undici';
import { secretSchema } from './secret.ts';

/** Schema properties of the client's credentials, as every OAuth2 client of Weft takes them. */
export const clientProperties = {
  clientId: { type: 'string', description: 'The OAuth2 client id.' },
  clientSecret: secretSchema,
  clientAuth: { enum: ['basic', 'post'], description: 'How the client authenticates: HTTP Basic (default) or form fields.' },
} as const;

/** Adds the client's credentials to `form` (client_secret_post) or returns them as a Basic header. */
export function clientAuthHeaders(clientId: string, secret: string, mode: 'basic' | 'post' | undefined, form: URLSearchParams): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
  if (mode === 'post') {
    form.set('client_id', clientId);
    form.set('client_secret', secret);
  } else {
    // RFC 6749 2.3.1: id and secret are form-urlencoded before they are joined and base64'd.
    const pair = `${formEncode(clientId)}:${formEncode(secret)}`;
    headers.authorization = `Basic ${Buffer.from(pair).toString('base64')}`;
  }
  return headers;
}

export interface FormAnswer {
  status: number;
  /** The answer when it is a JSON object; undefined for anything else. */
  json: Record<string, unknown> | undefined;
}

/** POSTs `form` to `url` on `pool`; network failures are thrown as undici raised them. */
export async function postForm(pool: Pool, url: URL, headers: Record<string, string>, form: string, timeoutMs: number): Promise<FormAnswer> {
  const res = await pool.request({ path: url.pathname + url.search, method: 'POST', headers, body: form, signal: AbortSignal.timeout(timeoutMs) });
  const text = await res.body.text();
  let json: Record<string, unknown> | undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) json = parsed as Record<string, unknown>;
  } catch {
    // the caller reports a non-JSON answer by its status alone
  }
  return { status: res.statusCode, json };
}

function formEncode(s: string): string {
  return encodeURIComponent(s).replace(/%20/g, '+');
}
