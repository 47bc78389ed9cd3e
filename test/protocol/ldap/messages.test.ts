import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ProtocolError } from '../../../src/errors.js';
import { LDAP_DECODE_LIMITS } from '../../../src/config/limits.js';
import type { DecodeLimits } from '../../../src/protocol/limits.js';
import { LdapDecodeError, UnknownOperationError } from '../../../src/protocol/ldap/decode-error.js';
import {
  decodeMessage,
  encodeMessage,
  encodeOp,
  isRequestOp,
  noticeOfDisconnection,
  resultOp,
  type LdapMessage,
  type LdapOp,
} from '../../../src/protocol/ldap/messages.js';
import { Oid } from '../../../src/protocol/ldap/oids.js';
import { ResultCode, resultCodeName } from '../../../src/protocol/ldap/result-codes.js';
import { decodePagedResults } from '../../../src/protocol/ldap/controls.js';
import type { Filter } from '../../../src/protocol/ldap/filter.js';
import { fixtureBytes, fixtures } from './fixtures.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const limits = (overrides: Partial<DecodeLimits>): DecodeLimits => ({ ...LDAP_DECODE_LIMITS, ...overrides });

describe('fixtures decode and regenerate the same bytes', () => {
  for (const fixture of fixtures) {
    test(fixture.name, () => {
      const bytes = Buffer.from(fixture.hex, 'hex');
      const message = decodeMessage(bytes);
      assert.equal(encodeMessage(message).toString('hex'), fixture.hex);
      assert.deepEqual(decodeMessage(encodeMessage(message)), message);
    });
  }
});

