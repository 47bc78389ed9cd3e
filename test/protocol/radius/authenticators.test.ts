import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import crypto from 'node:crypto';
import { syncBuiltinESMExports } from 'node:module';
import {
  checkMessageAuthenticator,
  signRequest,
  verifyRequestAuthenticator,
  verifyResponseAuthenticator,
} from '../../../src/protocol/radius/authenticators.js';
import { answerStatusServer, encodeRequest, encodeResponse } from '../../../src/protocol/radius/build.js';
import { Attr, Code } from '../../../src/protocol/radius/dictionary.js';
import { eapMessageAttributes, stateAttribute } from '../../../src/protocol/radius/eap-message.js';
import { RadiusEncodeError, decodePacket, encodePacket, type RadiusAttribute } from '../../../src/protocol/radius/packet.js';
import { textAttribute } from '../../../src/protocol/radius/values.js';
import { hex, referenceAccept, referenceReject, referenceRequest, referenceSecret } from './fixtures.js';

const withoutMessageAuthenticator = (datagram: Buffer): Buffer => {
  const packet = decodePacket(datagram);
  const attributes = packet.attributes.filter((a) => a.type !== Attr.MessageAuthenticator);
  return encodePacket({ ...packet, attributes });
};

describe('Message-Authenticator: the reference cases (its section 5.1)', () => {
  test('MA-1: valid with the right secret', () => {
    assert.equal(checkMessageAuthenticator(referenceRequest, referenceSecret), 'valid');
  });

  test('MA-2: invalid with another secret', () => {
    assert.equal(checkMessageAuthenticator(referenceRequest, 'bar'), 'invalid');
  });

  test('MA-3: an Access-Accept built for it validates against the request authenticator', () => {
    const request = decodePacket(referenceRequest);
    const reply = encodeResponse(request, Code.AccessAccept, [], referenceSecret);
    assert.equal(checkMessageAuthenticator(reply, referenceSecret, request.authenticator), 'valid');
    assert.equal(checkMessageAuthenticator(reply, referenceSecret, Buffer.alloc(16)), 'invalid');
  });

  test('MA-4: a request without the attribute is reported absent (the caller decides)', () => {
    assert.equal(checkMessageAuthenticator(withoutMessageAuthenticator(referenceRequest), 'anything'), 'absent');
  });

  test('MA-5: the replies are byte-exact', () => {
    const request = decodePacket(referenceRequest);
    assert.equal(encodeResponse(request, Code.AccessAccept, [], referenceSecret).toString('hex'), referenceAccept.toString('hex'));
    assert.equal(encodeResponse(request, Code.AccessReject, [], referenceSecret).toString('hex'), referenceReject.toString('hex'));
  });

  test('MA-6: an HMAC without zeroing the field does not match (zeroing is required)', () => {
    const naive = createHmac('md5', referenceSecret).update(referenceRequest).digest('hex');
    assert.notEqual(naive, 'a5f71688c5d8d9ec19c85147095fe560');
  });
});

describe('Message-Authenticator checks', () => {
  test('a forged MAC (any one byte changed) is refused, as is a change anywhere else', () => {
    for (let i = 22; i < 38; i++) {
      const forged = Buffer.from(referenceRequest);
      forged[i] = forged[i]! ^ 0x01;
      assert.equal(checkMessageAuthenticator(forged, referenceSecret), 'invalid', `MAC byte ${i - 22}`);
    }
    for (const at of [1, 5, 19, 45, referenceRequest.length - 1]) {
      const changed = Buffer.from(referenceRequest);
      changed[at] = changed[at]! ^ 0x80;
      assert.equal(checkMessageAuthenticator(changed, referenceSecret), 'invalid', `octet ${at}`);
    }
  });

  test('two Message-Authenticators, a short one, or an unparseable datagram are invalid', () => {
    const packet = decodePacket(referenceRequest);
    const twice = encodePacket({ ...packet, attributes: [...packet.attributes, packet.attributes[0]!] });
    assert.equal(checkMessageAuthenticator(twice, referenceSecret), 'invalid');
    const short = encodePacket({ ...packet, attributes: [{ type: Attr.MessageAuthenticator, value: Buffer.alloc(15) }] });
    assert.equal(checkMessageAuthenticator(short, referenceSecret), 'invalid');
    assert.equal(checkMessageAuthenticator(referenceRequest.subarray(0, 40), referenceSecret), 'invalid');
    assert.equal(checkMessageAuthenticator(Buffer.alloc(3), referenceSecret), 'invalid');
  });

  test('the MAC comparison goes through crypto.timingSafeEqual', () => {
    const original = crypto.timingSafeEqual;
    const calls: Array<[number, number]> = [];
    crypto.timingSafeEqual = (a, b) => {
      calls.push([a.byteLength, b.byteLength]);
      return original(a, b);
    };
    syncBuiltinESMExports();
    try {
      assert.equal(checkMessageAuthenticator(referenceRequest, referenceSecret), 'valid');
      assert.deepEqual(calls, [[16, 16]]);
      calls.length = 0;
      assert.equal(checkMessageAuthenticator(referenceRequest, 'bar'), 'invalid');
      assert.deepEqual(calls, [[16, 16]]);
    } finally {
      crypto.timingSafeEqual = original;
      syncBuiltinESMExports();
    }
  });
});

