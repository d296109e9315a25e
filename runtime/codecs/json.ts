/**
 * JSON as is, except that integers beyond 2^53 stay exact: they decode to BigInt and encode
 * back to the same digits. The exact path costs a reviver, so it only runs when the text has
 * a digit run long enough to overflow a double.
 */
import { WeftError } from '../errors.ts';
import type { Codec } from './codec.ts';

const LONG_DIGITS = /\d{16,}/;
const INTEGER = /^-?\d+$/;

interface ReviverContext {
  source?: string;
}

function exactReviver(this: unknown, _key: string, value: unknown, context?: ReviverContext): unknown {
  if (typeof value === 'number' && !Number.isSafeInteger(value) && context?.source && INTEGER.test(context.source)) {
    return BigInt(context.source);
  }
  return value;
}

// JSON.rawJSON (Node 21+) writes the digits verbatim; TypeScript's lib does not declare it yet.
const rawJSON = (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON;

// Whether the last value encoded had a BigInt: values come in runs of one shape (one flow, one
// answer type), so after one the replacer goes first instead of a refused plain call (a thrown
// TypeError costs ~7x the replacer), and the plain call comes back once a value has none.
let expectBigInt = false;
let sawBigInt = false;

function bigintReplacer(_key: string, value: unknown): unknown {
  if (typeof value !== 'bigint') return value;
  sawBigInt = true;
  return rawJSON(value.toString());
}

const decoder = new TextDecoder('utf-8', { fatal: true });

export function decodeUtf8(bytes: Uint8Array): string {
  try {
    return decoder.decode(bytes);
  } catch {
    throw new WeftError('MALFORMED_BODY', 'body is not valid UTF-8');
  }
}

export function parseJson(text: string): unknown {
  try {
    // The reviver's third argument (source text access) is not in TypeScript's lib yet.
    return LONG_DIGITS.test(text) ? JSON.parse(text, exactReviver as (k: string, v: unknown) => unknown) : JSON.parse(text);
  } catch (err) {
    throw new WeftError('MALFORMED_BODY', `malformed JSON: ${(err as Error).message}`);
  }
}

export function stringifyJson(value: unknown): string {
  try {
    if (!expectBigInt) {
      try {
        return JSON.stringify(value) ?? 'null';
      } catch (err) {
        // BigInt is rare: pay for the replacer only when the plain call refused one.
        if (!(err instanceof TypeError && /BigInt/i.test(err.message))) throw err;
      }
    }
    sawBigInt = false;
    const text = JSON.stringify(value, bigintReplacer) ?? 'null';
    expectBigInt = sawBigInt;
    return text;
  } catch (err) {
    throw new WeftError('ENCODE', `cannot encode as JSON: ${(err as Error).message}`);
  }
}

export const jsonCodec: Codec = {
  format: 'json',
  mediaType: 'application/json',
  decode: (bytes) => parseJson(decodeUtf8(bytes)),
  encode: stringifyJson,
};