describe('decoded structures', () => {
  test('anonymous bind', () => {
    assert.deepEqual(decodeMessage(fixtureBytes('anonymous simple bind (ldapsearch -x)')), {
      messageID: 1,
      op: { kind: 'BindRequest', version: 3, name: '', auth: { type: 'simple', password: Buffer.alloc(0) } },
      controls: [],
    });
  });

  test('bind with DN and password', () => {
    const message = decodeMessage(fixtureBytes('simple bind with DN and password (ldapsearch -D -w)'));
    assert.equal(message.op.kind, 'BindRequest');
    if (message.op.kind !== 'BindRequest') return;
    assert.equal(message.op.name, 'cn=alice,ou=users,dc=example,dc=com');
    assert.deepEqual(message.op.auth, { type: 'simple', password: Buffer.from('secret') });
  });

  test('paged search as ldapsearch sends it', () => {
    const message = decodeMessage(fixtureBytes('search with paged results control (ldapsearch -E pr=100/noprompt)'));
    assert.deepEqual(message.op, {
      kind: 'SearchRequest',
      baseObject: 'dc=example,dc=com',
      scope: 2,
      derefAliases: 0,
      sizeLimit: 0,
      timeLimit: 0,
      typesOnly: false,
      filter: {
        kind: 'and',
        filters: [
          { kind: 'equalityMatch', type: 'objectClass', value: 'user' },
          { kind: 'substrings', type: 'cn', initial: 'al', any: [] },
        ],
      },
      attributes: ['cn', 'mail'],
    });
    assert.equal(message.controls.length, 1);
    const control = message.controls[0]!;
    assert.equal(control.type, Oid.pagedResults);
    assert.equal(control.criticality, false);
    assert.deepEqual(decodePagedResults(control.value), { size: 100, cookie: Buffer.alloc(0) });
  });

  test('extensible match with matching rule, scope children', () => {
    const message = decodeMessage(fixtureBytes('search, scope children, in-chain extensible match and escaped substrings (ldapsearch)'));
    assert.equal(message.op.kind, 'SearchRequest');
    if (message.op.kind !== 'SearchRequest') return;
    assert.equal(message.op.scope, 3);
    assert.deepEqual(message.op.attributes, ['1.1']);
    assert.deepEqual(message.op.filter, {
      kind: 'or',
      filters: [
        {
          kind: 'extensibleMatch',
          matchingRule: Oid.matchingRuleInChain,
          type: 'member',
          matchValue: 'cn=alice,ou=users,dc=example,dc=com',
          dnAttributes: false,
        },
        { kind: 'not', filter: { kind: 'equalityMatch', type: 'cn', value: 'a*b(c)' } },
      ],
    });
  });

  test('StartTLS and WhoAmI requests', () => {
    assert.deepEqual(decodeMessage(fixtureBytes('StartTLS extended request (ldapsearch -ZZ)')).op, {
      kind: 'ExtendedRequest',
      requestName: Oid.startTls,
    });
    assert.deepEqual(decodeMessage(fixtureBytes('WhoAmI extended request (ldapwhoami)')).op, {
      kind: 'ExtendedRequest',
      requestName: Oid.whoAmI,
    });
  });

  test('modify and modify DN requests', () => {
    assert.deepEqual(decodeMessage(fixtureBytes('modify request replace + delete (ldapmodify)')).op, {
      kind: 'ModifyRequest',
      object: 'cn=bob,ou=users,dc=example,dc=com',
      changes: [
        { operation: 'replace', modification: { type: 'mail', values: [Buffer.from('bob@example.com')] } },
        { operation: 'delete', modification: { type: 'sn', values: [] } },
      ],
    });
    assert.deepEqual(decodeMessage(fixtureBytes('modify DN request with newSuperior (ldapmodify)')).op, {
      kind: 'ModifyDNRequest',
      entry: 'cn=bob,ou=users,dc=example,dc=com',
      newrdn: 'cn=robert',
      deleteoldrdn: true,
      newSuperior: 'ou=people,dc=example,dc=com',
    });
  });

  test('large messageIDs', () => {
    assert.equal(decodeMessage(fixtureBytes('two-octet messageID')).messageID, 300);
    assert.equal(decodeMessage(fixtureBytes('largest messageID')).messageID, 0x7fffffff);
  });

  test('notice of disconnection', () => {
    const bytes = noticeOfDisconnection(ResultCode.protocolError, 'bye');
    assert.deepEqual(bytes, fixtureBytes('notice of disconnection'));
    assert.deepEqual(decodeMessage(bytes), {
      messageID: 0,
      op: {
        kind: 'ExtendedResponse',
        resultCode: 2,
        matchedDN: '',
        diagnosticMessage: 'bye',
        responseName: '1.3.6.1.4.1.1466.20036',
      },
      controls: [],
    });
  });

  test('decoded buffers do not alias the frame', () => {
    const frame = Buffer.from(fixtureBytes('simple bind with DN and password (ldapsearch -D -w)'));
    const message = decodeMessage(frame);
    frame.fill(0);
    assert.equal(message.op.kind === 'BindRequest' && message.op.auth.type === 'simple' && message.op.auth.password.toString(), 'secret');
  });
});

