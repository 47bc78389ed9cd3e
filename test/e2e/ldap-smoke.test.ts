/** The whole stack answers real OpenLDAP clients over LDAP, StartTLS and LDAPS. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE_DN } from '../helpers/directories.js';
import { run } from '../helpers/cli.js';
import { startStack, type Stack } from '../helpers/stack.js';

describe('LDAP end to end with ldap-utils', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(async () => {
    await stack.stop();
  });

  const bind = (user: string) => ['-x', '-D', `cn=${user},ou=users,${BASE_DN}`, '-w', `${user}-pw`];

  test('ldapwhoami over plain LDAP, StartTLS and LDAPS', async () => {
    const plain = await run('ldapwhoami', ['-H', stack.ldapUrl, ...bind('alice')]);
    assert.equal(plain.code, 0, plain.stderr);
    assert.equal(plain.stdout.trim(), `dn:cn=alice,ou=users,${BASE_DN}`);
    const startTls = await run('ldapwhoami', ['-ZZ', '-H', `ldap://localhost:${stack.ldapPort}`, ...bind('alice')], { LDAPTLS_CACERT: stack.caPath });
    assert.equal(startTls.code, 0, startTls.stderr);
    const ldaps = await run('ldapwhoami', ['-H', stack.ldapsUrl, ...bind('bob')], { LDAPTLS_CACERT: stack.caPath });
    assert.equal(ldaps.code, 0, ldaps.stderr);
  });

  test('a wrong password is invalidCredentials (49)', async () => {
    const r = await run('ldapwhoami', ['-H', stack.ldapUrl, '-x', '-D', `cn=alice,ou=users,${BASE_DN}`, '-w', 'nope']);
    assert.equal(r.code, 49, r.stderr);
  });
});
