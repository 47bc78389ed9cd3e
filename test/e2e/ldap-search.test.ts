/**
 * Search end to end with ldapsearch, ldapcompare, ldapmodify/ldapadd/ldapdelete and python3-ldap3, for both API
 * generations and both search modes: the tree and its entries (reference 3.10 with the deviations documented in
 * src/directory/entries.ts), the RootDSE, cn=subschema, every filter type, scopes, size and time limits,
 * typesOnly, attribute selection, compare, paged results, StartTLS, writes, what a user without the search
 * permission sees, and direct mode answering exactly like cached mode.
 *
 * One generation per describe, each with a cached-search and a direct-search stack over the same directory
 * (fixed timestamps, so the two answer byte for byte alike). In 2023.10 the search permission comes from the
 * provider's search group (admins), in 2026.2 from search_full_directory; akadmin has it either way, alice not.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { DirectoryFile } from '../../src/embedded-core/directory/types.js';
import { parseLdif, run, type CliResult } from '../helpers/cli.js';
import { ADMIN_TOKEN, BASE_DN, LDAP_OUTPOST_TOKEN, OUTPOST_ACCOUNTS, TOTP_SECRET, testDirectory } from '../helpers/directories.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { Ldap3Driver } from './py/ldap3-driver.js';

type Entry = ReturnType<typeof parseLdif>[number];
type Mode = 'cached' | 'direct';

const BASE = 'dc=ldap,dc=goauthentik,dc=io'; // the base as the tree spells it (normalized)
const dnOf = {
  user: (name: string) => `cn=${name},ou=users,${BASE}`,
  group: (name: string) => `cn=${name},ou=groups,${BASE}`,
  virtual: (name: string) => `cn=${name},ou=virtual-groups,${BASE}`,
};
const USERS = ['akadmin', 'alice', 'bob', 'carol', 'dave', 'erin'];
/** The outposts' service accounts, in ou=users like any user (no mail, no groups). */
const ACCOUNTS = OUTPOST_ACCOUNTS;
const GROUPS = ['admins', 'contractors', 'engineering', 'ops', 'staff'];
/** A user whose name needs DN escaping, without email and groups (entries.ts: no empty attributes). */
const ODD_USER = 'smith, john+jr';
const ODD_USER_DN = `cn=smith\\, john\\+jr,ou=users,${BASE}`;
const CONTAINERS = [`ou=users,${BASE}`, `ou=groups,${BASE}`, `ou=virtual-groups,${BASE}`];
const ALL_DNS = [
  BASE,
  ...CONTAINERS,
  ...USERS.map(dnOf.user),
  ...ACCOUNTS.map(dnOf.user),
  ODD_USER_DN,
  ...GROUPS.map(dnOf.group),
  ...USERS.map(dnOf.virtual),
  ...ACCOUNTS.map(dnOf.virtual),
  `cn=smith\\, john\\+jr,ou=virtual-groups,${BASE}`,
];
const FIXED_TIME = '2024-05-06T07:08:09.500Z';
const FIXED_GENERALIZED = '20240506070809Z';

const sorted = (values: readonly string[]): string[] => [...values].sort();
const dns = (entries: readonly Entry[]): string[] => sorted(entries.map((e) => e.dn));
const attr = (entry: Entry | undefined, name: string): string[] | undefined => entry?.attributes.get(name);
const byDn = (entries: readonly Entry[], dn: string): Entry | undefined => entries.find((e) => e.dn === dn);

async function directoryFor(generation: '2026.2' | '2023.10'): Promise<DirectoryFile> {
  // The accounts are listed so that they get the fixed dates too (a user of that name becomes the account).
  const accounts = ACCOUNTS.map((username) => ({ username }));
  const directory = await testDirectory({ generation, extraUsers: [{ username: ODD_USER, name: 'John Smith' }, ...accounts] });
  for (const user of directory.users ?? []) {
    user.date_joined = FIXED_TIME;
    user.last_updated = FIXED_TIME;
    user.password_change_date = FIXED_TIME;
  }
  return directory;
}

/** No password, token, TOTP secret or session cookie (an HS256 JWT) in anything the stack logged. */
function assertNothingSecretLogged(stack: Stack, secrets: readonly string[]): void {
  assert.ok(stack.logs.lines.length > 0, 'the stack logged');
  assert.deepEqual(stack.logs.leaked([...secrets, LDAP_OUTPOST_TOKEN, ADMIN_TOKEN, TOTP_SECRET]), []);
  assert.doesNotMatch(stack.logs.text, /eyJ[\w-]{8,}\.[\w-]{8,}|authentik_session=/, 'a session cookie was logged');
}

