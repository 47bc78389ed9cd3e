import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { attributeKey, parseAttributeSelection, splitAttributeList } from '../../src/directory/attributes.js';

describe('attribute lists', () => {
  // authentik's normalizeAttributes table (reference 7.3), which here actually takes effect.
  const table: [string[], string[]][] = [
    [[], []],
    [['uid', 'cn', 'sn'], ['uid', 'cn', 'sn']],
    [['uid,cn,sn'], ['uid', 'cn', 'sn']],
    [['uid,cn', 'sn'], ['uid', 'cn', 'sn']],
    [['uid, cn, sn'], ['uid', 'cn', 'sn']],
    [['uid,, cn'], ['uid', 'cn']],
    [['uid'], ['uid']],
    [[',,,'], []],
    [['uid,cn', 'sn,mail', 'givenName'], ['uid', 'cn', 'sn', 'mail', 'givenName']],
    [['uid,CN,sAMAccountName'], ['uid', 'CN', 'sAMAccountName']],
    [[' uid , cn , sn '], ['uid', 'cn', 'sn']],
    [['objectClass,memberOf,mail', 'sAMAccountName,userPrincipalName'], ['objectClass', 'memberOf', 'mail', 'sAMAccountName', 'userPrincipalName']],
    [['uid,+', 'createTimestamp'], ['uid', '+', 'createTimestamp']],
  ];
  for (const [input, expected] of table) {
    test(`split ${JSON.stringify(input)}`, () => assert.deepEqual(splitAttributeList(input), expected));
  }

  test('empty list and "" mean all user attributes', () => {
    for (const list of [[], [''], [' ']]) {
      const s = parseAttributeSelection(list);
      assert.equal(s.allUser, true);
      assert.equal(s.allOperational, false);
    }
  });

  test('* + 1.1 and names', () => {
    assert.deepEqual({ ...parseAttributeSelection(['+']), names: [] }, { allUser: false, allOperational: true, none: false, names: [] });
    assert.equal(parseAttributeSelection(['1.1']).none, true);
    assert.equal(parseAttributeSelection(['1.1', 'cn']).none, false);
    const s = parseAttributeSelection(['*,+', 'CN', 'commonName', '2.5.4.4', 'mail;binary']);
    assert.equal(s.allUser && s.allOperational, true);
    assert.deepEqual([...s.names], ['cn', 'sn', 'mail']);
  });

  test('attributeKey resolves aliases, OIDs and case; unknown names keep their lower case', () => {
    assert.equal(attributeKey('commonName'), 'cn');
    assert.equal(attributeKey('0.9.2342.19200300.100.1.3'), 'mail');
    assert.equal(attributeKey('MEMBEROF'), 'memberof');
    assert.equal(attributeKey('goauthentik.io/ldap/active'), 'ak-active');
    assert.equal(attributeKey('extraAttribute'), 'extraattribute');
  });
});
