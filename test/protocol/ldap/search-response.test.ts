import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameReader } from '../../../src/protocol/ber/framer.js';
import { LDAP_DECODE_LIMITS } from '../../../src/config/limits.js';
import { pagedResultsControl } from '../../../src/protocol/ldap/controls.js';
import { decodeMessage, encodeMessage, encodeOp, OpTag, type LdapMessage } from '../../../src/protocol/ldap/messages.js';
import {
  MessageBatch,
  encodeEntryOp,
  encodeLdapString,
  encodePartialAttribute,
  encodeSearchDone,
  frameOp,
  framedSize,
  type EntryAttribute,
} from '../../../src/protocol/ldap/search-response.js';

const toBuffers = (attributes: EntryAttribute[]): Array<{ type: string; values: Buffer[] }> =>
  attributes.map((a) => ({ type: a.type, values: a.values.map((v) => (typeof v === 'string' ? Buffer.from(v) : v)) }));

const entries: Array<[string, EntryAttribute[]]> = [
  ['', []],
  ['cn=alice,ou=users,dc=example,dc=com', [{ type: 'cn', values: ['alice'] }]],
  [
    'cn=Jörg\\, 李,ou=users,dc=x',
    [
      { type: 'objectClass', values: ['top', 'person', 'organizationalPerson', 'inetOrgPerson', 'user', 'posixAccount', 'goauthentik.io/ldap/user'] },
      { type: 'memberOf', values: [] },
      { type: 'mail', values: [''] },
      { type: 'jpegPhoto', values: [Buffer.alloc(300, 9)] },
      { type: 'description', values: ['€'.repeat(50), 'x'.repeat(70_000)] },
    ],
  ],
  ['cn=many', Array.from({ length: 100 }, (_, i) => ({ type: `attr${i}`, values: [String(i), Buffer.from([i])] }))],
];

describe('pre-encoded entries', () => {
  for (const [dn, attributes] of entries) {
    test(`encodeEntryOp ${JSON.stringify(dn.slice(0, 20))} (${attributes.length} attributes)`, () => {
      const expected = encodeOp({ kind: 'SearchResultEntry', objectName: dn, attributes: toBuffers(attributes) });
      const op = encodeEntryOp(dn, attributes);
      assert.deepEqual(op, expected);
      const framed = frameOp(300, op);
      assert.deepEqual(framed, encodeMessage({ messageID: 300, op: decodeMessage(framed).op, controls: [] }));
      assert.equal(framed.length, framedSize(300, op.length));
    });
  }

  test('appendEntry from parts equals encodeEntryOp', () => {
    for (const [dn, attributes] of entries) {
      const batch = new MessageBatch(16);
      batch.appendEntry(5, encodeLdapString(dn), attributes.map((a) => encodePartialAttribute(a.type, a.values)));
      assert.deepEqual(batch.take(), frameOp(5, encodeEntryOp(dn, attributes)));
    }
  });

  test('frameOp with controls', () => {
    const op = encodeEntryOp('cn=a', [{ type: 'cn', values: ['a'] }]);
    const controls = [{ type: '1.2.3', criticality: true, value: Buffer.from('x') }];
    const framed = frameOp(0x7fffffff, op, controls);
    const decoded = decodeMessage(framed);
    assert.equal(decoded.messageID, 0x7fffffff);
    assert.deepEqual(decoded.controls, controls);
    assert.deepEqual(framed, encodeMessage(decoded));
    assert.throws(() => frameOp(-1, op), RangeError);
    assert.throws(() => frameOp(0x80000000, op), RangeError);
  });
});

describe('search done fast path', () => {
  const cases: Array<[number, number, string, string]> = [
    [1, 0, '', ''],
    [2, 32, 'dc=example,dc=com', 'no such object'],
    [128, 50, '', 'Insufficient Access Rights'],
    [70000, 53, '', 'ä€'.repeat(100)],
  ];
  for (const [messageID, resultCode, matchedDN, diagnosticMessage] of cases) {
    test(`messageID ${messageID} result ${resultCode}`, () => {
      const expected: LdapMessage = { messageID, op: { kind: 'SearchResultDone', resultCode, matchedDN, diagnosticMessage }, controls: [] };
      assert.deepEqual(encodeSearchDone(messageID, resultCode, matchedDN, diagnosticMessage), encodeMessage(expected));
      const controls = [pagedResultsControl(0, Buffer.alloc(0))];
      assert.deepEqual(
        encodeSearchDone(messageID, resultCode, matchedDN, diagnosticMessage, controls),
        encodeMessage({ ...expected, controls }),
      );
    });
  }

  test('other result-only responses through opTag', () => {
    const batch = new MessageBatch();
    batch.appendSearchDone(3, 50, '', 'Insufficient Access Rights', undefined, OpTag.AddResponse);
    assert.deepEqual(
      batch.take(),
      encodeMessage({ messageID: 3, op: { kind: 'AddResponse', resultCode: 50, matchedDN: '', diagnosticMessage: 'Insufficient Access Rights' }, controls: [] }),
    );
  });
});

describe('MessageBatch', () => {
  test('a whole search response in one buffer, taken in chunks', () => {
    const ops = Array.from({ length: 2000 }, (_, i) =>
      encodeEntryOp(`cn=user${i},ou=users,dc=example,dc=com`, [
        { type: 'cn', values: [`user${i}`] },
        { type: 'uidNumber', values: [String(2000 + i)] },
      ]),
    );
    const batch = new MessageBatch(1024);
    const chunks: Buffer[] = [];
    const snapshots: string[] = [];
    for (const op of ops) {
      batch.append(7, op);
      if (batch.length >= 16 * 1024) {
        const chunk = batch.take();
        chunks.push(chunk);
        snapshots.push(chunk.toString('hex'));
      }
    }
    batch.appendSearchDone(7, 0, '', '', [pagedResultsControl(0, Buffer.alloc(0))]);
    batch.appendRaw(encodeMessage({ messageID: 8, op: { kind: 'UnbindRequest' }, controls: [] }));
    chunks.push(batch.take());
    assert.equal(batch.length, 0);
    // Earlier chunks were not touched by later appends.
    assert.deepEqual(chunks.slice(0, snapshots.length).map((c) => c.toString('hex')), snapshots);
    assert.ok(chunks.length > 2);

    const reader = new FrameReader(LDAP_DECODE_LIMITS);
    const messages: LdapMessage[] = [];
    for (const chunk of chunks) {
      reader.push(chunk);
      for (let frame = reader.next(); frame !== null; frame = reader.next()) messages.push(decodeMessage(frame));
    }
    assert.equal(messages.length, ops.length + 2);
    for (let i = 0; i < ops.length; i++) {
      assert.equal(messages[i]!.messageID, 7);
      assert.deepEqual(encodeOp(messages[i]!.op), ops[i]);
    }
    assert.equal(messages[ops.length]!.op.kind, 'SearchResultDone');
    assert.equal(messages[ops.length]!.controls.length, 1);
    assert.equal(messages[ops.length + 1]!.op.kind, 'UnbindRequest');
  });

  test('an exact size estimate means no growth', () => {
    const op = encodeEntryOp('cn=a', [{ type: 'cn', values: ['a'] }]);
    const total = framedSize(1, op.length) * 3;
    const batch = new MessageBatch(total);
    for (let i = 0; i < 3; i++) batch.append(1, op);
    const out = batch.take();
    assert.equal(out.length, total);
    assert.equal(out.buffer.byteLength >= total, true);
  });
});