describe('every operation round trips', () => {
  const result = { resultCode: 0, matchedDN: '', diagnosticMessage: '' };
  const ops: LdapOp[] = [
    { kind: 'BindRequest', version: 3, name: 'cn=a', auth: { type: 'simple', password: Buffer.from('pw') } },
    { kind: 'BindRequest', version: 3, name: '', auth: { type: 'sasl', mechanism: 'PLAIN', credentials: Buffer.from('\0u\0p') } },
    { kind: 'BindResponse', ...result, serverSaslCreds: Buffer.from('x') },
    { kind: 'UnbindRequest' },
    {
      kind: 'SearchRequest',
      baseObject: 'dc=x',
      scope: 1,
      derefAliases: 3,
      sizeLimit: 10,
      timeLimit: 30,
      typesOnly: true,
      filter: { kind: 'present', type: 'objectClass' },
      attributes: [],
    },
    {
      kind: 'SearchResultEntry',
      objectName: 'cn=ä,dc=x',
      attributes: [
        { type: 'cn', values: [Buffer.from('ä'), Buffer.from([0xff, 0x00])] },
        { type: 'empty', values: [] },
      ],
    },
    { kind: 'SearchResultReference', uris: ['ldap://a/', 'ldap://b/'] },
    { kind: 'SearchResultDone', resultCode: 32, matchedDN: 'dc=x', diagnosticMessage: 'no such object' },
    { kind: 'ModifyRequest', object: 'cn=a', changes: [{ operation: 'increment', modification: { type: 'n', values: [Buffer.from('1')] } }] },
    { kind: 'ModifyResponse', ...result, referral: ['ldap://c/'] },
    { kind: 'AddRequest', entry: 'cn=a', attributes: [{ type: 'cn', values: [Buffer.from('a')] }] },
    { kind: 'AddResponse', ...result, resultCode: 50 },
    { kind: 'DelRequest', entry: 'cn=a' },
    { kind: 'DelResponse', ...result },
    { kind: 'ModifyDNRequest', entry: 'cn=a', newrdn: 'cn=b', deleteoldrdn: false },
    { kind: 'ModifyDNResponse', ...result },
    { kind: 'CompareRequest', entry: 'cn=a', ava: { attributeDesc: 'cn', assertionValue: Buffer.from('a') } },
    { kind: 'CompareResponse', ...result, resultCode: 6 },
    { kind: 'AbandonRequest', messageID: 0x7fffffff },
    { kind: 'ExtendedRequest', requestName: Oid.passwordModify, requestValue: Buffer.from([0x30, 0x00]) },
    { kind: 'ExtendedResponse', ...result, responseValue: Buffer.from('dn:cn=a') },
    { kind: 'IntermediateResponse' },
    { kind: 'IntermediateResponse', responseValue: Buffer.alloc(0) },
  ];
  for (const op of ops) {
    test(op.kind, () => {
      const message: LdapMessage = {
        messageID: 42,
        op,
        controls: [{ type: '1.2.3', criticality: true }, { type: '1.2.4', criticality: false, value: Buffer.from('v') }],
      };
      const bytes = encodeMessage(message);
      assert.deepEqual(decodeMessage(bytes), message);
      assert.deepEqual(encodeMessage(decodeMessage(bytes)), bytes);
    });
  }

  test('large values use long length forms', () => {
    const big = Buffer.alloc(70_000, 0x61);
    const message: LdapMessage = {
      messageID: 7,
      op: { kind: 'SearchResultEntry', objectName: 'cn=big', attributes: [{ type: 'x', values: [big, Buffer.alloc(200, 1)] }] },
      controls: [],
    };
    const bytes = encodeMessage(message);
    assert.equal(bytes[1], 0x83);
    assert.deepEqual(decodeMessage(bytes), message);
  });

  test('encodeOp is the protocolOp element of encodeMessage', () => {
    const op: LdapOp = resultOp('AddResponse', ResultCode.insufficientAccessRights, 'Insufficient Access Rights');
    const whole = encodeMessage({ messageID: 1, op, controls: [] });
    assert.deepEqual(whole.subarray(5), encodeOp(op));
  });

  test('isRequestOp and result codes', () => {
    assert.equal(isRequestOp({ kind: 'UnbindRequest' }), true);
    assert.equal(isRequestOp(resultOp('SearchResultDone', 0)), false);
    assert.equal(ResultCode.invalidCredentials, 49);
    assert.equal(resultCodeName(53), 'unwillingToPerform');
    assert.equal(resultCodeName(999), 'unknown(999)');
  });

  test('encoding rejects messageIDs outside 0..2^31-1', () => {
    for (const messageID of [-1, 0x80000000, 1.5]) {
      assert.throws(() => encodeMessage({ messageID, op: { kind: 'UnbindRequest' }, controls: [] }), RangeError);
    }
  });
});

type ErrorClass = abstract new (...args: never[]) => ProtocolError;

