/**
 * Certificate choice on LDAPS and StartTLS, seen by openssl s_client: the provider whose tls_server_name equals
 * the client's SNI presents its own certificate; any other name (or none) gets the generated default when the
 * providers hold two different certificates, and the one certificate when they all share it. A certificate from
 * the core gets the same TLS policy as the generated default (TLS >= 1.2, X25519/P-256/P-384).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { DirectoryFile } from '../../src/embedded-core/directory/types.js';
import { run } from '../helpers/cli.js';
import { testDirectory } from '../helpers/directories.js';
import { startStack, type Stack } from '../helpers/stack.js';

type ProviderEntry = NonNullable<DirectoryFile['providers']>[number];

async function twoCertificateDirectory(): Promise<DirectoryFile> {
  const directory = await testDirectory();
  const ldap = directory.providers!.find((p) => p.name === 'ldap');
  assert.ok(ldap?.type === 'ldap');
  const main: ProviderEntry = { ...ldap, name: 'main', base_dn: 'DC=main,DC=test', certificate: 'main-cert', tls_server_name: 'main.test.local' };
  const apps: ProviderEntry = { ...ldap, name: 'apps', base_dn: 'DC=apps,DC=test', certificate: 'apps-cert', tls_server_name: 'Apps.Test.Local' };
  directory.providers = [main, apps, ...directory.providers!.filter((p) => p.type !== 'ldap')];
  directory.certificates = [
    { name: 'main-cert', subject_alt_names: ['main.test.local'] },
    { name: 'apps-cert', subject_alt_names: ['apps.test.local'] },
    ...directory.certificates!.filter((c) => c.name !== 'ldap-test'),
  ];
  directory.applications = [
    { slug: 'main', name: 'Main', provider: 'main', allowed_groups: ['staff', 'admins'] },
    { slug: 'apps', name: 'Apps', provider: 'apps', allowed_groups: ['staff', 'admins'] },
    ...directory.applications!.filter((a) => a.provider !== 'ldap'),
  ];
  for (const outpost of directory.outposts ?? []) if (outpost.type === 'ldap') outpost.providers = ['main', 'apps'];
  return directory;
}

/** The DNS names of the certificate the server presents (openssl s_client piped into openssl x509). */
async function presentedNames(port: number, options: { servername?: string; starttls?: boolean }): Promise<string[]> {
  const args = [
    's_client',
    '-connect',
    `127.0.0.1:${port}`,
    ...(options.servername !== undefined ? ['-servername', options.servername] : ['-noservername']),
    ...(options.starttls === true ? ['-starttls', 'ldap'] : []),
    '-showcerts',
  ];
  const r = await run('bash', ['-c', `openssl ${args.join(' ')} </dev/null 2>/dev/null | openssl x509 -noout -ext subjectAltName`]);
  assert.equal(r.code, 0, `${args.join(' ')}\n${r.stdout}\n${r.stderr}`);
  return [...r.stdout.matchAll(/DNS:([^,\s]+)/g)].map((m) => m[1]!.toLowerCase()).sort();
}

/** Whether a TLS handshake with these s_client options completes (s_client exits 0 only then). */
async function handshakes(port: number, servername: string | undefined, options: readonly string[]): Promise<boolean> {
  const args = ['s_client', '-connect', `127.0.0.1:${port}`, ...(servername !== undefined ? ['-servername', servername] : ['-noservername']), ...options];
  const r = await run('bash', ['-c', `openssl ${args.join(' ')} </dev/null >/dev/null 2>&1`]);
  return r.code === 0;
}

/** TLS 1.2 and 1.3 with X25519 work; TLS 1.1 and groups outside X25519/P-256/P-384 are refused. */
async function assertTlsPolicy(port: number, servername: string | undefined): Promise<void> {
  assert.equal(await handshakes(port, servername, ['-tls1_2']), true);
  assert.equal(await handshakes(port, servername, ['-tls1_3', '-groups', 'X25519']), true);
  // SECLEVEL=0 lets this client offer TLS 1.1 at all (OpenSSL 3 refuses it at level 1 and up).
  assert.equal(await handshakes(port, servername, ['-tls1_1', '-cipher', 'DEFAULT@SECLEVEL=0']), false);
  assert.equal(await handshakes(port, servername, ['-tls1_3', '-groups', 'P-521']), false);
  assert.equal(await handshakes(port, servername, ['-tls1_3', '-groups', 'X448']), false);
}

describe('TLS certificate per provider by SNI', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ directory: await twoCertificateDirectory() });
  });
  after(async () => {
    await stack.stop();
  });

  for (const mode of ['ldaps', 'starttls'] as const) {
    test(`${mode}: SNI matching tls_server_name (any case) picks that provider's certificate`, async () => {
      const port = mode === 'ldaps' ? stack.ldapsPort : stack.ldapPort;
      const starttls = mode === 'starttls';
      // Generated certificates also name localhost and this host.
      const main = await presentedNames(port, { servername: 'main.test.local', starttls });
      assert.ok(main.includes('main.test.local') && !main.includes('apps.test.local'), main.join(','));
      const apps = await presentedNames(port, { servername: 'APPS.test.local', starttls });
      assert.ok(apps.includes('apps.test.local') && !apps.includes('main.test.local'), apps.join(','));
    });

    test(`${mode}: another name, or none, gets the generated default (two providers, two certificates)`, async () => {
      const port = mode === 'ldaps' ? stack.ldapsPort : stack.ldapPort;
      const starttls = mode === 'starttls';
      for (const servername of ['other.test.local', undefined]) {
        const names = await presentedNames(port, { starttls, ...(servername !== undefined ? { servername } : {}) });
        assert.ok(!names.includes('main.test.local') && !names.includes('apps.test.local'), `${servername}: ${names.join(',')}`);
      }
    });
  }

  test('ldaps: the generated default and a certificate picked by SNI get the LDAP TLS policy', async () => {
    await assertTlsPolicy(stack.ldapsPort, undefined);
    await assertTlsPolicy(stack.ldapsPort, 'main.test.local');
  });
});

describe('TLS policy of a certificate from the core', () => {
  let stack: Stack;
  before(async () => {
    // One provider with one certificate: every handshake starts on the core's certificate, not on the default.
    stack = await startStack({ directory: await testDirectory() });
  });
  after(async () => {
    await stack.stop();
  });

  test('ldaps: the same policy as the generated default', async () => {
    assert.ok((await presentedNames(stack.ldapsPort, {})).includes('ldap.test.local'));
    await assertTlsPolicy(stack.ldapsPort, undefined);
  });
});
