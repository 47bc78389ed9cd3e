/**
 * authentik's own LDAP end-to-end expectations (reference 7.7, tests/e2e/test_provider_ldap.py), run the way
 * upstream runs them: python3-ldap3 against the whole stack, cached search, the default authentication flow, a
 * test user holding search_full_directory on the provider. Where we deliberately differ from the reference's
 * traced behaviour (7.8), OUR behaviour is asserted and the difference named.
 *
 * The embedded core keeps no event log; "the core records a login" is checked as the core's authenticated
 * session for the user (none for a wrong password), and session revocation uses authentik's own endpoint
 * (DELETE /core/authenticated_sessions/<uuid>/).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { hashPassword } from '../../src/embedded-core/directory/passwords.js';
import type { DirectoryFile } from '../../src/embedded-core/directory/types.js';
import { ADMIN_TOKEN, BASE_DN, LDAP_OUTPOST_TOKEN, OUTPOST_ACCOUNTS, TOTP_SECRET, testDirectory } from '../helpers/directories.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { Ldap3Driver, type Ldap3Answer } from './py/ldap3-driver.js';

const BASE = 'dc=ldap,dc=goauthentik,dc=io';
const userDn = (name: string): string => `cn=${name},ou=users,${BASE}`;
const USER_CLASSES = ['top', 'person', 'organizationalPerson', 'inetOrgPerson', 'user', 'posixAccount', 'goauthentik.io/ldap/user'];
const DATES = {
  date_joined: '2023-01-02T03:04:05.678Z',
  last_updated: '2024-06-07T08:09:10.111Z',
  password_change_date: '2024-02-03T04:05:06.999Z',
};

/**
 * Upstream's cast: two outpost service accounts and the test user (akadmin deleted), plus a user without the
 * permission. Passwords are `<user>-pw` (upstream: the username) so the log scan can tell them from names.
 */
async function referenceDirectory(): Promise<DirectoryFile> {
  const base = await testDirectory();
  const hash = (pw: string) => hashPassword(pw, 10);
  return {
    ...base,
    groups: [{ name: 'authentik Admins', is_superuser: true }],
    users: [
      // The ldap-test outpost's own account (ak-outpost-<uuid hex>) the core creates; this one stands in for the
      // embedded outpost's, which the embedded core does not have.
      { username: 'ak-outpost-embedded', name: 'Outpost authentik Embedded Outpost Service-Account', type: 'internal_service_account' },
      {
        username: 'testuser',
        name: 'Test User',
        email: 'testuser@goauthentik.io',
        password: await hash('testuser-pw'),
        is_superuser: true,
        groups: ['authentik Admins'],
        attributes: { extraAttribute: 'bar' },
        ...DATES,
      },
      { username: 'nopermuser', name: 'No Perm', email: 'nopermuser@goauthentik.io', password: await hash('nopermuser-pw') },
    ],
    providers: [
      {
        type: 'ldap',
        name: 'ldap',
        base_dn: BASE_DN,
        search_mode: 'cached',
        bind_mode: 'direct',
        certificate: 'ldap-test',
        search_full_directory: { users: ['testuser'] },
      },
    ],
    applications: [{ slug: 'ldap', name: 'LDAP', provider: 'ldap' }],
    outposts: [{ name: 'ldap-test', type: 'ldap', providers: ['ldap'], token: LDAP_OUTPOST_TOKEN }],
  };
}

/** No password, token, TOTP secret or session cookie (an HS256 JWT) in anything the stack logged. */
function assertNothingSecretLogged(stack: Stack, secrets: readonly string[]): void {
  assert.ok(stack.logs.lines.length > 0, 'the stack logged');
  assert.deepEqual(stack.logs.leaked([...secrets, LDAP_OUTPOST_TOKEN, ADMIN_TOKEN, TOTP_SECRET]), []);
  assert.doesNotMatch(stack.logs.text, /eyJ[\w-]{8,}\.[\w-]{8,}|authentik_session=/, 'a session cookie was logged');
}

