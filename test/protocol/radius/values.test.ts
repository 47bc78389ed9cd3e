import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Attr, MsAttr, TAGGED_ATTRIBUTES, Vendor } from '../../../src/protocol/radius/dictionary.js';
import { eapMessageAttributes, getState, joinEapMessage, newStateValue, stateAttribute, stateOwner } from '../../../src/protocol/radius/eap-message.js';
import {
  hideUserPassword,
  mppeKeyAttributes,
  newSalts,
  saltDecrypt,
  saltEncrypt,
  tunnelPasswordAttribute,
  tunnelPasswordValue,
  unhideUserPassword,
} from '../../../src/protocol/radius/hiding.js';
import { RadiusDecodeError, RadiusEncodeError, decodePacket, encodePacket, type RadiusAttribute } from '../../../src/protocol/radius/packet.js';
import {
  decodeVendorSpecific,
  getVendorAttribute,
  integerAttribute,
  integerValue,
  ipv4Attribute,
  ipv4Value,
  ipv6Attribute,
  ipv6Value,
  taggedIntegerAttribute,
  taggedIntegerValue,
  taggedStringAttribute,
  taggedStringValue,
  textAttribute,
  textValue,
  vendorSpecificAttribute,
} from '../../../src/protocol/radius/values.js';
import { hex } from './fixtures.js';

const packetOf = (attributes: RadiusAttribute[]) =>
  decodePacket(encodePacket({ code: 2, identifier: 1, authenticator: Buffer.alloc(16), attributes }));
const authenticator = hex('4ad54798bf180e4b6add00c799b4a657');

