/** Plain UTF-8 text. Non-string values are written as their JSON text. */
import type { Codec } from './codec.ts';
import { decodeUtf8, stringifyJson } from './json.ts';

export const textCodec: Codec = {
  format: 'text',
  mediaType: 'text/plain; charset=utf-8',
  decode: decodeUtf8,
  encode: (value) => (typeof value === 'string' ? value : value === undefined || value === null ? '' : stringifyJson(value)),
};
