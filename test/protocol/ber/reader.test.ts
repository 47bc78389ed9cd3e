import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ProtocolError } from '../../../src/errors.js';
import { BerReader, Tag } from '../../../src/protocol/ber/reader.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const reader = (s: string, maxDepth = 8): BerReader => {
  const buf = hex(s);
  return new BerReader(buf, 0, buf.length, maxDepth);
};
const isProtocolError = (pattern: RegExp) => (error: unknown): boolean => {
  assert.ok(error instanceof ProtocolError, `expected ProtocolError, got ${String(error)}`);
  assert.match(error.message, pattern);
  return true;
};

describe('INTEGER', () => {
  const cases: Array<[string, number]> = [
    ['020100', 0],
    ['02017f', 127],
    ['02020080', 128],
    ['0201ff', -1],
    ['020180', -128],
    ['0202ff7f', -129],
    ['0202012c', 300],
    ['02047fffffff', 0x7fffffff],
    ['020480000000', -0x80000000],
    // Non-minimal encodings are tolerated (BER, not DER).
    ['02020001', 1],
    ['020400000005', 5],
    ['0203ffffff', -1],
  ];
  for (const [bytes, value] of cases) {
    test(`${bytes} is ${value}`, () => {
      const r = reader(bytes);
      assert.equal(r.readInt(), value);
      assert.ok(r.atEnd());
    });
  }
  test('more than 4 octets is rejected', () => {
    assert.throws(() => reader('02050000000001').readInt(), isProtocolError(/longer than 4/));
  });
  test('no content octets is rejected', () => {
    assert.throws(() => reader('0200').readInt(), isProtocolError(/no content/));
  });
  test('wrong tag is rejected', () => {
    assert.throws(() => reader('0a0101').readInt(Tag.integer, 'sizeLimit'), isProtocolError(/expected sizeLimit \(tag 0x02\), got tag 0x0a/));
  });
  test('ENUMERATED and implicit tags', () => {
    assert.equal(reader('0a0102').readEnumerated(), 2);
    assert.equal(reader('500107').readInt(0x50), 7);
  });
});

describe('BOOLEAN, NULL, OCTET STRING', () => {
  test('any non-zero octet is TRUE', () => {
    assert.equal(reader('0101ff').readBoolean(), true);
    assert.equal(reader('010101').readBoolean(), true);
    assert.equal(reader('010100').readBoolean(), false);
  });
  test('BOOLEAN must be one octet', () => {
    assert.throws(() => reader('0100').readBoolean(), isProtocolError(/one content octet/));
    assert.throws(() => reader('01020000').readBoolean(), isProtocolError(/one content octet/));
  });
  test('NULL must be empty', () => {
    assert.doesNotThrow(() => reader('0500').readNull());
    assert.throws(() => reader('050100').readNull(), isProtocolError(/must be empty/));
  });
  test('octets are a view, strings must be UTF-8', () => {
    assert.deepEqual(reader('0403616263').readOctets(), Buffer.from('abc'));
    assert.equal(reader('0402c3a4').readString(), 'ä');
    assert.equal(reader('0400').readString(), '');
    assert.throws(() => reader('0402c328').readString(), isProtocolError(/not valid UTF-8/));
    assert.throws(() => reader('0403eda080').readString(), isProtocolError(/not valid UTF-8/)); // surrogate
  });
  test('maxBytes is checked from the header', () => {
    assert.throws(() => reader('0403616263').readOctets(Tag.octetString, 2), isProtocolError(/exceeds the limit of 2/));
    assert.throws(() => reader('0403616263').readString(Tag.octetString, 2), isProtocolError(/exceeds the limit of 2/));
  });
});

describe('lengths', () => {
  test('long forms', () => {
    const long = Buffer.concat([hex('0481c8'), Buffer.alloc(200, 0x61)]);
    assert.equal(new BerReader(long).readOctets().length, 200);
    const longer = Buffer.concat([hex('04820100'), Buffer.alloc(256, 0x61)]);
    assert.equal(new BerReader(longer).readOctets().length, 256);
    // Non-minimal long form is tolerated.
    assert.equal(reader('048103616263').readString(), 'abc');
    assert.equal(reader('04840000000161').readString(), 'a');
  });
  const bad: Array<[string, string, RegExp]> = [
    ['indefinite length', '3080 0500 0000', /indefinite/],
    ['5 length octets', '04850000000001 61', /too long/],
    ['length octets missing', '0482 01', /length octets run past/],
    ['length past the buffer', '0405 616263', /runs past/],
    ['no length at all', '04', /expected a length/],
    ['no tag', '', /expected a tag/],
    ['multi-octet tag', '1f2000', /multi-octet/],
  ];
  for (const [name, bytes, pattern] of bad) {
    test(name, () => assert.throws(() => reader(bytes).readHeader(), isProtocolError(pattern)));
  }
  test('an element may not reach past its container', () => {
    const r = reader('3003 040561 6263');
    r.enter(Tag.sequence);
    assert.throws(() => r.readOctets(), isProtocolError(/runs past/));
  });
});

describe('constructed elements', () => {
  test('enter, read, leave', () => {
    const r = reader('300a 020101 3005 0403616263');
    r.enter(Tag.sequence);
    assert.equal(r.readInt(), 1);
    r.enter();
    assert.equal(r.depth, 2);
    assert.equal(r.readString(), 'abc');
    r.leave();
    r.leave();
    assert.ok(r.atEnd());
    assert.equal(r.peekTag(), -1);
  });
  test('leave with unread content is rejected', () => {
    const r = reader('3006 020101 020102');
    r.enter(Tag.sequence);
    r.readInt();
    assert.throws(() => r.leave(), isProtocolError(/unexpected data at the end/));
  });
  test('enter needs a constructed tag', () => {
    assert.throws(() => reader('0403616263').enter(), isProtocolError(/constructed/));
  });
  test('nesting depth limit', () => {
    const r = reader('3006 3004 3002 3000', 3);
    r.enter();
    r.enter();
    r.enter();
    assert.throws(() => r.enter(), isProtocolError(/nesting too deep/));
  });
  test('skip and readRaw', () => {
    const r = reader('3003 020101 0403616263');
    r.skip();
    assert.deepEqual(r.readRaw(), hex('0403616263'));
    assert.ok(r.atEnd());
  });
});
