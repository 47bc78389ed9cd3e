import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ProtocolError } from '../../../src/errors.js';
import { nextFrame } from '../../../src/protocol/ber/framer.js';
import { LDAP_DECODE_LIMITS } from '../../../src/config/limits.js';
import type { DecodeLimits } from '../../../src/protocol/limits.js';
import { decodePagedResults } from '../../../src/protocol/ldap/controls.js';
import { formatDn, parseDn } from '../../../src/protocol/ldap/dn.js';
import { decodeFilter, encodeFilter, formatFilter, parseFilter, type Filter } from '../../../src/protocol/ldap/filter.js';
import { decodeMessage, encodeMessage } from '../../../src/protocol/ldap/messages.js';
import { fixtures } from './fixtures.js';
import { mulberry32 } from '../../../src/lib/random.js';
import { figure } from '../../helpers/figures.js';
import { fuzzIterations } from '../../helpers/mutation-fuzzer.js';

const random = mulberry32(0x1da9c0de);
const int = (n: number): number => Math.floor(random() * n);
const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;

const corpus: Buffer[] = [
  ...fixtures.map((f) => Buffer.from(f.hex, 'hex')),
  // Deeper structures than the fixtures have.
  encodeMessage({
    messageID: 77,
    op: {
      kind: 'SearchRequest',
      baseObject: 'dc=x',
      scope: 2,
      derefAliases: 0,
      sizeLimit: 5,
      timeLimit: 0,
      typesOnly: false,
      filter: parseFilter('(&(|(cn=a*b*c)(!(sn>=x)))(uid<=y)(o~=z)(cn:dn:1.2:=v)(mail=*))'),
      attributes: ['cn', '*', '+'],
    },
    controls: [{ type: '1.2.840.113556.1.4.319', criticality: true, value: Buffer.from('3005020101040178', 'hex') }],
  }),
];

function mutate(input: Buffer): Buffer {
  const bytes = Buffer.from(input);
  const mutations = 1 + int(3);
  let out = bytes;
  for (let m = 0; m < mutations; m++) {
    const at = int(Math.max(out.length, 1));
    switch (int(8)) {
      case 0: // flip a bit
        if (out.length > 0) out[at] = out[at]! ^ (1 << int(8));
        break;
      case 1: // random byte
        if (out.length > 0) out[at] = int(256);
        break;
      case 2: // interesting byte (lengths, tags)
        if (out.length > 0) out[at] = pick([0x00, 0x01, 0x7f, 0x80, 0x81, 0x84, 0x85, 0xff, 0x30, 0x04, 0xa0, 0x63]);
        break;
      case 3: // insert
        out = Buffer.concat([out.subarray(0, at), Buffer.from([int(256)]), out.subarray(at)]);
        break;
      case 4: // delete
        out = Buffer.concat([out.subarray(0, at), out.subarray(at + 1)]);
        break;
      case 5: // truncate
        out = out.subarray(0, at);
        break;
      case 6: // duplicate a slice
        out = Buffer.concat([out.subarray(0, at), out.subarray(int(out.length)), out.subarray(at)]);
        break;
      default: // splice another input in
        out = Buffer.concat([out.subarray(0, at), pick(corpus).subarray(int(8))]);
        break;
    }
  }
  return out;
}

function randomInput(): Buffer {
  const length = int(80);
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) bytes[i] = int(256);
  // Often make it look like a message so decoding gets past the first checks.
  if (length > 2 && random() < 0.7) {
    bytes[0] = 0x30;
    bytes[1] = length - 2 < 0x80 ? length - 2 : bytes[1]!;
    if (length > 4 && random() < 0.7) {
      bytes[2] = 0x02;
      bytes[3] = 0x01;
    }
  }
  return bytes;
}

const valueAlphabet = ['a', 'B', ' ', '*', '(', ')', '\\', '\0', 'ä', '€', '😀', '=', ':'];
function randomValue(): string | Buffer {
  if (random() < 0.1) return Buffer.from([0xff, int(256)]);
  let text = '';
  const length = 1 + int(5);
  for (let i = 0; i < length; i++) text += pick(valueAlphabet);
  return text;
}

function randomFilter(depth: number): Filter {
  const type = pick(['cn', 'objectClass', 'uid', 'goauthentik.io/ldap/active', 'mail;binary']);
  const choice = depth > 4 ? 3 + int(7) : int(10);
  switch (choice) {
    case 0:
    case 1: {
      const filters = Array.from({ length: int(4) }, () => randomFilter(depth + 1));
      return { kind: choice === 0 ? 'and' : 'or', filters };
    }
    case 2:
      return { kind: 'not', filter: randomFilter(depth + 1) };
    case 3:
      return { kind: 'equalityMatch', type, value: randomValue() };
    case 4: {
      const filter: Filter = { kind: 'substrings', type, any: Array.from({ length: int(3) }, randomValue) };
      if (random() < 0.5) filter.initial = randomValue();
      if (random() < 0.5 || (filter.any.length === 0 && filter.initial === undefined)) filter.final = randomValue();
      return filter;
    }
    case 5:
      return { kind: pick(['greaterOrEqual', 'lessOrEqual', 'approxMatch'] as const), type, value: randomValue() };
    case 6:
      return { kind: 'present', type };
    default: {
      const filter: Filter = { kind: 'extensibleMatch', matchValue: randomValue(), dnAttributes: random() < 0.5 };
      if (random() < 0.7) filter.type = type;
      if (random() < 0.5 || filter.type === undefined) filter.matchingRule = pick(['1.2.840.113556.1.4.1941', 'caseExactMatch']);
      return filter;
    }
  }
}

