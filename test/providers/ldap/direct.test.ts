import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { GroupQuery, UserQuery } from '../../../src/core-api/model.js';
import { CoreError } from '../../../src/errors.js';
import { parseFilter } from '../../../src/protocol/ldap/filter.js';
import { DirectoryLayout } from '../../../src/directory/entries.js';
import { filterToCoreQuery, kindsForBase, kindsForFilter, searchDirect } from '../../../src/providers/ldap/search/direct.js';
import type { SearchResult } from '../../../src/directory/types.js';
import { BASE, exactCore, FULL, PROVIDER, query, smallDirectory } from '../../directory/fixtures.js';

const layout = new DirectoryLayout(BASE);
const G = `ou=groups,${BASE}`;
const U = `ou=users,${BASE}`;

describe('filterToCoreQuery (reference 3.6, bugs fixed)', () => {
  const users = (f: string): UserQuery | null => filterToCoreQuery(parseFilter(f), 'user', layout);
  const groups = (f: string): GroupQuery | null => filterToCoreQuery(parseFilter(f), 'group', layout);

  test('users: equality items at the top or in a top-level AND, names case-insensitive', () => {
    assert.deepEqual(users('(cn=alice)'), { username: 'alice' });
    assert.deepEqual(users('(CN=alice)'), { username: 'alice' });
    assert.deepEqual(users('(sAMAccountName=alice)'), { username: 'alice' });
    assert.deepEqual(users('(&(objectClass=user)(displayName=Alice L)(MAIL=a@x))'), { name: 'Alice L', email: 'a@x' });
    assert.deepEqual(users('(name=Alice L)'), { name: 'Alice L' });
    assert.deepEqual(users('(&(&(cn=a))(|(cn=b)(cn=c)))'), { username: 'a' });
    assert.deepEqual(users('(|(cn=a)(cn=b))'), {});
    assert.deepEqual(users('(!(cn=a))'), {});
    assert.deepEqual(users('(cn=a*)'), {});
  });

  test('users: memberOf a group, a virtual group, or something else', () => {
    assert.deepEqual(users(`(memberOf=cn=admins,${G})`), { groupsByName: ['admins'] });
    assert.deepEqual(users(`(MemberOf=CN=Admins,OU=Groups,${BASE.toUpperCase()})`), { groupsByName: ['Admins'] });
    assert.deepEqual(users(`(memberOf=cn=bob,ou=virtual-groups,${BASE})`), { username: 'bob' });
    assert.equal(users(`(memberOf=cn=bob,${U})`), null);
    assert.equal(users('(memberOf=cn=x,ou=groups,dc=elsewhere)'), null);
    assert.equal(users('(memberOf=not a dn)'), null);
    assert.equal(users(`(member=cn=admins,${G})`), null);
    assert.equal(users('(&(cn=a)(cn=b))'), null);
  });

  test('groups: cn, member user DN; memberOf is not dead code', () => {
    assert.deepEqual(groups('(cn=admins)'), { name: 'admins' });
    assert.deepEqual(groups(`(member=cn=alice,${U})`), { membersByUsername: ['alice'] });
    assert.deepEqual(groups(`(member=cn=child,${G})`), {});
    assert.equal(groups(`(member=cn=alice,ou=virtual-groups,${BASE})`), null);
    assert.deepEqual(groups(`(memberOf=cn=parent,${G})`), {});
    assert.equal(groups(`(memberOf=cn=alice,${U})`), null);
  });
});

