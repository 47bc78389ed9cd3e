/**
 * Directory files for tests that run the embedded core. Passwords are `<username>-pw`; hashes use few PBKDF2
 * iterations so binds are quick. The TOTP secret is fixed so tests can compute codes.
 */
import { nameUuid } from '../../src/embedded-core/directory/ids.js';
import { hashPassword } from '../../src/embedded-core/directory/passwords.js';
import { outpostUsername } from '../../src/embedded-core/directory/store.js';
import type { DirectoryFile } from '../../src/embedded-core/directory/types.js';

export const BASE_DN = 'DC=ldap,DC=goauthentik,DC=io';
export const TOTP_SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
export const LDAP_OUTPOST_TOKEN = 'test-ldap-outpost-token-0123456789';
export const RADIUS_OUTPOST_TOKEN = 'test-radius-outpost-token-0123456789';
export const ADMIN_TOKEN = 'test-admin-token-0123456789';
export const RADIUS_SECRET = 'test-radius-secret';
/** The service accounts of testDirectory's outposts (ldap-test, radius-test): users in every listing. */
export const OUTPOST_ACCOUNTS = ['ldap-test', 'radius-test'].map((name) => outpostUsername(nameUuid('outpost', name)));

export interface TestDirectoryOptions {
  generation?: '2023.10' | '2026.2';
  searchMode?: 'direct' | 'cached';
  bindMode?: 'direct' | 'cached';
  mfaSupport?: boolean;
  /** Extra users appended as-is. */
  extraUsers?: NonNullable<DirectoryFile['users']>;
}

const hashes = new Map<string, string>();
async function hashOf(password: string): Promise<string> {
  let h = hashes.get(password);
  if (h === undefined) hashes.set(password, (h = await hashPassword(password, 10)));
  return h;
}

export async function testDirectory(options: TestDirectoryOptions = {}): Promise<DirectoryFile> {
  const generation = options.generation ?? '2026.2';
  const user = async (username: string, extra: Partial<NonNullable<DirectoryFile['users']>[number]> = {}) => ({
    username,
    name: `${username[0]!.toUpperCase()}${username.slice(1)} Tester`,
    email: `${username}@example.test`,
    password: await hashOf(`${username}-pw`),
    ...extra,
  });
  return {
    version: 1,
    core: { generation, admin_token: ADMIN_TOKEN, install_id: 'a4f1b0e2-0000-4000-8000-000000000001' },
    groups: [
      { name: 'admins', search_full_directory: generation === '2026.2' },
      { name: 'staff' },
      { name: 'engineering', parents: ['staff'], attributes: { gidNumber: '5100' } },
      { name: 'ops', parents: ['engineering'] },
      { name: 'contractors' },
    ],
    users: [
      await user('akadmin', { is_superuser: true, groups: ['admins', 'staff'], search_full_directory: generation === '2026.2' }),
      await user('alice', { groups: ['engineering'], attributes: { title: 'Engineer' } }),
      await user('bob', { groups: ['ops'] }),
      await user('carol', { groups: ['staff'], totp: [{ secret: TOTP_SECRET }], static_tokens: ['carol-static-1'] }),
      await user('dave', { groups: ['staff'], is_active: false }),
      await user('erin', { groups: ['contractors'] }),
      ...(options.extraUsers ?? []),
    ],
    providers: [
      {
        type: 'ldap',
        name: 'ldap',
        base_dn: BASE_DN,
        search_mode: options.searchMode ?? 'cached',
        bind_mode: options.bindMode ?? 'direct',
        mfa_support: options.mfaSupport ?? true,
        certificate: 'ldap-test',
        tls_server_name: 'ldap.test.local',
        ...(generation === '2023.10' ? { search_group: 'admins' } : {}),
      },
      { type: 'radius', name: 'radius', shared_secret: RADIUS_SECRET, certificate: 'radius-test' },
    ],
    certificates: [
      { name: 'ldap-test', subject_alt_names: ['localhost', 'ldap.test.local'] },
      { name: 'radius-test', subject_alt_names: ['radius.test.local'] },
    ],
    applications: [
      { slug: 'ldap', name: 'LDAP', provider: 'ldap', allowed_groups: ['staff', 'admins'] },
      { slug: 'radius', name: 'RADIUS', provider: 'radius', allowed_groups: ['staff', 'admins'] },
    ],
    outposts: [
      { name: 'ldap-test', type: 'ldap', providers: ['ldap'], token: LDAP_OUTPOST_TOKEN },
      { name: 'radius-test', type: 'radius', providers: ['radius'], token: RADIUS_OUTPOST_TOKEN },
    ],
  };
}
