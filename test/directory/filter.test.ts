import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildSnapshotFromData } from '../../src/directory/build.js';
import type { DirectorySnapshot } from '../../src/directory/snapshot.js';
import { parseFilter, type Filter } from '../../src/protocol/ldap/filter.js';
import { compileFilter, FALSE, TRUE, UNDEFINED } from '../../src/directory/compile.js';
import { canonicalInteger, parseGeneralizedTime, prepCaseIgnore } from '../../src/directory/matching.js';
import { BASE, FULL, PROVIDER, group, link, query, user } from './fixtures.js';

/** Short names of matching entries: users/alice, groups/admins, virtual-groups/alice, or the container. */
function short(dn: string): string {
  const rdns = dn.split(',');
  if (rdns.length === 4) return rdns[0]!;
  if (rdns.length === 3) return 'base';
  return `${rdns[1]!.slice(3)}/${rdns[0]!.slice(3)}`;
}

let snapshot: DirectorySnapshot;

function names(filter: string, base = BASE, scope: 0 | 1 | 2 | 3 = 2): string[] {
  const result = snapshot.search(query(base, filter, { scope }), FULL);
  assert.equal(result.resultCode, 0, `${filter}: result ${result.resultCode}`);
  return Array.from({ length: result.count }, (_, i) => short(result.entry(i).dn));
}

function users(filter: string): string[] {
  return names(filter, `ou=users,${BASE}`, 1);
}

before(async () => {
  const list = [
    user(1, 'alice', { name: 'Alice  Liddell', attributes: { department: 'R&D', shoeSize: '42', tags: ['a', 'b'] } }),
    user(2, 'bob', { name: 'Bob Builder', email: 'BOB@Example.com' }),
    user(3, 'carol', { email: '', dateJoined: '2020-06-01T00:00:00Z' }),
    user(10, 'dave', { attributes: { uidNumber: '900' } }),
  ];
  const groups = [group('g-1', 'admins', 1), group('g-2', 'staff', 2)];
  link(list, groups, { admins: ['alice'], staff: ['alice', 'bob'] });
  snapshot = await buildSnapshotFromData(PROVIDER, list, groups);
});

