import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createXmlCodec } from '../../../runtime/codecs/xml.ts';
import { WeftError } from '../../../runtime/errors.ts';

const codec = createXmlCodec();
const utf8 = new TextEncoder();
const DECL = '<?xml version="1.0" encoding="UTF-8"?>';

function decode(xml: string, c = codec): unknown {
  return c.decode(utf8.encode(xml));
}

function encode(value: unknown, c = codec): string {
  const out = c.encode(value);
  assert.equal(typeof out, 'string');
  return out as string;
}

/** Asserts that `fn` throws a WeftError with `code` and a message matching `message`. */
function throwsCode(fn: () => unknown, code: string, message?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof WeftError, `expected WeftError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (message) assert.match(err.message, message);
    return true;
  });
}

describe('xml codec: identity', () => {
  it('names its format and media type', () => {
    assert.equal(codec.format, 'xml');
    assert.equal(codec.mediaType, 'application/xml');
  });
});

describe('xml codec: decode convention', () => {
  it('returns an object keyed by the root element', () => {
    assert.deepEqual(decode('<a><b>x</b></a>'), { a: { b: 'x' } });
  });

  it('puts attributes under @ keys and text beside them under #text', () => {
    assert.deepEqual(decode('<a id="1" lang="en">hello</a>'), { a: { '@id': '1', '@lang': 'en', '#text': 'hello' } });
    assert.deepEqual(decode('<a id="1"><b>x</b></a>'), { a: { '@id': '1', b: 'x' } });
  });

  it('decodes empty elements as "" and attribute-only elements without #text', () => {
    assert.deepEqual(decode('<a><b/><c></c><d x="1"/><e x="2"></e></a>'), {
      a: { b: '', c: '', d: { '@x': '1' }, e: { '@x': '2' } },
    });
    assert.deepEqual(decode('<a/>'), { a: '' });
  });

  it('keeps leaf text exactly and drops whitespace between child elements', () => {
    assert.deepEqual(decode('<a>  x \n y  </a>'), { a: '  x \n y  ' });
    assert.deepEqual(decode('<a>   </a>'), { a: '   ' });
    assert.deepEqual(decode('<a v=" spaced "/>'), { a: { '@v': ' spaced ' } });
    const pretty = '<?xml version="1.0"?>\n<a>\n  <b>1</b>\n  <c>\n    <d>2</d>\n  </c>\n</a>\n';
    assert.deepEqual(decode(pretty), { a: { b: '1', c: { d: '2' } } });
  });

  it('keeps namespace prefixes in names and xmlns declarations as attributes', () => {
    const soap =
      '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:m="urn:m">' +
      '<soap:Body><m:Get m:id="5">x</m:Get></soap:Body></soap:Envelope>';
    assert.deepEqual(decode(soap), {
      'soap:Envelope': {
        '@xmlns:soap': 'http://schemas.xmlsoap.org/soap/envelope/',
        '@xmlns:m': 'urn:m',
        'soap:Body': { 'm:Get': { '@m:id': '5', '#text': 'x' } },
      },
    });
  });

  it('turns repeated siblings into arrays and leaves single ones alone', () => {
    assert.deepEqual(decode('<a><b>1</b><c>x</c><b>2</b><b>3</b></a>'), { a: { b: ['1', '2', '3'], c: 'x' } });
    assert.deepEqual(decode('<a><b>1</b></a>'), { a: { b: '1' } });
  });

  it('forces arrays for listed paths only', () => {
    const c = createXmlCodec({ arrays: ['order.lines.line', 'order.tag', 's:E.s:B.s:Item'] });
    assert.deepEqual(decode('<order><lines><line><sku>A</sku></line></lines><line>not forced</line><tag/></order>', c), {
      order: { lines: { line: [{ sku: 'A' }] }, line: 'not forced', tag: [''] },
    });
    assert.deepEqual(decode('<order><lines><line>1</line><line>2</line></lines></order>', c), {
      order: { lines: { line: ['1', '2'] } },
    });
    assert.deepEqual(decode('<s:E xmlns:s="urn:s"><s:B><s:Item>1</s:Item></s:B></s:E>', c), {
      's:E': { '@xmlns:s': 'urn:s', 's:B': { 's:Item': ['1'] } },
    });
  });

  it('never coerces types', () => {
    assert.deepEqual(decode('<a n="42" f="1.5"><z>007</z><big>12345678901234567890</big><t>true</t><e>1e3</e><h>0x1F</h><neg>-0</neg></a>'), {
      a: { '@n': '42', '@f': '1.5', z: '007', big: '12345678901234567890', t: 'true', e: '1e3', h: '0x1F', neg: '-0' },
    });
  });

  it('decodes predefined entities and character references in text and attributes', () => {
    assert.deepEqual(decode('<a q="&quot;&lt;&#x41;&#66;">&lt;&gt;&amp;&quot;&apos;&#x41;&#65;&#x1F600;&#233;</a>'), {
      a: { '@q': '"<AB', '#text': `<>&"'AA😀é` },
    });
    assert.deepEqual(decode('<a>1 &lt; 2 &amp;&amp; 3</a>'), { a: '1 < 2 && 3' });
  });

  it('decodes CDATA as text, without entity decoding', () => {
    assert.deepEqual(decode('<a><![CDATA[x < y && <b>not an element</b> &amp;]]></a>'), {
      a: 'x < y && <b>not an element</b> &amp;',
    });
    assert.deepEqual(decode('<a>one <![CDATA[<two>]]> three</a>'), { a: 'one <two> three' });
    assert.deepEqual(decode('<a><![CDATA[<!DOCTYPE html><html></html>]]></a>'), { a: '<!DOCTYPE html><html></html>' });
  });

  it('drops comments, processing instructions and the XML declaration', () => {
    const xml = '<?xml version="1.0" encoding="UTF-8"?><!-- head <!DOCTYPE x> --><?style x?><a><!-- c --><b>1</b><?pi data?></a><!-- tail -->';
    assert.deepEqual(decode(xml), { a: { b: '1' } });
  });

  it('strips a UTF-8 byte order mark and reads unicode names and text', () => {
    const bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...utf8.encode('<数据 属性="值">héllo 🌍 مرحبا</数据>')]);
    assert.deepEqual(codec.decode(bytes), { 数据: { '@属性': '值', '#text': 'héllo 🌍 مرحبا' } });
  });

  it('concatenates the text pieces of mixed content', () => {
    assert.deepEqual(decode('<p>Hello <b>world</b>!</p>'), { p: { b: 'world', '#text': 'Hello !' } });
  });

  it('keeps element names that shadow Object.prototype members and does not pollute prototypes', () => {
    assert.deepEqual(decode('<a><toString>1</toString><hasOwnProperty/></a>'), { a: { toString: '1', hasOwnProperty: '' } });
    const v = decode('<a __proto__="x"><b>1</b></a>') as { a: Record<string, unknown> };
    assert.equal(v.a['@__proto__'], 'x');
    throwsCode(() => decode('<a><__proto__><polluted>yes</polluted></__proto__></a>'), 'HOSTILE_XML', /__proto__/);
    throwsCode(() => decode('<constructor/>'), 'HOSTILE_XML');
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it('does the same work for many calls on one codec (no state leaks between documents)', () => {
    const c = createXmlCodec({ arrays: ['a.b'] });
    for (let i = 0; i < 3; i++) {
      assert.deepEqual(decode(`<a><b>${i}</b></a>`, c), { a: { b: [String(i)] } });
      throwsCode(() => decode('<a>&nope;</a>', c), 'MALFORMED_BODY');
    }
  });
});

