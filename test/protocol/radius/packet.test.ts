import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ProtocolError } from '../../../src/errors.js';
import { Attr, Code, attributeName, codeName } from '../../../src/protocol/radius/dictionary.js';
import { hideUserPassword, unhideUserPassword } from '../../../src/protocol/radius/hiding.js';
import {
  RadiusDecodeError,
  RadiusEncodeError,
  decodePacket,
  encodePacket,
  getAttribute,
  getAttributes,
  type RadiusDecodeReason,
} from '../../../src/protocol/radius/packet.js';
import { signResponse, verifyResponseAuthenticator } from '../../../src/protocol/radius/authenticators.js';
import { integerAttribute, integerValue, ipv4Attribute, ipv4Value, textValue } from '../../../src/protocol/radius/values.js';
import { hex, referenceRequest, referenceSecret, rfc2865Accept, rfc2865Request, rfc2865Secret } from './fixtures.js';

describe('decodePacket', () => {
  test('the reference Access-Request (its section 5.1) decodes to the values it lists', () => {
    const packet = decodePacket(referenceRequest);
    assert.equal(packet.code, Code.AccessRequest);
    assert.equal(packet.identifier, 143);
    assert.equal(packet.authenticator.toString('hex'), '4ad54798bf180e4b6add00c799b4a657');
    assert.deepEqual(
      packet.attributes.map((a) => a.type),
      [Attr.MessageAuthenticator, Attr.UserName, Attr.UserPassword, Attr.NasIpAddress, Attr.NasPort],
    );
    assert.equal(getAttribute(packet, Attr.MessageAuthenticator)?.toString('hex'), 'a5f71688c5d8d9ec19c85147095fe560');
    assert.equal(textValue(getAttribute(packet, Attr.UserName)!), 'akadmin');
    const password = unhideUserPassword(getAttribute(packet, Attr.UserPassword)!, referenceSecret, packet.authenticator);
    assert.equal(password.toString(), 'foo');
    assert.equal(ipv4Value(getAttribute(packet, Attr.NasIpAddress)!), '10.120.20.76');
    assert.equal(integerValue(getAttribute(packet, Attr.NasPort)!), 10);
  });

  test('RFC 2865 section 7.1: the password decodes with the RFC secret', () => {
    const packet = decodePacket(rfc2865Request);
    assert.equal(textValue(getAttribute(packet, Attr.UserName)!), 'nemo');
    assert.equal(unhideUserPassword(getAttribute(packet, Attr.UserPassword)!, rfc2865Secret, packet.authenticator).toString(), 'arctangent');
    assert.equal(unhideUserPassword(getAttribute(packet, Attr.UserPassword)!, 'wrong', packet.authenticator).toString() === 'arctangent', false);
  });

  test('octets after Length are padding and ignored; attribute values are views of the datagram', () => {
    const padded = Buffer.concat([referenceRequest, hex('deadbeef')]);
    const packet = decodePacket(padded);
    assert.deepEqual(packet, decodePacket(referenceRequest));
    assert.equal(packet.attributes[1]!.value.buffer, padded.buffer);
    assert.deepEqual(encodePacket(packet), referenceRequest);
  });

  test('duplicates are kept in order', () => {
    const bytes = encodePacket({
      code: Code.AccessAccept,
      identifier: 1,
      authenticator: Buffer.alloc(16),
      attributes: [
        { type: Attr.ReplyMessage, value: Buffer.from('one') },
        { type: Attr.Class, value: Buffer.from('x') },
        { type: Attr.ReplyMessage, value: Buffer.from('two') },
      ],
    });
    const packet = decodePacket(bytes);
    assert.deepEqual(getAttributes(packet, Attr.ReplyMessage).map(String), ['one', 'two']);
    assert.equal(getAttribute(packet, Attr.State), undefined);
  });

  const header = (length: number): string => `0101${length.toString(16).padStart(4, '0')}${'00'.repeat(16)}`;
  const malformed: Array<[string, string, RadiusDecodeReason]> = [
    ['empty datagram', '', 'short_datagram'],
    ['19 octets', header(20).slice(0, 38), 'short_datagram'],
    ['Length below 20', header(19), 'bad_length'],
    ['Length above 4096', header(4097) + '00'.repeat(4077), 'bad_length'],
    ['Length beyond the datagram', header(26) + '0106616263', 'truncated'],
    ['attribute of length 0', header(22) + '0100', 'bad_attribute_length'],
    ['attribute of length 1', header(22) + '0101', 'bad_attribute_length'],
    ['attribute past Length', header(24) + '01066162', 'attribute_overflow'],
    ['attribute past Length (padding after)', header(24) + '0106616263646566', 'attribute_overflow'],
    ['one stray octet', header(21) + '01', 'attribute_overflow'],
  ];
  for (const [name, bytes, reason] of malformed) {
    test(`refuses: ${name} (${reason})`, () => {
      assert.throws(
        () => decodePacket(hex(bytes)),
        (error: unknown) => error instanceof RadiusDecodeError && error instanceof ProtocolError && error.reason === reason,
      );
    });
  }

  test('the largest packet (4096 octets) decodes', () => {
    const attributes = Array.from({ length: 15 }, () => ({ type: Attr.Class, value: Buffer.alloc(253, 7) }));
    const bytes = encodePacket({ code: 2, identifier: 9, authenticator: Buffer.alloc(16), attributes: [...attributes, { type: Attr.Class, value: Buffer.alloc(249) }] });
    assert.equal(bytes.length, 4096);
    assert.equal(decodePacket(bytes).attributes.length, 16);
  });
});