describe('filter algebra', () => {
  test('equality is case-insensitive on names and values', () => {
    assert.deepEqual(users('(CN=ALICE)'), ['users/alice']);
    assert.deepEqual(users('(mail=bob@example.COM)'), ['users/bob']);
    assert.deepEqual(users('(commonName=alice)'), ['users/alice']);
    assert.deepEqual(users('(2.5.4.3=alice)'), ['users/alice']);
  });

  test('caseIgnoreMatch ignores insignificant spaces', () => {
    assert.deepEqual(users('(displayName=alice liddell)'), ['users/alice']);
    assert.deepEqual(users('(displayName= Alice   Liddell )'), ['users/alice']);
  });

  test('and, or, not; empty and / or are absolute true / false (RFC 4526)', () => {
    assert.deepEqual(users('(&(cn=alice)(mail=alice@example.com))'), ['users/alice']);
    assert.deepEqual(users('(|(cn=alice)(cn=bob))'), ['users/alice', 'users/bob']);
    assert.deepEqual(users('(!(cn=alice))'), ['users/bob', 'users/carol', 'users/dave']);
    assert.deepEqual(users('(&)').length, 4);
    assert.deepEqual(users('(|)'), []);
    assert.deepEqual(users('(!(|))').length, 4);
  });

  test('undefined attribute: Undefined, and NOT Undefined stays Undefined', () => {
    assert.deepEqual(users('(noSuchAttribute=x)'), []);
    assert.deepEqual(users('(!(noSuchAttribute=x))'), []);
    assert.deepEqual(users('(|(noSuchAttribute=x)(cn=bob))'), ['users/bob']);
    assert.deepEqual(users('(!(&(noSuchAttribute=x)(cn=bob)))'), ['users/alice', 'users/carol', 'users/dave']);
    // Known attribute without a value: FALSE, so NOT gives TRUE.
    assert.deepEqual(users('(!(telephoneNumber=1))').length, 4);
    // Presence is never Undefined.
    assert.deepEqual(users('(!(noSuchAttribute=*))').length, 4);
  });

  test('presence', () => {
    assert.deepEqual(users('(mail=*)'), ['users/alice', 'users/bob', 'users/dave']);
    assert.deepEqual(users('(memberOf=*)'), ['users/alice', 'users/bob']);
    assert.deepEqual(users('(shoeSize=*)'), ['users/alice']);
  });

  test('substrings with several parts', () => {
    assert.deepEqual(users('(displayName=a*i*l*ll)'), ['users/alice']);
    assert.deepEqual(users('(displayName=*LID*)'), ['users/alice']);
    assert.deepEqual(users('(mail=*@example.com)'), ['users/alice', 'users/bob', 'users/dave']);
    assert.deepEqual(users('(cn=b*b)'), ['users/bob']);
    assert.deepEqual(users('(cn=a*a)'), []); // parts may not overlap
    assert.deepEqual(users('(cn=bo*ob)'), []);
    assert.deepEqual(users(`(memberOf=cn=st*)`), ['users/alice', 'users/bob']);
  });

  test('>= and <= are numeric for integers', () => {
    // alice 2001, bob 2002, carol 2003, dave 900 (custom): a string order would put "900" last.
    assert.deepEqual(users('(uidNumber>=2002)'), ['users/bob', 'users/carol']);
    assert.deepEqual(users('(uidNumber<=2001)'), ['users/alice', 'users/dave']);
    assert.deepEqual(users('(uidNumber>=+02002)'), ['users/bob', 'users/carol']);
    assert.deepEqual(users('(uidNumber>=abc)'), []);
    assert.deepEqual(users('(!(uidNumber>=abc))'), []);
  });

  test('>= and <= on generalized time compare instants', () => {
    assert.deepEqual(users('(createTimestamp<=20210101000000Z)'), ['users/carol']);
    assert.deepEqual(users('(createTimestamp<=20210101010000+0100)'), ['users/carol']);
    assert.deepEqual(users('(createTimestamp>=2024010203Z)'), ['users/alice', 'users/bob', 'users/dave']);
    assert.deepEqual(users('(createTimestamp>=yesterday)'), []);
  });

  test('>= and <= on strings: case-insensitive order', () => {
    assert.deepEqual(users('(cn>=C)'), ['users/carol', 'users/dave']);
    assert.deepEqual(users('(cn<=BOB)'), ['users/alice', 'users/bob']);
  });

  test('approximate match ignores case and spaces', () => {
    assert.deepEqual(users('(displayName~=bobbuilder)'), ['users/bob']);
  });

  test('DN-valued attributes compare as normalized DNs', () => {
    assert.deepEqual(users(`(memberOf=CN=Admins, OU=Groups, DC=ldap,dc=goauthentik,dc=io)`), ['users/alice']);
    assert.deepEqual(names(`(member=cn=ALICE,ou=users,${BASE})`), ['groups/admins', 'groups/staff', 'virtual-groups/alice']);
    assert.deepEqual(names(`(entryDN=CN=bob,OU=users,${BASE})`), ['users/bob']);
    assert.deepEqual(users('(memberOf=not a dn)'), []);
    assert.deepEqual(users('(!(memberOf=not a dn))'), []);
  });

  test('extensible match rules', () => {
    assert.deepEqual(users('(cn:caseExactMatch:=alice)'), ['users/alice']);
    assert.deepEqual(users('(cn:2.5.13.5:=Alice)'), []);
    assert.deepEqual(users('(cn:caseIgnoreMatch:=ALICE)'), ['users/alice']);
    assert.deepEqual(users('(cn:=ALICE)'), ['users/alice']);
    assert.deepEqual(users(`(memberOf:distinguishedNameMatch:=CN=admins,ou=groups,${BASE})`), ['users/alice']);
    assert.deepEqual(users('(uidNumber:integerMatch:=02001)'), ['users/alice']);
    assert.deepEqual(users('(:caseExactMatch:=bob)'), ['users/bob']); // any attribute
    assert.deepEqual(users('(cn:1.2.3.4.5:=alice)'), []); // unknown rule: Undefined
    assert.deepEqual(users('(!(cn:1.2.3.4.5:=alice))'), []);
    // AD bitwise rules on integers: alice 2001 (0x7d1), bob 2002 (0x7d2), carol 2003 (0x7d3), dave 900 (0x384).
    assert.deepEqual(users('(uidNumber:1.2.840.113556.1.4.803:=2)'), ['users/bob', 'users/carol']);
    assert.deepEqual(users('(uidNumber:1.2.840.113556.1.4.803:=3)'), ['users/carol']);
    assert.deepEqual(users('(uidNumber:1.2.840.113556.1.4.804:=5)'), ['users/alice', 'users/carol', 'users/dave']);
  });

  test(':dn: also matches the RDN values of the entry DN', () => {
    assert.deepEqual(names('(ou:dn:=virtual-groups)', BASE, 1), ['ou=virtual-groups']);
    assert.deepEqual(names('(ou:dn:=users)', `ou=users,${BASE}`).length, 5);
    assert.deepEqual(names('(ou:=users)', `ou=users,${BASE}`), ['ou=users']);
    assert.deepEqual(names('(dc:dn:caseExactMatch:=ldap)', BASE, 1).length, 3);
  });

  test('objectClass: the whole filter decides (authentik #11880, #6834)', () => {
    assert.deepEqual(names('(|(objectClass=group)(objectClass=user))').filter((n) => !n.startsWith('virtual')), [
      'users/alice',
      'users/bob',
      'users/carol',
      'users/dave',
      'groups/admins',
      'groups/staff',
    ]);
    assert.deepEqual(names('(&(objectClass=user)(!(objectClass=computer)))'), ['users/alice', 'users/bob', 'users/carol', 'users/dave']);
    assert.deepEqual(names('(|(objectClass=inetOrgPerson)(objectClass=person)(objectClass=simpleSecurityObject))').length, 4);
    assert.deepEqual(names('(objectClass=posixGroup)').length, 6);
    assert.deepEqual(names('(objectClass=goauthentik.io/ldap/virtual-group)').length, 4);
  });
});

