/**
 * The wire formats a flow can name, how Content-Type and Accept map to them, and the codec
 * for each. Codecs with options (XML's forced arrays) are made once per trigger or endpoint.
 */
import { WeftError } from '../errors.ts';
import type { Codec } from './codec.ts';
import { jsonCodec } from './json.ts';
import { textCodec } from './text.ts';
import { createXmlCodec, type XmlOptions } from './xml.ts';

export const FORMATS = ['json', 'xml', 'text', 'protobuf', 'thrift'] as const;
export type Format = (typeof FORMATS)[number];
/** Formats whose codec needs a message or struct type (the wire does not describe itself). */
export const TYPED_FORMATS: readonly Format[] = ['protobuf', 'thrift'];
/** Formats that describe themselves: usable wherever no type is configured. */
export const UNTYPED_FORMATS = ['json', 'xml', 'text'] as const;
export type UntypedFormat = (typeof UNTYPED_FORMATS)[number];

export interface FormatOptions {
  xml?: XmlOptions;
  /** Codecs of the typed formats, made for the type a trigger or endpoint names. */
  protobuf?: Codec;
  thrift?: Codec;
}

/** The codec of a format, or undefined for a typed format without a type. */
export function createCodec(format: Format, options: FormatOptions = {}): Codec | undefined {
  switch (format) {
    case 'json':
      return jsonCodec;
    case 'xml':
      return createXmlCodec(options.xml);
    case 'text':
      return textCodec;
    case 'protobuf':
      return options.protobuf;
    case 'thrift':
      return options.thrift;
  }
}

/** The codec of a self-describing format: always there. */
export function createUntypedCodec(format: UntypedFormat, options: FormatOptions = {}): Codec {
  return createCodec(format, options)!;
}

/** Every format that has a codec with these options. */
export function createCodecs(options: FormatOptions = {}): Map<Format, Codec> {
  const codecs = new Map<Format, Codec>();
  for (const f of FORMATS) {
    const c = createCodec(f, options);
    if (c) codecs.set(f, c);
  }
  return codecs;
}

/** `application/json; charset=utf-8` -> `application/json` */
export function mediaTypeOf(contentType: string): string {
  const semi = contentType.indexOf(';');
  return (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
}

/** The format a media type carries, or undefined when Weft has no codec for it. */
export function formatOfMediaType(mediaType: string): Format | undefined {
  switch (mediaType) {
    case 'application/json':
      return 'json';
    case 'application/xml':
    case 'text/xml':
      return 'xml';
    case 'text/plain':
      return 'text';
    // No single registered type: these are what protobuf and Thrift HTTP peers send.
    case 'application/x-protobuf':
    case 'application/protobuf':
    case 'application/vnd.google.protobuf':
    case 'application/x-google-protobuf':
      return 'protobuf';
    case 'application/x-thrift':
    case 'application/vnd.apache.thrift.binary':
    case 'application/vnd.apache.thrift.compact':
      return 'thrift';
  }
  if (mediaType.endsWith('+json')) return 'json';
  if (mediaType.endsWith('+xml')) return 'xml';
  return undefined;
}

interface AcceptRange {
  type: string;
  q: number;
}

function parseAccept(header: string): AcceptRange[] {
  const ranges: AcceptRange[] = [];
  for (const part of header.split(',')) {
    const [type, ...params] = part.split(';');
    let q = 1;
    for (const p of params) {
      const [k, v] = p.split('=');
      if (k.trim() === 'q') q = Number(v);
    }
    if (type.trim() && Number.isFinite(q) && q > 0) ranges.push({ type: type.trim().toLowerCase(), q });
  }
  return ranges.sort((a, b) => b.q - a.q);
}

/** Result of content negotiation: a format, `any` (no preference) or `none` (406). */
export type Negotiated = Format | 'any' | 'none';

/**
 * Negotiation per request would parse the same few Accept headers over and over; the answer
 * depends only on the header and the offered formats, so it is memoised (bounded).
 */
export function createNegotiator(offered: readonly Format[]): (accept: string | undefined) => Negotiated {
  const cache = new Map<string, Negotiated>();
  return (accept) => {
    if (!accept) return 'any';
    let hit = cache.get(accept);
    if (hit !== undefined) return hit;
    hit = negotiate(parseAccept(accept), offered);
    if (cache.size >= 256) cache.clear();
    cache.set(accept, hit);
    return hit;
  };
}

function negotiate(ranges: AcceptRange[], offered: readonly Format[]): Negotiated {
  if (ranges.length === 0) return 'any';
  for (const { type } of ranges) {
    if (type === '*/*' || type === 'application/*') return 'any';
    if (type === 'text/*') return offered.includes('text') ? 'text' : offered.includes('xml') ? 'xml' : 'any';
    const format = formatOfMediaType(type);
    if (format && offered.includes(format)) return format;
  }
  return 'none';
}

/**
 * The same codec, but a body that does not decode is the upstream's fault (502
 * UPSTREAM_MALFORMED), not the caller's (400 MALFORMED_BODY). Made once per endpoint.
 */
export function asUpstream(codec: Codec, endpoint: string): Codec {
  return {
    format: codec.format,
    mediaType: codec.mediaType,
    encode: codec.encode,
    decode(bytes) {
      try {
        return codec.decode(bytes);
      } catch (err) {
        throw new WeftError('UPSTREAM_MALFORMED', `answer of ${endpoint} cannot be decoded as ${codec.format}: ${(err as Error).message}`, {
          endpoint,
          cause: err,
        });
      }
    },
  };
}
