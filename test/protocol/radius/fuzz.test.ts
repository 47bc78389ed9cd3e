import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkMessageAuthenticator, verifyRequestAuthenticator, verifyResponseAuthenticator } from '../../../src/protocol/radius/authenticators.js';
import { encodeRequest, encodeResponse } from '../../../src/protocol/radius/build.js';
import { Attr, Code } from '../../../src/protocol/radius/dictionary.js';
import { eapMessageAttributes, joinEapMessage, stateAttribute } from '../../../src/protocol/radius/eap-message.js';
import { mppeKeyAttributes, saltDecrypt, tunnelPasswordAttribute, tunnelPasswordValue, unhideUserPassword } from '../../../src/protocol/radius/hiding.js';
import { RadiusDecodeError, decodePacket, encodePacket } from '../../../src/protocol/radius/packet.js';
import {
  decodeVendorSpecific,
  integerValue,
  ipv4Value,
  ipv6Value,
  taggedIntegerAttribute,
  taggedIntegerValue,
  taggedStringAttribute,
  taggedStringValue,
  textAttribute,
  textValue,
  vendorSpecificAttribute,
} from '../../../src/protocol/radius/values.js';
import { figure } from '../../helpers/figures.js';
import { expectOnly, fuzzIterations, fuzzer } from '../../helpers/mutation-fuzzer.js';
import { referenceAccept, referenceRequest, rfc2865Accept, rfc2865Request } from './fixtures.js';

const secret = 'fuzz';
const request = decodePacket(referenceRequest);
const corpus: Buffer[] = [
  referenceRequest,
  referenceAccept,
  rfc2865Request,
  rfc2865Accept,
  encodeResponse(
    request,
    Code.AccessChallenge,
    [
      taggedIntegerAttribute(Attr.TunnelType, 1, 13),
      taggedStringAttribute(Attr.TunnelPrivateGroupId, 1, '100'),
      tunnelPasswordAttribute(2, 'pw', secret, request.authenticator),
      vendorSpecificAttribute(9, [{ vendorType: 1, value: Buffer.from('a=b') }, { vendorType: 2, value: Buffer.from('c') }]),
      ...mppeKeyAttributes(Buffer.alloc(64, 3), secret, request.authenticator),
      stateAttribute(Buffer.from('0123456789abcdef')),
      ...eapMessageAttributes(Buffer.alloc(300, 9)),
    ],
    secret,
  ),
  encodeRequest({ code: Code.AccountingRequest, identifier: 4, attributes: [textAttribute(Attr.AcctSessionId, 'x')] }, secret, true),
];

/** Every typed reader on every attribute: a value or RadiusDecodeError, nothing else. */
const readers: Array<(value: Buffer) => unknown> = [
  (v) => textValue(v),
  (v) => integerValue(v),
  (v) => ipv4Value(v),
  (v) => ipv6Value(v),
  (v) => taggedIntegerValue(v),
  (v) => taggedStringValue(v),
  (v) => decodeVendorSpecific(v),
  (v) => unhideUserPassword(v, secret, request.authenticator),
  (v) => saltDecrypt(v, secret, request.authenticator),
  (v) => tunnelPasswordValue(v, secret, request.authenticator),
];

test('decodePacket, the value readers and the checks are total; re-encoding is stable', () => {
  const f = fuzzer(0x7ad105, corpus, [0x00, 0x01, 0x02, 0x12, 0x14, 0x50, 0xff, 0x10, 0x20]);
  const iterations = fuzzIterations(20_000);
  let decoded = 0;
  for (let i = 0; i < iterations; i++) {
    const input = i % 10 === 9 ? f.bytes(f.int(64)) : f.mutate(f.pick(corpus));
    assert.ok(['valid', 'invalid', 'absent'].includes(checkMessageAuthenticator(input, secret)));
    assert.equal(typeof verifyRequestAuthenticator(input, secret), 'boolean');
    assert.equal(typeof verifyResponseAuthenticator(input, request.authenticator, secret), 'boolean');
    expectOnly(RadiusDecodeError, input, () => {
      const packet = decodePacket(input);
      decoded++;
      const encoded = encodePacket(packet);
      assert.deepEqual(encoded, input.subarray(0, input.readUInt16BE(2)));
      assert.deepEqual(decodePacket(encoded), packet);
      for (const { value } of packet.attributes) {
        for (const read of readers) expectOnly(RadiusDecodeError, value, () => read(value));
      }
      expectOnly(RadiusDecodeError, input, () => joinEapMessage(packet));
    });
  }
  assert.ok(decoded > iterations / 10, `only ${decoded} of ${iterations} inputs decoded`);
  figure('fuzzing (seeded, AKO_FUZZ_ITERATIONS for longer runs)', 'RADIUS decodePacket, value readers, authenticator checks', `${iterations} inputs, ${decoded} decoded, 0 crashes`);
});
