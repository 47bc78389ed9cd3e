import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { DirectoryFile } from '../../src/embedded-core/directory/types.js';
import { escapeRdnValue, expectedEntryCount, slapdLdif, sshaHash } from '../../bench/lib/ldif.js';

const BASE = 'dc=ldap,dc=goauthentik,dc=io';

/** Parses our LDIF (no line folding) into entries of [name, value] pairs, decoding base64 values. */
function parse(text: string): Map<string, Array<[string, string]>> {
  const entries = new Map<string, Array<[string, string]>>();
  for (const block of text.split('\n\n')) {
    if (block.trim() === '') continue;
    const pairs = block.split('\n').map((line): [string, string] => {
      const b64 = /^([^:]+):: (.*)$/.exec(line);
      if (b64) return [b64[1]!, Buffer.from(b64[2]!, 'base64').toString('utf8')];
      const plain = /^([^:]+): ?(.*)$/.exec(line);
      assert.ok(plain, `not an LDIF line: ${line}`);
      return [plain[1]!, plain[2]!];
    });
    const [first, ...rest] = pairs;
    assert.equal(first?.[0], 'dn');
    entries.set(first[1], rest);
  }
  return entries;
}

const values = (attrs: Array<[string, string]> | undefined, name: string): string[] =>
  (attrs ?? []).filter(([n]) => n === name).map(([, v]) => v);

const directory: DirectoryFile = {
  version: 1,
  core: { install_id: 'test' },
  users: [
    { username: 'user00001', name: 'User 00001', email: 'u1@example.com', groups: ['g1', 'g2'], attributes: { department: 'sales' } },
    { username: 'üser, "two"', name: ' leading space', groups: ['g2'] },
    { username: 'admin', is_superuser: true },
  ],
  groups: [{ name: 'g1' }, { name: 'g2', parents: ['g1'] }, { name: 'empty' }],
  outposts: [{ uuid: '0a6c3a2e-5d0b-4c44-9f1e-3c1f2d7a9b01', name: 'ldap-outpost', type: 'ldap', providers: [], token: 'token' }],
};

describe('slapd LDIF of the generated directory', () => {
  const counts = { entries: 0 };
  const text = [...slapdLdif(directory, { passwordOf: (u) => (u === 'user00001' ? 'pass00001' : undefined) }, counts)].join('');
  const entries = parse(text);

  test('same tree as the outpost: base, three containers, users with virtual groups, groups', () => {
    assert.equal(counts.entries, expectedEntryCount(directory));
    assert.equal(entries.size, 4 + 4 * 2 + 3);
    // The outpost's service account is a user of the core like the others (after them in pk order).
    const account = entries.get(`cn=ak-outpost-0a6c3a2e5d0b4c449f1e3c1f2d7a9b01,ou=users,${BASE}`);
    assert.deepEqual([values(account, 'name'), values(account, 'uidNumber')], [['Outpost ldap-outpost Service-Account'], ['2004']]);
    for (const dn of [BASE, `ou=users,${BASE}`, `ou=groups,${BASE}`, `ou=virtual-groups,${BASE}`]) assert.ok(entries.has(dn), dn);
    assert.deepEqual(values(entries.get(`cn=user00001,ou=virtual-groups,${BASE}`), 'member'), [`cn=user00001,ou=users,${BASE}`]);
  });

  test('users carry direct memberOf, outpost attributes and the uid the core derives', () => {
    const user = entries.get(`cn=user00001,ou=users,${BASE}`);
    assert.deepEqual(values(user, 'memberOf'), [`cn=g1,ou=groups,${BASE}`, `cn=g2,ou=groups,${BASE}`]);
    assert.deepEqual(values(user, 'sAMAccountName'), ['user00001']);
    assert.deepEqual(values(user, 'uidNumber'), ['2001']);
    assert.deepEqual(values(user, 'department'), ['sales']);
    assert.deepEqual(values(user, 'ak-active'), ['TRUE']);
    assert.deepEqual(values(user, 'uid'), [createHash('sha256').update('1-test').digest('hex')]);
    assert.ok(values(user, 'objectClass').includes('posixAccount'));
    assert.equal(values(entries.get(`cn=admin,ou=users,${BASE}`), 'ak-superuser')[0], 'TRUE');
  });

  test('groups: direct users then child groups as member, parents as memberOf; an empty group gets the empty DN', () => {
    const g1 = entries.get(`cn=g1,ou=groups,${BASE}`);
    assert.deepEqual(values(g1, 'member'), [`cn=user00001,ou=users,${BASE}`, `cn=g2,ou=groups,${BASE}`]);
    assert.deepEqual(values(entries.get(`cn=g2,ou=groups,${BASE}`), 'memberOf'), [`cn=g1,ou=groups,${BASE}`]);
    assert.deepEqual(values(entries.get(`cn=empty,ou=groups,${BASE}`), 'member'), ['']);
  });

  test('names are RFC 4514-escaped in DNs and unsafe values are base64', () => {
    const dn = `cn=üser\\, \\"two\\",ou=users,${BASE}`;
    const user = entries.get(dn);
    assert.ok(user, 'escaped DN present');
    assert.deepEqual(values(user, 'cn'), ['üser, "two"']);
    assert.deepEqual(values(user, 'name'), [' leading space']);
    assert.match(text, /^name:: /m);
    assert.match(text, /^dn:: /m);
    assert.equal(escapeRdnValue(' a#'), '\\ a#');
    assert.equal(escapeRdnValue('#a '), '\\#a\\ ');
  });

  test('userPassword is {SSHA} of the plain password, only where one is known', () => {
    const [hash] = values(entries.get(`cn=user00001,ou=users,${BASE}`), 'userPassword');
    assert.ok(hash !== undefined && hash.startsWith('{SSHA}'));
    const raw = Buffer.from(hash.slice('{SSHA}'.length), 'base64');
    const salt = raw.subarray(20);
    assert.equal(salt.length, 8);
    assert.deepEqual(raw.subarray(0, 20), createHash('sha1').update('pass00001').update(salt).digest());
    assert.deepEqual(values(entries.get(`cn=admin,ou=users,${BASE}`), 'userPassword'), []);
    assert.equal(sshaHash('x', Buffer.alloc(8)), sshaHash('x', Buffer.alloc(8)));
    assert.notEqual(sshaHash('x'), sshaHash('x'));
  });
});