describe('replies put Message-Authenticator first', () => {
  const request = decodePacket(referenceRequest);
  const attributes: RadiusAttribute[] = [
    textAttribute(Attr.ReplyMessage, 'hello'),
    stateAttribute(Buffer.from('0123456789abcdef')),
    ...eapMessageAttributes(Buffer.alloc(600, 1)),
  ];
  for (const code of [Code.AccessAccept, Code.AccessReject, Code.AccessChallenge]) {
    test(`code ${code}: first attribute, valid, Response Authenticator valid`, () => {
      const reply = encodeResponse(request, code, attributes, referenceSecret);
      const decoded = decodePacket(reply);
      assert.equal(decoded.code, code);
      assert.equal(decoded.identifier, request.identifier);
      assert.equal(decoded.attributes[0]!.type, Attr.MessageAuthenticator);
      assert.equal(decoded.attributes.filter((a) => a.type === Attr.MessageAuthenticator).length, 1);
      assert.deepEqual(decoded.attributes.slice(1), attributes);
      assert.equal(checkMessageAuthenticator(reply, referenceSecret, request.authenticator), 'valid');
      assert.equal(verifyResponseAuthenticator(reply, request.authenticator, referenceSecret), true);
      assert.equal(verifyResponseAuthenticator(reply, request.authenticator, 'bar'), false);
    });
  }

  test('also when the request had none, and a Message-Authenticator passed in is replaced', () => {
    const bare = decodePacket(withoutMessageAuthenticator(referenceRequest));
    const bogus = { type: Attr.MessageAuthenticator, value: Buffer.alloc(16, 0xaa) };
    const reply = decodePacket(encodeResponse(bare, Code.AccessAccept, [textAttribute(Attr.ReplyMessage, 'x'), bogus], referenceSecret));
    assert.deepEqual(
      reply.attributes.map((a) => a.type),
      [Attr.MessageAuthenticator, Attr.ReplyMessage],
    );
    assert.notDeepEqual(reply.attributes[0]!.value, bogus.value);
  });

  test('Proxy-State attributes of the request are echoed last, in order', () => {
    const withProxy = decodePacket(
      encodeRequest(
        {
          code: Code.AccessRequest,
          identifier: 7,
          attributes: [
            { type: Attr.ProxyState, value: Buffer.from('p1') },
            textAttribute(Attr.UserName, 'u'),
            { type: Attr.ProxyState, value: Buffer.from('p2') },
          ],
        },
        'secret',
      ),
    );
    const reply = decodePacket(encodeResponse(withProxy, Code.AccessReject, [textAttribute(Attr.ReplyMessage, 'no')], 'secret'));
    assert.deepEqual(
      reply.attributes.map((a) => [a.type, a.value.toString()]).slice(1),
      [
        [Attr.ReplyMessage, 'no'],
        [Attr.ProxyState, 'p1'],
        [Attr.ProxyState, 'p2'],
      ],
    );
  });

  test('a reply over 4096 octets is refused', () => {
    const big = Array.from({ length: 16 }, () => ({ type: Attr.Class, value: Buffer.alloc(253) }));
    assert.throws(() => encodeResponse(request, Code.AccessAccept, big, referenceSecret), RadiusEncodeError);
  });
});