const tightLimits: DecodeLimits = {
  maxMessageBytes: 200,
  maxBerDepth: 6,
  maxFilterDepth: 3,
  maxFilterNodes: 5,
  maxAttributes: 2,
  maxControls: 1,
  maxValueBytes: 16,
};

function expectOnlyProtocolError(run: () => void, input: Buffer | string): void {
  try {
    run();
  } catch (error) {
    if (error instanceof ProtocolError) return;
    const shown = typeof input === 'string' ? JSON.stringify(input) : input.toString('hex');
    assert.fail(`non-ProtocolError for ${shown}: ${error instanceof Error ? error.stack : String(error)}`);
  }
}

describe('seeded fuzzing', () => {
  test('decodeMessage and nextFrame are total on 20,000 inputs', () => {
    const iterations = fuzzIterations(20_000);
    let decoded = 0;
    for (let i = 0; i < iterations; i++) {
      const input = i % 5 === 4 ? randomInput() : mutate(pick(corpus));
      const limits = i % 3 === 0 ? tightLimits : LDAP_DECODE_LIMITS;
      expectOnlyProtocolError(() => {
        const frame = nextFrame(input, 0, limits);
        if (frame !== null) assert.ok(frame.end <= input.length && frame.end > 0);
      }, input);
      expectOnlyProtocolError(() => {
        const message = decodeMessage(input, limits);
        decoded++;
        // Anything accepted re-encodes canonically and decodes to the same value.
        const again = decodeMessage(encodeMessage(message), limits);
        assert.deepEqual(again, message);
        for (const control of message.controls) {
          if (control.value !== undefined) expectOnlyProtocolError(() => decodePagedResults(control.value), control.value);
        }
      }, input);
    }
    // The corpus mutations must reach the decoder's inner paths, not only fail on the header.
    assert.ok(decoded > 500, `only ${decoded} inputs decoded`);
    figure('fuzzing (seeded, AKO_FUZZ_ITERATIONS for longer runs)', 'LDAP decodeMessage + nextFrame', `${iterations} inputs, ${decoded} decoded, 0 crashes`);
  });

  test('parseFilter is total and round trips on 5,000 strings', () => {
    const alphabet = ['(', ')', '&', '|', '!', '=', '*', '\\', '~', '>', '<', ':', 'a', 'b', 'cn', 'dn', '1.2', ' ', 'ä', '2a', '00', 'ff'];
    const iterations = fuzzIterations(5_000);
    let parsed = 0;
    for (let i = 0; i < iterations; i++) {
      let text = '';
      if (i % 2 === 0) {
        // A valid filter, sometimes with one character changed.
        text = formatFilter(randomFilter(1));
        if (random() < 0.5) {
          const at = int(text.length);
          text = text.slice(0, at) + pick(alphabet) + text.slice(at + 1);
        }
      } else {
        const pieces = 1 + int(24);
        for (let p = 0; p < pieces; p++) text += pick(alphabet);
        if (random() < 0.5) text = `(${text})`;
      }
      expectOnlyProtocolError(() => {
        const filter = parseFilter(text, i % 4 === 0 ? tightLimits : LDAP_DECODE_LIMITS);
        parsed++;
        assert.deepEqual(parseFilter(formatFilter(filter)), filter, text);
        assert.deepEqual(decodeFilter(encodeFilter(filter)), filter, text);
      }, text);
    }
    assert.ok(parsed > 1500, `only ${parsed} filters parsed`);
    figure('fuzzing (seeded, AKO_FUZZ_ITERATIONS for longer runs)', 'LDAP parseFilter', `${iterations} inputs, ${parsed} parsed, 0 crashes`);
  });

  test('parseDn is total and round trips on 5,000 strings', () => {
    const alphabet = ['cn', '=', ',', '+', ';', '\\', ' ', '#', '"', '<', '>', 'a', '04', '0c', '03', 'f', 'é', '2c', 'ou=x', '\0'];
    const iterations = fuzzIterations(5_000);
    let parsed = 0;
    for (let i = 0; i < iterations; i++) {
      let text = random() < 0.7 ? 'cn=' : '';
      const pieces = 1 + int(16);
      for (let p = 0; p < pieces; p++) text += pick(alphabet);
      expectOnlyProtocolError(() => {
        const dn = parseDn(text);
        parsed++;
        assert.deepEqual(parseDn(formatDn(dn)), dn, text);
      }, text);
    }
    assert.ok(parsed > 500, `only ${parsed} DNs parsed`);
    figure('fuzzing (seeded, AKO_FUZZ_ITERATIONS for longer runs)', 'LDAP parseDn', `${iterations} inputs, ${parsed} parsed, 0 crashes`);
  });
});
