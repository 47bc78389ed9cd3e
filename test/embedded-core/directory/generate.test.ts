import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  GENERATED_ADMIN,
  GENERATED_LDAP_OUTPOST_TOKEN,
  generateDirectory,
  generatedGroupName,
  generatedGroupParent,
  generatedPassword,
  generatedUsername,
} from '../../../src/embedded-core/directory/generate.js';
import { buildDirectory } from '../../../src/embedded-core/directory/loader.js';
import { verifyPassword } from '../../../src/embedded-core/directory/passwords.js';

const noCert = (): Promise<never> => Promise.reject(new Error('no certificates expected'));

describe('generated directories', () => {
  test('are deterministic for a seed and valid for the loader', async () => {
    const a = await generateDirectory({ users: 50, groups: 30, groupsPerUser: 4, seed: 7, iterations: 1 });
    const b = await generateDirectory({ users: 50, groups: 30, groupsPerUser: 4, seed: 7, iterations: 1 });
    const c = await generateDirectory({ users: 50, groups: 30, groupsPerUser: 4, seed: 8, iterations: 1 });
    assert.deepEqual(a, b);
    assert.notDeepEqual(a.users, c.users);
    const dir = await buildDirectory(a, { baseDir: '.', resolveCertificate: noCert });
    assert.equal(dir.users.size, 51 + 2, 'and the two outposts\' service accounts');
    assert.equal(dir.groups.size, 30);
    const user = dir.userByUsername(generatedUsername(17));
    assert.ok(user);
    assert.equal(user.pk, 17);
    assert.equal(user.groups.length, 4);
    assert.equal(await verifyPassword(generatedPassword(17), user.passwordHash), true);
    assert.equal(await verifyPassword(generatedPassword(18), user.passwordHash), false);
    const admin = dir.userByUsername(GENERATED_ADMIN.username);
    assert.ok(admin?.searchFullDirectory);
    assert.equal(await verifyPassword(GENERATED_ADMIN.password, admin.passwordHash), true);
    const ldap = [...dir.providers.values()].find((p) => p.type === 'ldap');
    assert.ok(ldap?.type === 'ldap' && ldap.searchMode === 'cached' && ldap.bindMode === 'cached');
    assert.deepEqual([...dir.outposts.values()].map((o) => o.type).sort(), ['ldap', 'radius']);
    assert.ok([...dir.outposts.values()].some((o) => o.token === GENERATED_LDAP_OUTPOST_TOKEN));
    // Nested groups: group 25's parent is group 2.
    assert.equal(generatedGroupParent(25), 2);
    assert.deepEqual(dir.groupByName(generatedGroupName(25))?.parents, [dir.groupByName(generatedGroupName(2))?.pk]);
  });

  test('100,000 users and 10,000 groups generate and load', async () => {
    const file = await generateDirectory({ users: 100_000, groups: 10_000, groupsPerUser: 3, seed: 1, iterations: 1 });
    assert.equal(file.users?.length, 100_001);
    const dir = await buildDirectory(file, { baseDir: '.', resolveCertificate: noCert });
    assert.equal(dir.users.size, 100_001 + 2, 'and the two outposts\' service accounts');
    assert.equal(dir.groups.size, 10_000);
    const last = dir.userByUsername(generatedUsername(100_000));
    assert.ok(last);
    assert.equal(await verifyPassword(generatedPassword(100_000), last.passwordHash), true);
    assert.equal(dir.userByEmail(`${generatedUsername(54_321).toUpperCase()}@EXAMPLE.COM`)?.pk, 54_321);
    // Effective membership reaches the root of the group tree (depth 4 for 10,000 groups).
    const deep = dir.groupByName(generatedGroupName(9_999))!;
    const members = dir.groupUsers(deep.pk);
    assert.ok(members.length > 0);
    const effective = dir.effectiveGroups(members[0]!);
    assert.ok(effective.has(dir.groupByName(generatedGroupName(9))!.pk));
    let total = 0;
    for (const group of dir.groups.values()) total += dir.groupUsers(group.pk).length;
    assert.equal(total, 300_000);
  });
});
