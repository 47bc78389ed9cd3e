/**
 * Cross-checks with the `radius` npm package as an independent peer: it decodes what we encode and we decode
 * what it encodes. Its own Message-Authenticator checks are not relied on (it compares them through a lossy
 * string conversion); ours are checked on its packets instead.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import radius from 'radius';
import { checkMessageAuthenticator, verifyRequestAuthenticator, verifyResponseAuthenticator } from '../../../src/protocol/radius/authenticators.js';
import { encodeRequest, encodeResponse } from '../../../src/protocol/radius/build.js';
import { Attr, Code, MsAttr, Vendor } from '../../../src/protocol/radius/dictionary.js';
import { eapMessageAttributes, joinEapMessage, stateAttribute } from '../../../src/protocol/radius/eap-message.js';
import { hideUserPassword, mppeKeyAttributes, saltDecrypt, unhideUserPassword } from '../../../src/protocol/radius/hiding.js';
import { decodePacket, getAttribute, getAttributes } from '../../../src/protocol/radius/packet.js';
import {
  getVendorAttribute,
  integerAttribute,
  integerValue,
  ipv4Attribute,
  ipv4Value,
  taggedIntegerAttribute,
  taggedIntegerValue,
  taggedStringAttribute,
  taggedStringValue,
  textAttribute,
  textValue,
  vendorSpecificAttribute,
} from '../../../src/protocol/radius/values.js';
import { repoRoot } from '../../helpers/source-imports.js';

radius.add_dictionary(join(repoRoot, 'test', 'fixtures', 'radius', 'dictionary.vendors'));

const secret = 'peer-secret';
const eap = Buffer.from(Array.from({ length: 700 }, (_, i) => (i * 7) & 0xff));

describe('the radius package decodes our packets', () => {
  test('an Access-Request with every value kind', () => {
    const authenticator = Buffer.from('0f403f9473978057bd83d5cb98f4227a', 'hex');
    const bytes = encodeRequest(
      {
        code: Code.AccessRequest,
        identifier: 77,
        authenticator,
        attributes: [
          textAttribute(Attr.UserName, 'alice'),
          { type: Attr.UserPassword, value: hideUserPassword('pässword-that-is-longer-than-16', secret, authenticator) },
          ipv4Attribute(Attr.NasIpAddress, '10.0.0.1'),
          integerAttribute(Attr.NasPort, 7),
          textAttribute(Attr.CallingStationId, '00-11-22-33-44-55'),
          vendorSpecificAttribute(9, [{ vendorType: 1, value: Buffer.from('shell:priv-lvl=15') }]),
          stateAttribute(Buffer.from('state-1234')),
          ...eapMessageAttributes(eap),
        ],
      },
      secret,
    );
    const decoded = radius.decode({ packet: bytes, secret });
    assert.equal(decoded.code, 'Access-Request');
    assert.equal(decoded.identifier, 77);
    assert.equal(decoded.attributes['User-Name'], 'alice');
    assert.equal(decoded.attributes['User-Password'], 'pässword-that-is-longer-than-16');
    assert.equal(decoded.attributes['NAS-IP-Address'], '10.0.0.1');
    assert.equal(decoded.attributes['NAS-Port'], 7);
    assert.equal(decoded.attributes['Calling-Station-Id'], '00-11-22-33-44-55');
    assert.deepEqual(decoded.attributes['Vendor-Specific'], { 'Cisco-AVPair': 'shell:priv-lvl=15' });
    assert.deepEqual(decoded.attributes['State'], Buffer.from('state-1234'));
    assert.deepEqual(Buffer.concat(decoded.attributes['EAP-Message']), eap);
    assert.equal(decoded.raw_attributes[0]?.[0], Attr.MessageAuthenticator);
  });

  test('a VLAN Access-Accept: tags read per attribute, MPPE keys, Message-Authenticator first', () => {
    const requestBytes = encodeRequest({ code: Code.AccessRequest, identifier: 5, attributes: [textAttribute(Attr.UserName, 'bob')] }, secret);
    const request = decodePacket(requestBytes);
    const msk = Buffer.from(Array.from({ length: 64 }, (_, i) => 255 - i));
    const reply = encodeResponse(
      request,
      Code.AccessAccept,
      [
        taggedIntegerAttribute(Attr.TunnelType, 1, 13),
        taggedIntegerAttribute(Attr.TunnelMediumType, 1, 6),
        taggedStringAttribute(Attr.TunnelPrivateGroupId, 1, '100'),
        textAttribute(Attr.ReplyMessage, 'welcome'),
        integerAttribute(Attr.SessionTimeout, 3600),
        ...mppeKeyAttributes(msk, secret, request.authenticator),
      ],
      secret,
    );
    assert.equal(radius.verify_response({ request: requestBytes, response: reply, secret }), true);
    assert.equal(radius.verify_response({ request: requestBytes, response: reply, secret: 'other' }), false);
    const decoded = radius.decode({ packet: reply, secret });
    assert.equal(decoded.code, 'Access-Accept');
    assert.deepEqual(decoded.attributes['Tunnel-Type'], [1, 'VLAN']);
    assert.deepEqual(decoded.attributes['Tunnel-Medium-Type'], [1, 'IEEE-802']);
    assert.deepEqual(decoded.attributes['Tunnel-Private-Group-Id'], [1, '100']);
    assert.equal(decoded.attributes['Reply-Message'], 'welcome');
    assert.equal(decoded.attributes['Session-Timeout'], 3600);
    const vsa = decoded.attributes['Vendor-Specific'];
    assert.deepEqual(saltDecrypt(vsa['MS-MPPE-Recv-Key'], secret, request.authenticator), msk.subarray(0, 32));
    assert.deepEqual(saltDecrypt(vsa['MS-MPPE-Send-Key'], secret, request.authenticator), msk.subarray(32, 64));
    assert.equal(decoded.raw_attributes[0]?.[0], Attr.MessageAuthenticator);
  });

  test('an Accounting-Request passes its Request Authenticator check', () => {
    const bytes = encodeRequest({ code: Code.AccountingRequest, identifier: 1, attributes: [integerAttribute(Attr.AcctStatusType, 1), textAttribute(Attr.AcctSessionId, 's1')] }, secret);
    const decoded = radius.decode({ packet: bytes, secret });
    assert.equal(decoded.attributes['Acct-Status-Type'], 'Start');
    assert.equal(decoded.attributes['Acct-Session-Id'], 's1');
    assert.throws(() => radius.decode({ packet: bytes, secret: 'other' }));
  });
});

describe('we decode the radius package\'s packets', () => {
  const requestBytes = radius.encode({
    code: 'Access-Request',
    secret,
    identifier: 200,
    add_message_authenticator: true,
    attributes: [
      // Tagged first and followed by a string: after a tagged attribute, the package corrupts Buffer values (below).
      ['Tunnel-Type', 2, 'VLAN'],
      ['User-Name', 'carol'],
      ['User-Password', 'hunter2'],
      ['NAS-IP-Address', '192.0.2.9'],
      ['NAS-Port', 12],
      ['Vendor-Specific', 9, [['Cisco-AVPair', 'a=b']]],
      ['EAP-Message', eap.subarray(0, 253)],
      ['EAP-Message', eap.subarray(253, 400)],
    ],
  });

  test('an Access-Request: values, password, Message-Authenticator (theirs, last)', () => {
    const packet = decodePacket(requestBytes);
    assert.equal(packet.code, Code.AccessRequest);
    assert.equal(packet.identifier, 200);
    assert.equal(textValue(getAttribute(packet, Attr.UserName)!), 'carol');
    assert.equal(unhideUserPassword(getAttribute(packet, Attr.UserPassword)!, secret, packet.authenticator).toString(), 'hunter2');
    assert.equal(ipv4Value(getAttribute(packet, Attr.NasIpAddress)!), '192.0.2.9');
    assert.equal(integerValue(getAttribute(packet, Attr.NasPort)!), 12);
    assert.equal(getVendorAttribute(packet, 9, 1)?.toString(), 'a=b');
    assert.deepEqual(joinEapMessage(packet), eap.subarray(0, 400));
    assert.deepEqual(taggedIntegerValue(getAttribute(packet, Attr.TunnelType)!), { tag: 2, value: 13 });
    assert.equal(packet.attributes.at(-1)?.type, Attr.MessageAuthenticator);
    assert.equal(checkMessageAuthenticator(requestBytes, secret), 'valid');
    assert.equal(checkMessageAuthenticator(requestBytes, 'other'), 'invalid');
  });

  test('their reply: Response Authenticator and Message-Authenticator verify with ours', () => {
    const decodedByThem = radius.decode({ packet: requestBytes, secret });
    const reply = radius.encode_response({
      packet: decodedByThem,
      code: 'Access-Challenge',
      secret,
      attributes: [['Tunnel-Private-Group-Id', 3, '42'], ['Reply-Message', 'go on'], ['State', Buffer.from('xyz')]],
    });
    const request = decodePacket(requestBytes);
    const packet = decodePacket(reply);
    assert.equal(packet.code, Code.AccessChallenge);
    assert.equal(verifyResponseAuthenticator(reply, request.authenticator, secret), true);
    assert.equal(checkMessageAuthenticator(reply, secret, request.authenticator), 'valid');
    assert.deepEqual(getAttribute(packet, Attr.State), Buffer.from('xyz'));
    assert.deepEqual(taggedStringValue(getAttribute(packet, Attr.TunnelPrivateGroupId)!), { tag: 3, value: Buffer.from('42') });
  });

  test('their Accounting-Request passes our Request Authenticator check', () => {
    const bytes = radius.encode({ code: 'Accounting-Request', secret, identifier: 3, attributes: [['Acct-Status-Type', 'Stop'], ['Acct-Session-Id', 'x']] });
    assert.equal(verifyRequestAuthenticator(bytes, secret), true);
    assert.equal(verifyRequestAuthenticator(bytes, 'other'), false);
    assert.deepEqual(getAttributes(decodePacket(bytes), Attr.AcctSessionId), [Buffer.from('x')]);
  });

  test('the package\'s tag flag leaks onto the next attribute (one reason for our own codec)', () => {
    const theirs = decodePacket(radius.encode({ code: 'Access-Accept', secret, identifier: 1, attributes: [['Tunnel-Type', 1, 'VLAN'], ['State', Buffer.from('abc')]] }));
    assert.deepEqual(getAttribute(theirs, Attr.State), Buffer.from('00616263', 'hex'));
    const request = decodePacket(requestBytes);
    const ours = decodePacket(encodeResponse(request, Code.AccessAccept, [taggedIntegerAttribute(Attr.TunnelType, 1, 13), stateAttribute(Buffer.from('abc'))], secret));
    assert.deepEqual(getAttribute(ours, Attr.State), Buffer.from('abc'));
  });

  test('their MPPE-keyed vendor attributes parse as Microsoft VSAs', () => {
    const bytes = radius.encode({
      code: 'Access-Accept',
      secret,
      identifier: 1,
      attributes: [['Vendor-Specific', 311, [['MS-MPPE-Recv-Key', Buffer.alloc(50, 1)], ['MS-MPPE-Send-Key', Buffer.alloc(50, 2)]]]],
    });
    const packet = decodePacket(bytes);
    assert.deepEqual(getVendorAttribute(packet, Vendor.Microsoft, MsAttr.MppeRecvKey), Buffer.alloc(50, 1));
    assert.deepEqual(getVendorAttribute(packet, Vendor.Microsoft, MsAttr.MppeSendKey), Buffer.alloc(50, 2));
  });
});
