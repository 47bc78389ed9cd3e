import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ProtocolError } from '../../../src/errors.js';
import { FrameReader, nextFrame } from '../../../src/protocol/ber/framer.js';
import { LDAP_DECODE_LIMITS } from '../../../src/config/limits.js';
import { decodeMessage, encodeMessage } from '../../../src/protocol/ldap/messages.js';
import { fixtures } from '../ldap/fixtures.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const limits = LDAP_DECODE_LIMITS;

describe('nextFrame', () => {
  test('whole, partial and back-to-back frames', () => {
    const two = hex('30050201034200 300c020101600702010304008000');
    assert.deepEqual(nextFrame(two, 0, limits), { end: 7 });
    assert.deepEqual(nextFrame(two, 7, limits), { end: two.length });
    assert.equal(nextFrame(two, two.length, limits), null);
    assert.equal(nextFrame(two.subarray(0, 6), 0, limits), null);
  });

  test('long-form header split inside the length octets', () => {
    const body = Buffer.alloc(300, 0);
    const frame = Buffer.concat([hex('30 82 012c'), body]);
    assert.equal(nextFrame(frame.subarray(0, 3), 0, limits), null);
    assert.equal(nextFrame(frame.subarray(0, 4), 0, limits), null);
    assert.deepEqual(nextFrame(frame, 0, limits), { end: 304 });
  });

  const bad: Array<[string, string, RegExp]> = [
    ['first octet is not a SEQUENCE', '04', /expected an LDAPMessage SEQUENCE/],
    ['first octet is not a SEQUENCE, more bytes', '0405616263', /expected an LDAPMessage SEQUENCE/],
    ['indefinite length', '3080', /indefinite/],
    ['5 length octets', '3085', /too long/],
    ['declared length over the limit', '3084 00100000', /exceeds the limit/],
    ['declared length far over the limit, header only', '3084 7fffffff', /exceeds the limit/],
  ];
  for (const [name, bytes, pattern] of bad) {
    test(name, () => {
      assert.throws(
        () => nextFrame(hex(bytes), 0, limits),
        (error: unknown) => error instanceof ProtocolError && pattern.test(error.message),
      );
    });
  }

  test('the limit counts header and content', () => {
    const frame = hex('30050201034200');
    assert.deepEqual(nextFrame(frame, 0, { maxMessageBytes: 7 }), { end: 7 });
    assert.throws(() => nextFrame(frame, 0, { maxMessageBytes: 6 }), ProtocolError);
  });
});

describe('every fixture split at every offset', () => {
  for (const fixture of fixtures) {
    test(fixture.name, () => {
      const bytes = Buffer.from(fixture.hex, 'hex');
      const stream = Buffer.concat([bytes, bytes]);
      for (let cut = 0; cut <= stream.length; cut++) {
        const reader = new FrameReader(limits);
        const frames: Buffer[] = [];
        for (const part of [stream.subarray(0, cut), stream.subarray(cut)]) {
          reader.push(Buffer.from(part));
          for (let frame = reader.next(); frame !== null; frame = reader.next()) frames.push(frame);
        }
        assert.equal(frames.length, 2, `cut at ${cut}`);
        assert.deepEqual(frames[0], bytes);
        assert.deepEqual(frames[1], bytes);
        assert.equal(reader.buffered, 0);
        // Direct use of nextFrame on the prefix: null until the first frame is complete.
        const prefix = stream.subarray(0, cut);
        const found = nextFrame(prefix, 0, limits);
        assert.deepEqual(found, cut >= bytes.length ? { end: bytes.length } : null);
      }
    });
  }

  test('one byte at a time across many messages', () => {
    const messages = fixtures.map((f) => Buffer.from(f.hex, 'hex'));
    const stream = Buffer.concat(messages);
    const reader = new FrameReader(limits);
    const frames: Buffer[] = [];
    for (let i = 0; i < stream.length; i++) {
      reader.push(stream.subarray(i, i + 1));
      for (let frame = reader.next(); frame !== null; frame = reader.next()) frames.push(frame);
    }
    assert.deepEqual(frames, messages);
  });

  test('a large message in chunks, frames stay valid after later pushes', () => {
    const big = encodeMessage({
      messageID: 9,
      op: { kind: 'AddRequest', entry: 'cn=x', attributes: [{ type: 'jpegPhoto', values: [Buffer.alloc(200_000, 7)] }] },
      controls: [],
    });
    const small = hex('30050201034200');
    const stream = Buffer.concat([small, big, small]);
    const reader = new FrameReader(limits);
    const frames: Buffer[] = [];
    for (let i = 0; i < stream.length; i += 4096) {
      reader.push(Buffer.from(stream.subarray(i, i + 4096)));
      for (let frame = reader.next(); frame !== null; frame = reader.next()) frames.push(frame);
    }
    assert.equal(frames.length, 3);
    assert.deepEqual(frames[1], big);
    assert.deepEqual(frames[0], small);
    assert.equal(decodeMessage(frames[1]).messageID, 9);
  });

  test('an oversized message is refused from its header, before its body arrives', () => {
    const reader = new FrameReader({ maxMessageBytes: 1000 });
    reader.push(hex('3082 0400'));
    assert.throws(() => reader.next(), /exceeds the limit/);
  });
});
