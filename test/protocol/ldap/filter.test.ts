import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ProtocolError } from '../../../src/errors.js';
import { LDAP_DECODE_LIMITS } from '../../../src/config/limits.js';
import {
  assertionBytes,
  assertionText,
  decodeFilter,
  encodeFilter,
  escapeFilterValue,
  formatFilter,
  parseFilter,
  type Filter,
} from '../../../src/protocol/ldap/filter.js';

/** Canonical strings: parse, then format gives the same text; BER round trip keeps the AST. */
const canonical: Array<[string, Filter]> = [
  ['(cn=alice)', { kind: 'equalityMatch', type: 'cn', value: 'alice' }],
  ['(cn=)', { kind: 'equalityMatch', type: 'cn', value: '' }],
  ['(objectClass=*)', { kind: 'present', type: 'objectClass' }],
  ['(cn=al*)', { kind: 'substrings', type: 'cn', initial: 'al', any: [] }],
  ['(cn=*ce)', { kind: 'substrings', type: 'cn', any: [], final: 'ce' }],
  ['(cn=*li*)', { kind: 'substrings', type: 'cn', any: ['li'] }],
  ['(cn=a*b*c*d)', { kind: 'substrings', type: 'cn', initial: 'a', any: ['b', 'c'], final: 'd' }],
  ['(uidNumber>=1000)', { kind: 'greaterOrEqual', type: 'uidNumber', value: '1000' }],
  ['(uidNumber<=2000)', { kind: 'lessOrEqual', type: 'uidNumber', value: '2000' }],
  ['(sn~=smith)', { kind: 'approxMatch', type: 'sn', value: 'smith' }],
  ['(cn=\\2a\\28\\29\\5c\\00)', { kind: 'equalityMatch', type: 'cn', value: '*()\\\0' }],
  ['(cn=a\\2ab*\\28c\\29)', { kind: 'substrings', type: 'cn', initial: 'a*b', any: [], final: '(c)' }],
  ['(cn=Jöhn 李 😀)', { kind: 'equalityMatch', type: 'cn', value: 'Jöhn 李 😀' }],
  ['(objectGUID=\\ff\\00\\fe)', { kind: 'equalityMatch', type: 'objectGUID', value: Buffer.from([0xff, 0, 0xfe]) }],
  ['(goauthentik.io/ldap/superuser=TRUE)', { kind: 'equalityMatch', type: 'goauthentik.io/ldap/superuser', value: 'TRUE' }],
  ['(cn;lang-de=x)', { kind: 'equalityMatch', type: 'cn;lang-de', value: 'x' }],
  ['(&)', { kind: 'and', filters: [] }],
  ['(|)', { kind: 'or', filters: [] }],
  [
    '(&(objectClass=user)(!(cn=bob))(|(mail=*@example.com)(uid=b*)))',
    {
      kind: 'and',
      filters: [
        { kind: 'equalityMatch', type: 'objectClass', value: 'user' },
        { kind: 'not', filter: { kind: 'equalityMatch', type: 'cn', value: 'bob' } },
        {
          kind: 'or',
          filters: [
            { kind: 'substrings', type: 'mail', any: [], final: '@example.com' },
            { kind: 'substrings', type: 'uid', initial: 'b', any: [] },
          ],
        },
      ],
    },
  ],
  ['(cn:=Jane)', { kind: 'extensibleMatch', type: 'cn', matchValue: 'Jane', dnAttributes: false }],
  ['(o:dn:=Ace)', { kind: 'extensibleMatch', type: 'o', matchValue: 'Ace', dnAttributes: true }],
  [
    '(cn:dn:2.5.13.5:=John)',
    { kind: 'extensibleMatch', type: 'cn', matchingRule: '2.5.13.5', matchValue: 'John', dnAttributes: true },
  ],
  ['(sn:caseExactMatch:=Dino)', { kind: 'extensibleMatch', type: 'sn', matchingRule: 'caseExactMatch', matchValue: 'Dino', dnAttributes: false }],
  [':1.2.3:=x', { kind: 'extensibleMatch', matchingRule: '1.2.3', matchValue: 'x', dnAttributes: false }],
  ['(:dn:2.4.6.8.10:=Dino)', { kind: 'extensibleMatch', matchingRule: '2.4.6.8.10', matchValue: 'Dino', dnAttributes: true }],
  [
    '(member:1.2.840.113556.1.4.1941:=cn=g\\28x\\29,ou=groups,dc=x)',
    {
      kind: 'extensibleMatch',
      type: 'member',
      matchingRule: '1.2.840.113556.1.4.1941',
      matchValue: 'cn=g(x),ou=groups,dc=x',
      dnAttributes: false,
    },
  ],
];