describe('requests', () => {
  test('Access-Request: random authenticator unless given, Message-Authenticator first and valid', () => {
    const authenticator = hex('00112233445566778899aabbccddeeff');
    const bytes = encodeRequest({ code: Code.AccessRequest, identifier: 3, authenticator, attributes: [textAttribute(Attr.UserName, 'a')] }, 's');
    const packet = decodePacket(bytes);
    assert.deepEqual(packet.authenticator, authenticator);
    assert.equal(packet.attributes[0]!.type, Attr.MessageAuthenticator);
    assert.equal(checkMessageAuthenticator(bytes, 's'), 'valid');
    const other = decodePacket(encodeRequest({ code: Code.AccessRequest, identifier: 3, attributes: [] }, 's'));
    assert.notDeepEqual(other.authenticator, authenticator);
    assert.equal(encodeRequest({ code: Code.AccessRequest, identifier: 3, attributes: [] }, 's', false).length, 20);
  });

  for (const code of [Code.AccountingRequest, Code.DisconnectRequest, Code.CoaRequest]) {
    test(`code ${code}: computed Request Authenticator (RFC 2866), Message-Authenticator over a zero one`, () => {
      const bytes = encodeRequest({ code, identifier: 9, attributes: [textAttribute(Attr.AcctSessionId, 'abc')] }, 's', true);
      assert.equal(verifyRequestAuthenticator(bytes, 's'), true);
      assert.equal(verifyRequestAuthenticator(bytes, 't'), false);
      assert.equal(checkMessageAuthenticator(bytes, 's'), 'valid');
      const changed = Buffer.from(bytes);
      changed[changed.length - 1] = changed[changed.length - 1]! ^ 1;
      assert.equal(verifyRequestAuthenticator(changed, 's'), false);
      // A reply signs with the request's computed authenticator.
      const request = decodePacket(bytes);
      const reply = encodeResponse(request, code + 1, [], 's');
      assert.equal(decodePacket(reply).attributes[0]?.type, Attr.MessageAuthenticator);
      assert.equal(checkMessageAuthenticator(reply, 's', request.authenticator), 'valid');
      assert.equal(verifyResponseAuthenticator(reply, request.authenticator, 's'), true);
    });
  }

  test('an accounting reply carries no Message-Authenticator when the request had none', () => {
    const request = decodePacket(encodeRequest({ code: Code.AccountingRequest, identifier: 1, attributes: [] }, 's'));
    assert.equal(decodePacket(encodeResponse(request, Code.AccountingResponse, [], 's')).attributes.length, 0);
  });

  test('signRequest refuses a packet with a malformed Message-Authenticator', () => {
    const bytes = encodePacket({ code: 1, identifier: 1, authenticator: Buffer.alloc(16), attributes: [{ type: Attr.MessageAuthenticator, value: Buffer.alloc(4) }] });
    assert.throws(() => signRequest(bytes, 's'), RangeError);
  });
});

describe('Status-Server (RFC 5997)', () => {
  const statusServer = encodeRequest({ code: Code.StatusServer, identifier: 42, attributes: [textAttribute(Attr.NasIdentifier, 'nas')] }, 's');

  test('answered with Access-Accept on the authentication port, Accounting-Response on accounting, MA first', () => {
    const request = decodePacket(statusServer);
    for (const [service, code] of [['authentication', Code.AccessAccept], ['accounting', Code.AccountingResponse]] as const) {
      const reply = answerStatusServer(statusServer, request, 's', service);
      assert.ok(reply !== undefined);
      const decoded = decodePacket(reply);
      assert.equal(decoded.code, code);
      assert.equal(decoded.identifier, 42);
      assert.equal(decoded.attributes[0]?.type, Attr.MessageAuthenticator);
      assert.equal(checkMessageAuthenticator(reply, 's', request.authenticator), 'valid');
      assert.equal(verifyResponseAuthenticator(reply, request.authenticator, 's'), true);
    }
  });

  test('dropped without a valid Message-Authenticator', () => {
    assert.equal(answerStatusServer(statusServer, decodePacket(statusServer), 'other', 'authentication'), undefined);
    const bare = withoutMessageAuthenticator(statusServer);
    assert.equal(answerStatusServer(bare, decodePacket(bare), 's', 'authentication'), undefined);
  });
});
