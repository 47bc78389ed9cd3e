import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CoreError } from '../../src/errors.js';
import {
  clampRefreshInterval,
  normalizeGroup,
  normalizeLdapAccess,
  normalizeLdapProvider,
  normalizeOutpost,
  normalizePage,
  normalizeRadiusAccess,
  normalizeRadiusProvider,
  normalizeRootConfig,
  normalizeSessionUser,
  normalizeUser,
} from '../../src/core-api/normalize.js';

/** What openapi-fetch hands the normalizers: the core's JSON, typed by the schema but unchecked. */
function wire(value: unknown) {
  return JSON.parse(JSON.stringify(value));
}

const isUnexpected = (err: unknown): boolean => err instanceof CoreError && err.kind === 'unexpected_response';

const ldap2026 = {
  pk: 1,
  name: 'ldap',
  base_dn: 'DC=ldap,DC=goauthentik,DC=io',
  bind_flow_slug: 'default-authentication-flow',
  unbind_flow_slug: 'default-invalidation-flow',
  application_slug: 'ldap-app',
  certificate: null,
  tls_server_name: '',
  uid_start_number: 2000,
  gid_start_number: 4000,
  search_mode: 'cached',
  bind_mode: 'direct',
  mfa_support: false,
};

describe('outpost', () => {
  test('2026: refresh_interval_s read and clamped; log level from config', () => {
    const n = normalizeOutpost(wire({ pk: 'u', name: 'o', type: 'ldap', providers: [1, 2], refresh_interval_s: 10, config: { log_level: 'debug' }, managed: null, future_field: 1 }));
    assert.equal(n.generation, '2026.2');
    assert.deepEqual(n.info, { pk: 'u', name: 'o', type: 'ldap', providers: [1, 2], refreshIntervalS: 30, logLevel: 'debug', managed: null });
  });

  test('2023.10: no refresh_interval_s -> 300 s and generation 2023.10', () => {
    const n = normalizeOutpost(wire({ pk: 'u', name: 'o', type: 'radius', providers: null, config: null, managed: 'goauthentik.io/outposts/embedded' }));
    assert.equal(n.generation, '2023.10');
    assert.equal(n.info.refreshIntervalS, 300);
    assert.deepEqual(n.info.providers, []);
    assert.equal(n.info.logLevel, undefined);
    assert.equal(n.info.managed, 'goauthentik.io/outposts/embedded');
  });

  test('clamp: <=0 -> 300, <30 -> 30, else as is', () => {
    assert.equal(clampRefreshInterval(0), 300);
    assert.equal(clampRefreshInterval(-5), 300);
    assert.equal(clampRefreshInterval(1), 30);
    assert.equal(clampRefreshInterval(30), 30);
    assert.equal(clampRefreshInterval(3600), 3600);
  });

  test('missing pk or wrong-typed interval rejects', () => {
    assert.throws(() => normalizeOutpost(wire({ name: 'o', type: 'ldap' })), isUnexpected);
    assert.throws(() => normalizeOutpost(wire({ pk: 'u', name: 'o', type: 'ldap', refresh_interval_s: '300' })), isUnexpected);
    assert.throws(() => normalizeOutpost(wire([])), isUnexpected);
  });

  test('root config: cache_timeout_flows, default when absent', () => {
    assert.equal(normalizeRootConfig(wire({ cache_timeout_flows: 60, extra: true })).cacheTimeoutFlows, 60);
    assert.equal(normalizeRootConfig(wire({})).cacheTimeoutFlows, 300);
    assert.throws(() => normalizeRootConfig(wire({ cache_timeout_flows: 'x' })), isUnexpected);
  });
});