describe('kinds from the whole filter', () => {
  const kinds = (f: string): string =>
    Object.entries(kindsForFilter(parseFilter(f)))
      .filter(([, v]) => v)
      .map(([k]) => k)
      .join(',');

  test('object classes', () => {
    assert.equal(kinds('(objectClass=*)'), 'users,groups,virtualGroups');
    assert.equal(kinds('(objectClass=user)'), 'users');
    assert.equal(kinds('(|(objectClass=group)(objectClass=user))'), 'users,groups,virtualGroups');
    assert.equal(kinds('(&(objectClass=user)(!(objectClass=computer)))'), 'users');
    assert.equal(kinds('(|(objectClass=inetOrgPerson)(objectClass=person)(objectClass=simpleSecurityObject))'), 'users');
    assert.equal(kinds('(objectClass=posixGroup)'), 'groups,virtualGroups');
    assert.equal(kinds('(objectClass=goauthentik.io/ldap/virtual-group)'), 'virtualGroups');
    assert.equal(kinds('(!(objectClass=goauthentik.io/ldap/virtual-group))'), 'users,groups');
    assert.equal(kinds('(&(objectClass=user)(objectClass=group))'), '');
    assert.equal(kinds('(cn=alice)'), 'users,groups,virtualGroups');
  });

  test('bases', () => {
    assert.deepEqual(kindsForBase(`cn=alice,${U}`, layout), { users: true, groups: false, virtualGroups: false });
    assert.deepEqual(kindsForBase(BASE.toUpperCase(), layout), { users: true, groups: true, virtualGroups: true });
    assert.deepEqual(kindsForBase('dc=other', layout), { users: false, groups: false, virtualGroups: false });
  });
});


describe('searchDirect', () => {
  const dns = (r: SearchResult): string[] => Array.from({ length: r.count }, (_, i) => r.entry(i).dn);
  const run = async (filter: string, options: Parameters<typeof query>[2] = {}, viewer = FULL, base = BASE) => {
    const { users, groups } = smallDirectory();
    const { core, calls } = exactCore(users, groups);
    const result = await searchDirect({ core, provider: PROVIDER, pageSize: 50 }, query(base, filter, options), viewer);
    return { result, calls };
  };

  test('narrows the user query and re-filters in memory', async () => {
    const { result, calls } = await run('(&(objectClass=user)(cn=alice))');
    assert.deepEqual(dns(result), [`cn=alice,${U}`]);
    assert.deepEqual(calls, ['users {"username":"alice","pageSize":50}']);
  });

  test('OR of object classes fetches both kinds', async () => {
    const { result, calls } = await run('(|(objectClass=group)(objectClass=user))');
    assert.equal(result.count, 4 + 5 + 4);
    assert.equal(calls.length, 2);
  });

  test('a memberOf naming a group that does not exist: no entries, not an error', async () => {
    const { result, calls } = await run(`(memberOf=cn=nonexistent,${G})`);
    assert.deepEqual([result.resultCode, result.count], [0, 0]);
    assert.ok(calls.some((c) => c.includes('"groupsByName":["nonexistent"]')));
  });

  test('a memberOf naming a user skips the user request', async () => {
    const { result, calls } = await run(`(&(objectClass=user)(memberOf=cn=bob,${U}))`);
    assert.equal(result.count, 0);
    assert.deepEqual(calls, []);
  });

  test('a base naming one user narrows by username', async () => {
    const { result, calls } = await run('(objectClass=*)', { scope: 0 }, FULL, `cn=bob,${U}`);
    assert.deepEqual(dns(result), [`cn=bob,${U}`]);
    assert.deepEqual(calls, ['users {"username":"bob","pageSize":50}']);
  });

  test('in-chain fetches the whole group hierarchy', async () => {
    const { result } = await run(`(memberOf:1.2.840.113556.1.4.1941:=cn=level3,${G})`, {}, FULL, U);
    assert.deepEqual(dns(result), [`cn=carol,${U}`]);
  });

  test('without search permission: the user and its own groups only', async () => {
    const { result, calls } = await run('(objectClass=*)', {}, { userPk: 2, canSearch: false });
    assert.deepEqual(dns(result), [BASE, U, G, `ou=virtual-groups,${BASE}`, `cn=bob,${U}`, `cn=staff,${G}`, `cn=bob,ou=virtual-groups,${BASE}`]);
    assert.deepEqual(calls.sort(), ['groups {"membersByPk":[2],"pageSize":50}', 'user 2']);
    const staff = result.entry(5).attributes.find((a) => a.type === 'member');
    assert.deepEqual(staff?.values, [`cn=bob,${U}`]);
  });

  test('core failures reject (the handler answers operationsError)', async () => {
    const { users, groups } = smallDirectory();
    const { core } = exactCore(users, groups);
    const failing = { ...core, forEachUserPage: async () => Promise.reject(new CoreError('timeout', 'timed out')) };
    await assert.rejects(searchDirect({ core: failing, provider: PROVIDER }, query(BASE, '(objectClass=user)'), FULL), CoreError);
  });
});
