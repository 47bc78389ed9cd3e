/**
 * Regression: direct search mode narrowed core queries by names (username, email, group name) that the core
 * matches exactly and case-sensitively, so `(cn=ALICE)`, `(mail=ALICE@...)`, a base `cn=Alice,ou=users,...` or a
 * compare on it found nothing, while cached mode (LDAP's case-insensitive matching) found alice. Found by the
 * end-to-end suite (a user who binds as `cn=Alice,...` could not read her own entry). Direct mode now widens
 * a narrowed query that found nothing, and must answer like cached mode.
 *
 * Second regression in the same code: `(member=<user DN>)` skipped the user request in direct mode, so the user's
 * virtual group (whose only member is the user) was missing; cached mode returned it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildSnapshotFromData } from '../../src/directory/build.js';
import { searchDirect } from '../../src/providers/ldap/search/direct.js';
import type { SearchResult } from '../../src/directory/types.js';
import { BASE, exactCore, FULL, PROVIDER, query, smallDirectory } from '../directory/fixtures.js';


const dns = (r: SearchResult): string[] => Array.from({ length: r.count }, (_, i) => r.entry(i).dn);

async function sameAsCached(cases: readonly [string, string][]): Promise<void> {
  const { users, groups } = smallDirectory();
  const { core } = exactCore(users, groups);
  const cached = await buildSnapshotFromData(PROVIDER, users, groups);
  for (const [base, filter] of cases) {
    const q = query(base, filter);
    const expected = cached.search(q, FULL);
    const direct = await searchDirect({ core, provider: PROVIDER }, q, FULL);
    assert.equal(direct.resultCode, expected.resultCode, `${base} ${filter}`);
    assert.deepEqual(dns(direct), dns(expected), `${base} ${filter}`);
  }
}

test('direct mode finds names in any case, exactly like cached mode', async () => {
  await sameAsCached([
    [BASE, '(cn=ALICE)'],
    [BASE, '(&(objectClass=user)(mail=Alice@Example.com))'],
    [BASE, '(displayName=name ALICE)'],
    [BASE, '(&(cn=alice)(sAMAccountName=ALICE))'],
    [BASE, `(memberOf=cn=STAFF,ou=groups,${BASE})`],
    [`cn=Alice,ou=users,${BASE}`, '(objectClass=*)'],
    [`CN=STAFF,OU=Groups,${BASE.toUpperCase()}`, '(objectClass=*)'],
    [BASE, '(cn=nobody)'],
  ]);
  const { users, groups } = smallDirectory();
  const cached = await buildSnapshotFromData(PROVIDER, users, groups);
  assert.ok(dns(cached.search(query(BASE, '(cn=ALICE)'), FULL)).includes(`cn=alice,ou=users,${BASE}`), 'the cases can fail');
});

test('direct mode: (member=<user DN>) returns the groups and the user\'s virtual group, like cached mode', async () => {
  await sameAsCached([
    [BASE, `(member=cn=bob,ou=users,${BASE})`],
    [BASE, `(member=cn=Bob,ou=users,${BASE})`],
    [BASE, `(&(objectClass=groupOfNames)(member=cn=alice,ou=users,${BASE}))`],
    [`ou=virtual-groups,${BASE}`, `(member=cn=carol,ou=users,${BASE})`],
  ]);
});
