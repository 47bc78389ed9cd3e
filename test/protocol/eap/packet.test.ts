import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ProtocolError } from '../../../src/errors.js';
import {
  EapCode,
  EapDecodeError,
  EapType,
  decodeEap,
  decodeEapResponse,
  eapFailure,
  eapNak,
  eapRequest,
  eapSuccess,
  encodeEap,
  gtcRequest,
  gtcResponseOf,
  identityOf,
  isRequestOrResponse,
  nakTypes,
  notificationOf,
  type EapDecodeReason,
  type EapRequestResponse,
} from '../../../src/protocol/eap/packet.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const requestOrResponse = (bytes: Buffer): EapRequestResponse => {
  const packet = decodeEap(bytes);
  assert.ok(isRequestOrResponse(packet));
  return packet;
};

describe('EAP header (the reference library cases, its section 5.10)', () => {
  for (const bytes of ['', '02', '0201', '020100']) {
    test(`[${bytes}] is refused`, () => {
      assert.throws(() => decodeEap(hex(bytes)), (e: unknown) => e instanceof EapDecodeError && e instanceof ProtocolError);
    });
  }

  test('[03 01 00 04] (a Success) is refused from a peer', () => {
    assert.deepEqual(decodeEap(hex('03010004')), { code: EapCode.Success, identifier: 1 });
    assert.throws(() => decodeEapResponse(hex('03010004')), EapDecodeError);
  });

  test('01 01 00 05 01: Request, id 1, length 5, Identity', () => {
    assert.deepEqual(decodeEap(hex('0101000501')), { code: EapCode.Request, identifier: 1, type: EapType.Identity, data: Buffer.alloc(0) });
  });
});

describe('decodeEap', () => {
  test('a Response/Identity, with link padding after Length ignored', () => {
    const packet = requestOrResponse(hex('0207000a01616c69636500ffff'));
    assert.equal(packet.code, EapCode.Response);
    assert.equal(packet.identifier, 7);
    assert.equal(identityOf(packet), 'alice');
    assert.deepEqual(encodeEap(packet), hex('0207000a01616c696365'));
  });

  const malformed: Array<[string, string, EapDecodeReason]> = [
    ['Length beyond the octets', '0201000901616263', 'bad_length'],
    ['Request with Length 4', '02010004', 'short_packet'],
    ['Success with data', '0301000501', 'bad_length'],
    ['unknown code 5', '05010004', 'unknown_code'],
    ['code 0', '00010005 01', 'unknown_code'],
  ];
  for (const [name, bytes, reason] of malformed) {
    test(`refuses: ${name}`, () => {
      assert.throws(() => decodeEap(hex(bytes)), (e: unknown) => e instanceof EapDecodeError && e.reason === reason);
    });
  }

  test('a Response from a peer is all decodeEapResponse accepts', () => {
    assert.equal(decodeEapResponse(hex('0201000501')).type, EapType.Identity);
    assert.throws(() => decodeEapResponse(hex('0101000501')), EapDecodeError);
  });
});

describe('encoding and the simple types', () => {
  test('Success, Failure and Requests', () => {
    assert.deepEqual(eapSuccess(9), hex('03090004'));
    assert.deepEqual(eapFailure(9), hex('04090004'));
    assert.deepEqual(eapRequest(8, EapType.Identity), hex('0108000501'));
    assert.deepEqual(eapRequest(8, EapType.Tls, hex('20')), hex('010800060d20'));
    assert.throws(() => encodeEap({ code: EapCode.Success, identifier: 256 }), RangeError);
  });

  test('Nak lists the desired types in order', () => {
    const nak = eapNak(3, [EapType.Peap, EapType.Ttls]);
    assert.deepEqual(nak, hex('0203000703 1915'));
    assert.deepEqual(nakTypes(requestOrResponse(nak)), [25, 21]);
    assert.throws(() => nakTypes(requestOrResponse(hex('0203000503'))), EapDecodeError);
    assert.throws(() => eapNak(3, []), RangeError);
    assert.throws(() => nakTypes(requestOrResponse(hex('0201000501'))), RangeError);
  });

  test('Identity and Notification text must be UTF-8', () => {
    assert.throws(() => identityOf(requestOrResponse(hex('02010007 01 ff61'))), EapDecodeError);
    assert.equal(notificationOf(requestOrResponse(hex('0101000702 6869'))), 'hi');
    assert.equal(identityOf(requestOrResponse(hex('0201000501'))), '');
  });

  test('GTC request and response', () => {
    const request = requestOrResponse(gtcRequest(4));
    assert.equal(request.type, EapType.Gtc);
    assert.equal(request.data.toString(), 'Password: ');
    assert.deepEqual(gtcResponseOf(requestOrResponse(hex('0204000a06 7365637265'))), Buffer.from('secre'));
  });
});