describe('providers', () => {
  test('ldap 2026', () => {
    const n = normalizeLdapProvider(wire({ ...ldap2026, unknown: { nested: true } }));
    assert.equal(n.generation, '2026.2');
    assert.deepEqual(n.config, {
      pk: 1,
      name: 'ldap',
      baseDn: 'DC=ldap,DC=goauthentik,DC=io',
      bindFlowSlug: 'default-authentication-flow',
      unbindFlowSlug: 'default-invalidation-flow',
      applicationSlug: 'ldap-app',
      certificate: null,
      tlsServerName: '',
      uidStartNumber: 2000,
      gidStartNumber: 4000,
      searchMode: 'cached',
      bindMode: 'direct',
      mfaSupport: false,
      searchGroup: null,
    });
  });

  test('ldap 2023.10: search_group key means 2023.10; defaults for absent optional fields', () => {
    const { unbind_flow_slug: _u, tls_server_name: _t, search_mode: _s, bind_mode: _b, mfa_support: _m, uid_start_number: _n, ...rest } = ldap2026;
    const n = normalizeLdapProvider(wire({ ...rest, search_group: 'a1b2' }));
    assert.equal(n.generation, '2023.10');
    assert.equal(n.config.searchGroup, 'a1b2');
    assert.equal(n.config.unbindFlowSlug, null);
    assert.equal(n.config.searchMode, 'direct');
    assert.equal(n.config.bindMode, 'direct');
    assert.equal(n.config.mfaSupport, true);
    assert.equal(n.config.uidStartNumber, 2000);
    assert.equal(normalizeLdapProvider(wire({ ...ldap2026, search_group: null })).generation, '2023.10');
  });

  test('ldap: missing or wrong-typed fields we depend on reject', () => {
    for (const key of ['pk', 'base_dn', 'bind_flow_slug', 'application_slug']) {
      const broken: Record<string, unknown> = { ...ldap2026 };
      delete broken[key];
      assert.throws(() => normalizeLdapProvider(wire(broken)), isUnexpected, key);
    }
    assert.throws(() => normalizeLdapProvider(wire({ ...ldap2026, pk: '1' })), isUnexpected);
    assert.throws(() => normalizeLdapProvider(wire({ ...ldap2026, search_mode: 'fast' })), isUnexpected);
    assert.throws(() => normalizeLdapProvider(wire({ ...ldap2026, mfa_support: 'yes' })), isUnexpected);
  });

  test('radius', () => {
    const base = { pk: 3, name: 'wifi', application_slug: 'wifi', auth_flow_slug: 'default-authentication-flow', shared_secret: 's3cret' };
    const n = normalizeRadiusProvider(wire(base));
    assert.deepEqual(n, { pk: 3, name: 'wifi', applicationSlug: 'wifi', authFlowSlug: 'default-authentication-flow', clientNetworks: '0.0.0.0/0, ::/0', sharedSecret: 's3cret', mfaSupport: true, certificate: null });
    assert.equal(normalizeRadiusProvider(wire({ ...base, certificate: 'kp', client_networks: '10.0.0.0/8' })).certificate, 'kp');
    assert.throws(() => normalizeRadiusProvider(wire({ ...base, shared_secret: undefined })), isUnexpected);
    assert.throws(() => normalizeRadiusProvider(wire({ ...base, auth_flow_slug: null })), isUnexpected);
  });
});

