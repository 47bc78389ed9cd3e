import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildDirectory,
  type BuildDirectoryOptions,
  type CertificateMaterial,
  DEFAULT_INSTALL_ID,
  DirectoryError,
  EmbeddedDirectory,
  isEffectiveSuperuser,
  loadDirectoryFile,
} from '../../../src/embedded-core/directory/loader.js';
import type { CertificateSpec } from '../../../src/embedded-core/directory/types.js';
import type { Directory } from '../../../src/embedded-core/model.js';
import { verifyPassword } from '../../../src/embedded-core/directory/passwords.js';
import { base32Decode } from '../../../src/embedded-core/directory/totp.js';
import { identifyUser } from '../../../src/embedded-core/flows/stages.js';

// Fixtures are mutated freely by the error-table cases.
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the cases reach into nested fixture fields by path
type AnyFile = Record<string, any>;

const NOW = new Date('2025-01-02T03:04:05Z');
let workDir = '';
let certA: CertificateMaterial;
let certB: CertificateMaterial;

function makeCert(dir: string, name: string, cn: string): CertificateMaterial {
  const key = join(dir, `${name}.key`);
  const crt = join(dir, `${name}.crt`);
  const r = spawnSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', crt,
    '-days', '30', '-subj', `/O=test/CN=${cn}`,
  ]);
  assert.equal(r.status, 0, `openssl failed: ${r.stderr?.toString()}`);
  return { certificatePem: readFileSync(crt, 'utf8'), privateKeyPem: readFileSync(key, 'utf8') };
}

function noCert(): Promise<CertificateMaterial> {
  return Promise.reject(new Error('no certificates expected'));
}

function opts(extra: Partial<BuildDirectoryOptions> = {}): BuildDirectoryOptions {
  return { baseDir: workDir, resolveCertificate: noCert, now: () => NOW.getTime(), env: {}, ...extra };
}

function base(): AnyFile {
  return {
    version: 1,
    groups: [{ name: 'staff' }, { name: 'ops', parents: ['staff'] }],
    users: [{ username: 'alice', groups: ['ops'] }, { username: 'bob' }],
    providers: [
      { type: 'ldap', name: 'ldap' },
      { type: 'radius', name: 'radius', shared_secret: 's3cret' },
    ],
    applications: [{ slug: 'ldap', provider: 'ldap' }],
    outposts: [{ name: 'o1', type: 'ldap', providers: ['ldap'], token: 'token-1' }],
  };
}

async function expectError(file: unknown, message: RegExp | string, extra: Partial<BuildDirectoryOptions> = {}): Promise<DirectoryError> {
  try {
    await buildDirectory(file, opts(extra));
  } catch (err) {
    assert.ok(err instanceof DirectoryError, `expected DirectoryError, got ${String(err)}`);
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);
    return err;
  }
  assert.fail(`expected an error matching ${String(message)}`);
}

before(() => {
  workDir = mkdtempSync(join(tmpdir(), 'ak-dir-test-'));
  certA = makeCert(workDir, 'a', 'ldap.test');
  certB = makeCert(workDir, 'b', 'other.test');
});

after(() => {
  rmSync(workDir, { recursive: true, force: true });
});