describe('encodePacket', () => {
  test('round trips the reference packet byte for byte', () => {
    assert.deepEqual(encodePacket(decodePacket(referenceRequest)), referenceRequest);
  });

  test('refuses what does not fit RADIUS', () => {
    const base = { code: 2, identifier: 1, authenticator: Buffer.alloc(16) };
    const cases = [
      { ...base, attributes: [{ type: 1, value: Buffer.alloc(254) }] },
      { ...base, attributes: [{ type: -1, value: Buffer.alloc(1) }] },
      { ...base, attributes: [{ type: 256, value: Buffer.alloc(1) }] },
      { ...base, identifier: 256, attributes: [] },
      { ...base, authenticator: Buffer.alloc(15), attributes: [] },
      { ...base, attributes: Array.from({ length: 17 }, () => ({ type: Attr.Class, value: Buffer.alloc(253) })) },
    ];
    for (const packet of cases) assert.throws(() => encodePacket(packet), RadiusEncodeError);
  });
});

describe('RFC 2865 section 7.1 reproduced', () => {
  test('User-Password hiding gives the RFC bytes', () => {
    const request = decodePacket(rfc2865Request);
    assert.deepEqual(hideUserPassword('arctangent', rfc2865Secret, request.authenticator), getAttribute(request, Attr.UserPassword));
  });

  test('the Access-Accept and its Response Authenticator', () => {
    const request = decodePacket(rfc2865Request);
    const reply = encodePacket({
      code: Code.AccessAccept,
      identifier: request.identifier,
      authenticator: Buffer.alloc(16),
      attributes: [integerAttribute(Attr.ServiceType, 1), integerAttribute(15, 0), ipv4Attribute(14, '192.168.1.3')],
    });
    signResponse(reply, request.authenticator, rfc2865Secret);
    assert.equal(reply.toString('hex'), rfc2865Accept.toString('hex'));
    assert.equal(verifyResponseAuthenticator(rfc2865Accept, request.authenticator, rfc2865Secret), true);
    assert.equal(verifyResponseAuthenticator(rfc2865Accept, request.authenticator, 'xyzzy5462'), false);
  });
});

test('names for logs', () => {
  assert.equal(codeName(Code.AccessChallenge), 'AccessChallenge');
  assert.equal(codeName(99), '99');
  assert.equal(attributeName(Attr.EapMessage), 'EapMessage');
  assert.equal(attributeName(200), '200');
});
