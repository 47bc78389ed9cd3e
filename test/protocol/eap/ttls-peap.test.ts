import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EapCode, EapDecodeError, EapType, decodeEap, encodeEap } from '../../../src/protocol/eap/packet.js';
import {
  PeapTlvType,
  compressInnerEap,
  decodePeapTlvs,
  decompressInnerEap,
  encodePeapTlvs,
  peapResultOf,
  peapResultRequest,
} from '../../../src/protocol/eap/peap.js';
import { AvpCode, decodeAvps, encodeAvps, ttlsPapCredentials, type DiameterAvp } from '../../../src/protocol/eap/ttls-avp.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('TTLS AVPs (RFC 5281 section 10)', () => {
  const userName: DiameterAvp = { code: AvpCode.UserName, mandatory: true, data: Buffer.from('bob') };
  const password: DiameterAvp = { code: AvpCode.UserPassword, mandatory: true, data: Buffer.from('pw\0\0\0\0\0\0\0\0\0\0\0\0\0\0') };
  const vendor: DiameterAvp = { code: 0x1234, vendorId: 311, mandatory: false, data: hex('0102030405') };

  test('encoding: header, V and M flags, vendor id, padding outside the length', () => {
    const bytes = encodeAvps([userName, vendor]);
    assert.equal(
      bytes.toString('hex'),
      '00000001' + '40' + '00000b' + '626f62' + '00' + '00001234' + '80' + '000011' + '00000137' + '0102030405' + '000000',
    );
    assert.deepEqual(decodeAvps(bytes), [userName, vendor]);
  });

  test('the last AVP may come without its padding', () => {
    assert.deepEqual(decodeAvps(hex('00000001 40 00000b 626f62')), [userName]);
  });

  test('malformed AVPs are refused', () => {
    for (const bad of ['000000', '00000001 40 000007', '00000001 40 00000c 626f62', '00000001 c0 00000b 626f62 00', '00000001 40 000100 00']) {
      assert.throws(() => decodeAvps(hex(bad)), EapDecodeError, bad);
    }
    const many = encodeAvps(Array.from({ length: 65 }, () => userName));
    assert.throws(() => decodeAvps(many), EapDecodeError);
    assert.equal(decodeAvps(many, 65).length, 65);
  });

  test('inner PAP: name and password (NUL padding stripped)', () => {
    assert.deepEqual(ttlsPapCredentials(decodeAvps(encodeAvps([userName, password]))), { userName: 'bob', password: Buffer.from('pw') });
    assert.deepEqual(ttlsPapCredentials([vendor, password, userName]), { userName: 'bob', password: Buffer.from('pw') });
    assert.equal(ttlsPapCredentials([userName]), undefined);
    assert.equal(ttlsPapCredentials([password]), undefined);
  });

  test('inner PAP refuses an unknown mandatory AVP, a non-UTF-8 name and an oversized password', () => {
    assert.throws(() => ttlsPapCredentials([userName, password, { ...vendor, mandatory: true }]), EapDecodeError);
    assert.throws(() => ttlsPapCredentials([userName, password, { code: AvpCode.EapMessage, mandatory: true, data: hex('02') }]), EapDecodeError);
    assert.throws(() => ttlsPapCredentials([{ ...userName, data: hex('ff') }, password]), EapDecodeError);
    assert.throws(() => ttlsPapCredentials([userName, { ...password, data: Buffer.alloc(254, 0x61) }]), EapDecodeError);
  });
});

describe('PEAPv0 (MS-PEAP)', () => {
  test('the reference library TLV cases (its section 5.10)', () => {
    assert.deepEqual(encodePeapTlvs([{ mandatory: true, type: PeapTlvType.Result, value: Buffer.alloc(0) }]), hex('80030000'));
    assert.deepEqual(decodePeapTlvs(hex('80030000')), [{ mandatory: true, type: 3, value: Buffer.alloc(0) }]);
    assert.throws(() => decodePeapTlvs(hex('c0030000')), (e: unknown) => e instanceof EapDecodeError && /reserved bit/i.test(e.message));
    assert.throws(() => decodePeapTlvs(hex('8003000000')), EapDecodeError);
    assert.throws(() => decodePeapTlvs(hex('80030002 00')), EapDecodeError);
  });

  test('the Result TLV request is a whole inner EAP-Request/Extensions packet', () => {
    assert.deepEqual(peapResultRequest(7, true), hex('0107000b 21 8003 0002 0001'));
    assert.deepEqual(peapResultRequest(7, false), hex('0107000b 21 8003 0002 0002'));
  });

  test('the peer\'s Result: success only for one Result TLV of status 1', () => {
    const response = (tlvs: string) => {
      const data = hex(tlvs);
      return encodeEap({ code: EapCode.Response, identifier: 7, type: EapType.Extensions, data });
    };
    assert.equal(peapResultOf(response('8003 0002 0001')), 'success');
    assert.equal(peapResultOf(response('8003 0002 0002')), 'failure');
    assert.equal(peapResultOf(response('')), 'failure');
    assert.equal(peapResultOf(response('8003 0002 0001 8003 0002 0001')), 'failure');
    assert.equal(peapResultOf(response('8003 0002 0001 8099 0000')), 'failure');
    assert.equal(peapResultOf(response('8003 0002 0001 0099 0000')), 'success');
    assert.throws(() => peapResultOf(peapResultRequest(7, true)), EapDecodeError);
    assert.throws(() => peapResultOf(hex('0207000501')), EapDecodeError);
  });

  test('inner packets travel without their header, except Extensions', () => {
    const identityRequest = { code: EapCode.Request, identifier: 9, type: EapType.Identity, data: Buffer.alloc(0) } as const;
    assert.deepEqual(compressInnerEap(identityRequest), hex('01'));
    const gtc = { code: EapCode.Request, identifier: 10, type: EapType.Gtc, data: Buffer.from('Password: ') } as const;
    assert.deepEqual(compressInnerEap(gtc), Buffer.concat([hex('06'), Buffer.from('Password: ')]));
    const extensions = decodeEap(peapResultRequest(11, true));
    assert.ok('type' in extensions);
    assert.deepEqual(compressInnerEap(extensions), peapResultRequest(11, true));
    assert.deepEqual(decompressInnerEap(hex('01 616c696365'), { code: EapCode.Response, identifier: 9 }), {
      code: EapCode.Response,
      identifier: 9,
      type: EapType.Identity,
      data: Buffer.from('alice'),
    });
    assert.throws(() => decompressInnerEap(Buffer.alloc(0), { code: EapCode.Response, identifier: 9 }), EapDecodeError);
  });
});
