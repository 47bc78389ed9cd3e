import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BerReader, Tag } from '../../../src/protocol/ber/reader.js';
import { BerWriter, intSize, lengthSize, tlvSize } from '../../../src/protocol/ber/writer.js';
import { utf8Length, writeUtf8 } from '../../../src/protocol/ber/utf8.js';

describe('BerWriter', () => {
  test('minimal INTEGER encodings', () => {
    const cases: Array<[number, string]> = [
      [0, '020100'],
      [127, '02017f'],
      [128, '02020080'],
      [255, '020200ff'],
      [256, '02020100'],
      [-1, '0201ff'],
      [-128, '020180'],
      [-129, '0202ff7f'],
      [0x7fffff, '02037fffff'],
      [0x800000, '020400800000'],
      [0x7fffffff, '02047fffffff'],
      [-0x80000000, '020480000000'],
    ];
    for (const [value, expected] of cases) {
      const w = new BerWriter();
      w.writeInt(value);
      const bytes = w.toBuffer();
      assert.equal(bytes.toString('hex'), expected, String(value));
      assert.equal(intSize(value), bytes.length - 2);
      assert.equal(new BerReader(bytes).readInt(), value);
    }
  });

  test('integers outside 32 bits are refused', () => {
    for (const value of [0x80000000, -0x80000001, 0.5, Number.NaN]) {
      assert.throws(() => new BerWriter().writeInt(value), RangeError);
    }
  });

  test('sequence lengths at every length-form boundary', () => {
    for (const size of [0, 1, 127, 128, 255, 256, 65535, 65536, 70000]) {
      const w = new BerWriter(16);
      w.startSequence();
      w.startSequence(Tag.set);
      w.writeOctetString(Buffer.alloc(size, 0x5a));
      w.endSequence();
      w.writeBoolean(true);
      w.endSequence();
      const bytes = w.toBuffer();
      const inner = tlvSize(size);
      const set = tlvSize(inner);
      assert.equal(bytes.length, tlvSize(set + 3), `size ${size}`);
      assert.equal(lengthSize(set + 3), bytes.length - 1 - set - 3);
      const r = new BerReader(bytes);
      r.enter(Tag.sequence);
      r.enter(Tag.set);
      const value = r.readOctets();
      assert.equal(value.length, size);
      assert.ok(value.every((b) => b === 0x5a));
      r.leave();
      assert.equal(r.readBoolean(), true);
      r.leave();
      assert.ok(r.atEnd());
    }
  });

  test('strings are written as UTF-8, short and long', () => {
    for (const text of ['', 'a', 'äöü€😀', 'x'.repeat(42), 'é'.repeat(43), '€'.repeat(1000)]) {
      const w = new BerWriter(8);
      w.writeOctetString(text);
      const bytes = w.toBuffer();
      assert.equal(new BerReader(bytes).readString(), text);
      assert.equal(bytes.length, tlvSize(Buffer.byteLength(text)));
    }
  });

  test('toBuffer hands over the bytes and resets the writer', () => {
    const w = new BerWriter();
    w.writeNull();
    const first = w.toBuffer();
    w.writeBoolean(false, 0x84);
    const second = w.toBuffer();
    assert.equal(first.toString('hex'), '0500');
    assert.equal(second.toString('hex'), '840100');
  });

  test('unbalanced sequences are programming errors', () => {
    assert.throws(() => new BerWriter().endSequence(), RangeError);
    const w = new BerWriter();
    w.startSequence();
    assert.throws(() => w.toBuffer(), RangeError);
  });
});

describe('UTF-8 helpers', () => {
  test('utf8Length and writeUtf8 agree with Buffer on short, long, ASCII and non-ASCII text', () => {
    const samples = ['', 'a', 'ascii only', 'é', 'ä€😀', '\ud800', 'x\udc00y', '😀'.repeat(30), 'a'.repeat(47), 'a'.repeat(49), 'ü'.repeat(100)];
    for (const text of samples) {
      const size = utf8Length(text);
      assert.equal(size, Buffer.byteLength(text, 'utf8'), JSON.stringify(text));
      const buf = Buffer.alloc(size + 2, 0xee);
      assert.equal(writeUtf8(buf, 1, text, size), size + 1);
      assert.deepEqual(buf.subarray(1, size + 1), Buffer.from(text, 'utf8'));
      assert.equal(buf[0], 0xee);
      assert.equal(buf[size + 1], 0xee);
    }
  });
});