/** TLV builder: lengths are computed, so each malformed case breaks only what its name says. */
function tlv(tag: number, ...parts: Array<Buffer | string>): Buffer {
  const content = Buffer.concat(parts.map((p) => (typeof p === 'string' ? hex(p) : p)));
  return Buffer.concat([Buffer.from([tag, ...berLength(content.length)]), content]);
}
const msg = (...parts: Array<Buffer | string>): Buffer => tlv(0x30, '020102', ...parts);
const searchWith = (fields: string, filter: Buffer | string): Buffer => msg(tlv(0x63, fields, filter, '3000'));
const okFields = '0400 0a0100 0a0100 020100 020100 010100';
const cnPresent = '8702636e';

const malformed: Array<[string, Buffer, RegExp, ErrorClass]> = [
  ['empty input', hex(''), /unexpected end/, ProtocolError],
  ['not a SEQUENCE', hex('3105020101 4200'), /expected an LDAPMessage/, ProtocolError],
  ['indefinite length', hex('3080 020101 4200 0000'), /indefinite/, ProtocolError],
  ['length of 5 octets', hex('3085 0000000005 020101 4200'), /too long/, ProtocolError],
  ['length past the frame', hex('3007 020101 4200'), /runs past/, ProtocolError],
  ['data after the message', hex('3005 020101 4200 00'), /data after/, ProtocolError],
  ['messageID longer than 4 octets', tlv(0x30, '0205 0000000001', '4200'), /longer than 4/, ProtocolError],
  ['negative messageID', hex('3005 0201ff 4200'), /negative messageID/, ProtocolError],
  ['empty messageID', hex('3004 0200 4200'), /no content/, ProtocolError],
  ['messageID is not an INTEGER', hex('3005 0401 01 4200'), /expected messageID/, ProtocolError],
  ['missing protocolOp', msg(), /without protocolOp/, LdapDecodeError],
  ['unknown application tag', msg('7400'), /unknown operation/, UnknownOperationError],
  ['unknown application tag, multi-octet form', msg('7f00'), /unknown operation/, UnknownOperationError],
  ['protocolOp is not an application tag', msg('0400'), /expected a protocolOp/, LdapDecodeError],
  ['unbind with content', msg('420100'), /must be empty/, LdapDecodeError],
  ['element longer than its container', msg('420200'), /runs past/, LdapDecodeError],
  ['bind with unknown auth choice', msg(tlv(0x60, '020103 0400 8100')), /authentication choice/, LdapDecodeError],
  ['bind with trailing data', msg(tlv(0x60, '020103 0400 8000 0500')), /unexpected data at the end/, LdapDecodeError],
  ['bind name is not UTF-8', msg(tlv(0x60, '020103 0401ff 8000')), /not valid UTF-8/, LdapDecodeError],
  ['bind name with a lone continuation octet', msg(tlv(0x60, '020103 040261bf 8000')), /not valid UTF-8/, LdapDecodeError],
  ['bind version of 5 octets', msg(tlv(0x60, '02050000000003 0400 8000')), /longer than 4/, LdapDecodeError],
  ['search scope 4', searchWith('0400 0a0104 0a0100 020100 020100 010100', cnPresent), /unknown search scope/, LdapDecodeError],
  ['derefAliases 4', searchWith('0400 0a0100 0a0104 020100 020100 010100', cnPresent), /unknown derefAliases/, LdapDecodeError],
  ['negative sizeLimit', searchWith('0400 0a0100 0a0100 0201ff 020100 010100', cnPresent), /negative size/, LdapDecodeError],
  ['typesOnly of two octets', searchWith('0400 0a0100 0a0100 020100 020100 01020000', cnPresent), /one content octet/, LdapDecodeError],
  ['scope is an INTEGER, not ENUMERATED', searchWith('0400 020100 0a0100 020100 020100 010100', cnPresent), /expected scope/, LdapDecodeError],
  ['unknown filter choice', searchWith(okFields, '8a00'), /unknown filter choice/, LdapDecodeError],
  ['missing filter', msg(tlv(0x63, okFields)), /missing filter/, LdapDecodeError],
  ['empty substrings', searchWith(okFields, tlv(0xa4, '0402636e', '3000')), /without substrings/, LdapDecodeError],
  ['empty substring component', searchWith(okFields, tlv(0xa4, '0402636e', tlv(0x30, '8100'))), /empty substring/, LdapDecodeError],
  ['initial substring not first', searchWith(okFields, tlv(0xa4, '0402636e', tlv(0x30, '810161 800162'))), /initial substring is not first/, LdapDecodeError],
  ['substring after final', searchWith(okFields, tlv(0xa4, '0402636e', tlv(0x30, '820161 810162'))), /after final/, LdapDecodeError],
  ['unknown substring choice', searchWith(okFields, tlv(0xa4, '0402636e', tlv(0x30, '830161'))), /unknown substring choice/, LdapDecodeError],
  ['not with two filters', searchWith(okFields, tlv(0xa2, cnPresent, cnPresent)), /unexpected data at the end/, LdapDecodeError],
  ['equality without value', searchWith(okFields, tlv(0xa3, '0402636e')), /unexpected end/, LdapDecodeError],
  ['extensible match without rule or type', searchWith(okFields, tlv(0xa9, '830161')), /needs a matching rule/, LdapDecodeError],
  ['extensible match without value', searchWith(okFields, tlv(0xa9, '820161')), /unexpected end/, LdapDecodeError],
  ['attribute list is a SET', msg(tlv(0x63, okFields, cnPresent, '3100')), /expected attributes/, LdapDecodeError],
  ['modify with unknown operation', msg(tlv(0x66, '040161', tlv(0x30, tlv(0x30, '0a0107', tlv(0x30, '040161', '3100'))))), /unknown modify operation/, LdapDecodeError],
  ['abandon with negative ID', msg('5001ff'), /negative messageID in AbandonRequest/, LdapDecodeError],
  ['control without type', msg('4200', tlv(0xa0, '3000')), /unexpected end/, LdapDecodeError],
  ['control type is not an OCTET STRING', msg('4200', tlv(0xa0, tlv(0x30, '020101'))), /expected controlType/, LdapDecodeError],
  ['control with unexpected element', msg('4200', tlv(0xa0, tlv(0x30, '040131', '020100'))), /unexpected data at the end/, LdapDecodeError],
  ['controls not [0]', msg('4200', tlv(0xa1, '3000')), /unexpected data at the end/, LdapDecodeError],
  ['empty search result reference', msg('7300'), /without URIs/, LdapDecodeError],
];

