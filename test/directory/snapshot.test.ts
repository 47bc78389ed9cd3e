import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildSnapshotFromData } from '../../src/directory/build.js';
import type { DirectorySnapshot } from '../../src/directory/snapshot.js';
import { escapeFilterValue, parseFilter } from '../../src/protocol/ldap/filter.js';
import { encodeEntryOp } from '../../src/protocol/ldap/search-response.js';
import type { SearchResult, Viewer } from '../../src/directory/types.js';
import { compileFilter } from '../../src/directory/compile.js';
import { normalizeDnValue } from '../../src/directory/matching.js';
import { BASE, FULL, PROVIDER, group, link, query, smallDirectory, user } from './fixtures.js';

const U = `ou=users,${BASE}`;
const G = `ou=groups,${BASE}`;
const V = `ou=virtual-groups,${BASE}`;

function dns(result: SearchResult): string[] {
  return Array.from({ length: result.count }, (_, i) => result.entry(i).dn);
}

function attrs(result: SearchResult, index = 0): Record<string, readonly string[]> {
  return Object.fromEntries(result.entry(index).attributes.map((a) => [a.type, a.values]));
}

/** Every encoded entry equals the codec's encoding of the typed entry (pre-encoded or not). */
function assertEncodingConsistent(result: SearchResult): void {
  for (let i = 0; i < result.count; i++) {
    const entry = result.entry(i);
    assert.deepEqual(result.encoded(i), encodeEntryOp(entry.dn, entry.attributes), entry.dn);
  }
}

let snapshot: DirectorySnapshot;
const search = (base: string, filter: string, options: Parameters<typeof query>[2] = {}, viewer: Viewer = FULL): SearchResult =>
  snapshot.search(query(base, filter, options), viewer);

before(async () => {
  const { users, groups } = smallDirectory();
  snapshot = await buildSnapshotFromData(PROVIDER, users, groups);
});

describe('tree and scopes (reference 3.5 typical outcomes)', () => {
  test('base scope on the base: only the base entry', () => {
    const r = search(BASE, '(objectClass=*)', { scope: 0 });
    assert.deepEqual(dns(r), [BASE]);
    assert.deepEqual(attrs(r), { objectClass: ['top', 'domain', 'dcObject'], dc: ['ldap'] });
  });

  test('one level on the base: the 3 containers', () => {
    assert.deepEqual(dns(search(BASE, '(objectClass=*)', { scope: 1 })), [U, G, V]);
  });

  test('subtree on the base: base, containers, users, groups, virtual groups', () => {
    const r = search(BASE, '(objectClass=*)');
    assert.equal(r.count, 1 + 3 + 4 + 5 + 4);
    assert.equal(r.resultCode, 0);
    assertEncodingConsistent(r);
  });

  test('subtree on ou=users: the container and the users; subordinates: users only', () => {
    assert.deepEqual(dns(search(U, '(objectClass=*)')), [U, `cn=alice,${U}`, `cn=bob,${U}`, `cn=carol,${U}`, `cn=svc,${U}`]);
    assert.equal(search(U, '(objectClass=*)', { scope: 3 }).count, 4);
    assert.equal(search(BASE, '(objectClass=*)', { scope: 3 }).count, 16);
  });

  test('base scope on a user: that user only; one level below a leaf: nothing', () => {
    assert.deepEqual(dns(search(`cn=alice,${U}`, '(objectClass=*)', { scope: 0 })), [`cn=alice,${U}`]);
    assert.equal(search(`cn=alice,${U}`, '(objectClass=*)', { scope: 1 }).count, 0);
  });

  test('bases are matched as DNs: any case and spacing (reference 7.7.5)', () => {
    const r = search('ou=Users,DC=ldaP, dc=goauthentik,dc=io', '(objectClass=user)', { attributes: ['*', '+'] });
    assert.deepEqual(dns(r), [`cn=alice,${U}`, `cn=bob,${U}`, `cn=carol,${U}`, `cn=svc,${U}`]);
  });

  test('missing base: noSuchObject with the nearest existing ancestor; bad base: invalidDNSyntax', () => {
    const missing = search(`cn=nobody,${U}`, '(objectClass=*)');
    assert.deepEqual([missing.resultCode, missing.matchedDn, missing.count], [32, U, 0]);
    const outside = search('dc=example,dc=org', '(objectClass=*)');
    assert.deepEqual([outside.resultCode, outside.matchedDn], [32, '']);
    assert.equal(search('not a dn', '(objectClass=*)').resultCode, 34);
  });

  test('OR of object classes returns users and groups; NOT of a class no entry has excludes nothing', () => {
    const both = dns(search(BASE, '(|(objectClass=group)(objectClass=user))'));
    assert.ok(both.includes(`cn=alice,${U}`) && both.includes(`cn=admins,${G}`));
    assert.deepEqual(dns(search(BASE, '(&(objectClass=user)(!(objectClass=computer)))')), [`cn=alice,${U}`, `cn=bob,${U}`, `cn=carol,${U}`, `cn=svc,${U}`]);
  });
});