describe('RFC 4515 parse and format', () => {
  for (const [text, ast] of canonical) {
    test(text, () => {
      const parsed = parseFilter(text);
      assert.deepEqual(parsed, ast);
      const formatted = formatFilter(parsed);
      assert.equal(formatted, text.startsWith('(') ? text : `(${text})`);
      assert.deepEqual(parseFilter(formatted), ast);
      assert.deepEqual(decodeFilter(encodeFilter(parsed)), ast);
    });
  }

  const lenient: Array<[string, string]> = [
    ['cn=alice', '(cn=alice)'],
    ['  (cn=alice)  ', '(cn=alice)'],
    ['(& (cn=a) (sn=b) )', '(&(cn=a)(sn=b))'],
    ['(! (cn=a) )', '(!(cn=a))'],
    ['(cn=\\*\\(\\)\\\\)', '(cn=\\2a\\28\\29\\5c)'], // RFC 2254 escapes
    ['(cn=\\41\\c3\\A4)', '(cn=Aä)'], // hex pairs in either case, UTF-8 sequences
    ['(cn=**)', '(cn=*)'],
    ['(cn=a**b)', '(cn=a*b)'],
    ['(CN:DN:=x)', '(CN:dn:=x)'],
    ['(cn=a b )', '(cn=a b )'], // spaces inside values are kept
  ];
  for (const [text, formatted] of lenient) {
    test(`lenient: ${text}`, () => assert.equal(formatFilter(parseFilter(text)), formatted));
  }

  const errors: Array<[string, RegExp]> = [
    ['', /expected '\('|expected a filter type|missing attribute/],
    ['(cn=a', /unterminated value/],
    ['(cn=a))', /unexpected characters after/],
    ['(cn=a)(cn=b)', /unexpected characters after/],
    ['()', /missing attribute/],
    ['(=a)', /missing attribute/],
    ['(cn>a)', /expected a filter type/],
    ['(cn a)', /expected a filter type/],
    ['(cn=a\\zz)', /bad escape/],
    ['(cn=a\\4)', /bad escape/],
    ['(cn=a(b)', /unescaped '\('/],
    ['(cn>=a*)', /unescaped '\*'/],
    ['(cn:=a*)', /unescaped '\*'/],
    ['(:=x)', /needs an attribute or a matching rule/],
    ['(cn:dn=x)', /expected ':'/],
    ['(cn:=x', /unterminated/],
    ['(&(cn=a)', /expected '\)'/],
    ['(!(cn=a)(cn=b))', /expected '\)'/],
    ['(&cn=a)', /expected '\)'/],
    ['(cn=a\u0000)', /NUL/],
    ['(cn=a\ud800)', /lone surrogate/],
  ];
  for (const [text, pattern] of errors) {
    test(`rejects ${JSON.stringify(text)}`, () => {
      assert.throws(
        () => parseFilter(text),
        (error: unknown) => error instanceof ProtocolError && pattern.test(error.message),
      );
    });
  }
});

describe('limits of the string parser', () => {
  const nested = (depth: number): string => '(!'.repeat(depth - 1) + '(cn=a)' + ')'.repeat(depth - 1);
  test('depth', () => {
    const limits = { ...LDAP_DECODE_LIMITS, maxFilterDepth: 10 };
    assert.doesNotThrow(() => parseFilter(nested(10), limits));
    assert.throws(() => parseFilter(nested(11), limits), /nested deeper than 10/);
    // Far past the limit: fails on the limit, not on the call stack.
    assert.throws(() => parseFilter(nested(100_000)), /nested deeper than 64/);
  });
  test('nodes', () => {
    const limits = { ...LDAP_DECODE_LIMITS, maxFilterNodes: 5 };
    assert.doesNotThrow(() => parseFilter('(|(a=1)(a=2)(a=3)(a=4))', limits));
    assert.throws(() => parseFilter('(|(a=1)(a=2)(a=3)(a=4)(a=5))', limits), /more than 5 nodes/);
  });
  test('value bytes', () => {
    const limits = { ...LDAP_DECODE_LIMITS, maxValueBytes: 4 };
    assert.doesNotThrow(() => parseFilter('(cn=abcd)', limits));
    assert.throws(() => parseFilter('(cn=abcde)', limits), /longer than 4 bytes/);
    assert.throws(() => parseFilter('(cn=ab*cde)', limits), /longer than 4 bytes/);
    assert.throws(() => parseFilter('(cn=\\61\\62\\63\\64\\65)', limits), /longer than 4 bytes/);
  });
});

describe('assertion values', () => {
  test('helpers', () => {
    assert.deepEqual(assertionBytes('ä'), Buffer.from([0xc3, 0xa4]));
    assert.deepEqual(assertionBytes(Buffer.from([1])), Buffer.from([1]));
    assert.equal(assertionText(Buffer.from('x')), 'x');
    assert.equal(escapeFilterValue('a*b'), 'a\\2ab');
    assert.equal(escapeFilterValue('plain'), 'plain');
    assert.equal(escapeFilterValue(Buffer.from([0x41, 0x0a, 0xff, 0x2a])), 'A\\0a\\ff\\2a');
  });
  test('BER values that are not UTF-8 stay bytes; UTF-8 ones become strings', () => {
    const bytes = encodeFilter({ kind: 'equalityMatch', type: 'x', value: Buffer.from([0xc3, 0xa4]) });
    assert.deepEqual(decodeFilter(bytes), { kind: 'equalityMatch', type: 'x', value: 'ä' });
    const binary = encodeFilter({ kind: 'equalityMatch', type: 'x', value: Buffer.from([0xc3]) });
    assert.deepEqual(decodeFilter(binary), { kind: 'equalityMatch', type: 'x', value: Buffer.from([0xc3]) });
  });
  test('BER encoding of a filter matches RFC 4511 tags', () => {
    assert.equal(encodeFilter(parseFilter('(cn=*)')).toString('hex'), '8702636e');
    assert.equal(
      encodeFilter(parseFilter('(&(cn=a)(!(sn=b)))')).toString('hex'),
      'a014' + 'a3070402636e040161' + 'a209a3070402736e040162',
    );
    assert.equal(encodeFilter(parseFilter('(cn:dn:1.2:=a)')).toString('hex'), 'a90f' + '8103312e32' + '8202636e' + '830161' + '8401ff');
  });
});