describe('directory', () => {
  test('user: unknown fields ignored, null groups_obj/attributes read as empty', () => {
    const u = normalizeUser(wire({ pk: 5, username: 'alice', name: 'Alice', is_active: true, is_superuser: false, groups_obj: null, attributes: null, email: 'a@x', uid: 'abc', avatar: 'x', roles_obj: null, shiny: 1 }));
    assert.deepEqual(u.groups, []);
    assert.deepEqual(u.attributes, {});
    assert.equal(u.dateJoined, undefined);
    const v = normalizeUser(wire({
      pk: 6,
      username: 'bob',
      groups_obj: [{ pk: 'g1', num_pk: 1, name: 'admins', attributes: {} }],
      date_joined: '2024-01-01T00:00:00Z',
      last_updated: '2024-01-02T00:00:00Z',
      password_change_date: '2024-01-03T00:00:00Z',
    }));
    assert.deepEqual(v.groups, [{ pk: 'g1', name: 'admins' }]);
    assert.equal(v.name, '');
    assert.equal(v.isActive, true);
    assert.equal(v.passwordChangeDate, '2024-01-03T00:00:00Z');
    assert.throws(() => normalizeUser(wire({ pk: 7 })), isUnexpected);
    assert.throws(() => normalizeUser(wire({ username: 'x' })), isUnexpected);
    assert.throws(() => normalizeUser(wire({ pk: 7, username: 'x', groups_obj: {} })), isUnexpected);
    assert.throws(() => normalizeUser(wire({ pk: 7, username: 'x', groups_obj: [{ pk: 'g' }] })), isUnexpected);
  });

  test('group 2026: users_obj, parents_obj, children_obj; nulls and absence tolerated', () => {
    const g = normalizeGroup(wire({
      pk: 'g1',
      num_pk: 1234,
      name: 'admins',
      is_superuser: true,
      users_obj: [{ pk: 5, username: 'alice', name: 'Alice', uid: 'x' }],
      parents_obj: [{ pk: 'p', name: 'parent', group_uuid: 'p' }],
      children_obj: null,
      roles_obj: [],
    }));
    assert.deepEqual(g, { pk: 'g1', numPk: 1234, name: 'admins', isSuperuser: true, attributes: {}, users: [{ pk: 5, username: 'alice' }], parents: [{ pk: 'p', name: 'parent' }], children: [] });
    const bare = normalizeGroup(wire({ pk: 'g2', num_pk: 2, name: 'x', users_obj: null }));
    assert.deepEqual([bare.users, bare.parents, bare.children], [[], [], []]);
    assert.throws(() => normalizeGroup(wire({ pk: 'g', name: 'x' })), isUnexpected);
  });

  test('group 2023.10: single parent + parent_name', () => {
    const g = normalizeGroup(wire({ pk: 'g', num_pk: 1, name: 'child', parent: 'p1', parent_name: 'top', users_obj: [] }));
    assert.deepEqual(g.parents, [{ pk: 'p1', name: 'top' }]);
    assert.deepEqual(normalizeGroup(wire({ pk: 'g', num_pk: 1, name: 'x', parent: null, parent_name: null })).parents, []);
  });

  test('page envelope', () => {
    assert.deepEqual(normalizePage(wire({ pagination: { next: 2 }, results: [1] }), 'x'), { results: [1], next: 2 });
    assert.deepEqual(normalizePage(wire({ pagination: { next: 0 }, results: [] }), 'x').next, 0);
    assert.throws(() => normalizePage(wire({ pagination: { next: 0 } }), 'x'), isUnexpected);
    assert.throws(() => normalizePage(wire({ pagination: { next: '2' }, results: [] }), 'x'), isUnexpected);
  });
});

describe('session checks', () => {
  test('ldap and radius check_access read only what we need', () => {
    assert.deepEqual(normalizeLdapAccess({ has_search_permission: true, access: { passing: true, messages: ['m'], log_messages: [] } }), { passing: true, hasSearchPermission: true });
    assert.deepEqual(normalizeLdapAccess({ access: { passing: false } }), { passing: false, hasSearchPermission: false });
    assert.throws(() => normalizeLdapAccess({ has_search_permission: true }), isUnexpected);
    assert.deepEqual(normalizeRadiusAccess({ access: { passing: true }, attributes: 'AQ==' }), { passing: true, attributes: 'AQ==' });
    assert.deepEqual(normalizeRadiusAccess({ access: { passing: true }, attributes: null }), { passing: true, attributes: null });
    assert.throws(() => normalizeRadiusAccess({ access: { passing: 'yes' } }), isUnexpected);
  });

  test('users/me', () => {
    assert.deepEqual(normalizeSessionUser({ user: { pk: 1, username: 'a', groups: [{ pk: 'g', name: 'n' }], settings: {} } }), { pk: 1, username: 'a', groups: [{ pk: 'g', name: 'n' }] });
    assert.deepEqual(normalizeSessionUser({ user: { pk: 1, username: 'a', groups: null } }).groups, []);
    assert.throws(() => normalizeSessionUser({ user: null }), isUnexpected);
    assert.throws(() => normalizeSessionUser({ user: { username: 'a' } }), isUnexpected);
  });
});