describe('xml codec: hostile input', () => {
  it('rejects billion laughs before expanding anything', () => {
    const lol =
      '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">' +
      '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">' +
      '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">' +
      '<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]><lolz>&lol4;</lolz>';
    throwsCode(() => decode(lol), 'HOSTILE_XML', /DOCTYPE/);
  });

  it('rejects XXE with an external SYSTEM entity', () => {
    throwsCode(
      () => decode('<?xml version="1.0"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><foo>&xxe;</foo>'),
      'HOSTILE_XML',
    );
  });

  it('rejects an external parameter entity', () => {
    throwsCode(
      () => decode('<!DOCTYPE foo [<!ENTITY % ext SYSTEM "http://evil.example/x.dtd"> %ext;]><foo>x</foo>'),
      'HOSTILE_XML',
    );
  });

  it('rejects any DOCTYPE, in any case, and entity declarations without one', () => {
    throwsCode(() => decode('<!DOCTYPE html><a/>'), 'HOSTILE_XML', /line 1, column 1/);
    throwsCode(() => decode('<!DOCTYPE a SYSTEM "a.dtd"><a/>'), 'HOSTILE_XML');
    throwsCode(() => decode('<!doctype a><a/>'), 'HOSTILE_XML');
    throwsCode(() => decode('<a>\n<!ENTITY x "y"></a>'), 'HOSTILE_XML', /line 2, column 1/);
  });

  it('rejects nesting deeper than 64 by default, and takes maxDepth', () => {
    const nest = (n: number, inner = 'x') => '<e>'.repeat(n) + inner + '</e>'.repeat(n);
    assert.ok(decode(nest(64)));
    throwsCode(() => decode(nest(65)), 'HOSTILE_XML', /deeper than 64/);
    const c = createXmlCodec({ maxDepth: 3 });
    assert.deepEqual(decode(nest(3), c), { e: { e: { e: 'x' } } });
    throwsCode(() => decode(nest(4), c), 'HOSTILE_XML', /deeper than 3/);
    throwsCode(() => decode(nest(3, '<leaf/>'), c), 'HOSTILE_XML');
    const wide = createXmlCodec({ maxDepth: 500 });
    assert.ok(decode(nest(500), wide));
    throwsCode(() => decode(nest(501), wide), 'HOSTILE_XML');
  });

  it('rejects 10000 levels of nesting without a stack overflow', () => {
    throwsCode(() => decode('<a>'.repeat(10_000) + '</a>'.repeat(10_000)), 'HOSTILE_XML');
    throwsCode(() => decode('<a>'.repeat(10_000)), 'HOSTILE_XML');
  });

  it('rejects 5 MB of deeply nested elements', () => {
    const n = 750_000; // 7 bytes per level: over 5 MB
    const bytes = utf8.encode('<a>'.repeat(n) + '</a>'.repeat(n));
    assert.ok(bytes.length > 5_000_000);
    throwsCode(() => codec.decode(bytes), 'HOSTILE_XML');
  });

  it('decodes 5 MB of nested records within the depth limit', () => {
    const record = '<rec id="7"><name>n</name><v>007</v><deep><er><est>x</est></er></deep></rec>';
    const count = Math.ceil(5_000_000 / record.length);
    const value = decode(`<all>${record.repeat(count)}</all>`) as { all: { rec: unknown[] } };
    assert.equal(value.all.rec.length, count);
    assert.deepEqual(value.all.rec[count - 1], { '@id': '7', name: 'n', v: '007', deep: { er: { est: 'x' } } });
  });
});