describe('entries as the reference e2e reads them (7.7.5)', () => {
  test('user with * and +', () => {
    const r = search(U, '(cn=alice)', { attributes: ['*', '+'] });
    const a = attrs(r);
    assert.deepEqual(a.cn, ['alice']);
    assert.deepEqual(a.sAMAccountName, ['alice']);
    assert.deepEqual([a.name, a.displayName, a.sn], [['Name alice'], ['Name alice'], ['Name alice']]);
    assert.deepEqual(a.objectClass, ['top', 'person', 'organizationalPerson', 'inetOrgPerson', 'user', 'posixAccount', 'goauthentik.io/ldap/user']);
    assert.deepEqual([a.uidNumber, a.gidNumber], [['2001'], ['2001']]);
    assert.deepEqual(a.memberOf, [`cn=admins,${G}`, `cn=staff,${G}`]);
    assert.deepEqual(a.homeDirectory, ['/home/alice']);
    assert.deepEqual([a['ak-active'], a['ak-superuser']], [['TRUE'], ['TRUE']]);
    assert.deepEqual([a.pwdChangedTime, a.createTimestamp, a.modifyTimestamp], [['20240304030607Z'], ['20240102030405Z'], ['20240203040506Z']]);
    assert.deepEqual(a.extraAttribute, ['bar']);
    assert.deepEqual(a.entryDN, [`cn=alice,${U}`]);
    assert.deepEqual(a.subschemaSubentry, ['cn=subschema']);
    assert.deepEqual(a.hasSubordinates, ['FALSE']);
    assert.match(a.entryUUID![0]!, /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  test('entryUUID: stable, distinct per entry, the pk for groups', () => {
    const uuids = dns(search(BASE, '(objectClass=*)')).map((dn) => attrs(search(dn, '(objectClass=*)', { scope: 0, attributes: ['entryUUID'] })).entryUUID![0]);
    assert.equal(new Set(uuids).size, uuids.length);
    assert.deepEqual(attrs(search(`cn=admins,${G}`, '(objectClass=*)', { scope: 0, attributes: ['entryuuid'] })).entryUUID, ['00000000-0000-4000-8000-000000000001']);
  });
});

describe('attribute selection', () => {
  const alice = `cn=alice,${U}`;
  const keys = (attributes: string[], typesOnly = false): string[] => {
    const r = search(alice, '(objectClass=*)', { scope: 0, attributes, typesOnly });
    assertEncodingConsistent(r);
    return r.entry(0).attributes.map((a) => a.type);
  };

  test('* and no list: user attributes only (operational ones need + or a name)', () => {
    for (const list of [[], ['*'], [''], ['*', 'cn']]) {
      const k = keys(list);
      assert.ok(k.includes('memberOf') && k.includes('extraAttribute'));
      assert.ok(!k.includes('createTimestamp') && !k.includes('entryDN'), JSON.stringify(list));
    }
  });

  test('+ alone: operational only', () => {
    assert.deepEqual(keys(['+']), ['pwdChangedTime', 'createTimestamp', 'modifyTimestamp', 'entryDN', 'entryUUID', 'hasSubordinates', 'subschemaSubentry']);
  });

  test('names, comma lists, case, 1.1, unknown names', () => {
    assert.deepEqual(keys(['cn']), ['cn']);
    assert.deepEqual(keys(['MAIL,cn', 'modifyTimestamp']), ['cn', 'mail', 'modifyTimestamp']);
    assert.deepEqual(keys(['1.1']), []);
    assert.deepEqual(keys(['nonexistent']), []);
    assert.deepEqual(keys(['*', 'entryDN']).at(-1), 'entryDN');
  });

  test('typesOnly sends names without values', () => {
    const r = search(alice, '(objectClass=*)', { scope: 0, attributes: ['cn', 'mail'], typesOnly: true });
    assert.deepEqual(r.entry(0).attributes, [
      { type: 'cn', values: [] },
      { type: 'mail', values: [] },
    ]);
    assertEncodingConsistent(r);
  });
});

describe('size limit', () => {
  test('stops and reports sizeLimitExceeded', () => {
    const r = search(U, '(objectClass=user)', { sizeLimit: 2 });
    assert.deepEqual([r.resultCode, r.count], [4, 2]);
  });
  test('a limit equal to the number of matches is success', () => {
    const r = search(U, '(objectClass=user)', { sizeLimit: 4 });
    assert.deepEqual([r.resultCode, r.count], [0, 4]);
  });
});

describe('membership', () => {
  const inChain = (attribute: string, dn: string): string => `(${attribute}:1.2.840.113556.1.4.1941:=${dn})`;

  test('in-chain memberOf over 3 levels', () => {
    assert.deepEqual(dns(search(BASE, inChain('memberOf', `cn=level3,${G}`))), [`cn=carol,${U}`, `cn=level1,${G}`, `cn=level2,${G}`]);
    assert.deepEqual(dns(search(BASE, inChain('memberOf', `CN=Level2, ${G}`))), [`cn=carol,${U}`, `cn=level1,${G}`]);
    // Plain memberOf stays direct.
    assert.deepEqual(dns(search(BASE, `(memberOf=cn=level3,${G})`)), [`cn=level2,${G}`]);
    assert.deepEqual(dns(search(U, `(!${inChain('memberOf', `cn=level3,${G}`)})`, { scope: 1 })), [`cn=alice,${U}`, `cn=bob,${U}`, `cn=svc,${U}`]);
  });

  test('in-chain member: every group containing a user or group transitively', () => {
    assert.deepEqual(dns(search(BASE, inChain('member', `cn=carol,${U}`))), [`cn=level1,${G}`, `cn=level2,${G}`, `cn=level3,${G}`, `cn=carol,${V}`]);
    assert.deepEqual(dns(search(G, inChain('member', `cn=level1,${G}`))), [`cn=level2,${G}`, `cn=level3,${G}`]);
    assert.deepEqual(dns(search(BASE, inChain('memberOf', `cn=bob,${V}`))), [`cn=bob,${U}`]);
    assert.deepEqual(dns(search(BASE, inChain('memberOf', `cn=nope,${G}`))), []);
    assert.deepEqual(dns(search(BASE, inChain('memberOf', `cn=alice,${U}`))), []);
  });

  test('in-chain with a cycle terminates and includes the cycle', async () => {
    const users = [user(1, 'u1'), user(2, 'u2')];
    const groups = [group('p1', 'g1', 1), group('p2', 'g2', 2), group('p3', 'g3', 3)];
    link(users, groups, { g1: ['u1'], g3: ['u2'] }, { g1: ['g2'], g2: ['g3'], g3: ['g1'] });
    const cyclic = await buildSnapshotFromData(PROVIDER, users, groups);
    const found = (filter: string): string[] => dns(cyclic.search(query(BASE, filter), FULL));
    assert.deepEqual(found(inChain('memberOf', `cn=g3,${G}`)), [`cn=u1,${U}`, `cn=u2,${U}`, `cn=g1,${G}`, `cn=g2,${G}`, `cn=g3,${G}`]);
    assert.deepEqual(found(inChain('member', `cn=u1,${U}`)), [`cn=g1,${G}`, `cn=g2,${G}`, `cn=g3,${G}`, `cn=u1,${V}`]);
  });

  test('memberOf a group that does not exist: no entries, no scan', () => {
    const filter = parseFilter(`(memberOf=cn=nonexistent,${G})`);
    assert.equal(snapshot.search(query(BASE, `(memberOf=cn=nonexistent,${G})`), FULL).count, 0);
    const compiled = compileFilter(filter, snapshot);
    assert.equal(compiled.plan?.size, 0);
    const nested = compileFilter(parseFilter(`(&(objectClass=user)(memberOf=cn=nonexistent,${G}))`), snapshot);
    assert.equal(nested.plan?.size, 0);
  });

  test('virtual groups are found through their user postings', () => {
    assert.deepEqual(dns(search(BASE, '(cn=bob)')), [`cn=bob,${U}`, `cn=bob,${V}`]);
    assert.deepEqual(dns(search(BASE, '(gidNumber=2002)')), [`cn=bob,${U}`, `cn=bob,${V}`]);
    assert.deepEqual(dns(search(BASE, `(member=cn=bob,${U})`)), [`cn=staff,${G}`, `cn=bob,${V}`]);
  });
});

describe('(member=<DN>) from the index is the exact answer', () => {
  test('the same entries as comparing every member value, for each user and group DN in other spellings', async () => {
    const users = [user(1, 'Mixed.Case'), user(2, 'a,b'), user(3, 'x+y'), user(4, 'plain'), user(5, 'nobody')];
    const groups = [group('p1', 'Team A', 1), group('p2', 'team#2', 2), group('p3', 'outer', 3)];
    link(users, groups, { 'Team A': ['Mixed.Case', 'a,b', 'plain'], 'team#2': ['x+y', 'a,b'], outer: ['plain'] }, { 'Team A': ['outer'] });
    const snap = await buildSnapshotFromData(PROVIDER, users, groups);
    const all = snap.search(query(BASE, '(objectClass=*)'), FULL);
    const entries = Array.from({ length: all.count }, (_, i) => all.entry(i));
    const targets = entries.filter((e) => e.dn.endsWith(`,${U}`) || e.dn.endsWith(`,${G}`)).map((e) => e.dn);
    assert.equal(targets.length, 8);
    for (const dn of targets) {
      const spellings = [dn, dn.toUpperCase(), dn.replace(/,/g, ', ').replace(/\\, /g, '\\,')];
      const key = normalizeDnValue(dn);
      const expected = entries.filter((e) => (e.attributes.find((a) => a.type === 'member')?.values ?? []).some((v) => normalizeDnValue(v) === key)).map((e) => e.dn);
      for (const spelling of spellings) {
        const filter = `(member=${escapeFilterValue(spelling)})`;
        assert.deepEqual(dns(snap.search(query(BASE, filter), FULL)), expected, filter);
        assert.ok(compileFilter(parseFilter(filter), snap).plan !== null, `${filter} is answered from the index`);
      }
    }
  });

  test('names differing only in case: one DN key, and the index lists the entries of both', async () => {
    const users = [user(1, 'Dup'), user(2, 'dup'), user(3, 'other')];
    const groups = [group('p1', 'Ops', 1), group('p2', 'ops', 2), group('p3', 'third', 3)];
    link(users, groups, { Ops: ['Dup', 'other'], ops: ['dup'], third: ['other'] });
    const snap = await buildSnapshotFromData(PROVIDER, users, groups);
    for (const spelling of [`cn=dup,${U}`, `CN=DUP,${U}`]) {
      assert.deepEqual(dns(snap.search(query(G, `(member=${spelling})`), FULL)), [`cn=Ops,${G}`, `cn=ops,${G}`]);
    }
    assert.deepEqual(dns(snap.search(query(U, `(memberOf=cn=OPS,${G})`), FULL)), [`cn=Dup,${U}`, `cn=dup,${U}`, `cn=other,${U}`]);
  });
});

describe('users without search permission (reference 3.7)', () => {
  const bob: Viewer = { userPk: 2, canSearch: false };
  const carol: Viewer = { userPk: 3, canSearch: false };

  test('see only themselves below ou=users (e2e 7.7.6)', () => {
    assert.deepEqual(dns(search(U, '(objectClass=user)', {}, bob)), [`cn=bob,${U}`]);
  });

  test('see their own groups listing only them, and their virtual group', () => {
    const r = search(BASE, '(objectClass=*)', {}, bob);
    assert.deepEqual(dns(r), [BASE, U, G, V, `cn=bob,${U}`, `cn=staff,${G}`, `cn=bob,${V}`]);
    const staff = attrs(r, 5);
    assert.deepEqual(staff.member, [`cn=bob,${U}`]);
    assert.equal(staff.memberOf, undefined);
    assert.deepEqual(attrs(r, 4).memberOf, [`cn=staff,${G}`]);
    assertEncodingConsistent(r);
  });

  test('filters see the restricted view', () => {
    assert.deepEqual(dns(search(BASE, `(member=cn=alice,${U})`, {}, bob)), []);
    assert.deepEqual(dns(search(BASE, `(member=cn=bob,${U})`, {}, bob)), [`cn=staff,${G}`, `cn=bob,${V}`]);
    // The hierarchy above carol's group stays hidden, in-chain included.
    assert.deepEqual(dns(search(BASE, `(memberOf:1.2.840.113556.1.4.1941:=cn=level3,${G})`, {}, carol)), []);
    assert.deepEqual(dns(search(BASE, `(memberOf:1.2.840.113556.1.4.1941:=cn=level1,${G})`, {}, carol)), [`cn=carol,${U}`]);
    assert.deepEqual(dns(search(BASE, `(member:1.2.840.113556.1.4.1941:=cn=carol,${U})`, {}, carol)), [`cn=level1,${G}`, `cn=carol,${V}`]);
  });

  test('other entries do not exist for them', () => {
    const r = search(`cn=alice,${U}`, '(objectClass=*)', { scope: 0 }, bob);
    assert.deepEqual([r.resultCode, r.matchedDn], [32, U]);
    assert.deepEqual(dns(search(BASE, '(objectClass=*)', {}, { userPk: 99, canSearch: false })), [BASE, U, G, V]);
  });

  test('their entry follows refreshes (reference 7.6)', async () => {
    const make = async (groupName: string): Promise<DirectorySnapshot> => {
      const users = [user(1, 'alice')];
      const groups = [group('x', 'x', 10), group('y', 'y', 11)];
      link(users, groups, { [groupName]: ['alice'] });
      return buildSnapshotFromData({ ...PROVIDER, uidStartNumber: 2000, gidStartNumber: 4000 }, users, groups);
    };
    const viewer = { userPk: 1, canSearch: false };
    for (const groupName of ['x', 'y']) {
      const r = (await make(groupName)).search(query(`cn=alice,${U}`, '(objectClass=person)', { scope: 0 }), viewer);
      assert.deepEqual(dns(r), [`cn=alice,${U}`]);
      assert.deepEqual(attrs(r).memberOf, [`cn=${groupName},${G}`]);
    }
  });
});

describe('escaped names', () => {
  test('a username like a,b+c "d" gives a valid, searchable DN', async () => {
    const users = [user(7, 'a,b+c "d"'), user(8, '#x ')];
    const groups = [group('g', 'team, "core"', 1)];
    link(users, groups, { 'team, "core"': ['a,b+c "d"', '#x '] });
    const s = await buildSnapshotFromData(PROVIDER, users, groups);
    const userDn = `cn=a\\,b\\+c \\"d\\",${U}`;
    const groupDn = `cn=team\\, \\"core\\",${G}`;
    const found = (base: string, filter: string, scope: 0 | 2 = 2): string[] => dns(s.search(query(base, filter, { scope }), FULL));
    assert.deepEqual(found(U, '(cn=a,b+c "d")'), [userDn]);
    assert.deepEqual(found(userDn, '(objectClass=*)', 0), [userDn]);
    assert.deepEqual(found('cn=A\\2Cb\\2Bc \\22D\\22,OU=users,' + BASE, '(objectClass=*)', 0), [userDn]);
    // In a filter string the DN's backslashes are escaped again (RFC 4515).
    assert.deepEqual(found(U, `(memberOf=${escapeFilterValue(groupDn)})`), [userDn, `cn=\\#x\\ ,${U}`]);
    assert.deepEqual(found(G, `(member=${escapeFilterValue(userDn)})`), [groupDn]);
    assert.deepEqual(found(BASE, `(member:1.2.840.113556.1.4.1941:=${escapeFilterValue(userDn)})`), [groupDn, `cn=a\\,b\\+c \\"d\\",${V}`]);
  });
});

describe('pre-encoding budget', () => {
  test('entries past the budget encode to the same bytes', async () => {
    const { users, groups } = smallDirectory();
    const partial = await buildSnapshotFromData(PROVIDER, users, groups, { preEncodeBytes: 1500 });
    const none = await buildSnapshotFromData(PROVIDER, users, groups, { preEncode: false });
    assert.ok(partial.preEncodedCount > 0 && partial.preEncodedCount < partial.size);
    assert.equal(none.preEncodedCount, 0);
    assert.equal(snapshot.preEncodedCount, snapshot.size);
    const q = query(BASE, '(objectClass=*)');
    const all = [snapshot, partial, none].map((s) => [...s.search(q, FULL)]);
    assert.deepEqual(all[1], all[0]);
    assert.deepEqual(all[2], all[0]);
    assertEncodingConsistent(partial.search(q, FULL));
  });
});

describe('compare', () => {
  test('true, false, missing attribute, unknown attribute, missing entry, restricted view', () => {
    const alice = `cn=alice,${U}`;
    assert.equal(snapshot.compare(alice, 'CN', 'ALICE', FULL).resultCode, 6);
    assert.equal(snapshot.compare(alice, 'uidNumber', '02001', FULL).resultCode, 6);
    assert.equal(snapshot.compare(alice, 'memberOf', `CN=admins,${G}`, FULL).resultCode, 6);
    assert.equal(snapshot.compare(alice, 'cn', 'bob', FULL).resultCode, 5);
    assert.equal(snapshot.compare(alice, 'telephoneNumber', '1', FULL).resultCode, 16);
    assert.equal(snapshot.compare(alice, 'noSuchType', '1', FULL).resultCode, 17);
    assert.deepEqual(snapshot.compare(`cn=zed,${U}`, 'cn', 'zed', FULL), { resultCode: 32, matchedDn: U });
    assert.equal(snapshot.compare(alice, 'cn', 'alice', { userPk: 2, canSearch: false }).resultCode, 32);
    assert.equal(snapshot.compare(`cn=staff,${G}`, 'member', alice, { userPk: 2, canSearch: false }).resultCode, 5);
  });
});
