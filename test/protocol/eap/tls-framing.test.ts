import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EapDecodeError } from '../../../src/protocol/eap/packet.js';
import {
  DEFAULT_FRAGMENT_BYTES,
  TlsReassembler,
  decodeTlsPayload,
  encodeTlsPayload,
  fragmentBytesFor,
  fragmentTlsMessage,
  isTlsAck,
  tlsAckPayload,
  tlsStartPayload,
  type TlsPayload,
} from '../../../src/protocol/eap/tls-framing.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const message = (length: number): Buffer => Buffer.from(Array.from({ length }, (_, i) => (i * 31 + 7) & 0xff));

describe('flags and lengths', () => {
  test('decoding L, M, S and the version bits', () => {
    assert.deepEqual(decodeTlsPayload(hex('20')), { start: true, more: false, version: 0, messageLength: undefined, data: Buffer.alloc(0) });
    assert.deepEqual(decodeTlsPayload(hex('c1 000007d0 abcd')), { start: false, more: true, version: 1, messageLength: 2000, data: hex('abcd') });
    assert.deepEqual(decodeTlsPayload(hex('00 1603')), { start: false, more: false, version: 0, messageLength: undefined, data: hex('1603') });
    assert.throws(() => decodeTlsPayload(hex('')), EapDecodeError);
    assert.throws(() => decodeTlsPayload(hex('80 0000')), EapDecodeError);
  });

  test('encoding: Start of PEAPv0 and TTLSv0, ACKs', () => {
    assert.deepEqual(tlsStartPayload(), hex('20'));
    assert.deepEqual(tlsStartPayload(1), hex('21'));
    assert.deepEqual(tlsAckPayload(), hex('00'));
    assert.equal(isTlsAck(decodeTlsPayload(tlsAckPayload())), true);
    assert.equal(isTlsAck(decodeTlsPayload(hex('20'))), false);
    assert.equal(isTlsAck(decodeTlsPayload(hex('80 00000000'))), false);
    assert.deepEqual(encodeTlsPayload({ messageLength: 3, more: true, version: 2, data: hex('010203') }), hex('c2 00000003 010203'));
    assert.throws(() => encodeTlsPayload({ version: 8 }), RangeError);
  });

  test('Framed-MTU lowers the fragment size to fit the EAP packet', () => {
    assert.equal(fragmentBytesFor(1000, undefined), 1000);
    assert.equal(fragmentBytesFor(1000, 1500), 1000);
    assert.equal(fragmentBytesFor(1000, 1010), 1000);
    assert.equal(fragmentBytesFor(1000, 800), 790);
    assert.equal(fragmentBytesFor(1000, 20), 64);
  });
});

describe('fragmentTlsMessage', () => {
  test('a flight of 2,500 octets: three fragments, L on each, M on all but the last', () => {
    const flight = message(2500);
    const payloads = fragmentTlsMessage(flight).map(decodeTlsPayload);
    assert.equal(DEFAULT_FRAGMENT_BYTES, 1000);
    assert.deepEqual(payloads.map((p) => [p.messageLength, p.more, p.data.length]), [
      [2500, true, 1000],
      [2500, true, 1000],
      [2500, false, 500],
    ]);
    assert.deepEqual(Buffer.concat(payloads.map((p) => p.data)), flight);
  });

  test('a single fragment still carries L; the version goes into every fragment', () => {
    const payloads = fragmentTlsMessage(message(10), 1000, 1);
    assert.equal(payloads.length, 1);
    assert.deepEqual(payloads[0]!.subarray(0, 5), hex('81 0000000a'));
    assert.ok(fragmentTlsMessage(message(30), 10, 1).every((p) => (p[0]! & 0x07) === 1));
    assert.throws(() => fragmentTlsMessage(Buffer.alloc(0)), RangeError);
    assert.throws(() => fragmentTlsMessage(message(5), 0), RangeError);
  });
});

