import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ProtocolError } from '../../../src/errors.js';
import {
  escapeDnValue,
  firstRdnValue,
  formatDn,
  isDescendantOrSelf,
  isDirectChild,
  normalizeDn,
  parentDn,
  parseDn,
  tryParseDn,
  type Dn,
} from '../../../src/protocol/ldap/dn.js';

const ava = (type: string, value: string): { type: string; value: string } => ({ type, value });

describe('parseDn', () => {
  const cases: Array<[string, Dn]> = [
    ['', []],
    ['   ', []],
    ['dc=example,dc=com', [[ava('dc', 'example')], [ava('dc', 'com')]]],
    ['CN=Alice,OU=Users', [[ava('CN', 'Alice')], [ava('OU', 'Users')]]],
    ['cn = Alice Smith , ou = users ,dc=x', [[ava('cn', 'Alice Smith')], [ava('ou', 'users')], [ava('dc', 'x')]]],
    ['cn=a+sn=b,dc=x', [[ava('cn', 'a'), ava('sn', 'b')], [ava('dc', 'x')]]],
    ['cn=a + sn=b', [[ava('cn', 'a'), ava('sn', 'b')]]],
    ['cn=Smith\\, John,dc=x', [[ava('cn', 'Smith, John')], [ava('dc', 'x')]]],
    ['cn=a\\+b\\"c\\\\d\\<e\\>f\\;g\\=h', [[ava('cn', 'a+b"c\\d<e>f;g=h')]]],
    ['cn=\\#hash', [[ava('cn', '#hash')]]],
    ['cn=\\ lead', [[ava('cn', ' lead')]]],
    ['cn=trail\\ ', [[ava('cn', 'trail ')]]],
    ['cn=trail\\  , dc=x', [[ava('cn', 'trail ')], [ava('dc', 'x')]]],
    ['cn=\\20\\20', [[ava('cn', '  ')]]],
    ['cn=a\\2cb', [[ava('cn', 'a,b')]]],
    ['cn=J\\c3\\b6rg', [[ava('cn', 'Jörg')]]],
    ['cn=Jörg 李', [[ava('cn', 'Jörg 李')]]],
    ['cn=\\e2\\82\\ac\\00x', [[ava('cn', '€\0x')]]],
    ['cn=', [[ava('cn', '')]]],
    ['cn=,dc=x', [[ava('cn', '')], [ava('dc', 'x')]]],
    ['cn=a=b', [[ava('cn', 'a=b')]]],
    ['cn=a;dc=x', [[ava('cn', 'a')], [ava('dc', 'x')]]],
    ['2.5.4.3=x', [[ava('2.5.4.3', 'x')]]],
    ['cn=mid#hash', [[ava('cn', 'mid#hash')]]],
  ];
  for (const [text, dn] of cases) {
    test(JSON.stringify(text), () => assert.deepEqual(parseDn(text), dn));
  }

  test('#hex BER values', () => {
    assert.deepEqual(parseDn('cn=#0403616263,dc=x'), [
      [{ type: 'cn', value: 'abc', ber: Buffer.from('0403616263', 'hex') }],
      [ava('dc', 'x')],
    ]);
    assert.deepEqual(parseDn('cn=#0C03C3A4AB'), [[{ type: 'cn', value: '#0c03c3a4ab', ber: Buffer.from('0c03c3a4ab', 'hex') }]]);
    assert.deepEqual(parseDn('uid=#0C02C3A4 + cn=x'), [[{ type: 'uid', value: 'ä', ber: Buffer.from('0c02c3a4', 'hex') }, ava('cn', 'x')]]);
    // Not a string type: the value stays as the hex text.
    assert.deepEqual(parseDn('x=#020101'), [[{ type: 'x', value: '#020101', ber: Buffer.from('020101', 'hex') }]]);
    assert.equal(formatDn(parseDn('cn=#0403616263,dc=x')), 'cn=#0403616263,dc=x');
  });

  const invalid: Array<[string, RegExp]> = [
    ['cn', /expected '='/],
    ['=a', /missing attribute type/],
    ['cn=a,', /missing attribute type/],
    ['cn=a,,dc=x', /missing attribute type/],
    ['cn=a+', /missing attribute type/],
    ['cn=a\\', /bad escape/],
    ['cn=a\\zz', /bad escape/],
    ['cn=a\\4', /bad escape/],
    ['cn=\\ff', /not valid UTF-8/],
    ['cn=#abc', /even, non-zero/],
    ['cn=#', /even, non-zero/],
    ['cn=#0403616263x', /after a #hex value/],
    ['1cn=a', /invalid attribute type/],
    ['c_n=a', /expected '='/],
    ['cn.x=a', /invalid attribute type/],
    ['cn=\udc00x', /lone surrogate/],
  ];
  for (const [text, pattern] of invalid) {
    test(`rejects ${JSON.stringify(text)}`, () => {
      assert.throws(
        () => parseDn(text),
        (error: unknown) => error instanceof ProtocolError && pattern.test(error.message),
      );
      assert.equal(tryParseDn(text), null);
    });
  }
});

describe('escapeDnValue and formatDn', () => {
  const nasty = [
    'plain',
    'Smith, John',
    'a+b',
    'quote"d',
    'back\\slash',
    '<tag>',
    'semi;colon',
    'eq=ual',
    '#leading hash',
    'mid#hash',
    ' leading space',
    'trailing space ',
    ' ',
    '  ',
    '',
    'nul\0byte',
    'Jörg 李 😀',
    ',+"\\<>;#= ',
  ];
  for (const value of nasty) {
    test(`round trip ${JSON.stringify(value)}`, () => {
      const dn = `cn=${escapeDnValue(value)},ou=users,dc=example,dc=com`;
      const parsed = parseDn(dn);
      assert.equal(parsed.length, 4);
      assert.deepEqual(parsed[0], [ava('cn', value)]);
      assert.equal(formatDn(parsed), dn);
      assert.equal(firstRdnValue(dn, 'cn'), value);
    });
  }
  test('escaping is minimal and RFC 4514 shaped', () => {
    assert.equal(escapeDnValue('Smith, John'), 'Smith\\, John');
    assert.equal(escapeDnValue('#a#'), '\\#a#');
    assert.equal(escapeDnValue(' a '), '\\ a\\ ');
    assert.equal(escapeDnValue('a\0'), 'a\\00');
    assert.equal(escapeDnValue('x=y'), 'x=y');
    assert.equal(formatDn([[ava('cn', 'a'), ava('sn', 'b+c')], [ava('dc', 'x')]]), 'cn=a+sn=b\\+c,dc=x');
  });
});

describe('normalizeDn and relations', () => {
  test('normalizeDn', () => {
    assert.equal(normalizeDn('CN = Alice , OU=Users,DC=Example,DC=COM'), 'cn=alice,ou=users,dc=example,dc=com');
    assert.equal(normalizeDn('cn=a\\2cB,dc=x'), normalizeDn('CN=A\\,b, dc=X'));
    assert.equal(normalizeDn('sn=B+cn=a'), normalizeDn('cn=A+sn=b'));
    assert.equal(normalizeDn('cn=#0403616263'), 'cn=abc');
    assert.equal(normalizeDn(''), '');
    assert.equal(normalizeDn('cn=Ä\\ '), 'cn=ä\\ ');
    assert.notEqual(normalizeDn('cn=a\\,b,dc=x'), normalizeDn('cn=a,b=,dc=x'));
    assert.throws(() => normalizeDn('cn'), ProtocolError);
  });

  test('isDescendantOrSelf', () => {
    const base = 'DC=Example,dc=com';
    assert.equal(isDescendantOrSelf('cn=alice,ou=users,dc=example,dc=com', base), true);
    assert.equal(isDescendantOrSelf('dc=example, dc=com', base), true);
    assert.equal(isDescendantOrSelf('dc=com', base), false);
    assert.equal(isDescendantOrSelf('cn=x,dc=other,dc=com', base), false);
    // A plain string suffix check would accept these; RDN comparison does not.
    assert.equal(isDescendantOrSelf('cn=a\\,dc=example,dc=com', 'cn=a,dc=example,dc=com'), false);
    assert.equal(isDescendantOrSelf('cn=x,dc=badexample,dc=com', base), false);
    assert.equal(isDescendantOrSelf('anything', ''), false);
    assert.equal(isDescendantOrSelf('cn=x', ''), true);
    assert.equal(isDescendantOrSelf('not a dn', base), false);
    assert.equal(isDescendantOrSelf(parseDn('cn=x,dc=example,dc=com'), parseDn(base)), true);
  });

  test('isDirectChild', () => {
    assert.equal(isDirectChild('cn=a,ou=users,dc=x', 'ou=users,dc=x'), true);
    assert.equal(isDirectChild('cn=a,ou=users,dc=x', 'dc=x'), false);
    assert.equal(isDirectChild('ou=users,dc=x', 'ou=users,dc=x'), false);
    assert.equal(isDirectChild('cn=a\\,b,ou=users,dc=x', 'ou=users,dc=x'), true);
  });

  test('parentDn', () => {
    assert.equal(parentDn('cn=alice, ou=users,dc=x'), 'ou=users,dc=x');
    assert.equal(parentDn('cn=a\\,b,ou=x\\+y'), 'ou=x\\+y');
    assert.equal(parentDn('dc=x'), '');
    assert.equal(parentDn(''), null);
  });

  test('firstRdnValue, as authentik reads the bind username', () => {
    assert.equal(firstRdnValue('cn=alice,ou=users,dc=x', 'cn'), 'alice');
    assert.equal(firstRdnValue('uid=x,cn=alice,dc=x', 'cn'), 'alice');
    assert.equal(firstRdnValue('CN=Alice,OU=Users,DC=x', 'cn'), 'Alice');
    assert.equal(firstRdnValue('uid=alice,ou=users,dc=x', 'cn'), undefined);
    assert.equal(firstRdnValue('cn=alice@example.com,dc=x', 'CN'), 'alice@example.com');
    assert.equal(firstRdnValue('uid=bob+cn=robert,dc=x', 'cn'), 'robert');
    assert.equal(firstRdnValue('uid=bob,dc=x'), 'bob');
    assert.equal(firstRdnValue(''), undefined);
    assert.throws(() => firstRdnValue('cn=a\\', 'cn'), ProtocolError);
  });
});
