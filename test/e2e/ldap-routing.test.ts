/**
 * Several LDAP providers on one outpost: binds and searches go to the provider with the longest base DN that
 * contains the DN, whatever the providers' names or pks (authentik took the first provider by name, so nested
 * bases depended on naming; reference 1.4). Each provider keeps its own application policy, search permission,
 * uid numbering and naming context.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { DirectoryFile } from '../../src/embedded-core/directory/types.js';
import { parseLdif, run } from '../helpers/cli.js';
import { ADMIN_TOKEN, LDAP_OUTPOST_TOKEN, TOTP_SECRET, testDirectory } from '../helpers/directories.js';
import { startStack, type Stack } from '../helpers/stack.js';

const MAIN = 'DC=example,DC=com';
const APPS = 'OU=apps,DC=example,DC=com';
const main = { user: (u: string) => `cn=${u},ou=users,dc=example,dc=com` };
const apps = { user: (u: string) => `cn=${u},ou=users,ou=apps,dc=example,dc=com` };

type ProviderEntry = NonNullable<DirectoryFile['providers']>[number];

async function twoProviderDirectory(): Promise<DirectoryFile> {
  const directory = await testDirectory();
  const ldap = directory.providers!.find((p) => p.name === 'ldap');
  assert.ok(ldap?.type === 'ldap');
  // "a-main" sorts first by name and has the lower pk: name-order routing would send everything to it.
  const mainProvider: ProviderEntry = { ...ldap, name: 'a-main', base_dn: MAIN };
  const appsProvider: ProviderEntry = {
    type: 'ldap',
    name: 'z-apps',
    base_dn: APPS,
    search_mode: 'direct',
    bind_mode: 'direct',
    uid_start_number: 5000,
    certificate: 'ldap-test',
    search_full_directory: { users: ['bob'] },
  };
  directory.providers = [mainProvider, appsProvider, ...directory.providers!.filter((p) => p.type !== 'ldap')];
  directory.applications = [
    { slug: 'main', name: 'Main', provider: 'a-main', allowed_groups: ['staff', 'admins'] },
    { slug: 'apps', name: 'Apps', provider: 'z-apps', allowed_groups: ['contractors', 'engineering'] },
    ...directory.applications!.filter((a) => a.provider !== 'ldap'),
  ];
  for (const outpost of directory.outposts ?? []) if (outpost.type === 'ldap') outpost.providers = ['a-main', 'z-apps'];
  return directory;
}

/** No password, token, TOTP secret or session cookie (an HS256 JWT) in anything the stack logged. */
function assertNothingSecretLogged(stack: Stack, secrets: readonly string[]): void {
  assert.ok(stack.logs.lines.length > 0, 'the stack logged');
  assert.deepEqual(stack.logs.leaked([...secrets, LDAP_OUTPOST_TOKEN, ADMIN_TOKEN, TOTP_SECRET]), []);
  assert.doesNotMatch(stack.logs.text, /eyJ[\w-]{8,}\.[\w-]{8,}|authentik_session=/, 'a session cookie was logged');
}