describe('directory loader: errors name the path', () => {
  const cases: Array<[string, (f: AnyFile) => unknown, RegExp | string]> = [
    ['not a mapping', () => [], 'expected a mapping, got a list'],
    ['wrong version', (f) => ({ ...f, version: 2 }), 'version: must be 1'],
    ['missing version', (f) => ({ ...f, version: undefined }), 'version: must be 1'],
    ['unknown root key', (f) => ({ ...f, userz: [] }), 'userz: unknown key'],
    ['unknown user key', (f) => (f.users[1].nmae = 'x', f), 'users[1].nmae: unknown key'],
    ['wrong type', (f) => (f.users[0].is_active = 'yes', f), 'users[0].is_active: expected a boolean, got a string'],
    ['list expected', (f) => (f.users = { alice: {} }, f), 'users: expected a list, got a mapping'],
    ['dangling user group', (f) => (f.users[0].groups = ['ops', 'nope'], f), 'users[0].groups[1]: no group named "nope"'],
    ['duplicate user group', (f) => (f.users[0].groups = ['ops', 'ops'], f), 'users[0].groups[1]: duplicate entry "ops"'],
    ['duplicate username', (f) => (f.users[1].username = 'alice', f), 'users[1].username: duplicate username "alice" (also users[0])'],
    ['duplicate user pk', (f) => ((f.users[0].pk = 5), (f.users[1].pk = 5), f), 'users[1].pk: duplicate user pk 5 (also users[0])'],
    ['user pk range', (f) => (f.users[0].pk = 0, f), 'users[0].pk: must be between 1 and 2147483647'],
    ['dangling parent', (f) => (f.groups[1].parents = ['x'], f), 'groups[1].parents[0]: no group named "x"'],
    ['duplicate group', (f) => (f.groups[1].name = 'staff', f), 'groups[1].name: duplicate group name "staff" (also groups[0])'],
    ['bad group uuid', (f) => (f.groups[0].pk = 'not-a-uuid', f), 'groups[0].pk: expected a UUID'],
    ['dangling app provider', (f) => (f.applications[0].provider = 'nope', f), 'applications[0].provider: no provider named "nope"'],
    ['provider used twice', (f) => (f.applications.push({ slug: 'b', provider: 'ldap' }), f), 'applications[1].provider: provider "ldap" already belongs to applications[0]'],
    ['dangling outpost provider', (f) => (f.outposts[0].providers = ['nope'], f), 'outposts[0].providers[0]: no provider named "nope"'],
    ['outpost type mismatch', (f) => (f.outposts[0].providers = ['radius'], f), 'outposts[0].providers[0]: provider "radius" is a radius provider, not ldap'],
    ['dangling provider flow', (f) => (f.providers[0].authorization_flow = 'nope', f), 'providers[0].authorization_flow: no flow with slug "nope"'],
    ['dangling invalidation flow', (f) => (f.providers[0].invalidation_flow = 'nope', f), 'providers[0].invalidation_flow: no flow with slug "nope"'],
    ['dangling certificate', (f) => (f.providers[0].certificate = 'nope', f), 'providers[0].certificate: no certificate named "nope"'],
    ['dangling search group', (f) => (f.providers[0].search_group = 'nope', f), 'providers[0].search_group: no group named "nope"'],
    ['dangling sfd user', (f) => (f.providers[0].search_full_directory = { users: ['carol'] }, f), 'providers[0].search_full_directory.users[0]: no user named "carol"'],
    ['dangling allowed user', (f) => (f.applications[0].allowed_users = ['zed'], f), 'applications[0].allowed_users[0]: no user named "zed"'],
    ['ldap key on radius', (f) => (f.providers[1].base_dn = 'dc=x', f), 'providers[1].base_dn: unknown key'],
    ['missing shared secret', (f) => (delete f.providers[1].shared_secret, f), 'providers[1].shared_secret: required'],
    ['bad client network', (f) => (f.providers[1].client_networks = '10.0.0.0/8, 300.1.1.1/8', f), 'providers[1].client_networks: entry 2 ("300.1.1.1/8") is not an IP network'],
    ['vendor without 26', (f) => (f.providers[1].property_mappings = [{ name: 'm', attributes: [{ type: 1, vendor: 9, vendor_type: 1, value: 'x' }] }], f), 'providers[1].property_mappings[0].attributes[0]: vendor and vendor_type are only for type 26'],
    ['odd hex', (f) => (f.providers[1].property_mappings = [{ name: 'm', attributes: [{ type: 25, value: '0xabc' }] }], f), 'providers[1].property_mappings[0].attributes[0].value: hex values need an even number of hex digits after 0x'],
    ['tagged integer too big', (f) => (f.providers[1].property_mappings = [{ name: 'm', attributes: [{ type: 64, tag: 1, value: 0x1000000 }] }], f), 'providers[1].property_mappings[0].attributes[0].value: a tagged integer must be below 2^24'],
    ['attribute too long', (f) => (f.providers[1].property_mappings = [{ name: 'm', attributes: [{ type: 18, value: 'x'.repeat(254) }] }], f), 'providers[1].property_mappings[0].attributes[0].value: longer than 253 octets'],
    ['mapping group', (f) => (f.providers[1].property_mappings = [{ name: 'm', groups: ['x'], attributes: [] }], f), 'providers[1].property_mappings[0].groups[0]: no group named "x"'],
    ['bad totp secret', (f) => (f.users[0].totp = [{ secret: 'not base32!' }], f), 'users[0].totp[0].secret: not valid base32'],
    ['short totp secret', (f) => (f.users[0].totp = [{ secret: 'GEZDGNBV' }], f), /^users\[0\]\.totp\[0\]\.secret: too short/],
    ['totp digits', (f) => (f.users[0].totp = [{ secret: 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', digits: 7 }], f), 'users[0].totp[0].digits: must be 6 or 8'],
    ['duo without approve flag', (f) => (f.users[0].duo = [{ name: 'phone' }], f), 'users[0].duo[0].auto_approve: required'],
    ['long static token', (f) => (f.users[0].static_tokens = ['x'.repeat(17)], f), 'users[0].static_tokens[0]: longer than 16 characters'],
    ['bad date', (f) => (f.users[0].date_joined = 'yesterday', f), 'users[0].date_joined: expected an ISO 8601 date-time'],
    ['non-JSON attribute', (f) => (f.users[0].attributes = { when: new Date() }, f), 'users[0].attributes.when: unsupported value (a date)'],
    ['unknown stage kind', (f) => (f.flows = [{ slug: 'x', stages: [{ kind: 'captcha' }] }], f), /^flows\[0\]\.stages\[0\]\.kind: expected one of/],
    ['stage key of other kind', (f) => (f.flows = [{ slug: 'x', stages: [{ kind: 'password', user_fields: [] }] }], f), 'flows[0].stages[0].user_fields: unknown key'],
    ['bad duration', (f) => (f.flows = [{ slug: 'x', stages: [{ kind: 'user_login', session_duration: 'hours:1' }] }], f), /^flows\[0\]\.stages\[0\]\.session_duration: invalid duration/],
    ['bad user field', (f) => (f.flows = [{ slug: 'x', stages: [{ kind: 'identification', user_fields: ['phone'] }] }], f), /^flows\[0\]\.stages\[0\]\.user_fields\[0\]: expected one of/],
    ['bad slug', (f) => (f.flows = [{ slug: 'a b', stages: [] }], f), 'flows[0].slug: may contain only letters, digits, "-" and "_"'],
    ['duplicate flow', (f) => (f.flows = [{ slug: 'x', stages: [] }, { slug: 'x', stages: [] }], f), 'flows[1].slug: duplicate flow slug "x" (also flows[0])'],
    ['missing stages', (f) => (f.flows = [{ slug: 'x' }], f), 'flows[0].stages: required'],
    ['dangling brand invalidation flow', (f) => ({ ...f, core: { flow_invalidation: 'nope' } }), 'core.flow_invalidation: no flow with slug "nope"'],
    ['bad generation', (f) => ({ ...f, core: { generation: '2024.2' } }), 'core.generation: expected one of "2023.10", "2026.2"'],
    ['unset env token', (f) => (f.outposts[0].token = 'env://AK_TEST_MISSING', f), 'outposts[0].token: environment variable AK_TEST_MISSING is not set'],
    ['duplicate outpost name', (f) => (f.outposts.push({ ...f.outposts[0], token: 'other' }), f), 'outposts[1].name: duplicate outpost name "o1" (also outposts[0])'],
    ['cert file without key', (f) => ((f.certificates = [{ name: 'c', certificate_file: 'a.crt' }]), f), 'certificates[0]: certificate_file and key_file must be given together (or both omitted to generate one)'],
    ['missing cert file', (f) => ((f.certificates = [{ name: 'c', certificate_file: 'none.crt', key_file: 'a.key' }]), f), /^certificates\[0\]\.certificate_file: cannot read /],
    ['missing username', (f) => (delete f.users[1].username, f), 'users[1].username: required'],
    ['empty name', (f) => (f.groups[0].name = '', f), 'groups[0].name: must not be empty'],
    ['long username', (f) => (f.users[0].username = 'u'.repeat(151), f), 'users[0].username: longer than 150 characters'],
    ['integer expected', (f) => (f.users[0].pk = 1.5, f), 'users[0].pk: expected an integer, got a number'],
    ['unknown provider type', (f) => (f.providers[0].type = 'oauth2', f), 'providers[0].type: expected one of "ldap", "radius"'],
    ['missing provider type', (f) => (delete f.providers[0].type, f), 'providers[0].type: required'],
    ['unknown key in a nested mapping', (f) => (f.providers[0].search_full_directory = { user: [] }, f), 'providers[0].search_full_directory.user: unknown key'],
    ['non-finite number deep in attributes', (f) => (f.groups[0].attributes = { a: [1, { b: Infinity }] }, f), 'groups[0].attributes.a[1].b: numbers must be finite'],
    ['attributes not a mapping', (f) => (f.groups[0].attributes = ['x'], f), 'groups[0].attributes: expected a mapping, got a list'],
    ['bad outpost type', (f) => (f.outposts[0].type = 'proxy', f), 'outposts[0].type: expected one of "ldap", "radius"'],
    ['duplicate static token', (f) => (f.users[0].static_tokens = ['a', 'a'], f), 'users[0].static_tokens[1]: duplicate entry "a"'],
    ['mismatched key', (f) => ((f.certificates = [{ name: 'c', certificate_file: 'a.crt', key_file: 'b.key' }]), f), 'certificates[0]: private key does not match the certificate'],
  ];
  for (const [name, mutate, message] of cases) {
    test(name, async () => {
      await expectError(mutate(base()), message);
    });
  }

  test('a plain-text password is refused without echoing it; duplicate tokens are not echoed either', async () => {
    const f = base();
    f.users[0].password = 'hunter2-plaintext';
    const err = await expectError(f, /^users\[0\]\.password: not a supported Django password hash/);
    assert.ok(!err.message.includes('hunter2'));
    const g = base();
    g.outposts.push({ name: 'o2', type: 'ldap', providers: [], token: 'token-1' });
    const err2 = await expectError(g, 'outposts[1].token: same token as outposts[0]');
    assert.ok(!err2.message.includes('token-1'));
  });
});

describe('directory loader: defaults and indexes', () => {
  test('an empty directory gets authentik defaults and the built-in flows', async () => {
    const dir = await buildDirectory({ version: 1 }, opts());
    assert.equal(dir.settings.generation, '2026.2');
    assert.equal(dir.settings.version, '2026.2.2');
    assert.equal(dir.settings.installId, DEFAULT_INSTALL_ID);
    assert.equal(dir.settings.cacheTimeoutFlows, 300);
    assert.equal(dir.settings.defaultAppAccess, true);
    assert.equal(dir.settings.flowInvalidation, 'default-invalidation-flow');
    assert.match(dir.settings.adminToken, /^[0-9a-f]{64}$/);
    assert.deepEqual([...dir.flows.keys()].sort(), ['default-authentication-flow', 'default-invalidation-flow', 'default-provider-invalidation-flow']);
    const auth = dir.flows.get('default-authentication-flow');
    assert.deepEqual(auth?.stages.map((s) => s.kind), ['identification', 'password', 'authenticator_validate', 'user_login']);
    assert.deepEqual(auth?.stages[0], {
      kind: 'identification',
      name: 'default-authentication-identification',
      user_fields: ['username', 'email'],
      password_stage: false,
      binding: { evaluateOnPlan: false, reEvaluatePolicies: true, policies: { mode: 'any', bindings: [] } },
    });
    assert.deepEqual(dir.flows.get('default-invalidation-flow')?.stages.map((s) => s.kind), ['user_logout']);
    assert.equal(dir.flows.get('default-provider-invalidation-flow')?.stages.length, 0);
    const generation2023 = await buildDirectory({ version: 1, core: { generation: '2023.10' } }, opts());
    assert.equal(generation2023.settings.version, '2023.10.4');
  });

  test('providers, outposts, users and groups get authentik defaults', async () => {
    const dir = await buildDirectory({ ...base(), core: { install_id: 'install-1', admin_token: 'env://AK_ADMIN' } }, opts({ env: { AK_ADMIN: 'from-env' } }));
    assert.equal(dir.settings.adminToken, 'from-env');
    const ldap = dir.providers.get(1);
    assert.ok(ldap?.type === 'ldap');
    assert.equal(ldap.baseDn, 'DC=ldap,DC=goauthentik,DC=io');
    assert.equal(ldap.uidStartNumber, 2000);
    assert.equal(ldap.gidStartNumber, 4000);
    assert.equal(ldap.searchMode, 'direct');
    assert.equal(ldap.bindMode, 'direct');
    assert.equal(ldap.mfaSupport, true);
    assert.equal(ldap.authorizationFlow, 'default-authentication-flow');
    assert.equal(ldap.invalidationFlow, 'default-invalidation-flow');
    assert.equal(ldap.certificate, null);
    const radius = dir.providers.get(2);
    assert.ok(radius?.type === 'radius');
    assert.equal(radius.clientNetworks, '0.0.0.0/0, ::/0');
    assert.equal(radius.sharedSecret, 's3cret');
    const outpost = [...dir.outposts.values()][0];
    assert.deepEqual(outpost?.config, { log_level: 'info', refresh_interval: 'minutes=5' });
    assert.deepEqual(outpost?.providers, [1]);
    assert.equal(outpost?.managed, null);
    assert.equal(dir.applicationOfProvider(1)?.slug, 'ldap');
    assert.equal(dir.applicationOfProvider(2), undefined);

    const alice = dir.userByUsername('alice');
    assert.ok(alice);
    assert.equal(alice.pk, 1);
    assert.equal(alice.uid, createHash('sha256').update('1-install-1').digest('hex'));
    assert.equal(alice.name, 'alice');
    assert.equal(alice.email, '');
    assert.equal(alice.passwordHash, null);
    assert.equal(alice.isActive, true);
    assert.equal(alice.type, 'internal');
    assert.equal(alice.path, 'users');
    assert.equal(alice.dateJoined.toDrf(), '2025-01-02T03:04:05Z');
    const staff = dir.groupByName('staff');
    assert.ok(staff);
    const expectedNum = Number(BigInt(`0x${staff.pk.replace(/-/g, '')}`).toString().slice(0, 5));
    assert.equal(staff.numPk, expectedNum);
    assert.ok(staff.numPk <= 2_147_483_647);
    // Deterministic ids: a second load gives the same UUIDs.
    const again = await buildDirectory(base(), opts());
    assert.equal(again.groupByName('staff')?.pk, staff.pk);
    assert.equal([...again.outposts.keys()][0], outpost?.uuid);
  });

  test('explicit and implicit pks mix; explicit pks are not reused', async () => {
    const dir = await buildDirectory(
      { version: 1, users: [{ username: 'a' }, { username: 'b', pk: 1 }, { username: 'c' }, { username: 'd', pk: 3 }] },
      opts(),
    );
    assert.deepEqual([...dir.users.values()].map((u) => [u.username, u.pk]), [['b', 1], ['a', 2], ['d', 3], ['c', 4]]);
  });

  test('effective groups follow nesting and survive a cycle', async () => {
    const dir = await buildDirectory(
      {
        version: 1,
        groups: [
          { name: 'a' },
          { name: 'b', parents: ['a'] },
          { name: 'c', parents: ['b'] },
          { name: 'x', parents: ['y'] },
          { name: 'y', parents: ['x', 'a'] },
          { name: 'admins', is_superuser: true },
          { name: 'sub', parents: ['admins'] },
        ],
        users: [
          { username: 'u', groups: ['c', 'x'] },
          { username: 'v', groups: ['b'] },
          { username: 'w', groups: ['sub'] },
        ],
      },
      opts(),
    );
    const pk = (name: string): string => dir.groupByName(name)!.pk;
    const names = (set: ReadonlySet<string>): string[] => [...set].map((g) => dir.groups.get(g)!.name).sort();
    assert.deepEqual(names(dir.effectiveGroups(1)), ['a', 'b', 'c', 'x', 'y']);
    assert.deepEqual(names(dir.effectiveGroups(2)), ['a', 'b']);
    assert.deepEqual(names(dir.effectiveGroups(99)), []);
    assert.deepEqual(dir.groupChildren(pk('a')).map((g) => dir.groups.get(g)!.name).sort(), ['b', 'y']);
    assert.deepEqual(dir.groupUsers(pk('b')), [2]);
    assert.deepEqual(dir.groupUsers(pk('a')), []);
    assert.equal(isEffectiveSuperuser(dir, dir.users.get(3)!), true);
    assert.equal(isEffectiveSuperuser(dir, dir.users.get(1)!), false);
  });

  test('lookups: username exact, email case-insensitive (lowest pk wins)', async () => {
    const dir = await buildDirectory(
      {
        version: 1,
        users: [
          { username: 'Alice', pk: 10, email: 'Shared@Example.com' },
          { username: 'alice2', pk: 3, email: 'shared@example.COM' },
          { username: 'noemail', pk: 4, attributes: { upn: 'Shared@Corp.example' } },
        ],
      },
      opts(),
    );
    assert.equal(dir.userByUsername('Alice')?.pk, 10);
    assert.equal(dir.userByUsername('alice'), undefined);
    assert.equal(dir.userByEmail('SHARED@example.com')?.pk, 3);
    assert.equal(dir.userByEmail(''), undefined);
    assert.ok(dir instanceof EmbeddedDirectory);
    assert.equal(dir.userByUsernameFolded('ALICE')?.pk, 10);
    assert.equal(dir.userByUpnFolded('shared@corp.EXAMPLE')?.pk, 4);
    // Identification ORs the configured fields and takes the lowest pk (authentik's `.first()`).
    assert.equal(identifyUser(dir, 'alice', ['username'])?.pk, 10);
    assert.equal(identifyUser(dir, 'alice2', ['email', 'username'])?.pk, 3);
    assert.equal(identifyUser(dir, 'shared@example.com', ['username', 'email'])?.pk, 3);
    assert.equal(identifyUser(dir, 'shared@corp.example', ['username', 'email'])?.pk, undefined);
    assert.equal(identifyUser(dir, 'shared@corp.example', ['upn'])?.pk, 4);
  });

  test('certificates: files relative to the directory, or generated through resolveCertificate', async () => {
    const seen: CertificateSpec[] = [];
    const dir = await buildDirectory(
      {
        version: 1,
        certificates: [
          { name: 'from-files', certificate_file: 'a.crt', key_file: 'a.key' },
          { name: 'generated', subject_alt_names: ['ldap.example'] },
        ],
        providers: [{ type: 'ldap', name: 'ldap', certificate: 'from-files' }],
      },
      opts({
        resolveCertificate: (spec) => {
          seen.push(spec);
          return Promise.resolve(certB);
        },
      }),
    );
    const cert = [...dir.certificates.values()].find((c) => c.name === 'from-files');
    assert.ok(cert);
    assert.match(cert.fingerprintSha256, /^([0-9a-f]{2}:){31}[0-9a-f]{2}$/);
    assert.match(cert.fingerprintSha1, /^([0-9a-f]{2}:){19}[0-9a-f]{2}$/);
    assert.equal(cert.subject, 'CN=ldap.test,O=test');
    assert.ok(cert.notAfter.getTime() > Date.now());
    assert.equal(cert.certificatePem, certA.certificatePem);
    assert.equal(dir.providers.get(1)?.certificate, cert.uuid);
    assert.equal(seen.length, 1);
    assert.equal(seen[0]?.name, 'generated');
    assert.deepEqual(seen[0]?.subject_alt_names, ['ldap.example']);
    assert.match(seen[0]?.uuid ?? '', /^[0-9a-f-]{36}$/);
  });

  test('file:// secrets are read relative to the directory', async () => {
    writeFileSync(join(workDir, 'token.txt'), 'token-from-file\n');
    const f = base();
    f.outposts[0].token = 'file://token.txt';
    const dir = await buildDirectory(f, opts());
    assert.equal([...dir.outposts.values()][0]?.token, 'token-from-file');
  });
});

describe('directory loader: reloads', () => {
  test('keeps admin-created outposts, device state and a generated admin token', async () => {
    const f1 = base();
    f1.users[0].totp = [{ secret: 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ' }];
    f1.users[0].static_tokens = ['one', 'two'];
    const first = await buildDirectory(f1, opts());
    const alice = first.userByUsername('alice')!;
    alice.totp[0]!.lastUsedStep = 123;
    alice.staticTokens[0]!.tokens.delete('one');
    first.putOutpost({
      uuid: '11111111-2222-4333-8444-555555555555',
      name: 'made-by-admin',
      type: 'ldap',
      providers: [1, 2, 77],
      token: 'admin-token',
      config: {},
      managed: null,
    });
    const f2 = base();
    f2.users[0].totp = [{ secret: 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ' }];
    f2.users[0].static_tokens = ['one', 'two', 'three'];
    f2.outposts = [{ name: 'o3', type: 'radius', providers: ['radius'], token: 'token-3' }];
    const second: Directory = await buildDirectory(f2, opts({ previous: first }));
    assert.deepEqual([...second.outposts.values()].map((o) => o.name).sort(), ['made-by-admin', 'o3']);
    assert.deepEqual(second.outposts.get('11111111-2222-4333-8444-555555555555')?.providers, [1]);
    const alice2 = second.userByUsername('alice')!;
    assert.equal(alice2.totp[0]?.lastUsedStep, 123);
    assert.deepEqual([...alice2.staticTokens[0]!.tokens].sort(), ['three', 'two']);
    assert.equal(second.settings.adminToken, first.settings.adminToken);
    // The admin-made outpost is not "from the file" in the new directory either.
    const third = await buildDirectory(base(), opts({ previous: second }));
    assert.deepEqual([...third.outposts.values()].map((o) => o.name).sort(), ['made-by-admin', 'o1']);
  });
});

describe('outpost service accounts', () => {
  const accountOf = (uuid: string): string => `ak-outpost-${uuid.replace(/-/g, '')}`;

  test('every outpost owns one (authentik\'s Outpost.user); the admin API adds, renames and removes them', async () => {
    const dir = await buildDirectory(base(), opts());
    const o1 = [...dir.outposts.values()][0]!;
    const account = dir.outpostUser(o1.uuid)!;
    assert.equal(account.username, accountOf(o1.uuid));
    assert.deepEqual(
      [account.pk, account.name, account.type, account.path, account.email, account.passwordHash, account.isActive, account.groups],
      [3, 'Outpost o1 Service-Account', 'internal_service_account', 'goauthentik.io/outposts', '', null, true, []],
    );
    assert.equal(dir.userByUsername(account.username), account);
    assert.equal(account.dateJoined.toDrf(), '2025-01-02T03:04:05Z');

    const revision = dir.revision;
    const uuid = '22222222-3333-4444-8555-666666666666';
    dir.putOutpost({ uuid, name: 'new', type: 'radius', providers: [], token: 't2', config: {}, managed: null });
    const added = dir.outpostUser(uuid)!;
    assert.equal(added.pk, 4);
    assert.ok(dir.revision > revision);
    const outpost = dir.outposts.get(uuid)!;
    outpost.name = 'renamed';
    dir.putOutpost(outpost);
    assert.equal(dir.userByUsername(accountOf(uuid))?.name, 'Outpost renamed Service-Account');
    dir.removeOutpost(uuid);
    assert.equal(dir.users.has(4), false);
    assert.equal(dir.userByUsername(accountOf(uuid)), undefined);
    assert.ok(dir instanceof EmbeddedDirectory);
    assert.equal(dir.userByUsernameFolded(accountOf(uuid).toUpperCase()), undefined);
  });

  test('a reload keeps the account\'s pk and dates; a file user of that name is taken over', async () => {
    const first = await buildDirectory(base(), opts());
    const o1 = [...first.outposts.values()][0]!;
    const before = first.outpostUser(o1.uuid)!;
    const f = base();
    f.users.push({ username: 'carol', pk: 10 });
    const second = await buildDirectory(f, opts({ previous: first, now: () => NOW.getTime() + 60_000 }));
    const after = second.outpostUser(o1.uuid)!;
    assert.deepEqual([after.pk, after.dateJoined.toDrf()], [before.pk, before.dateJoined.toDrf()]);
    // A file user taking the pk moves the account to a free one; its dates stay.
    f.users.push({ username: 'dave' });
    const third = await buildDirectory(f, opts({ previous: second, now: () => NOW.getTime() + 120_000 }));
    const moved = third.outpostUser(o1.uuid)!;
    assert.deepEqual([third.userByUsername('dave')?.pk, moved.pk, moved.dateJoined.toDrf()], [3, 11, before.dateJoined.toDrf()]);

    const g = base();
    g.users.push({ username: accountOf(o1.uuid), name: 'typed by hand', password: 'pbkdf2_sha256$1000$salt$' + 'A'.repeat(43) + '=', groups: ['staff'] });
    const fourth = await buildDirectory(g, opts());
    const taken = fourth.outpostUser(o1.uuid)!;
    assert.deepEqual([taken.pk, taken.name, taken.type, taken.passwordHash], [3, 'Outpost o1 Service-Account', 'internal_service_account', null]);
    assert.equal(fourth.users.size, 3);
  });
});

describe('loadDirectoryFile', () => {
  test('reads YAML and JSON; YAML errors name the file', async () => {
    const yamlPath = join(workDir, 'dir.yaml');
    writeFileSync(yamlPath, 'version: 1\nusers:\n  - username: alice\n    email: A@x.io\n');
    const fromYaml = await loadDirectoryFile(yamlPath, { resolveCertificate: noCert });
    assert.equal(fromYaml.userByEmail('a@X.io')?.username, 'alice');
    const jsonPath = join(workDir, 'dir.json');
    writeFileSync(jsonPath, JSON.stringify({ version: 1, groups: [{ name: 'g' }] }));
    const fromJson = await loadDirectoryFile(jsonPath, { resolveCertificate: noCert });
    assert.ok(fromJson.groupByName('g'));
    const jsonInYaml = join(workDir, 'json.yaml');
    writeFileSync(jsonInYaml, ' {"version": 1, "users": [{"username": "j"}]}');
    assert.ok((await loadDirectoryFile(jsonInYaml, { resolveCertificate: noCert })).userByUsername('j'));
    const flowMapping = join(workDir, 'flow.yaml');
    writeFileSync(flowMapping, '{version: 1, groups: [{name: g2}]}');
    assert.ok((await loadDirectoryFile(flowMapping, { resolveCertificate: noCert })).groupByName('g2'));
    const badPath = join(workDir, 'bad.yaml');
    writeFileSync(badPath, 'version: 1\nversion: 1\n');
    await assert.rejects(loadDirectoryFile(badPath, { resolveCertificate: noCert }), (err: unknown) => err instanceof DirectoryError && err.message.includes('bad.yaml'));
    await assert.rejects(loadDirectoryFile(join(workDir, 'missing.yaml'), { resolveCertificate: noCert }), DirectoryError);
  });

  test('the demo directory loads and its documented passwords and TOTP secret are right', async () => {
    const demo = new URL('../../../../examples/demo-directory.yaml', import.meta.url);
    const dir = await loadDirectoryFile(demo.pathname, { resolveCertificate: () => Promise.resolve(certA) });
    const text = readFileSync(demo, 'utf8');
    for (const name of ['akadmin', 'alice', 'bob', 'carol', 'dave', 'erin']) {
      const user = dir.userByUsername(name);
      assert.ok(user, name);
      assert.match(text, new RegExp(`${name}\\s+/ ${name}-demo`));
      assert.equal(await verifyPassword(`${name}-demo`, user.passwordHash), true, name);
    }
    assert.equal(dir.userByUsername('dave')?.isActive, false);
    const carol = dir.userByUsername('carol')!;
    assert.deepEqual(carol.totp[0]?.secret, base32Decode('OR6SOUV3AXCTZ3PRN5YNOGCLECOJD6WI'));
    const names = (pk: number): string[] => [...dir.effectiveGroups(pk)].map((g) => dir.groups.get(g)!.name).sort();
    assert.deepEqual(names(dir.userByUsername('bob')!.pk), ['engineering', 'ops', 'staff']);
    assert.deepEqual(names(dir.userByUsername('erin')!.pk), ['contractors']);
    const radius = [...dir.providers.values()].find((p) => p.type === 'radius');
    assert.ok(radius?.type === 'radius');
    assert.equal(radius.sharedSecret, 'testing123');
    assert.equal(radius.propertyMappings[0]?.attributes.length, 3);
    const ldap = [...dir.providers.values()].find((p) => p.type === 'ldap');
    assert.ok(ldap?.type === 'ldap' && ldap.searchMode === 'cached' && ldap.bindMode === 'cached' && ldap.certificate !== null);
    assert.deepEqual([...dir.outposts.values()].map((o) => o.name).sort(), ['ldap-demo', 'radius-demo']);
  });
});
