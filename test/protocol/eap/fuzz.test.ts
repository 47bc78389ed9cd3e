import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  EapCode,
  EapDecodeError,
  EapType,
  decodeEap,
  encodeEap,
  gtcRequest,
  identityOf,
  isRequestOrResponse,
  nakTypes,
  eapNak,
} from '../../../src/protocol/eap/packet.js';
import { decodePeapTlvs, encodePeapTlvs, peapResultOf, peapResultRequest } from '../../../src/protocol/eap/peap.js';
import { TlsReassembler, decodeTlsPayload, encodeTlsPayload, fragmentTlsMessage } from '../../../src/protocol/eap/tls-framing.js';
import { AvpCode, decodeAvps, encodeAvps, ttlsPapCredentials } from '../../../src/protocol/eap/ttls-avp.js';
import { figure } from '../../helpers/figures.js';
import { expectOnly, fuzzIterations, fuzzer } from '../../helpers/mutation-fuzzer.js';

const flight = Buffer.from(Array.from({ length: 2600 }, (_, i) => (i * 13) & 0xff));
const fragments = fragmentTlsMessage(flight, 700);
const tlsPackets = fragments.map((payload, i) => encodeEap({ code: EapCode.Response, identifier: i, type: EapType.Tls, data: payload }));
const avps = encodeAvps([
  { code: AvpCode.UserName, mandatory: true, data: Buffer.from('bob') },
  { code: AvpCode.UserPassword, mandatory: true, data: Buffer.from('secret\0\0') },
  { code: 7, vendorId: 311, mandatory: false, data: Buffer.from('v') },
]);
const corpus: Buffer[] = [
  Buffer.from('0207000a01616c696365', 'hex'),
  eapNak(3, [EapType.Peap, EapType.Ttls]),
  gtcRequest(4),
  peapResultRequest(5, true),
  encodeEap({ code: EapCode.Response, identifier: 6, type: EapType.Extensions, data: Buffer.from('800300020001', 'hex') }),
  encodeEap({ code: EapCode.Response, identifier: 7, type: EapType.Ttls, data: Buffer.concat([Buffer.from([0]), avps]) }),
  ...tlsPackets,
];

test('the EAP decoders are total and re-encode stably; the reassembler only ever refuses with EapDecodeError', () => {
  const f = fuzzer(0xea9f22, corpus, [0x00, 0x01, 0x02, 0x03, 0x04, 0x0d, 0x19, 0x20, 0x40, 0x80, 0xc0, 0xff]);
  const iterations = fuzzIterations(20_000);
  let decoded = 0;
  let completed = 0;
  for (let i = 0; i < iterations; i++) {
    const input = i % 10 === 9 ? f.bytes(f.int(48)) : f.mutate(f.pick(corpus));
    expectOnly(EapDecodeError, input, () => {
      const packet = decodeEap(input);
      decoded++;
      assert.deepEqual(decodeEap(encodeEap(packet)), packet);
      if (!isRequestOrResponse(packet)) return;
      const data = packet.data;
      expectOnly(EapDecodeError, data, () => identityOf({ ...packet, type: EapType.Identity }));
      expectOnly(EapDecodeError, data, () => nakTypes({ ...packet, type: EapType.Nak }));
      expectOnly(EapDecodeError, data, () => {
        const payload = decodeTlsPayload(data);
        assert.deepEqual(decodeTlsPayload(encodeTlsPayload(payload)), payload);
      });
      expectOnly(EapDecodeError, data, () => {
        const tlvs = decodePeapTlvs(data);
        assert.deepEqual(encodePeapTlvs(tlvs), data);
      });
      expectOnly(EapDecodeError, input, () => peapResultOf(input));
      expectOnly(EapDecodeError, data, () => {
        const list = decodeAvps(data.subarray(1));
        assert.deepEqual(decodeAvps(encodeAvps(list)), list);
        ttlsPapCredentials(list);
      });
    });
    // A fragment sequence with one packet mutated, replayed or dropped, or two swapped.
    if (i % 4 === 0) {
      const reassembler = new TlsReassembler(4096);
      const sequence = tlsPackets.map((p) => p);
      const at = f.int(sequence.length);
      const action = f.int(4);
      if (action === 0) sequence[at] = f.mutate(sequence[at]!);
      else if (action === 1) sequence.splice(at, 0, sequence[at]!);
      else if (action === 2) sequence.splice(at, 1);
      else sequence.splice(at, 2, ...sequence.slice(at, at + 2).reverse()); // two fragments out of order
      expectOnly(EapDecodeError, sequence[at] ?? Buffer.alloc(0), () => {
        for (const bytes of sequence) {
          const packet = decodeEap(bytes);
          if (!isRequestOrResponse(packet)) throw new EapDecodeError('bad_data', 'not a response');
          const result = reassembler.push(packet.identifier, decodeTlsPayload(packet.data));
          if (result.status === 'complete') {
            completed++;
            assert.ok(result.message.length <= 4096);
          }
        }
      });
    }
  }
  assert.ok(decoded > iterations / 10, `only ${decoded} of ${iterations} inputs decoded`);
  assert.ok(completed > 0, 'no fragment sequence completed');
  figure(
    'fuzzing (seeded, AKO_FUZZ_ITERATIONS for longer runs)',
    'EAP decoders, TTLS AVPs, PEAP TLVs, TLS fragment reassembly (fragments mutated, replayed, dropped, out of order)',
    `${iterations} inputs, ${decoded} decoded, ${Math.ceil(iterations / 4)} fragment sequences (${completed} completed), 0 crashes`,
  );
});