describe('plain values', () => {
  test('text is UTF-8 and refused when invalid', () => {
    assert.equal(textValue(textAttribute(1, 'grüße 😀').value), 'grüße 😀');
    assert.throws(() => textValue(hex('ff61')), RadiusDecodeError);
  });

  test('integers are exactly 4 octets', () => {
    assert.deepEqual(integerAttribute(5, 0xdeadbeef).value, hex('deadbeef'));
    assert.equal(integerValue(hex('0000000a')), 10);
    assert.throws(() => integerValue(hex('000a')), RadiusDecodeError);
    assert.throws(() => integerAttribute(5, -1), RadiusEncodeError);
    assert.throws(() => integerAttribute(5, 2 ** 32), RadiusEncodeError);
  });

  test('IPv4 addresses', () => {
    assert.deepEqual(ipv4Attribute(4, '10.120.20.76').value, hex('0a78144c'));
    assert.equal(ipv4Value(hex('c0a80110')), '192.168.1.16');
    for (const bad of ['1.2.3', '1.2.3.256', '01.2.3.4', 'a.b.c.d', '1.2.3.4.5']) assert.throws(() => ipv4Attribute(4, bad), RadiusEncodeError, bad);
    assert.throws(() => ipv4Value(hex('0102')), RadiusDecodeError);
  });

  test('IPv6 addresses in RFC 5952 form', () => {
    const cases: Array<[string, string]> = [
      ['2001:db8::1', '20010db8000000000000000000000001'],
      ['::', '00000000000000000000000000000000'],
      ['::1', '00000000000000000000000000000001'],
      ['fe80::', 'fe800000000000000000000000000000'],
      ['2001:db8:0:1:1:1:1:1', '20010db8000000010001000100010001'],
      ['2001:0:0:1::1', '20010000000000010000000000000001'],
    ];
    for (const [text, bytes] of cases) {
      assert.equal(ipv6Value(hex(bytes)), text);
      assert.deepEqual(ipv6Attribute(95, text).value, hex(bytes));
    }
    assert.deepEqual(ipv6Attribute(95, '2001:DB8:0:0:0:0:0:1').value, hex('20010db8000000000000000000000001'));
    for (const bad of ['1::2::3', '12345::', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', ':::', 'g::1']) assert.throws(() => ipv6Attribute(95, bad), RadiusEncodeError, bad);
    assert.throws(() => ipv6Value(hex('00')), RadiusDecodeError);
  });
});

describe('tagged attributes (RFC 2868)', () => {
  test('the reference VLAN reply values (its section 5.10)', () => {
    assert.deepEqual(taggedIntegerAttribute(Attr.TunnelType, 1, 13), { type: 64, value: hex('0100000d') });
    assert.deepEqual(taggedIntegerAttribute(Attr.TunnelMediumType, 1, 6), { type: 65, value: hex('01000006') });
    assert.deepEqual(taggedStringAttribute(Attr.TunnelPrivateGroupId, 1, hex('0d')), { type: 81, value: hex('010d') });
  });

  test('a tag belongs to its own attribute only: nothing leaks onto the next', () => {
    const attributes = [
      taggedIntegerAttribute(Attr.TunnelType, 1, 13),
      taggedStringAttribute(Attr.TunnelPrivateGroupId, undefined, '100'),
      textAttribute(Attr.ReplyMessage, 'vlan'),
      taggedStringAttribute(Attr.TunnelPrivateGroupId, 2, '200'),
    ];
    const bytes = encodePacket({ code: 2, identifier: 1, authenticator: Buffer.alloc(16), attributes });
    assert.equal(bytes.subarray(20).toString('hex'), '40060100000d' + '5105313030' + '1206766c616e' + '510602323030');
    const packet = decodePacket(bytes);
    assert.deepEqual(taggedIntegerValue(packet.attributes[0]!.value), { tag: 1, value: 13 });
    assert.deepEqual(taggedStringValue(packet.attributes[1]!.value), { tag: undefined, value: Buffer.from('100') });
    assert.equal(textValue(packet.attributes[2]!.value), 'vlan');
    assert.deepEqual(taggedStringValue(packet.attributes[3]!.value), { tag: 2, value: Buffer.from('200') });
  });

  test('an untagged string starting below 0x20 gets a zero tag; bad tags are refused', () => {
    assert.deepEqual(taggedStringAttribute(81, undefined, hex('0d')).value, hex('000d'));
    assert.deepEqual(taggedStringValue(hex('000d')), { tag: 0, value: hex('0d') });
    assert.throws(() => taggedStringAttribute(81, 32, 'x'), RadiusEncodeError);
    assert.throws(() => taggedIntegerAttribute(64, 1, 2 ** 24), RadiusEncodeError);
    assert.throws(() => taggedIntegerValue(hex('2000000d')), RadiusDecodeError);
    assert.throws(() => taggedIntegerValue(hex('01000d')), RadiusDecodeError);
    assert.equal(TAGGED_ATTRIBUTES.has(Attr.TunnelPassword), true);
  });
});

describe('Vendor-Specific', () => {
  test('round trip with several sub-attributes, and lookup by vendor and type', () => {
    const vsa = vendorSpecificAttribute(9, [
      { vendorType: 1, value: Buffer.from('shell:priv-lvl=15') },
      { vendorType: 2, value: hex('0102') },
    ]);
    assert.equal(vsa.value.subarray(0, 4).toString('hex'), '00000009');
    assert.deepEqual(decodeVendorSpecific(vsa.value), {
      vendorId: 9,
      attributes: [
        { vendorType: 1, value: Buffer.from('shell:priv-lvl=15') },
        { vendorType: 2, value: hex('0102') },
      ],
    });
    const other = { type: Attr.VendorSpecific, value: hex('0000000b ff') };
    const packet = packetOf([other, vsa]);
    assert.equal(getVendorAttribute(packet, 9, 1)?.toString(), 'shell:priv-lvl=15');
    assert.equal(getVendorAttribute(packet, 9, 3), undefined);
    assert.equal(getVendorAttribute(packet, 311, 16), undefined);
  });

  test('malformed vendor values are refused', () => {
    for (const bad of ['000009', '01000009 0103 61', '00000009 0105 61', '00000009 01', '00000009 0101']) {
      assert.throws(() => decodeVendorSpecific(hex(bad)), RadiusDecodeError, bad);
    }
    assert.throws(() => vendorSpecificAttribute(2 ** 24, []), RadiusEncodeError);
    assert.throws(() => vendorSpecificAttribute(9, [{ vendorType: 1, value: Buffer.alloc(248) }]), RadiusEncodeError);
  });
});

describe('User-Password (RFC 2865 section 5.2)', () => {
  test('round trips every length up to 128 octets', () => {
    for (const length of [0, 1, 15, 16, 17, 31, 32, 100, 127, 128]) {
      const password = Buffer.alloc(length, 0x61 + (length % 26));
      const hidden = hideUserPassword(password, 'secret', authenticator);
      assert.equal(hidden.length, Math.max(16, Math.ceil(length / 16) * 16));
      assert.deepEqual(unhideUserPassword(hidden, 'secret', authenticator), password);
    }
    assert.throws(() => hideUserPassword(Buffer.alloc(129, 0x61), 'secret', authenticator), RadiusEncodeError);
  });

  test('only trailing NUL padding is stripped', () => {
    const hidden = hideUserPassword(Buffer.from('a\0b'), 'secret', authenticator);
    assert.deepEqual(unhideUserPassword(hidden, 'secret', authenticator), Buffer.from('a\0b'));
  });

  test('values that are not 16..128 octets in blocks are refused', () => {
    for (const length of [0, 15, 17, 144]) {
      assert.throws(() => unhideUserPassword(Buffer.alloc(length), 'secret', authenticator), RadiusDecodeError, String(length));
    }
  });

  test('the chaining follows the RFC (second block keyed by the first cipher block)', () => {
    const password = Buffer.from('0123456789abcdefXYZ');
    const hidden = hideUserPassword(password, 's', authenticator);
    const b1 = createHash('md5').update('s').update(authenticator).digest();
    const b2 = createHash('md5').update('s').update(hidden.subarray(0, 16)).digest();
    const padded = Buffer.alloc(32);
    password.copy(padded);
    const expected = Buffer.from(padded.map((p, i) => p ^ (i < 16 ? b1[i]! : b2[i - 16]!)));
    assert.deepEqual(hidden, expected);
  });
});

describe('salted values: Tunnel-Password (RFC 2868 3.5) and MS-MPPE keys (RFC 2548 2.4.2)', () => {
  /** The RFC's construction written out independently: b(1) = MD5(S + R + A), b(i) = MD5(S + c(i-1)). */
  function rfcEncrypt(data: Buffer, secret: string, requestAuthenticator: Buffer, salt: Buffer): Buffer {
    const plain = Buffer.alloc(Math.ceil((data.length + 1) / 16) * 16);
    plain[0] = data.length;
    data.copy(plain, 1);
    const cipher: Buffer[] = [];
    let key = createHash('md5').update(secret).update(requestAuthenticator).update(salt).digest();
    for (let i = 0; i < plain.length; i += 16) {
      const block = Buffer.from(plain.subarray(i, i + 16).map((p, j) => p ^ key[j]!));
      cipher.push(block);
      key = createHash('md5').update(secret).update(block).digest();
    }
    return Buffer.concat([salt, ...cipher]);
  }

  test('encryption matches the RFC construction and decrypts back', () => {
    const salt = hex('8123');
    for (const length of [0, 1, 15, 16, 32, 100, 239]) {
      const data = Buffer.alloc(length, 7);
      const value = saltEncrypt(data, 'secret', authenticator, salt);
      assert.deepEqual(value, rfcEncrypt(data, 'secret', authenticator, salt), String(length));
      assert.deepEqual(saltDecrypt(value, 'secret', authenticator), data);
    }
    assert.throws(() => saltEncrypt(Buffer.alloc(240), 'secret', authenticator, salt), RadiusEncodeError);
    assert.throws(() => saltEncrypt(Buffer.alloc(1), 'secret', authenticator, hex('0123')), RadiusEncodeError);
    assert.throws(() => saltDecrypt(hex('8123 00'), 'secret', authenticator), RadiusDecodeError);
  });

  test('a wrong key is detected by the length octet most of the time, never crashes', () => {
    const value = saltEncrypt(Buffer.alloc(4), 'secret', authenticator, hex('8123'));
    let refused = 0;
    for (let i = 0; i < 50; i++) {
      try {
        saltDecrypt(value, `other${i}`, authenticator);
      } catch (error) {
        assert.ok(error instanceof RadiusDecodeError);
        refused++;
      }
    }
    assert.ok(refused > 30, `only ${refused} of 50 refused`);
  });

  test('Tunnel-Password carries its tag and a salt with the high bit set', () => {
    const attribute = tunnelPasswordAttribute(3, 'vpn-secret', 'secret', authenticator);
    assert.equal(attribute.type, Attr.TunnelPassword);
    assert.equal(attribute.value[0], 3);
    assert.equal(attribute.value[1]! & 0x80, 0x80);
    assert.equal(attribute.value.includes(Buffer.from('vpn-secret')), false);
    assert.deepEqual(tunnelPasswordValue(attribute.value, 'secret', authenticator), { tag: 3, password: Buffer.from('vpn-secret') });
    assert.throws(() => tunnelPasswordValue(hex('21'), 'secret', authenticator), RadiusDecodeError);
  });

  test('MS-MPPE-Recv-Key is MSK[0..31] and Send-Key MSK[32..63], distinct salts', () => {
    const msk = Buffer.from(Array.from({ length: 64 }, (_, i) => i));
    const [recv, send] = mppeKeyAttributes(msk, 'secret', authenticator);
    const packet = packetOf([recv!, send!]);
    const recvValue = getVendorAttribute(packet, Vendor.Microsoft, MsAttr.MppeRecvKey)!;
    const sendValue = getVendorAttribute(packet, Vendor.Microsoft, MsAttr.MppeSendKey)!;
    assert.equal(recvValue.length, 2 + 48);
    assert.deepEqual(saltDecrypt(recvValue, 'secret', authenticator), msk.subarray(0, 32));
    assert.deepEqual(saltDecrypt(sendValue, 'secret', authenticator), msk.subarray(32, 64));
    assert.notDeepEqual(recvValue.subarray(0, 2), sendValue.subarray(0, 2));
    // Even a random source that repeats itself yields distinct salts.
    assert.deepEqual(newSalts(3, () => hex('010201020102')), [hex('8102'), hex('8103'), hex('8104')]);
  });
});

describe('EAP-Message and State (RFC 3579)', () => {
  test('split at 253 octets and joined back', () => {
    for (const length of [1, 253, 254, 506, 507, 1010]) {
      const eap = Buffer.from(Array.from({ length }, (_, i) => i & 0xff));
      const attributes = eapMessageAttributes(eap);
      assert.equal(attributes.length, Math.ceil(length / 253));
      assert.ok(attributes.every((a) => a.type === Attr.EapMessage && a.value.length <= 253));
      const packet = packetOf([stateAttribute(Buffer.from('s')), ...attributes, textAttribute(Attr.ReplyMessage, 'r')]);
      assert.deepEqual(joinEapMessage(packet), eap);
    }
    assert.equal(joinEapMessage(packetOf([])), undefined);
    assert.throws(() => eapMessageAttributes(Buffer.alloc(0)), RadiusEncodeError);
  });

  test('EAP-Message attributes that are not consecutive are refused', () => {
    const [a, b] = eapMessageAttributes(Buffer.alloc(300));
    assert.throws(() => joinEapMessage(packetOf([a!, textAttribute(Attr.ReplyMessage, 'x'), b!])), RadiusDecodeError);
  });

  test('State values are fresh printable tokens, read back from a request', () => {
    const one = newStateValue();
    assert.match(one.toString('latin1'), /^[A-Za-z0-9_-]{16}$/);
    assert.notDeepEqual(newStateValue(), one);
    assert.deepEqual(getState(packetOf([stateAttribute(one)])), one);
    assert.equal(getState(packetOf([{ type: Attr.State, value: Buffer.alloc(0) }])), undefined);
    assert.throws(() => stateAttribute(Buffer.alloc(254)), RadiusEncodeError);
  });

  test('a State names the worker slot that issued it; a single process issues States naming none', () => {
    for (const slot of [1, 2, 16]) {
      const state = newStateValue(slot);
      assert.equal(state[0], slot);
      assert.match(state.subarray(1).toString('latin1'), /^[A-Za-z0-9_-]{16}$/);
      assert.equal(stateOwner(state), slot);
    }
    // The random characters never read as a slot, whatever the random octets.
    for (const octet of [0x00, 0x01, 0x10, 0x3f, 0x80, 0xff]) {
      const local = newStateValue(undefined, (size) => Buffer.alloc(size, octet));
      assert.equal(stateOwner(local), undefined);
      assert.equal(stateOwner(newStateValue(5, (size) => Buffer.alloc(size, octet))), 5);
    }
    for (let i = 0; i < 200; i++) assert.equal(stateOwner(newStateValue()), undefined);
    assert.equal(stateOwner(Buffer.from([17, 0x41])), undefined, 'above the most workers');
    assert.equal(stateOwner(Buffer.from([0, 0x41])), undefined);
    assert.equal(stateOwner(Buffer.from([3])), undefined, 'a bare slot octet is no State of ours');
    for (const bad of [0, 17, 1.5, -1]) assert.throws(() => newStateValue(bad), RadiusEncodeError);
  });
});
