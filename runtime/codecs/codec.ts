/**
 * A codec turns wire bytes into the one value model (plain JSON-like values; integers beyond
 * 2^53 as BigInt) and back. Codecs are created once at load time with their options resolved;
 * decode/encode are the per-message hot path.
 */
export interface Codec {
  /** Format name as written in flows: json, xml, text, ... */
  readonly format: string;
  /** Media type written as Content-Type when encoding. */
  readonly mediaType: string;
  /** Throws WeftError (MALFORMED_BODY, HOSTILE_XML, ...) on bad input. */
  decode(bytes: Uint8Array): unknown;
  /** Throws WeftError ENCODE when the value cannot be represented. */
  encode(value: unknown): string | Uint8Array;
}