describe('two LDAP providers on one outpost, nested base DNs', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ directory: await twoProviderDirectory() });
  });
  after(async () => {
    await stack.stop();
  });

  const bindArgs = (dn: string, user: string) => ['-x', '-H', stack.ldapUrl, '-D', dn, '-w', `${user}-pw`];
  const whoami = (dn: string, user: string) => run('ldapwhoami', bindArgs(dn, user));
  const search = async (dn: string, user: string, args: string[]) => {
    const r = await run('ldapsearch', ['-LLL', ...bindArgs(dn, user), ...args]);
    return { ...r, entries: parseLdif(r.stdout) };
  };

  test('both providers are served', () => {
    assert.deepEqual(stack.ldapModule().providers.map((p) => p.name).sort(), ['a-main', 'z-apps']);
  });

  test('binds go to the provider with the longest matching base (its application policy decides)', async () => {
    // erin: contractors, allowed only by the apps application.
    assert.equal((await whoami(apps.user('erin'), 'erin')).code, 0);
    assert.equal((await whoami(`cn=erin,${APPS}`, 'erin')).code, 0);
    assert.equal((await whoami(main.user('erin'), 'erin')).code, 50);
    // akadmin: admins and staff, allowed only by the main application.
    assert.equal((await whoami(apps.user('akadmin'), 'akadmin')).code, 50);
    assert.equal((await whoami(main.user('akadmin'), 'akadmin')).code, 0);
    // alice (engineering) may use both.
    assert.equal((await whoami(apps.user('alice'), 'alice')).code, 0);
    assert.equal((await whoami(main.user('alice'), 'alice')).code, 0);
    // ou=apps is not a user container of the main provider: nothing deeper binds there.
    assert.equal((await whoami(`cn=alice,ou=users,ou=other,${MAIN}`, 'alice')).code, 49);
    assert.equal((await whoami('cn=alice,ou=users,dc=example,dc=org', 'alice')).code, 50);

    const text = await stack.registry.exposition();
    assert.match(text, /authentik_outpost_ldap_request_duration_seconds_count\{outpost_name="ldap-test",type="bind",app="apps"\} [1-9]/);
    assert.match(text, /authentik_outpost_ldap_request_duration_seconds_count\{outpost_name="ldap-test",type="bind",app="main"\} [1-9]/);
    assert.match(text, /authentik_outpost_ldap_requests_rejected_total\{outpost_name="ldap-test",type="bind",reason="access_denied",app="main"\} [1-9]/);
    assert.match(text, /authentik_outpost_ldap_requests_rejected_total\{outpost_name="ldap-test",type="bind",reason="access_denied",app="apps"\} [1-9]/);
    assert.match(text, /authentik_outpost_ldap_requests_rejected_total\{outpost_name="ldap-test",type="bind",reason="no_provider",app=""\} [1-9]/);
  });

  test('searches run against the bound provider\'s tree, with its permission and numbering', async () => {
    const bobPk = stack.core.directory().userByUsername('bob')!.pk;
    // bob holds search_full_directory on the apps provider only.
    const onApps = await search(apps.user('bob'), 'bob', ['-b', `ou=users,${APPS}`, '(objectClass=user)', 'uidNumber']);
    assert.equal(onApps.code, 0, onApps.stderr);
    assert.equal(onApps.entries.length, 8, 'the whole directory: six users and the two outposts\' service accounts');
    assert.ok(onApps.entries.every((e) => e.dn.endsWith(',ou=users,ou=apps,dc=example,dc=com')));
    assert.deepEqual(onApps.entries.find((e) => e.dn === apps.user('bob'))?.attributes.get('uidNumber'), [String(5000 + bobPk)]);

    const onMain = await search(main.user('bob'), 'bob', ['-b', `ou=users,${MAIN}`, '(objectClass=user)', 'uidNumber']);
    assert.equal(onMain.code, 0, onMain.stderr);
    assert.deepEqual(onMain.entries.map((e) => e.dn), [main.user('bob')], 'only himself on main');
    assert.deepEqual(onMain.entries[0]?.attributes.get('uidNumber'), [String(2000 + bobPk)]);

    // Bound on main, the apps subtree belongs to the other provider.
    const across = await search(main.user('akadmin'), 'akadmin', ['-b', APPS, '-s', 'base']);
    assert.equal(across.code, 50, across.stderr);
    const mainTree = await search(main.user('akadmin'), 'akadmin', ['-b', MAIN, '-s', 'one', '1.1']);
    assert.deepEqual(mainTree.entries.map((e) => e.dn).sort(), ['ou=groups,dc=example,dc=com', 'ou=users,dc=example,dc=com', 'ou=virtual-groups,dc=example,dc=com']);
  });

  test('the RootDSE names both contexts anonymously, and the bound provider\'s after a bind', async () => {
    const anonymous = await run('ldapsearch', ['-LLL', '-x', '-H', stack.ldapUrl, '-b', '', '-s', 'base', 'namingContexts']);
    assert.deepEqual(parseLdif(anonymous.stdout)[0]?.attributes.get('namingContexts')?.sort(), ['dc=example,dc=com', 'ou=apps,dc=example,dc=com']);
    const bound = await search(apps.user('alice'), 'alice', ['-b', '', '-s', 'base', 'namingContexts']);
    assert.deepEqual(bound.entries[0]?.attributes.get('namingContexts'), ['ou=apps,dc=example,dc=com']);
  });

  test('nothing secret was logged', () => {
    assertNothingSecretLogged(stack, ['akadmin-pw', 'alice-pw', 'bob-pw', 'erin-pw']);
  });
});