describe('xml codec: malformed input', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['unclosed tag', '<a><b>x</b>', /Unclosed tag 'a'.*line 1, column 1/],
    ['mismatched tags', '<a>\n  <b>x</c>\n</a>', /Expected closing tag 'b'.*line 2/],
    ['crossed tags', '<a><b></a></b>', /Expected closing tag 'b'/],
    ['garbage', 'hello world', /char 'h' is not expected.*line 1, column 1/],
    ['whitespace only', '  \n ', /Start tag expected/],
    ['text after the root', '<a>x</a>trailing', /Extra text at the end.*line 1, column 9/],
    ['two roots', '<a></a>\n<b></b>', /Multiple possible root nodes.*line 2/],
    ['a self-closing second root', '<a></a><b/>', /one root element, this one has <a>, <b>/],
    ['two self-closing roots', '<a/>\n<b/>', /one root element, this one has <a>, <b>/],
    ['a repeated root', '<a x=">"/><a/>', /one root element, this one has <a>/],
    ['text after a self-closing root on line 2', '<a/>\n  text', /content after the root element \(line 2, column 3\)/],
    ['text after a self-closing root', '<?xml version="1.0"?><!-- c --><a/><!-- d -->text', /content after the root element/],
    ['text before the root', 'x<a/>', /char 'x' is not expected/],
    ['unquoted attribute', '<a b=1/>', /Attribute 'b' is without value/],
    ['repeated attribute', '<a b="1" b="2"/>', /Attribute 'b' is repeated/],
    ['invalid element name', '<1a/>', /Tag '1a' is an invalid name/],
    ['unterminated tag', '<a', /line 1/],
    ['unclosed comment', '<a><!-- never closed', /line 1/],
    ['unclosed CDATA', '<a><![CDATA[ never closed', /line 1/],
    ['stray ampersand in text', '<a>fish & chips</a>', /'&' is not expected/],
    ['stray ampersand in attribute', '<a b="fish & chips"/>', /'&' must start a reference/],
    ['undeclared entity', '<a>&nbsp;</a>', /entity &nbsp; is not declared/],
    ['reference to a non-character', '<a>&#0;</a>', /&#0; is not an XML character/],
    ['control character', '<a>\u0001</a>', /U\+0001.*line 1, column 4/],
    ['unknown markup declaration', '<a><!ELEMENT a ANY></a>', /unexpected '<!'/],
  ];
  for (const [name, xml, message] of cases) {
    it(`rejects ${name} with MALFORMED_BODY`, () => throwsCode(() => decode(xml), 'MALFORMED_BODY', message));
  }

  it('rejects an empty body', () => {
    throwsCode(() => codec.decode(new Uint8Array(0)), 'MALFORMED_BODY', /empty/);
  });

  it('rejects bytes that are not UTF-8', () => {
    throwsCode(() => codec.decode(new Uint8Array([0x3c, 0x61, 0x3e, 0xff, 0xfe, 0x3c, 0x2f, 0x61, 0x3e])), 'MALFORMED_BODY', /UTF-8/);
    // UTF-16 with a byte order mark is not accepted either.
    throwsCode(() => codec.decode(new Uint8Array([0xff, 0xfe, 0x3c, 0x00, 0x61, 0x00])), 'MALFORMED_BODY', /UTF-8/);
  });

  it('rejects binary garbage without crashing', () => {
    let seed = 42;
    for (let round = 0; round < 50; round++) {
      const bytes = new Uint8Array(1 + (round * 37) % 512);
      for (let i = 0; i < bytes.length; i++) {
        seed = (seed * 1103515245 + 12345) >>> 0;
        bytes[i] = seed >>> 24;
      }
      if (round % 2 === 0) bytes[0] = 0x3c; // sometimes look like markup
      throwsCode(() => codec.decode(bytes), 'MALFORMED_BODY');
    }
    throwsCode(() => codec.decode(new Uint8Array([0x00, 0x3c, 0x61, 0x2f, 0x3e])), 'MALFORMED_BODY', /U\+0000/);
  });
});

