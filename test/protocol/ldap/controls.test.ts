import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ProtocolError } from '../../../src/errors.js';
import {
  decodePagedResults,
  encodeControls,
  encodePagedResults,
  findControl,
  pagedResultsControl,
} from '../../../src/protocol/ldap/controls.js';
import { decodeMessage } from '../../../src/protocol/ldap/messages.js';
import { Oid } from '../../../src/protocol/ldap/oids.js';
import { fixtureBytes } from './fixtures.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('Simple Paged Results (RFC 2696)', () => {
  test('request value as ldapsearch sends it', () => {
    assert.deepEqual(decodePagedResults(hex('3005 020164 0400')), { size: 100, cookie: Buffer.alloc(0) });
  });

  test('round trips with a cookie', () => {
    const paged = { size: 0x12345, cookie: Buffer.from([0, 1, 2, 0xff]) };
    const value = encodePagedResults(paged);
    assert.equal(value.toString('hex'), '300b 0203012345 040400 0102ff'.replace(/\s+/g, ''));
    assert.deepEqual(decodePagedResults(value), paged);
  });

  test('the response control on SearchResultDone matches the fixture', () => {
    const done = decodeMessage(fixtureBytes('search done with paged results response control'));
    assert.deepEqual(done.controls, [pagedResultsControl(0, Buffer.alloc(0))]);
    assert.deepEqual(findControl(done.controls, Oid.pagedResults)?.value, encodePagedResults({ size: 0, cookie: Buffer.alloc(0) }));
    assert.equal(findControl(done.controls, Oid.vlvRequest), undefined);
  });

  const bad: Array<[string, Buffer | undefined, RegExp]> = [
    ['missing value', undefined, /without a value/],
    ['empty value', hex(''), /unexpected end/],
    ['negative size', hex('3005 0201ff 0400'), /negative/],
    ['cookie missing', hex('3003 020101'), /unexpected end/],
    ['data after the sequence', hex('3005 020101 0400 00'), /data after/],
    ['extra element in the sequence', hex('3007 020101 0400 0500'), /unexpected data at the end/],
    ['size is not an INTEGER', hex('3005 0a0101 0400'), /expected paged results size/],
  ];
  for (const [name, value, pattern] of bad) {
    test(`rejects ${name}`, () => {
      assert.throws(
        () => decodePagedResults(value),
        (error: unknown) => error instanceof ProtocolError && pattern.test(error.message),
      );
    });
  }

  test('cookie size limit', () => {
    const value = encodePagedResults({ size: 1, cookie: Buffer.alloc(10) });
    assert.throws(() => decodePagedResults(value, { maxValueBytes: 9 }), /exceeds the limit/);
  });
});

describe('generic controls', () => {
  test('criticality is omitted when false, value only when present', () => {
    assert.equal(encodeControls([]).length, 0);
    assert.equal(
      encodeControls([{ type: '1.2', criticality: false }, { type: '1.3', criticality: true, value: Buffer.from('v') }]).toString('hex'),
      'a014' + '30050403312e32' + '300b0403312e330101ff' + '040176',
    );
  });
});
