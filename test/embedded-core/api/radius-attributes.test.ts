import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { encodeAccessRequest, encodeAttribute, RadiusAttributeError } from '../../../src/embedded-core/api/radius-attributes.js';

const fixedRandom = (n: number): Buffer => Buffer.alloc(n, 0xab);

describe('RADIUS attribute encoding', () => {
  test('no attributes: a bare 20-byte Access-Request header', () => {
    const packet = encodeAccessRequest([], fixedRandom);
    assert.equal(packet.length, 20);
    assert.equal(packet[0], 1);
    assert.equal(packet.readUInt16BE(2), 20);
    assert.deepEqual(packet.subarray(4), Buffer.alloc(16, 0xab));
  });

  test('tunnel attributes carry the RFC 2868 tag (the values eapol_test expects)', () => {
    assert.equal(encodeAttribute({ type: 64, value: 13, tag: 1 }).toString('hex'), '40060100000d');
    assert.equal(encodeAttribute({ type: 65, value: 6, tag: 1 }).toString('hex'), '410601000006');
    assert.equal(encodeAttribute({ type: 81, value: '0x0d', tag: 1 }).toString('hex'), '5104010d');
  });

  test('text, integers and a Cisco VSA', () => {
    assert.equal(encodeAttribute({ type: 11, value: 'admins' }).toString('hex'), '0b0861646d696e73');
    assert.equal(encodeAttribute({ type: 27, value: 3600 }).toString('hex'), '1b0600000e10');
    const vsa = encodeAttribute({ type: 26, vendor: 9, vendor_type: 1, value: 'shell:priv-lvl=15' });
    assert.equal(vsa[0], 26);
    assert.equal(vsa[1], vsa.length);
    assert.equal(vsa.readUInt32BE(2), 9);
    assert.equal(vsa[6], 1);
    assert.equal(vsa[7], 2 + 'shell:priv-lvl=15'.length);
    assert.equal(vsa.subarray(8).toString(), 'shell:priv-lvl=15');
  });

  test('a packet concatenates attributes and sets the length', () => {
    const packet = encodeAccessRequest([encodeAttribute({ type: 11, value: 'a' })], fixedRandom);
    assert.equal(packet.readUInt16BE(2), 23);
    assert.equal(packet.subarray(20).toString('hex'), '0b0361');
  });

  test('values that cannot be encoded are refused', () => {
    assert.throws(() => encodeAttribute({ type: 11, value: 'x'.repeat(254) }), RadiusAttributeError);
    assert.throws(() => encodeAttribute({ type: 64, value: 0x1000000, tag: 1 }), RadiusAttributeError);
    assert.throws(() => encodeAttribute({ type: 26, value: 'x' }), RadiusAttributeError);
    assert.throws(() => encodeAttribute({ type: 0, value: 'x' }), RadiusAttributeError);
    assert.throws(() => encodeAttribute({ type: 27, value: -1 }), RadiusAttributeError);
  });
});