describe('xml codec: encode', () => {
  it('uses the only key as the root element and starts with the XML declaration', () => {
    assert.equal(encode({ a: { b: 'x' } }), `${DECL}<a><b>x</b></a>`);
  });

  it('wraps everything else in the root element', () => {
    assert.equal(encode({ a: '1', b: '2' }), `${DECL}<root><a>1</a><b>2</b></root>`);
    assert.equal(encode('hi'), `${DECL}<root>hi</root>`);
    assert.equal(encode(5), `${DECL}<root>5</root>`);
    assert.equal(encode(['x', 'y']), `${DECL}<root><item>x</item><item>y</item></root>`);
    assert.equal(encode({ a: ['1', '2'] }), `${DECL}<root><a>1</a><a>2</a></root>`);
    assert.equal(encode({ '@id': '1' }), `${DECL}<root id="1"/>`);
    assert.equal(encode({}), `${DECL}<root/>`);
    assert.equal(encode({ a: 1, b: 2 }, createXmlCodec({ root: 'envelope' })), `${DECL}<envelope><a>1</a><b>2</b></envelope>`);
  });

  it('writes attributes, #text and repeated elements', () => {
    assert.equal(
      encode({ order: { '@id': '7', line: [{ '@n': '1', '#text': 'A' }, { '@n': '2', '#text': 'B' }], note: 'x' } }),
      `${DECL}<order id="7"><line n="1">A</line><line n="2">B</line><note>x</note></order>`,
    );
  });

  it('writes arrays inside arrays as item children', () => {
    assert.equal(encode({ m: { row: [['1', '2'], ['3']] } }), `${DECL}<m><row><item>1</item><item>2</item></row><row><item>3</item></row></m>`);
  });

  it('writes numbers, booleans and BigInt as their decimal text', () => {
    assert.equal(
      encode({ a: { n: 42, f: -1.5, t: true, f2: false, big: 12345678901234567890n, '@c': 3 } }),
      `${DECL}<a c="3"><n>42</n><f>-1.5</f><t>true</t><f2>false</f2><big>12345678901234567890</big></a>`,
    );
  });

  it('writes null and undefined as empty elements and leaves out null attributes and empty arrays', () => {
    assert.equal(encode({ a: { b: null, c: undefined, d: '', e: [], '@x': null, '@y': undefined } }), `${DECL}<a><b/><c/><d/></a>`);
    assert.equal(encode({ a: { b: [null, 'x'] } }), `${DECL}<a><b/><b>x</b></a>`);
    assert.deepEqual(decode(encode({ a: { b: null } })), { a: { b: '' } });
  });

  it('escapes special characters in text and attributes', () => {
    assert.equal(
      encode({ a: { '@q': `<"&'>\t\n`, '#text': `<b>&"'\r` } }),
      `${DECL}<a q="&lt;&quot;&amp;&apos;&gt;&#9;&#10;">&lt;b&gt;&amp;&quot;&apos;&#13;</a>`,
    );
  });

  it('refuses keys that are not XML names, naming the key', () => {
    for (const key of ['1abc', 'a b', '', 'a<b', '#comment', '-x']) {
      throwsCode(() => encode({ a: { [key]: 'x' } }), 'ENCODE', new RegExp(JSON.stringify(key).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    }
    throwsCode(() => encode({ '1abc': 'x' }), 'ENCODE', /"1abc"/);
    throwsCode(() => encode({ a: { '@1x': 'v' } }), 'ENCODE', /"@1x".*attribute/);
    throwsCode(() => encode({ a: { '@': 'v' } }), 'ENCODE', /"@"/);
    throwsCode(() => encode({ a: { constructor: 'v' } }), 'ENCODE', /constructor/);
  });

  it('refuses values XML cannot carry', () => {
    throwsCode(() => encode({ a: { '@x': { y: 1 } } }), 'ENCODE', /"@x"/);
    throwsCode(() => encode({ a: { '#text': ['x'] } }), 'ENCODE', /#text/);
    throwsCode(() => encode({ a: Number.NaN }), 'ENCODE', /NaN/);
    throwsCode(() => encode({ a: () => 1 }), 'ENCODE', /function/);
    throwsCode(() => encode({ a: new Map() }), 'ENCODE', /Map/);
    throwsCode(() => encode({ a: 'nul\u0000' }), 'ENCODE', /"a"/);
    throwsCode(() => encode({ a: 'lone \ud800' }), 'ENCODE', /"a"/);
  });

  it('refuses values nested deeper than maxDepth, including cycles', () => {
    const c = createXmlCodec({ maxDepth: 2 });
    assert.equal(encode({ a: { b: 'x' } }, c), `${DECL}<a><b>x</b></a>`);
    throwsCode(() => encode({ a: { b: { c: 'x' } } }, c), 'ENCODE', /deeper than 2/);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    throwsCode(() => encode({ a: cyclic }), 'ENCODE', /deeper than 64/);
  });

  it('never produces malformed XML from awkward strings', () => {
    const awkward = ['', ' ', '<', '>', '&', '&amp;', ']]>', '<![CDATA[x]]>', '<!DOCTYPE x>', '"\'', '\r\n', '\t', '?>', '--', '😀', 'a\u0085b\u2028c'];
    for (const s of awkward) {
      const value = { a: { '@v': s, b: s, c: { '@w': s, '#text': `${s}x${s}` } } };
      const expected = { a: { '@v': s, b: s, c: { '@w': s, '#text': `${s}x${s}` } } };
      assert.deepEqual(decode(encode(value)), expected, JSON.stringify(s));
    }
  });
});

describe('xml codec: round trips', () => {
  const documents: Array<[string, string, ReturnType<typeof createXmlCodec>?]> = [
    ['attributes', '<user id="42" role="admin" empty=""><name first="Ada">Lovelace</name><born/></user>'],
    [
      'namespaces',
      '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns="urn:default">' +
        '<soap:Header/><soap:Body><Get xmlns:x="urn:x" x:ref="1"><x:id>007</x:id></Get></soap:Body></soap:Envelope>',
    ],
    ['repeated elements', '<list><item>1</item><item>2</item><other>x</other><item>3</item></list>'],
    ['forced arrays', '<order><lines><line sku="A">2</line></lines></order>', createXmlCodec({ arrays: ['order.lines.line'] })],
    ['mixed text and attributes', '<price currency="EUR" vat="incl">12.50</price>'],
    [
      'nested arrays',
      '<cat><shelf n="1"><book>A</book><book>B</book></shelf><shelf n="2"><book>C</book><book><title>D</title><tag>x</tag><tag>y</tag></book></shelf></cat>',
    ],
    ['unicode', '<données langue="français">日本語 🌍 Ελληνικά — עברית<emoji>👩‍👩‍👧</emoji></données>'],
    ['escaped characters', '<a q="&quot;x&quot; &amp; &apos;y&apos;">1 &lt; 2 &gt; 0 &amp;&amp; <![CDATA[<raw>]]></a>'],
    ['significant whitespace', '<a><b>  padded  </b><c>\n line\n</c><d> </d></a>'],
  ];

  for (const [name, xml, c = codec] of documents) {
    it(`keeps the value through encode and decode: ${name}`, () => {
      const value = decode(xml, c);
      const encoded = encode(value, c);
      assert.ok(encoded.startsWith(DECL));
      assert.deepEqual(decode(encoded, c), value);
      assert.equal(encode(decode(encoded, c), c), encoded, 'encoding is stable');
    });
  }

  it('decode(encode(v)) equals v for string values shaped by the convention', () => {
    const values: unknown[] = [
      { a: 'x' },
      { a: '' },
      { a: { '@id': '1' } },
      { a: { '@id': '1', '#text': 'x' } },
      { 'ns:a': { '@xmlns:ns': 'urn:ns', 'ns:b': ['1', '2'], c: { d: ['', 'x'] } } },
      { a: { b: [{ '@k': 'v', c: ['1', '2'] }, { c: '3' }, 'plain'] } },
      { 文档: { 标题: '你好', '@属性': 'ü' } },
      { a: { '#text': 'text', b: 'child' } },
    ];
    for (const v of values) assert.deepEqual(decode(encode(v)), v, JSON.stringify(v));
  });
});

describe('xml codec: options', () => {
  it('rejects invalid options when the codec is created', () => {
    throwsCode(() => createXmlCodec({ maxDepth: 0 }), 'FLOW_SCHEMA', /maxDepth/);
    throwsCode(() => createXmlCodec({ maxDepth: 1.5 }), 'FLOW_SCHEMA', /maxDepth/);
    throwsCode(() => createXmlCodec({ root: '1root' }), 'FLOW_SCHEMA', /root/);
    throwsCode(() => createXmlCodec({ arrays: ['line'] }), 'FLOW_SCHEMA', /"line"/);
    throwsCode(() => createXmlCodec({ arrays: ['a..b'] }), 'FLOW_SCHEMA', /"a\.\.b"/);
  });
});