describe('malformed input is rejected with ProtocolError', () => {
  for (const [name, bytes, pattern, errorClass] of malformed) {
    test(name, () => {
      assert.throws(
        () => decodeMessage(bytes),
        (error: unknown) => {
          assert.ok(error instanceof errorClass, `expected ${errorClass.name}, got ${String(error)}`);
          assert.match((error as Error).message, pattern);
          return true;
        },
      );
    });
  }

  test('unknown operation carries the messageID and tag', () => {
    try {
      decodeMessage(hex('3006 02020102 7400'));
      assert.fail('no error');
    } catch (error) {
      assert.ok(error instanceof UnknownOperationError);
      assert.equal(error.messageID, 0x102);
      assert.equal(error.opTag, 0x74);
    }
  });

  test('a malformed known operation carries the messageID and tag', () => {
    try {
      decodeMessage(hex('300c 020109 6007 020103 0400 8100'));
      assert.fail('no error');
    } catch (error) {
      assert.ok(error instanceof LdapDecodeError && !(error instanceof UnknownOperationError));
      assert.equal(error.messageID, 9);
      assert.equal(error.opTag, 0x60);
    }
  });
});

describe('limits', () => {
  const search = (attributes: string[], filter: Filter): Buffer =>
    encodeMessage({
      messageID: 1,
      op: { kind: 'SearchRequest', baseObject: '', scope: 0, derefAliases: 0, sizeLimit: 0, timeLimit: 0, typesOnly: false, filter, attributes },
      controls: [],
    });
  const present = { kind: 'present', type: 'cn' } as const;

  test('maxMessageBytes', () => {
    const bytes = search(['cn'], present);
    assert.doesNotThrow(() => decodeMessage(bytes, limits({ maxMessageBytes: bytes.length })));
    assert.throws(() => decodeMessage(bytes, limits({ maxMessageBytes: bytes.length - 1 })), /exceeds the limit/);
  });

  test('maxAttributes', () => {
    const bytes = search(['a', 'b', 'c'], present);
    assert.doesNotThrow(() => decodeMessage(bytes, limits({ maxAttributes: 3 })));
    assert.throws(() => decodeMessage(bytes, limits({ maxAttributes: 2 })), /more than 2 attributes/);
  });

  test('maxControls', () => {
    const controls = Array.from({ length: 3 }, () => ({ type: '1.2', criticality: false }));
    const bytes = encodeMessage({ messageID: 1, op: { kind: 'UnbindRequest' }, controls });
    assert.doesNotThrow(() => decodeMessage(bytes, limits({ maxControls: 3 })));
    assert.throws(() => decodeMessage(bytes, limits({ maxControls: 2 })), /more than 2 controls/);
  });

  test('maxValueBytes', () => {
    const bytes = encodeMessage({
      messageID: 1,
      op: { kind: 'BindRequest', version: 3, name: 'cn=a', auth: { type: 'simple', password: Buffer.alloc(100) } },
      controls: [],
    });
    assert.doesNotThrow(() => decodeMessage(bytes, limits({ maxValueBytes: 100 })));
    assert.throws(() => decodeMessage(bytes, limits({ maxValueBytes: 99 })), /exceeds the limit of 99/);
  });

  test('maxFilterDepth and maxBerDepth', () => {
    let filter: Filter = present;
    for (let i = 0; i < 9; i++) filter = { kind: 'not', filter };
    const bytes = search([], filter); // 10 filter levels
    assert.doesNotThrow(() => decodeMessage(bytes, limits({ maxFilterDepth: 10 })));
    assert.throws(() => decodeMessage(bytes, limits({ maxFilterDepth: 9 })), /nested deeper than 9/);
    assert.throws(() => decodeMessage(bytes, limits({ maxBerDepth: 8 })), /nesting too deep/);
  });

  test('maxFilterNodes', () => {
    const filter = { kind: 'or' as const, filters: Array.from({ length: 9 }, () => present) };
    const bytes = search([], filter); // 10 nodes
    assert.doesNotThrow(() => decodeMessage(bytes, limits({ maxFilterNodes: 10 })));
    assert.throws(() => decodeMessage(bytes, limits({ maxFilterNodes: 9 })), /more than 9 nodes/);
  });

  test('deeply nested hostile input fails on depth, not on the stack', () => {
    // 200 nested NOT filters: rejected at the depth limit before any deeper work.
    let body: Buffer = hex('870163');
    for (let i = 0; i < 200; i++) body = Buffer.concat([Buffer.from([0xa2, ...berLength(body.length)]), body]);
    const op = Buffer.concat([hex('0400 0a0100 0a0100 020100 020100 010100'), body, hex('3000')]);
    const searchOp = Buffer.concat([Buffer.from([0x63, ...berLength(op.length)]), op]);
    const content = Buffer.concat([hex('020101'), searchOp]);
    const message = Buffer.concat([Buffer.from([0x30, ...berLength(content.length)]), content]);
    assert.throws(() => decodeMessage(message), (error: unknown) => error instanceof ProtocolError);
  });
});

function berLength(length: number): number[] {
  if (length < 0x80) return [length];
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest & 0xff);
  return [0x80 | bytes.length, ...bytes];
}