for (const generation of ['2026.2', '2023.10'] as const) {
  describe(`LDAP search with real clients (${generation})`, () => {
    const stacks = {} as Record<Mode, Stack>;
    let py: Ldap3Driver;
    before(async () => {
      const directory = await directoryFor(generation);
      for (const searchMode of ['cached', 'direct'] as const) {
        directory.providers![0] = { ...directory.providers![0]!, search_mode: searchMode } as NonNullable<DirectoryFile['providers']>[number];
        stacks[searchMode] = await startStack({ directory: structuredClone(directory) });
      }
      py = new Ldap3Driver();
    });
    after(async () => {
      await py?.close();
      for (const stack of Object.values(stacks)) await stack.stop();
    });

    const as = (user: string | null): string[] => (user === null ? ['-x'] : ['-x', '-D', `cn=${user},ou=users,${BASE_DN}`, '-w', `${user}-pw`]);
    /** ldapsearch -LLL as `user` (null: anonymous); extra args as given. */
    const search = async (mode: Mode, user: string | null, args: readonly string[]): Promise<CliResult & { entries: Entry[] }> => {
      const r = await run('ldapsearch', ['-LLL', '-o', 'ldif-wrap=no', '-H', stacks[mode].ldapUrl, ...as(user), ...args]);
      return { ...r, entries: parseLdif(r.stdout) };
    };
    const both = async (check: (mode: Mode) => Promise<void>): Promise<void> => {
      for (const mode of ['cached', 'direct'] as const) await check(mode);
    };
    const pkOf = (username: string): number => {
      const user = stacks.cached.core.directory().userByUsername(username);
      assert.ok(user !== undefined, username);
      return user.pk;
    };

    test('the tree: base, containers, users, groups, virtual groups (akadmin sees everything)', () =>
      both(async (mode) => {
        const r = await search(mode, 'akadmin', ['-b', BASE_DN, '*', '+']);
        assert.equal(r.code, 0, `${mode}: ${r.stderr}`);
        assert.deepEqual(dns(r.entries), sorted(ALL_DNS), mode);

        const base = byDn(r.entries, BASE);
        assert.deepEqual(attr(base, 'objectClass'), ['top', 'domain', 'dcObject']);
        assert.deepEqual(attr(base, 'dc'), ['ldap']);
        for (const dn of CONTAINERS) {
          const container = byDn(r.entries, dn);
          assert.deepEqual(attr(container, 'objectClass'), ['top', 'nsContainer', 'organizationalUnit'], dn);
          assert.deepEqual(attr(container, 'ou'), [dn.slice(3, dn.indexOf(','))], dn);
        }
      }));

    test('a user entry: authentik\'s attributes, custom ones, operational ones only for +', () =>
      both(async (mode) => {
        const pk = pkOf('alice');
        const star = await search(mode, 'akadmin', ['-b', dnOf.user('alice'), '-s', 'base']);
        assert.equal(star.code, 0, star.stderr);
        const alice = star.entries[0]!;
        assert.deepEqual([...alice.attributes.keys()], [
          'objectClass', 'cn', 'sAMAccountName', 'uid', 'name', 'displayName', 'sn', 'mail', 'memberOf', 'uidNumber', 'gidNumber',
          'homeDirectory', 'ak-active', 'ak-superuser', 'title',
        ], mode);
        assert.deepEqual(attr(alice, 'objectClass'), ['top', 'person', 'organizationalPerson', 'inetOrgPerson', 'user', 'posixAccount', 'goauthentik.io/ldap/user']);
        assert.deepEqual(attr(alice, 'cn'), ['alice']);
        assert.deepEqual(attr(alice, 'sAMAccountName'), ['alice']);
        assert.match(attr(alice, 'uid')![0]!, /^[0-9a-f]{64}$/);
        for (const name of ['name', 'displayName', 'sn']) assert.deepEqual(attr(alice, name), ['Alice Tester'], name);
        assert.deepEqual(attr(alice, 'mail'), ['alice@example.test']);
        assert.deepEqual(attr(alice, 'memberOf'), [dnOf.group('engineering')], 'direct groups only');
        assert.deepEqual(attr(alice, 'uidNumber'), [String(2000 + pk)]);
        assert.deepEqual(attr(alice, 'gidNumber'), [String(2000 + pk)]);
        assert.deepEqual(attr(alice, 'homeDirectory'), ['/home/alice']);
        assert.deepEqual(attr(alice, 'ak-active'), ['TRUE']);
        assert.deepEqual(attr(alice, 'ak-superuser'), ['FALSE']);
        assert.deepEqual(attr(alice, 'title'), ['Engineer']);

        const plus = await search(mode, 'akadmin', ['-b', dnOf.user('alice'), '-s', 'base', '+']);
        const op = plus.entries[0]!;
        // 2023.10's API has no dates (reference 6), so there are no timestamps to show.
        const stamp = generation === '2026.2' ? [FIXED_GENERALIZED] : undefined;
        assert.deepEqual(attr(op, 'createTimestamp'), stamp, mode);
        assert.deepEqual(attr(op, 'modifyTimestamp'), stamp, mode);
        assert.deepEqual(attr(op, 'pwdChangedTime'), stamp, mode);
        assert.deepEqual(attr(op, 'entryDN'), [dnOf.user('alice')]);
        assert.deepEqual(attr(op, 'subschemaSubentry'), ['cn=subschema']);
        assert.equal(attr(op, 'cn'), undefined, '+ alone brings no user attributes');

        const akadmin = (await search(mode, 'akadmin', ['-b', dnOf.user('akadmin'), '-s', 'base', 'ak-superuser', 'memberOf'])).entries[0];
        assert.deepEqual(attr(akadmin, 'ak-superuser'), ['TRUE']);
        assert.deepEqual(attr(akadmin, 'memberOf'), [dnOf.group('admins'), dnOf.group('staff')]);
        const dave = (await search(mode, 'akadmin', ['-b', dnOf.user('dave'), '-s', 'base', 'ak-active'])).entries[0];
        assert.deepEqual(attr(dave, 'ak-active'), ['FALSE']);

        // Deviations (entries.ts): names are DN-escaped; no empty mail or memberOf.
        const odd = (await search(mode, 'akadmin', ['-b', `ou=users,${BASE_DN}`, `(cn=${ODD_USER})`])).entries;
        assert.deepEqual(dns(odd), [ODD_USER_DN]);
        assert.deepEqual(attr(odd[0], 'cn'), [ODD_USER]);
        assert.equal(attr(odd[0], 'mail'), undefined);
        assert.equal(attr(odd[0], 'memberOf'), undefined);
      }));

    test('group and virtual-group entries', () =>
      both(async (mode) => {
        const r = await search(mode, 'akadmin', ['-b', BASE_DN, '(|(cn=engineering)(cn=alice))']);
        const engineering = byDn(r.entries, dnOf.group('engineering'));
        assert.deepEqual(attr(engineering, 'objectClass'), ['group', 'groupOfUniqueNames', 'groupOfNames', 'goauthentik.io/ldap/group', 'posixGroup']);
        assert.deepEqual(attr(engineering, 'cn'), ['engineering']);
        assert.deepEqual(attr(engineering, 'gidNumber'), ['5100'], 'custom gidNumber');
        // 2023.10's API has no child groups; parents (memberOf) come with both.
        const children = generation === '2026.2' ? [dnOf.group('ops')] : [];
        assert.deepEqual(attr(engineering, 'member'), [dnOf.user('alice'), ...children], mode);
        assert.deepEqual(attr(engineering, 'memberOf'), [dnOf.group('staff')], mode);
        assert.deepEqual(attr(engineering, 'ak-superuser'), ['FALSE']);

        const virtual = byDn(r.entries, dnOf.virtual('alice'));
        assert.deepEqual(attr(virtual, 'objectClass'), [
          'group', 'groupOfUniqueNames', 'groupOfNames', 'goauthentik.io/ldap/group', 'posixGroup', 'goauthentik.io/ldap/virtual-group',
        ]);
        assert.deepEqual(attr(virtual, 'member'), [dnOf.user('alice')]);
        assert.deepEqual(attr(virtual, 'gidNumber'), [String(2000 + pkOf('alice'))]);
        assert.equal(attr(virtual, 'memberOf'), undefined);
      }));

    test('RootDSE, anonymously: -s base with no list, "+" and "* +"', async () => {
      for (const attrs of [[], ['+'], ['*', '+']]) {
        const r = await search('cached', null, ['-b', '', '-s', 'base', ...attrs]);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.entries.length, 1);
        const root = r.entries[0]!;
        assert.equal(root.dn, '');
        // objectClass is a user attribute: not in "+" alone. Everything else here is operational.
        assert.deepEqual(attr(root, 'objectClass'), attrs.length === 1 ? undefined : ['top'], attrs.join(' '));
        assert.deepEqual(attr(root, 'namingContexts'), [BASE]);
        assert.deepEqual(attr(root, 'subschemaSubentry'), ['cn=subschema']);
        assert.deepEqual(attr(root, 'supportedLDAPVersion'), ['3']);
        assert.deepEqual(attr(root, 'supportedControl'), ['1.2.840.113556.1.4.319'], 'paged results, and nothing unimplemented');
        assert.deepEqual(sorted(attr(root, 'supportedExtension') ?? []), ['1.3.6.1.4.1.1466.20037', '1.3.6.1.4.1.4203.1.11.3']);
        assert.deepEqual(attr(root, 'vendorName'), ['goauthentik.io']);
        assert.match(attr(root, 'vendorVersion')?.[0] ?? '', /^ak-outpost /);
      }
      // The root DSE is not part of any subtree (RFC 4512 5.1).
      const one = await search('cached', null, ['-b', '', '-s', 'one']);
      assert.deepEqual([one.code, one.entries.length], [0, 0]);
    });

    test('cn=subschema: parsed by python3-ldap3 (get_info=ALL), and readable with ldapsearch', async () => {
      await py.must('open', { conn: 's', host: '127.0.0.1', port: stacks.cached.ldapPort, info: 'all' });
      assert.equal((await py.must('bind', { conn: 's', user: `cn=alice,ou=users,${BASE_DN}`, password: 'alice-pw' })).result, 0);
      const { schema, rootDse } = await py.must('schema', { conn: 's' });
      await py.must('close', { conn: 's' });
      assert.ok(schema, 'ldap3 read the schema');
      assert.equal(schema.valid, true);
      assert.equal(schema.userClassOid, '1.3.6.1.4.1.26027.1.1.1');
      assert.ok(schema.userClassMay.includes('ak-active'));
      for (const oc of ['top', 'person', 'inetOrgPerson', 'posixAccount', 'groupOfNames', 'posixGroup', 'goauthentik.io/ldap/user']) {
        assert.ok(schema.objectClasses.includes(oc), oc);
      }
      assert.ok(schema.attributeTypes > 30);
      assert.deepEqual(rootDse?.namingContexts, [BASE]);

      const r = await search('cached', 'alice', ['-b', 'cn=subschema', '-s', 'base', 'objectClasses', 'attributeTypes']);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(attr(r.entries[0], 'objectClasses')?.some((v) => v.includes("'goauthentik.io/ldap/user'")));
      assert.equal((await search('cached', null, ['-b', 'cn=subschema', '-s', 'base'])).code, 50, 'anonymous: RootDSE only');
    });

    test('filters of every type (and, or, not, =, substrings, >=, <=, ~=, present, extensible)', () =>
      both(async (mode) => {
        const everyone = [...USERS, ODD_USER, ...ACCOUNTS];
        const userDn = (u: string): string => (u === ODD_USER ? ODD_USER_DN : dnOf.user(u));
        const uidNumbers = new Map(everyone.map((u) => [u, 2000 + pkOf(u)]));
        const usersWhere = (keep: (uidNumber: number) => boolean) => everyone.filter((u) => keep(uidNumbers.get(u)!)).map(userDn);
        const mid = [...uidNumbers.values()].sort((a, b) => a - b)[3]!;
        const cases: [string, string[]][] = [
          ['(&(objectClass=user)(!(cn=alice))(|(cn=bob)(cn=carol)))', [dnOf.user('bob'), dnOf.user('carol')]],
          ['(cn=alice)', [dnOf.user('alice'), dnOf.virtual('alice')]],
          ['(mail=alice@example.test)', [dnOf.user('alice')]],
          ['(cn=a*i*e)', [dnOf.user('alice'), dnOf.virtual('alice')]],
          ['(&(objectClass=user)(displayName=*ar*ester))', [dnOf.user('carol')]],
          ['(mail=*@example.test)', USERS.map(dnOf.user)],
          ['(&(objectClass=group)(cn=*ing))', [dnOf.group('engineering')]],
          [`(&(objectClass=user)(uidNumber>=${mid}))`, usersWhere((n) => n >= mid)],
          [`(&(objectClass=user)(uidNumber<=${mid}))`, usersWhere((n) => n <= mid)],
          ['(&(objectClass=user)(uidNumber>=999))', everyone.map(userDn)], // numeric, not text order
          ['(displayName~=alicetester)', [dnOf.user('alice')]],
          ['(title=*)', [dnOf.user('alice')]],
          ['(&(objectClass=user)(!(mail=*)))', [ODD_USER_DN, ...ACCOUNTS.map(dnOf.user)]],
          ['(cn:caseExactMatch:=alice)', [dnOf.user('alice'), dnOf.virtual('alice')]],
          ['(cn:caseExactMatch:=Alice)', []],
          [`(&(objectClass=user)(memberOf:1.2.840.113556.1.4.1941:=cn=staff,ou=groups,${BASE_DN}))`, ['akadmin', 'alice', 'bob', 'carol', 'dave'].map(dnOf.user)],
          [`(&(objectClass=user)(memberOf=cn=staff,ou=groups,${BASE_DN}))`, ['akadmin', 'carol', 'dave'].map(dnOf.user)],
          [`(memberOf:1.2.840.113556.1.4.1941:=cn=staff,ou=groups,${BASE_DN})`, [...['akadmin', 'alice', 'bob', 'carol', 'dave'].map(dnOf.user), dnOf.group('engineering'), dnOf.group('ops')]],
          // authentik #11880: an OR of classes returns users and groups (virtual groups are posixGroups too).
          ['(|(objectClass=posixAccount)(objectClass=posixGroup))', ALL_DNS.filter((d) => d !== BASE && !CONTAINERS.includes(d))],
          ['(&(objectClass=user)(!(objectClass=computer)))', everyone.map(userDn)],
          // authentik #12912: a group that does not exist matches nothing, successfully.
          [`(memberOf=cn=doesnotexist,ou=groups,${BASE_DN})`, []],
          [`(member=cn=nobody,ou=users,${BASE_DN})`, []],
        ];
        for (const [filter, expected] of cases) {
          const r = await search(mode, 'akadmin', ['-b', BASE_DN, filter, '1.1']);
          assert.equal(r.code, 0, `${mode} ${filter}: ${r.stderr}`);
          assert.deepEqual(dns(r.entries), sorted(expected), `${mode} ${filter}`);
        }
        const bad = await search(mode, 'akadmin', ['-b', BASE_DN, '(cn=alice']);
        assert.notEqual(bad.code, 0, 'a malformed filter is refused (by the client)');
      }));

    test('scopes: base, one, sub, children; a missing entry is noSuchObject with matchedDN', () =>
      both(async (mode) => {
        const scope = async (base: string, s: string): Promise<string[]> => {
          const r = await search(mode, 'akadmin', ['-b', base, '-s', s, '1.1']);
          assert.equal(r.code, 0, `${mode} ${base} ${s}: ${r.stderr}`);
          return dns(r.entries);
        };
        assert.deepEqual(await scope(BASE_DN, 'base'), [BASE]);
        assert.deepEqual(await scope(BASE_DN, 'one'), sorted(CONTAINERS));
        const inUsers = [...USERS, ...ACCOUNTS].map(dnOf.user);
        assert.deepEqual(await scope(`ou=users,${BASE_DN}`, 'sub'), sorted([`ou=users,${BASE}`, ...inUsers, ODD_USER_DN]));
        assert.deepEqual(await scope(`ou=users,${BASE_DN}`, 'children'), sorted([...inUsers, ODD_USER_DN]));
        assert.deepEqual(await scope(`ou=groups,${BASE_DN}`, 'one'), sorted(GROUPS.map(dnOf.group)));
        assert.deepEqual(await scope(`cn=alice,ou=users,${BASE_DN}`, 'base'), [dnOf.user('alice')]);
        assert.deepEqual(await scope(`CN=Alice,OU=Users,${BASE_DN.toUpperCase()}`, 'base'), [dnOf.user('alice')]);
        assert.deepEqual(await scope(`cn=alice,ou=users,${BASE_DN}`, 'one'), []);
        const missing = await search(mode, 'akadmin', ['-b', `cn=nobody,ou=users,${BASE_DN}`, '-s', 'base']);
        assert.equal(missing.code, 32, missing.stderr);
        assert.match(missing.stderr, new RegExp(`Matched DN: ou=users,${BASE}`));
      }));

    test('size limit (-z): that many entries, then sizeLimitExceeded (4); time limit (-l) is accepted', () =>
      both(async (mode) => {
        const limited = await search(mode, 'akadmin', ['-b', `ou=users,${BASE_DN}`, '-z', '2', '(objectClass=user)', '1.1']);
        assert.equal(limited.code, 4, limited.stderr);
        assert.match(limited.stderr, /Size limit exceeded \(4\)/);
        assert.equal(limited.entries.length, 2);
        const roomy = await search(mode, 'akadmin', ['-b', `ou=users,${BASE_DN}`, '-z', '9', '(objectClass=user)', '1.1']);
        assert.deepEqual([roomy.code, roomy.entries.length], [0, 9]);
        const timed = await search(mode, 'akadmin', ['-b', `ou=users,${BASE_DN}`, '-l', '5', '(objectClass=user)', '1.1']);
        assert.deepEqual([timed.code, timed.entries.length], [0, 9]);
      }));

    test('attribute selection: *, +, 1.1, lists, a comma-separated list in one argument, typesOnly', () =>
      both(async (mode) => {
        const read = async (...attrs: string[]): Promise<Entry> => {
          const r = await search(mode, 'akadmin', ['-b', dnOf.user('alice'), '-s', 'base', ...attrs]);
          assert.equal(r.code, 0, r.stderr);
          return r.entries[0]!;
        };
        const keys = (e: Entry): string[] => [...e.attributes.keys()];
        const star = await read('*');
        assert.ok(keys(star).includes('mail') && !keys(star).includes('createTimestamp'));
        assert.deepEqual(keys(await read()), keys(star), 'no list means all user attributes');
        const plus = await read('+');
        assert.ok(keys(plus).includes('entryDN') && !keys(plus).includes('mail'));
        assert.deepEqual(sorted(keys(await read('*', '+'))), sorted([...keys(star), ...keys(plus)]));
        assert.deepEqual(keys(await read('1.1')), []);
        assert.deepEqual(keys(await read('cn', 'mail')), ['cn', 'mail']);
        assert.deepEqual(keys(await read('cn,mail')), ['cn', 'mail'], 'one comma-separated argument');
        assert.deepEqual(keys(await read('CN, Mail,uidnumber')), ['cn', 'mail', 'uidNumber'], 'names as the schema spells them');
        assert.deepEqual(keys(await read('nosuchattribute')), []);

        const typesOnly = await search(mode, 'akadmin', ['-A', '-b', dnOf.user('alice'), '-s', 'base', 'cn', 'memberOf']);
        assert.equal(typesOnly.code, 0, typesOnly.stderr);
        assert.deepEqual([...typesOnly.entries[0]!.attributes.entries()], [['cn', ['']], ['memberOf', ['']]], 'names without values');
      }));

    test('ldapcompare: true, false, no such attribute, no such object', () =>
      both(async (mode) => {
        const compare = (dn: string, assertion: string) =>
          run('ldapcompare', ['-x', '-H', stacks[mode].ldapUrl, ...as('akadmin').slice(1), dn, assertion]);
        const t = await compare(`cn=alice,ou=users,${BASE_DN}`, 'mail:ALICE@example.test');
        assert.deepEqual([t.code, t.stdout.trim()], [6, 'TRUE'], mode);
        const f = await compare(`cn=alice,ou=users,${BASE_DN}`, 'mail:bob@example.test');
        assert.deepEqual([f.code, f.stdout.trim()], [5, 'FALSE'], mode);
        const member = await compare(`cn=engineering,ou=groups,${BASE_DN}`, `member:CN=Alice,OU=Users,${BASE_DN}`);
        assert.equal(member.code, 6, `${mode}: DN values compare as DNs`);
        const noAttr = await compare(`cn=alice,ou=users,${BASE_DN}`, 'telephoneNumber:123');
        assert.equal(noAttr.code, 16, `${mode}: ${noAttr.stderr}`);
        const noEntry = await compare(`cn=nobody,ou=users,${BASE_DN}`, 'cn:nobody');
        assert.equal(noEntry.code, 32, `${mode}: ${noEntry.stderr}`);
      }));

    test('paged results: ldapsearch -E pr=2/noprompt and ldap3 paged_search return everything', () =>
      both(async (mode) => {
        const whole = await search(mode, 'akadmin', ['-b', BASE_DN, '1.1']);
        const paged = await search(mode, 'akadmin', ['-E', 'pr=2/noprompt', '-b', BASE_DN, '1.1']);
        assert.equal(paged.code, 0, paged.stderr);
        assert.deepEqual(dns(paged.entries), dns(whole.entries));
        const cookies = paged.stdout.split('\n').filter((l) => l.startsWith('# pagedresults: cookie='));
        assert.equal(cookies.length, Math.ceil(whole.entries.length / 2), `${mode}: one response control per page`);
        assert.equal(cookies.at(-1), '# pagedresults: cookie=', 'the last page has an empty cookie');

        await py.must('open', { conn: 'p', host: '127.0.0.1', port: stacks[mode].ldapPort });
        assert.equal((await py.must('bind', { conn: 'p', user: `cn=akadmin,ou=users,${BASE_DN}`, password: 'akadmin-pw' })).result, 0);
        const viaLdap3 = await py.must('paged', { conn: 'p', base: BASE_DN, pageSize: 2 });
        await py.must('close', { conn: 'p' });
        assert.equal(viaLdap3.result, 0);
        assert.deepEqual(sorted(viaLdap3.dns ?? []), dns(whole.entries), mode);
      }));

    test('StartTLS with python3-ldap3, then bind and search; LDAPS too', async () => {
      const stack = stacks.cached;
      await py.must('open', { conn: 't', host: 'localhost', port: stack.ldapPort, ca: stack.caPath });
      assert.equal((await py.must('startTls', { conn: 't' })).started, true);
      assert.equal((await py.must('bind', { conn: 't', user: `cn=bob,ou=users,${BASE_DN}`, password: 'bob-pw' })).result, 0);
      const own = await py.must('search', { conn: 't', base: BASE_DN, filter: '(objectClass=user)', attributes: ['cn'] });
      assert.deepEqual(own.entries?.map((e) => e.dn), [dnOf.user('bob')]);
      await py.must('close', { conn: 't' });

      await py.must('open', { conn: 'l', host: 'localhost', port: stack.ldapsPort, ca: stack.caPath, ssl: true });
      assert.equal((await py.must('bind', { conn: 'l', user: `cn=akadmin,ou=users,${BASE_DN}`, password: 'akadmin-pw' })).result, 0);
      const all = await py.must('search', { conn: 'l', base: `ou=groups,${BASE_DN}`, scope: 'one', attributes: ['cn'] });
      assert.deepEqual(sorted(all.entries?.map((e) => e.dn) ?? []), sorted(GROUPS.map(dnOf.group)));
      await py.must('close', { conn: 'l' });
    });

    test('writes are unwillingToPerform (53): ldapmodify, ldapadd, ldapdelete, ldapmodrdn', async () => {
      const url = stacks.cached.ldapUrl;
      const auth = as('akadmin');
      // ldapmodify/ldapadd read LDIF from stdin; run() has none, so a shell pipes it in (values via env, not quoted).
      const withInput = (cmd: string, input: string) =>
        run('sh', ['-c', `printf '%s' "$LDIF" | ${cmd} -H "$URL" -x -D "$DN" -w "$PW"`], { LDIF: input, URL: url, DN: auth[2]!, PW: auth[4]! });
      const modify = await withInput('ldapmodify', `dn: cn=alice,ou=users,${BASE_DN}\nchangetype: modify\nreplace: mail\nmail: x@example.test\n`);
      assert.equal(modify.code, 53, modify.stderr);
      const add = await withInput('ldapadd', `dn: cn=mallory,ou=users,${BASE_DN}\nobjectClass: person\ncn: mallory\nsn: m\n`);
      assert.equal(add.code, 53, add.stderr);
      const del = await run('ldapdelete', ['-H', url, ...auth, `cn=alice,ou=users,${BASE_DN}`]);
      assert.equal(del.code, 53, del.stderr);
      const rename = await run('ldapmodrdn', ['-H', url, ...auth, `cn=alice,ou=users,${BASE_DN}`, 'cn=alicia']);
      assert.equal(rename.code, 53, rename.stderr);
      const still = await search('cached', 'akadmin', ['-b', dnOf.user('alice'), '-s', 'base', 'mail']);
      assert.deepEqual(attr(still.entries[0], 'mail'), ['alice@example.test']);
    });

    test('without the search permission alice sees herself, her virtual group and her groups (only her as member)', () =>
      both(async (mode) => {
        const r = await search(mode, 'alice', ['-b', BASE_DN, '*']);
        assert.equal(r.code, 0, r.stderr);
        const own = [dnOf.user('alice'), dnOf.virtual('alice'), dnOf.group('engineering')];
        assert.deepEqual(dns(r.entries), sorted([BASE, ...CONTAINERS, ...own]), mode);
        assert.deepEqual(attr(byDn(r.entries, dnOf.group('engineering')), 'member'), [dnOf.user('alice')]);
        assert.deepEqual(attr(byDn(r.entries, dnOf.virtual('alice')), 'member'), [dnOf.user('alice')]);
        // The reference's e2e case: a subtree search of users (mixed-case base) returns only her own entry.
        const users = await search(mode, 'alice', ['-b', 'ou=Users,DC=ldaP,dc=goauthentik,dc=io', '(objectClass=user)', 'cn']);
        assert.deepEqual(dns(users.entries), [dnOf.user('alice')]);
        const bob = await search(mode, 'alice', ['-b', dnOf.user('bob'), '-s', 'base']);
        assert.equal(bob.code, 32, 'other users do not exist for her');
        const compare = await run('ldapcompare', ['-x', '-H', stacks[mode].ldapUrl, ...as('alice').slice(1), dnOf.user('bob'), 'cn:bob']);
        assert.equal(compare.code, 32, `${mode}: compare sees what search sees`);
      }));

    test('direct mode answers exactly like cached mode', async () => {
      const searches: [string | null, string[]][] = [
        ['akadmin', ['-b', BASE_DN, '*', '+']],
        ['akadmin', ['-b', BASE_DN, '(|(cn=alice)(memberOf=cn=ops,ou=groups,dc=ldap,dc=goauthentik,dc=io))', '*']],
        ['akadmin', ['-b', `ou=groups,${BASE_DN}`, `(member=cn=alice,ou=users,${BASE_DN})`, '*', '+']],
        ['akadmin', ['-b', BASE_DN, `(memberOf:1.2.840.113556.1.4.1941:=cn=engineering,ou=groups,${BASE_DN})`, 'cn', 'memberOf']],
        ['akadmin', ['-b', BASE_DN, '(&(objectClass=user)(cn=bob))', '+']],
        ['akadmin', ['-b', `cn=staff,ou=groups,${BASE_DN}`, '-s', 'base', '*']],
        // The core matches names exactly; LDAP (and so both modes) case-insensitively.
        ['akadmin', ['-b', BASE_DN, '(cn=ALICE)', '*']],
        ['akadmin', ['-b', BASE_DN, '(&(objectClass=user)(mail=Bob@Example.TEST))', 'cn']],
        ['akadmin', ['-b', `CN=Alice,OU=Users,${BASE_DN}`, '-s', 'base', '*']],
        ['akadmin', ['-b', BASE_DN, `(memberOf=CN=Engineering,ou=groups,${BASE_DN})`, 'cn']],
        // A user's virtual group has the user as its member.
        ['akadmin', ['-b', BASE_DN, `(member=cn=bob,ou=users,${BASE_DN})`, 'cn', 'member']],
        ['akadmin', ['-b', BASE_DN, '-s', 'one', '*']],
        ['akadmin', ['-b', BASE_DN, '-z', '3', '(objectClass=user)', 'cn']],
        ['alice', ['-b', BASE_DN, '*', '+']],
        ['bob', ['-b', `ou=groups,${BASE_DN}`, '(objectClass=group)', '*']],
        [null, ['-b', '', '-s', 'base', '+']],
      ];
      for (const [user, args] of searches) {
        const [cached, direct] = [await search('cached', user, args), await search('direct', user, args)];
        assert.equal(direct.code, cached.code, `${user} ${args.join(' ')}`);
        const canonical = (r: { entries: Entry[] }) =>
          r.entries.map((e) => JSON.stringify([e.dn, [...e.attributes.entries()]])).sort();
        assert.deepEqual(canonical(direct), canonical(cached), `${user} ${args.join(' ')}`);
        assert.ok(cached.entries.length > 0, `${args.join(' ')} returns something`);
      }
    });

    test('request metrics and nothing secret in the logs', async () => {
      for (const stack of Object.values(stacks)) {
        const text = await stack.registry.exposition();
        assert.match(text, /authentik_outpost_ldap_request_duration_seconds_count\{outpost_name="ldap-test",type="search",app="ldap"\} [1-9]/);
        assert.match(text, /authentik_outpost_ldap_request_duration_seconds_count\{outpost_name="ldap-test",type="bind",app="ldap"\} [1-9]/);
        assertNothingSecretLogged(stack, ['akadmin-pw', 'alice-pw', 'bob-pw']);
      }
      // The anonymous cn=subschema read above was refused.
      assert.match(await stacks.cached.registry.exposition(), /authentik_outpost_ldap_requests_rejected_total\{[^}]*type="search"[^}]*reason="empty_bind_dn"[^}]*\} [1-9]/);
    });
  });
}