describe('TlsReassembler', () => {
  test('puts fragmented flights of many sizes back together, one ACK per non-final fragment', () => {
    const reassembler = new TlsReassembler();
    let identifier = 0;
    const feed = (payloads: Buffer[]) => payloads.map((p) => reassembler.push(identifier++ & 0xff, decodeTlsPayload(p)));
    for (const [length, size] of [[1, 1000], [1000, 1000], [1001, 1000], [5000, 1000], [777, 7], [4096, 253]] as const) {
      const flight = message(length);
      const results = feed(fragmentTlsMessage(flight, size));
      assert.ok(results.slice(0, -1).every((r) => r.status === 'more'));
      assert.deepEqual(results.at(-1), { status: 'complete', message: flight });
      assert.equal(reassembler.inProgress, false);
    }
  });

  test('accepts L on the first fragment only, and no L on an unfragmented message', () => {
    const reassembler = new TlsReassembler();
    assert.deepEqual(reassembler.push(1, decodeTlsPayload(hex('c0 00000004 0102'))), { status: 'more' });
    assert.equal(reassembler.inProgress, true);
    assert.deepEqual(reassembler.push(2, decodeTlsPayload(hex('00 0304'))), { status: 'complete', message: hex('01020304') });
    assert.deepEqual(reassembler.push(3, decodeTlsPayload(hex('00 0506'))), { status: 'complete', message: hex('0506') });
  });

  test('a repeated fragment (same identifier, same data) is a duplicate, also after completion', () => {
    const reassembler = new TlsReassembler();
    const [first, last] = fragmentTlsMessage(message(12), 8);
    assert.deepEqual(reassembler.push(5, decodeTlsPayload(first!)), { status: 'more' });
    assert.deepEqual(reassembler.push(5, decodeTlsPayload(first!)), { status: 'duplicate' });
    assert.equal(reassembler.push(6, decodeTlsPayload(last!)).status, 'complete');
    assert.deepEqual(reassembler.push(6, decodeTlsPayload(last!)), { status: 'duplicate' });
  });

  test('the data is copied: reusing the input buffer does not change the message', () => {
    const reassembler = new TlsReassembler();
    const input = Buffer.from(fragmentTlsMessage(message(12), 8)[0]!);
    reassembler.push(1, decodeTlsPayload(input));
    input.fill(0);
    const result = reassembler.push(2, decodeTlsPayload(fragmentTlsMessage(message(12), 8)[1]!));
    assert.deepEqual(result, { status: 'complete', message: message(12) });
  });

  const refusals: Array<[string, Array<[number, string]>, number?]> = [
    ['Start from a peer', [[1, '20']]],
    ['an empty first fragment', [[1, '00']]],
    ['M without L on the first fragment', [[1, '40 0102']]],
    ['a declared length above the maximum', [[1, 'c0 00000401 01']], 1024],
    ['an unfragmented message above the maximum', [[1, '00 ' + '01'.repeat(17)]], 16],
    ['L differing from the first fragment', [[1, 'c0 00000004 01'], [2, '80 00000005 02']]],
    ['more data than L', [[1, 'c0 00000002 01'], [2, '40 0203']]],
    ['a last fragment short of L', [[1, 'c0 00000004 01'], [2, '00 02']]],
    ['a single fragment whose L differs from its data', [[1, '80 00000003 0102']]],
    ['an empty middle fragment', [[1, 'c0 00000004 01'], [2, '40']]],
    ['a repeated identifier with other data', [[1, 'c0 00000004 01'], [1, 'c0 00000004 02']]],
  ];
  for (const [name, steps, max] of refusals) {
    test(`refuses ${name}`, () => {
      const reassembler = new TlsReassembler(max);
      assert.throws(() => {
        for (const [id, bytes] of steps) reassembler.push(id, decodeTlsPayload(hex(bytes)));
      }, EapDecodeError);
    });
  }

  test('reset() starts over after a refusal', () => {
    const reassembler = new TlsReassembler();
    reassembler.push(1, decodeTlsPayload(hex('c0 00000004 01')));
    assert.throws(() => reassembler.push(2, decodeTlsPayload(hex('00 02'))), EapDecodeError);
    reassembler.reset();
    const payload: TlsPayload = decodeTlsPayload(hex('00 09'));
    assert.deepEqual(reassembler.push(2, payload), { status: 'complete', message: hex('09') });
  });
});