describe('authentik\'s LDAP e2e cases (reference 7.7) with python3-ldap3', () => {
  let stack: Stack;
  let py: Ldap3Driver;
  before(async () => {
    stack = await startStack({ directory: await referenceDirectory() });
    py = new Ldap3Driver();
  });
  after(async () => {
    await py.close();
    await stack.stop();
  });

  const admin = async (method: string, path: string): Promise<Response> =>
    fetch(new URL(`api/v3/${path}`, stack.core.url), { method, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  const sessionsOf = async (username: string): Promise<{ uuid: string; last_ip: string }[]> => {
    const response = await admin('GET', 'ak-embedded/sessions/');
    assert.equal(response.status, 200);
    const body: unknown = await response.json();
    assert.ok(Array.isArray(body));
    return body.filter((s): s is { uuid: string; last_ip: string; username: string } => typeof s === 'object' && s !== null && s.username === username);
  };
  const open = async (conn: string, how: 'plain' | 'ldaps' | 'starttls' = 'plain', info = false): Promise<void> => {
    const tls = how === 'plain' ? {} : { ca: stack.caPath };
    const port = how === 'ldaps' ? stack.ldapsPort : stack.ldapPort;
    await py.must('open', { conn, host: how === 'plain' ? '127.0.0.1' : 'localhost', port, ssl: how === 'ldaps', ...tls, ...(info ? { info: 'all' } : {}) });
    if (how === 'starttls') assert.equal((await py.must('startTls', { conn })).started, true);
  };
  const bind = (conn: string, user: string, password = `${user}-pw`): Promise<Ldap3Answer> =>
    py.must('bind', { conn, user: `cn=${user},ou=users,${BASE_DN}`, password });
  const USERS_SEARCH = { base: 'ou=Users,DC=ldaP,dc=goauthentik,dc=io', filter: '(objectClass=user)', scope: 'sub' };

  test('1-3: simple bind over LDAP, LDAPS and StartTLS; the core holds the user\'s session meanwhile', async () => {
    for (const how of ['plain', 'ldaps', 'starttls'] as const) {
      await open(how, how);
      const r = await bind(how, 'testuser');
      assert.deepEqual([r.bound, r.result], [true, 0], how);
    }
    const sessions = await sessionsOf('testuser');
    assert.equal(sessions.length, 3, 'one core session per bound connection');
    assert.ok(sessions.every((s) => s.last_ip === '127.0.0.1'));
    for (const how of ['plain', 'ldaps', 'starttls']) await py.must('close', { conn: how });
  });

  test('4: a wrong password is invalidCredentials (49) and leaves no session', async () => {
    const before = (await sessionsOf('nopermuser')).length;
    await open('w');
    const r = await bind('w', 'nopermuser', 'not-the-password');
    assert.deepEqual([r.bound, r.result], [false, 49]);
    assert.equal((await sessionsOf('nopermuser')).length, before);
    await py.must('close', { conn: 'w' });
  });

  test('5: the user search returns the three users with authentik\'s attributes (ours: no empty values)', async () => {
    await open('s');
    await bind('s', 'testuser');
    const r = await py.must('search', { conn: 's', ...USERS_SEARCH, attributes: ['*', '+'] });
    await py.must('close', { conn: 's' });
    assert.equal(r.result, 0);
    const entries = r.entries ?? [];
    const ldapAccount = OUTPOST_ACCOUNTS[0]!;
    assert.deepEqual(entries.map((e) => e.dn).sort(), [ldapAccount, 'ak-outpost-embedded', 'nopermuser', 'testuser'].map(userDn).sort());
    assert.equal(stack.core.directory().userByUsername(ldapAccount)?.name, 'Outpost ldap-test Service-Account');
    const directory = stack.core.directory();
    for (const entry of entries) {
      const username = entry.dn.slice(3, entry.dn.indexOf(','));
      const user = directory.userByUsername(username)!;
      const a = entry.attributes;
      assert.deepEqual([a['cn'], a['sAMAccountName']], [[username], [username]], username);
      assert.deepEqual([a['name'], a['displayName'], a['sn']], [[user.name], [user.name], [user.name]], username);
      // Reference: mail "" for service accounts; ours leaves the attribute out (entries.ts).
      assert.deepEqual(a['mail'], user.email === '' ? undefined : [user.email], username);
      assert.deepEqual(a['objectClass'], USER_CLASSES, username);
      assert.deepEqual([a['uidNumber'], a['gidNumber']], [[String(2000 + user.pk)], [String(2000 + user.pk)]], username);
      assert.deepEqual(a['homeDirectory'], [`/home/${username}`]);
      assert.deepEqual(a['ak-active'], ['TRUE']);
      assert.deepEqual(a['ak-superuser'], [username === 'testuser' ? 'TRUE' : 'FALSE'], username);
      // Reference: memberOf present with no values; ours leaves it out.
      assert.deepEqual(a['memberOf'], username === 'testuser' ? [`cn=authentik Admins,ou=groups,${BASE}`] : undefined, username);
    }
    const testuser = entries.find((e) => e.dn === userDn('testuser'))!.attributes;
    assert.deepEqual(testuser['extraAttribute'], ['bar']);
    assert.deepEqual(testuser['createTimestamp'], ['20230102030405Z']);
    assert.deepEqual(testuser['modifyTimestamp'], ['20240607080910Z']);
    assert.deepEqual(testuser['pwdChangedTime'], ['20240203040506Z']);
  });

  test('6: without the search permission the same search returns only the user\'s own entry', async () => {
    await open('n');
    await bind('n', 'nopermuser');
    const r = await py.must('search', { conn: 'n', ...USERS_SEARCH, attributes: ['*'] });
    await py.must('close', { conn: 'n' });
    assert.deepEqual(r.entries?.map((e) => e.dn), [userDn('nopermuser')]);
  });

  test('7: ldap3 (get_info=ALL) reads a valid schema containing goauthentik.io/ldap/user', async () => {
    await open('i', 'plain', true);
    await bind('i', 'testuser');
    const { schema } = await py.must('schema', { conn: 'i' });
    await py.must('close', { conn: 'i' });
    assert.equal(schema?.valid, true);
    assert.equal(schema?.userClassOid, '1.3.6.1.4.1.26027.1.1.1');
  });

  test('8: attributes=["cn"] returns the entries carrying only cn', async () => {
    await open('c');
    await bind('c', 'testuser');
    const r = await py.must('search', { conn: 'c', ...USERS_SEARCH, attributes: ['cn'] });
    await py.must('close', { conn: 'c' });
    assert.equal(r.entries?.length, 4);
    for (const e of r.entries ?? []) assert.deepEqual(Object.keys(e.attributes), ['cn'], e.dn);
  });

  test('9: deleting the user\'s authenticated sessions in the core ends the LDAP connection', async () => {
    await open('r');
    await bind('r', 'nopermuser');
    const sessions = await sessionsOf('nopermuser');
    assert.equal(sessions.length, 1);
    const closed = () => stack.logs.lines.filter((l) => l.includes('Closed connections of an ended session')).length;
    const closedBefore = closed();
    for (const s of sessions) assert.equal((await admin('DELETE', `core/authenticated_sessions/${s.uuid}/`)).status, 204);
    const deadline = Date.now() + 3000; // upstream waits 3 s; we stop as soon as the outpost acted
    while (closed() === closedBefore && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    const r = await py.send('search', { conn: 'r', ...USERS_SEARCH, attributes: ['cn'] });
    assert.equal(r.ok, false, JSON.stringify(r));
    assert.equal(r.error, 'LDAPSessionTerminatedByServerError', `${r.error}: ${r.message}`);
    await py.must('close', { conn: 'r' });
  });

  test('nothing secret was logged', () => {
    assertNothingSecretLogged(stack, ['testuser-pw', 'nopermuser-pw', 'not-the-password']);
  });
});

describe('reference 7.8 (traced cases) where we deliberately differ: our behaviour', () => {
  let stack: Stack;
  let py: Ldap3Driver;
  before(async () => {
    stack = await startStack();
    py = new Ldap3Driver();
  });
  after(async () => {
    await py.close();
    await stack.stop();
  });
  const bound = async (conn: string, user: string | null): Promise<void> => {
    await py.must('open', { conn, host: '127.0.0.1', port: stack.ldapPort });
    const r = await py.must('bind', user === null ? { conn } : { conn, user: `cn=${user},ou=users,${BASE_DN}`, password: `${user}-pw` });
    assert.equal(r.result, 0);
  };
  const dnsOf = (r: Ldap3Answer): string[] => (r.entries ?? []).map((e) => e.dn).sort();

  test('anonymous: the RootDSE names the context (reference: none, plus a description); the base is 50 and the connection stays open', async () => {
    await bound('a', null);
    const root = await py.must('search', { conn: 'a', base: '', scope: 'base', attributes: ['*', '+'] });
    assert.deepEqual(root.entries?.[0]?.attributes['namingContexts'], [BASE]);
    assert.equal(root.entries?.[0]?.attributes['description'], undefined);
    const base = await py.must('search', { conn: 'a', base: BASE_DN, scope: 'base' });
    assert.equal(base.result, 50);
    const again = await py.must('search', { conn: 'a', base: '', scope: 'base', attributes: ['vendorName'] });
    assert.equal(again.result, 0, 'reference: the connection was closed after the 50');
    await py.must('close', { conn: 'a' });
  });

  test('bound with the permission: one level, object-class ORs, NOT, size limit, ordering filters', async () => {
    await bound('p', 'akadmin');
    const search = (filter: string, extra: Record<string, unknown> = {}) =>
      py.must('search', { conn: 'p', base: BASE_DN, filter, attributes: ['objectClass'], ...extra });
    const one = await search('(objectClass=*)', { scope: 'one' });
    assert.deepEqual(dnsOf(one), ['ou=groups', 'ou=users', 'ou=virtual-groups'].map((c) => `${c},${BASE}`));
    // Reference: containers are top + nsContainer only; ours are also organizationalUnit (with ou).
    for (const e of one.entries ?? []) assert.deepEqual(e.attributes['objectClass'], ['top', 'nsContainer', 'organizationalUnit']);
    // Reference: users only (last objectClass wins), and nothing for the NOT. The outposts' service accounts are users.
    const users = ['akadmin', 'alice', 'bob', 'carol', 'dave', 'erin', ...OUTPOST_ACCOUNTS].map(userDn);
    const groups = ['admins', 'contractors', 'engineering', 'ops', 'staff'].map((g) => `cn=${g},ou=groups,${BASE}`);
    const either = await search('(|(objectClass=user)(objectClass=group))');
    assert.ok(users.every((u) => dnsOf(either).includes(u)) && groups.every((g) => dnsOf(either).includes(g)));
    assert.deepEqual(dnsOf(await search('(&(objectClass=user)(!(objectClass=computer)))')), users.sort());
    // Reference: 2 entries and success; ours sizeLimitExceeded.
    const limited = await search('(objectClass=user)', { sizeLimit: 2 });
    assert.deepEqual([limited.result, limited.entries?.length], [4, 2]);
    // Reference: operationsError and a closed connection.
    const ordered = await search('(uidNumber>=2000)');
    assert.deepEqual([ordered.result, dnsOf(ordered)], [0, users.sort()]);
    assert.equal((await search('(cn=alice)')).result, 0, 'still open');
    await py.must('close', { conn: 'p' });
  });

  test('bind DNs and WhoAmI (reference: 50, 50 and protocolError; writes: ldap-search.test.ts)', async () => {
    await py.must('open', { conn: 'd', host: '127.0.0.1', port: stack.ldapPort });
    const uid = await py.must('bind', { conn: 'd', user: `uid=alice,ou=users,${BASE_DN}`, password: 'alice-pw' });
    assert.equal(uid.result, 49, 'a DN we never bind is invalidCredentials (reference: 50)');
    const short = await py.must('bind', { conn: 'd', user: `cn=alice,${BASE_DN}`, password: 'alice-pw' });
    assert.equal(short.result, 0, 'cn=<user>,<base> binds like the full DN');
    assert.equal((await py.must('whoami', { conn: 'd' })).whoami, `dn:cn=alice,${BASE_DN}`);
    const empty = await py.must('bind', { conn: 'd' });
    assert.equal(empty.result, 0, 'an empty DN is an anonymous bind (reference: 50)');
    await py.must('close', { conn: 'd' });
  });

  test('nothing secret was logged', () => {
    assertNothingSecretLogged(stack, ['akadmin-pw', 'alice-pw']);
  });
});
