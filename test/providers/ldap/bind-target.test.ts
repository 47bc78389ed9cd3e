/** Bind DN rules and their memo: the memo answers exactly what the rules answer, and forgets on a provider change. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LdapProviderConfig } from '../../../src/core-api/model.js';
import { bindTarget, BindTargetMemo } from '../../../src/providers/ldap/bind.js';
import { LdapProvider } from '../../../src/providers/ldap/provider.js';
import { ResultCode } from '../../../src/protocol/ldap/result-codes.js';

function provider(pk: number, baseDn: string): LdapProvider {
  const config: LdapProviderConfig = {
    pk,
    name: `p${pk}`,
    baseDn,
    bindFlowSlug: 'flow',
    unbindFlowSlug: null,
    applicationSlug: `app${pk}`,
    certificate: null,
    tlsServerName: '',
    uidStartNumber: 2000,
    gidStartNumber: 4000,
    searchMode: 'cached',
    bindMode: 'cached',
    mfaSupport: false,
    searchGroup: null,
  };
  return new LdapProvider(config, undefined, { maxEntries: 10, ttlMs: 1000 });
}

const names = [
  'cn=alice,ou=users,dc=example,dc=com',
  'CN=Alice,OU=Users,DC=Example,DC=Com',
  'cn=alice,dc=example,dc=com',
  'cn=bob,ou=users,ou=apps,dc=example,dc=com',
  'cn=alice,ou=groups,dc=example,dc=com',
  'uid=alice,ou=users,dc=example,dc=com',
  'cn=alice,ou=users,dc=other',
  'not a dn',
  'cn=a\\,b,ou=users,dc=example,dc=com',
];

test('the memo answers exactly what the rules answer, hit or miss', () => {
  const providers = [provider(1, 'dc=example,dc=com'), provider(2, 'ou=apps,dc=example,dc=com')];
  const memo = new BindTargetMemo(100);
  for (let round = 0; round < 2; round++) {
    for (const name of names) assert.deepEqual(memo.resolve(name, providers), bindTarget(name, providers), name);
  }
  const bob = memo.resolve('cn=bob,ou=users,ou=apps,dc=example,dc=com', providers);
  assert.ok(!('resultCode' in bob) && bob.provider.config.pk === 2 && bob.username === 'bob');
  const bad = memo.resolve('cn=alice,ou=groups,dc=example,dc=com', providers);
  assert.ok('resultCode' in bad && bad.resultCode === ResultCode.invalidCredentials);
});

test('a new providers list (a refresh) is never answered from the old one', () => {
  const memo = new BindTargetMemo(100);
  const before = [provider(1, 'dc=example,dc=com')];
  const name = 'cn=alice,ou=users,dc=example,dc=com';
  const first = memo.resolve(name, before);
  assert.ok(!('resultCode' in first) && first.provider === before[0]);
  const after = [provider(1, 'dc=example,dc=com')];
  const second = memo.resolve(name, after);
  assert.ok(!('resultCode' in second) && second.provider === after[0]);
  const none = memo.resolve(name, [provider(3, 'dc=elsewhere')]);
  assert.ok('resultCode' in none && none.resultCode === ResultCode.insufficientAccessRights);
});

test('bounded: full memo starts over, very long DNs are resolved but not kept', () => {
  const providers = [provider(1, 'dc=example,dc=com')];
  const memo = new BindTargetMemo(3);
  for (let i = 0; i < 10; i++) {
    const name = `cn=u${i},ou=users,dc=example,dc=com`;
    const target = memo.resolve(name, providers);
    assert.ok(!('resultCode' in target) && target.username === `u${i}`);
    assert.ok(memo.size <= 3, String(memo.size));
  }
  const long = `cn=${'x'.repeat(600)},ou=users,dc=example,dc=com`;
  const sizeBefore = memo.size;
  const target = memo.resolve(long, providers);
  assert.ok(!('resultCode' in target) && target.username.length === 600);
  assert.equal(memo.size, sizeBefore, 'a DN over 512 characters is not kept');
});
