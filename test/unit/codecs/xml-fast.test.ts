/**
 * The XML codec's one-pass decoder against its general path (fast-xml-parser plus the
 * validator): on every document the fast path accepts, the general path must accept it too and
 * build the same value, keys in the same order; everything else is left to the general path.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createXmlDecoders } from '../../../runtime/codecs/xml.ts';
import { BACKEND } from '../../../bench/scenarios.ts';

let seed = 7;
function random(n: number): number {
  seed = (seed * 1103515245 + 12345) >>> 0;
  return (seed >>> 8) % n;
}
/** Wild documents use every list in full; plain ones only the part the fast path covers. */
let wild = false;
const pick = <T>(items: readonly T[], plain = items.length): T => items[random(wild ? items.length : plain)];

// Names and values the fast path takes (the first `plain` of each), then some it must leave to the general path.
const NAMES = ['a', 'b', 'item', 'q:item', 'soap:Body', 'x-y', 'n.1', '_u', 'toString', 'constructor', 'é'];
const PLAIN_NAMES = 9;
const ATTRIBUTES = ['id', 'x', 'xmlns', 'xmlns:q', 'q:type', 'id', '__proto__'];
const PLAIN_ATTRIBUTES = 6;
const VALUES = ['', 'v', ' spaced ', 'a&amp;b', '&#x41;&#66;', "it's", 'é', '&nbsp;', 'fish & chips', 'tab\there', 'l\nine', 'a>b'];
const PLAIN_VALUES = 7;
const TEXTS = ['', 'x', '  ', '\n  ', 'a &lt; b', '&#65;', ']]>', 'é', '&quot;q&apos;', ' & ', 'line\r\nend', '&#0;'];
const PLAIN_TEXTS = 9;
const EXTRAS = ['<!-- note -->', '<![CDATA[<raw>]]>', '<?pi data?>', 'stray'];

function element(depth: number): string {
  const name = pick(NAMES, PLAIN_NAMES);
  let attributes = '';
  for (let k = random(4); k > 0; k--) {
    const value = pick(VALUES, PLAIN_VALUES);
    const quote = value.includes("'") || random(3) > 0 ? '"' : "'";
    attributes += `${pick([' ', '\n', '  '], 1)}${pick(ATTRIBUTES, PLAIN_ATTRIBUTES)}=${quote}${value}${quote}`;
  }
  const close = pick(['>', '>', '>', ' >'], 3);
  if (random(5) === 0) return `<${name}${attributes}/>`;
  let content = '';
  if (depth > 0 && random(3) > 0) {
    const layout = pick(['', '', '\n  ', ' ', '\n\t']);
    for (let k = 1 + random(3); k > 0; k--) {
      content += layout + element(depth - 1);
      if (wild && random(12) === 0) content += pick(EXTRAS);
    }
    content += layout;
  } else {
    content = pick(TEXTS, PLAIN_TEXTS);
    if (wild && random(12) === 0) content += pick(EXTRAS);
  }
  return `<${name}${attributes}${close}${content}</${name}>`;
}

function document(): string {
  wild = random(3) === 0;
  const prolog = pick(['', '', '<?xml version="1.0" encoding="UTF-8"?>', '<?xml version="1.0"?>\n', '\n', '<!-- c -->'], 5);
  const epilog = pick(['', '', '\n', '  \n', '<a/>', 'x'], 4);
  return prolog + element(1 + random(4)) + epilog;
}

/** Breaks a well-formed document in one place. */
function mutate(xml: string): string {
  const at = random(xml.length);
  switch (random(3)) {
    case 0:
      return xml.slice(0, at) + xml.slice(at + 1);
    case 1:
      return xml.slice(0, at) + pick(['<', '>', '/', '"', '&', ' ', '</a>', '<b>']) + xml.slice(at);
    default:
      return xml.slice(0, at);
  }
}

function compare(decoders: ReturnType<typeof createXmlDecoders>, xml: string): boolean {
  const fast = decoders.fast(xml);
  if (fast === undefined) return false;
  let general: unknown;
  assert.doesNotThrow(() => (general = decoders.general(xml)), `the fast path accepted what the general path rejects: ${JSON.stringify(xml)}`);
  // Same keys in the same order: answers are often passed on as JSON.
  assert.equal(JSON.stringify(fast), JSON.stringify(general), JSON.stringify(xml));
  assert.deepEqual(fast, general, JSON.stringify(xml));
  return true;
}

describe('xml codec: one-pass decoder against the general path', () => {
  const decoders = createXmlDecoders({ arrays: ['a.b', 'a.item.b', 'b.q:item'] });
  const shallow = createXmlDecoders({ maxDepth: 3 });

  it('builds the same value on generated documents, and takes most plain ones', () => {
    let taken = 0;
    const rounds = 4000;
    for (let round = 0; round < rounds; round++) {
      const xml = document();
      if (compare(decoders, xml)) taken++;
      compare(shallow, xml);
    }
    assert.ok(taken > rounds / 10, `the fast path took only ${taken} of ${rounds} documents`);
  });

  it('never accepts a document the general path rejects', () => {
    for (let round = 0; round < 4000; round++) compare(decoders, mutate(document()));
  });

  it('takes the S2 benchmark answer and pretty-printed SOAP', () => {
    assert.ok(decoders.fast(BACKEND['/quote'][1]));
    const pretty =
      '<?xml version="1.0" encoding="UTF-8"?>\n<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">\n' +
      '  <soap:Body>\n    <r:res xmlns:r="urn:x" r:kind="a &amp; b">\n      <r:v>1</r:v>\n      <r:v>2</r:v>\n    </r:res>\n  </soap:Body>\n</soap:Envelope>\n';
    assert.ok(compare(decoders, pretty));
  });

  it('leaves what it does not cover to the general path', () => {
    for (const xml of [
      '<a><!-- c --></a>', // comment
      '<a><![CDATA[x]]></a>', // CDATA
      '<a>\r\n</a>', // line ends to normalise
      '<a>x<b/></a>', // mixed content
      '<a b="1" b="2"/>', // repeated attribute
      '<a><b></a></b>', // crossed tags
      '<a></a><b/>', // two roots
      '<é/>', // non-ASCII name
      '<a>&nbsp;</a>', // undeclared entity
      '<toString><constructor/></toString>', // a name the general path refuses
      '<a __proto__="1"/>', // an attribute name it refuses
      '<a><a><a>x</a></a></a>', // at the depth limit of `shallow`
    ]) {
      const decoder = xml.startsWith('<a><a>') ? shallow : decoders;
      assert.equal(decoder.fast(xml), undefined, xml);
    }
  });
});
