/**
 * The SOAP request envelope written as fixed markup around the encoded parts must be the
 * same text the XML codec writes for the envelope as a value, for every body and header shape.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createXmlCodec } from '../../../runtime/codecs/xml.ts';
import { envelope, envelopeXml, type SoapVersion } from '../../../connectors/soap/envelope.ts';
import { WeftError } from '../../../runtime/errors.ts';

const codec = createXmlCodec();

/** The envelope's text both ways, or both errors' code and message. */
function both(version: SoapVersion, headers: Record<string, unknown> | undefined, operation: string, namespace: string, body: unknown): [string, string] {
  const run = (fn: () => string): string => {
    try {
      return fn();
    } catch (err) {
      assert.ok(err instanceof WeftError, String(err));
      return `${err.code}: ${err.message}`;
    }
  };
  return [
    run(() => envelopeXml(codec, version, headers, operation, namespace, body)),
    run(() => codec.encode(envelope(version, headers, operation, namespace, body)) as string),
  ];
}

describe('soap envelope: fixed markup around the encoded parts', () => {
  const bodies: unknown[] = [
    { sku: 'A-42', qty: 3 },
    undefined,
    null,
    '',
    {},
    { q: { '@id': '1', '#text': 'a<b' }, lines: [{ n: 1 }, { n: 2 }], empty: null },
    { '@lang': 'en', '#text': 'x & y' },
    { '@xmlns': 'urn:own', a: '1' }, // its own xmlns replaces the endpoint's
    { '@xmlns': null, a: '1' },
    new Date(0), // not a plain object: the value path's reading
    Object.assign(Object.create(null) as object, { a: '1' }),
    { 'bad name': 1 },
    [1, 2],
    'text',
    42,
    { deep: JSON.parse('{"a":'.repeat(70) + '1' + '}'.repeat(70)) as unknown },
  ];
  const headerSets: (Record<string, unknown> | undefined)[] = [
    undefined,
    {},
    { 'h:Tenant': { '@xmlns:h': 'urn:h', '#text': 'acme' } },
    { 'h:A': ['1', '2'] },
    ['x'] as unknown as Record<string, unknown>,
  ];

  it('writes the same text as the value path, errors included', () => {
    for (const version of ['1.1', '1.2'] as const) {
      for (const headers of headerSets) {
        for (const body of bodies) {
          for (const [operation, namespace] of [['getQuote', 'urn:bench:quotes'], ['op', 'urn:"q"&<x>'], ['1bad', 'urn:x']]) {
            const [fast, general] = both(version, headers, operation, namespace, body);
            assert.equal(fast, general, `${version} ${JSON.stringify(headers)} ${operation} ${String(JSON.stringify(body)).slice(0, 80)}`);
          }
        }
      }
    }
  });
});