describe('compileFilter on its own', () => {
  const ctx = {
    attribute: (d: string) => (d.toLowerCase() === 'cn' ? { id: 0, key: 'cn', match: 'string' as const } : undefined),
    values: () => ['x'],
    attributesOf: () => [],
    entryDn: () => 'cn=x',
    equalityIndex: () => undefined,
    inChain: () => undefined,
  };
  const evaluate = (f: Filter): number => compileFilter(f, ctx).test(0);

  test('three-valued results', () => {
    assert.equal(evaluate(parseFilter('(cn=x)')), TRUE);
    assert.equal(evaluate(parseFilter('(cn=y)')), FALSE);
    assert.equal(evaluate(parseFilter('(zz=y)')), UNDEFINED);
    assert.equal(evaluate(parseFilter('(!(zz=y))')), UNDEFINED);
    assert.equal(evaluate(parseFilter('(&(cn=x)(zz=y))')), UNDEFINED);
    assert.equal(evaluate(parseFilter('(&(cn=y)(zz=y))')), FALSE);
    assert.equal(evaluate(parseFilter('(|(cn=x)(zz=y))')), TRUE);
    assert.equal(evaluate(parseFilter('(|(cn=y)(zz=y))')), UNDEFINED);
  });
});

describe('matching helpers', () => {
  test('canonicalInteger', () => {
    assert.equal(canonicalInteger('+007'), '7');
    assert.equal(canonicalInteger('-0'), '0');
    assert.equal(canonicalInteger('-012'), '-12');
    assert.equal(canonicalInteger('12a'), null);
  });
  test('parseGeneralizedTime', () => {
    assert.equal(parseGeneralizedTime('20240102030405Z'), Date.UTC(2024, 0, 2, 3, 4, 5));
    assert.equal(parseGeneralizedTime('20240102030405.5Z'), Date.UTC(2024, 0, 2, 3, 4, 5, 500));
    assert.equal(parseGeneralizedTime('2024010203-0130'), Date.UTC(2024, 0, 2, 4, 30));
    assert.equal(parseGeneralizedTime('20241302030405Z'), null);
  });
  test('prepCaseIgnore', () => {
    assert.equal(prepCaseIgnore('  A   b '), 'a b');
    assert.equal(prepCaseIgnore('abc'), 'abc');
  });
});
