/**
 * The embedded core's read API, for both generations: authentication answers, outpost/provider configs,
 * users/groups filters and pagination, check_access, certificates. Every response is validated against the
 * generation's OpenAPI schema by the harness.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import type { Generation } from '../../../src/embedded-core/model.js';
import { ADMIN_TOKEN, LDAP_OUTPOST, LDAP_TOKEN, login, RADIUS_OUTPOST, RADIUS_TOKEN, startHarness } from './harness.js';
import type { Harness } from './harness.js';
import { schemaErrors } from '../../helpers/openapi-validate.js';

const GENERATIONS: Generation[] = ['2026.2', '2023.10'];
const LDAP_ACCOUNT = `ak-outpost-${LDAP_OUTPOST.replace(/-/g, '')}`;
const RADIUS_ACCOUNT = `ak-outpost-${RADIUS_OUTPOST.replace(/-/g, '')}`;

for (const generation of GENERATIONS) {
  describe(`embedded core REST API (${generation})`, () => {
    let h: Harness;
    const cookies: Record<string, string> = {};
    const notFound = (model: string): string => (generation === '2023.10' ? 'Not found.' : `No ${model} matches the given query.`);
    before(async () => {
      h = await startHarness(generation);
      for (const user of ['alice', 'bob', 'carol']) cookies[user] = await login(h, user, `${user}-pw`);
    });
    after(() => h.close());

    test('authentication answers like authentik', async () => {
      let r = await h.call('GET', '/api/v3/outposts/instances/');
      assert.equal(r.status, 403);
      assert.deepEqual(r.body, { detail: 'Authentication credentials were not provided.' });
      r = await h.call('GET', '/api/v3/outposts/instances/', { token: 'wrong' });
      assert.deepEqual([r.status, r.body], [403, { detail: 'Token invalid/expired' }]);
      r = await h.call('GET', '/api/v3/core/users/me/', { headers: { authorization: 'Bearer' } });
      assert.deepEqual([r.status, r.body], [403, { detail: 'Malformed header' }]);
      // A bad bearer token fails even next to a valid session.
      r = await h.call('GET', '/api/v3/core/users/me/', { token: 'wrong', cookie: cookies.alice ?? '' });
      assert.equal(r.status, 403);
      // The root config is open (authentik: AllowAny).
      r = await h.call('GET', '/api/v3/root/config/');
      assert.equal(r.status, 200);
      assert.equal(r.body.cache_timeout_flows, 300);
      assert.equal('cache_timeout_reputation' in r.body, generation === '2023.10');
    });

    test('an outpost token sees only its own outpost', async () => {
      const r = await h.call('GET', '/api/v3/outposts/instances/', { token: RADIUS_TOKEN });
      assert.equal(r.status, 200);
      assert.equal(r.body.results.length, 1);
      const outpost = r.body.results[0];
      assert.equal(outpost.pk, RADIUS_OUTPOST);
      assert.equal(outpost.token_identifier, `ak-outpost-${RADIUS_OUTPOST}-api`);
      assert.deepEqual(outpost.providers, [2]);
      assert.equal(outpost.providers_obj[0].assigned_application_slug, 'wifi');
      if (generation === '2026.2') assert.equal(outpost.refresh_interval_s, 150);
      else assert.equal('refresh_interval_s' in outpost, false);
      assert.equal('autocomplete' in r.body, generation === '2026.2');
      const other = await h.call('GET', `/api/v3/outposts/instances/${LDAP_OUTPOST}/`, { token: RADIUS_TOKEN });
      assert.deepEqual([other.status, other.body], [404, { detail: notFound('Outpost') }]);
      const all = await h.call('GET', '/api/v3/outposts/instances/', { token: ADMIN_TOKEN });
      assert.deepEqual(all.body.results.map((o: { name: string }) => o.name), ['ldap-outpost', 'radius-outpost']);
    });

    test('provider configs: only attached providers of the caller, fields per generation', async () => {
      const ldap = await h.call('GET', '/api/v3/outposts/ldap/?page=1&page_size=100', { token: LDAP_TOKEN });
      assert.equal(ldap.body.results.length, 1);
      const cfg = ldap.body.results[0];
      assert.deepEqual(
        [cfg.pk, cfg.base_dn, cfg.bind_flow_slug, cfg.application_slug, cfg.search_mode, cfg.bind_mode, cfg.mfa_support],
        [1, 'dc=example,dc=com', 'default-authentication-flow', 'ldap-app', 'direct', 'direct', true],
      );
      assert.match(cfg.certificate, /^[0-9a-f-]{36}$/);
      if (generation === '2026.2') {
        assert.equal(cfg.unbind_flow_slug, 'default-invalidation-flow');
        assert.equal('search_group' in cfg, false);
      } else {
        const staff = (await h.call('GET', '/api/v3/core/groups/?name=staff', { token: LDAP_TOKEN })).body.results[0];
        assert.equal(cfg.search_group, staff.pk);
        assert.equal('unbind_flow_slug' in cfg, false);
      }
      const none = await h.call('GET', '/api/v3/outposts/ldap/', { token: RADIUS_TOKEN });
      assert.equal(none.body.pagination.count, 0);
      const adminLdap = await h.call('GET', '/api/v3/outposts/ldap/', { token: ADMIN_TOKEN });
      assert.deepEqual(adminLdap.body.results.map((p: { name: string }) => p.name), ['ldap-main']);

      const radius = await h.call('GET', '/api/v3/outposts/radius/', { token: RADIUS_TOKEN });
      const wifi = radius.body.results[0];
      assert.deepEqual(
        [wifi.pk, wifi.name, wifi.application_slug, wifi.auth_flow_slug, wifi.shared_secret, wifi.client_networks],
        [2, 'wifi', 'wifi', 'default-authentication-flow', 'radius-shared-secret', '0.0.0.0/0, ::/0'],
      );
      assert.equal('certificate' in wifi, generation === '2026.2');
      const adminRadius = await h.call('GET', '/api/v3/outposts/radius/', { token: ADMIN_TOKEN });
      assert.deepEqual(adminRadius.body.results.map((p: { name: string }) => p.name), ['wifi', 'wifi-guest']);
    });

    test('users: ordering, pagination envelope, exact filters', async () => {
      // The outposts' service accounts (ak-outpost-<uuid hex>) are users too, first by username.
      const page1 = await h.call('GET', '/api/v3/core/users/?page_size=2', { token: LDAP_TOKEN });
      assert.deepEqual(page1.body.pagination, { next: 2, previous: 0, count: 7, current: 1, total_pages: 4, start_index: 1, end_index: 2 });
      assert.deepEqual(page1.body.results.map((u: { username: string }) => u.username), [LDAP_ACCOUNT, RADIUS_ACCOUNT]);
      const page4 = await h.call('GET', '/api/v3/core/users/?page_size=2&page=4', { token: LDAP_TOKEN });
      assert.deepEqual(page4.body.pagination, { next: 0, previous: 3, count: 7, current: 4, total_pages: 4, start_index: 7, end_index: 7 });
      assert.deepEqual(page4.body.results.map((u: { username: string }) => u.username), ['erin']);
      const beyond = await h.call('GET', '/api/v3/core/users/?page_size=2&page=5', { token: LDAP_TOKEN });
      assert.deepEqual([beyond.status, beyond.body], [404, { detail: 'Invalid page.' }]);

      const names = async (query: string): Promise<string[]> => {
        const r = await h.call('GET', `/api/v3/core/users/?${query}`, { token: LDAP_TOKEN });
        assert.equal(r.status, 200, JSON.stringify(r.body));
        return r.body.results.map((u: { username: string }) => u.username);
      };
      assert.deepEqual(await names('username=alice'), ['alice']);
      assert.deepEqual(await names('username=ALICE'), []);
      assert.deepEqual(await names('name=Bob%20Baker'), ['bob']);
      assert.deepEqual(await names('email=carol%40example.com'), ['carol']);
      assert.deepEqual(await names('groups_by_name=staff'), ['alice', 'dave', 'erin']);
      assert.deepEqual(await names('groups_by_name=staff&groups_by_name=ops'), ['alice', 'bob', 'dave', 'erin']);
      assert.deepEqual(await names('groups_by_name=staff&username=dave'), ['dave']);
      assert.deepEqual(await names('is_active=false'), ['dave']);
      assert.deepEqual(await names('ordering=-username&page_size=2'), ['erin', 'dave']);

      const empty = await h.call('GET', '/api/v3/core/users/?username=nobody', { token: LDAP_TOKEN });
      assert.deepEqual(empty.body.pagination, { next: 0, previous: 0, count: 0, current: 1, total_pages: 1, start_index: 0, end_index: 0 });
    });

    test("users: each outpost's service account, owner of its token", async () => {
      const listed = await h.call('GET', `/api/v3/core/users/?username=${LDAP_ACCOUNT}`, { token: LDAP_TOKEN });
      const account = listed.body.results[0];
      assert.equal(account.name, 'Outpost ldap-outpost Service-Account');
      assert.equal(account.type, 'internal_service_account');
      assert.equal(account.path, 'goauthentik.io/outposts');
      assert.deepEqual([account.email, account.is_active, account.is_superuser, account.groups], ['', true, false, []]);
      assert.equal(account.pk, 15, 'the next pk after the file users');
      const me = await h.call('GET', '/api/v3/core/users/me/', { token: LDAP_TOKEN });
      assert.deepEqual([me.body.user.pk, me.body.user.username, me.body.user.type], [15, LDAP_ACCOUNT, 'internal_service_account']);
    });

    test('users: an unknown groups_by_name is a 400, as in authentik', async () => {
      const r = await h.call('GET', '/api/v3/core/users/?groups_by_name=staff&groups_by_name=nope', { token: LDAP_TOKEN });
      assert.equal(r.status, 400);
      assert.deepEqual(r.body, { groups_by_name: ['Select a valid choice. nope is not one of the available choices.'] });
    });

    test('users: serialization details', async () => {
      const r = await h.call('GET', '/api/v3/core/users/14/', { token: LDAP_TOKEN });
      assert.equal(r.body.username, 'erin');
      assert.equal(r.body.is_superuser, true, 'superuser through the admins group');
      assert.equal(r.body.groups_obj.length, 2);
      const alice = await h.call('GET', '/api/v3/core/users/10/', { token: LDAP_TOKEN });
      if (generation === '2026.2') {
        assert.equal(r.body.date_joined, '2024-05-06T07:08:09.123456Z', "microseconds, as Django's DateTimeField writes them");
        // Load-time dates come from a microsecond clock (no fraction only when it is exactly zero).
        assert.match(alice.body.last_updated, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z$/);
      }
      assert.match(alice.body.uid, /^[0-9a-f]{64}$/);
      if (generation === '2026.2') {
        const lean = await h.call('GET', '/api/v3/core/users/?username=alice&include_groups=false', { token: LDAP_TOKEN });
        assert.equal(lean.body.results[0].groups_obj, null);
        assert.equal(lean.body.results[0].groups.length, 1);
        assert.match(alice.body.password_change_date, /Z$/);
      } else {
        assert.equal('password_change_date' in alice.body, false);
        assert.equal(alice.body.groups_obj[0].name, 'staff');
        assert.equal('parent_name' in alice.body.groups_obj[0], false, 'DRF skips parent.name without a parent');
      }
      const missing = await h.call('GET', '/api/v3/core/users/999/', { token: LDAP_TOKEN });
      assert.deepEqual([missing.status, missing.body], [404, { detail: notFound('User') }]);
      // A plain session user has no view permission on users.
      const asUser = await h.call('GET', '/api/v3/core/users/', { cookie: cookies.alice ?? '' });
      assert.equal(asUser.body.pagination.count, 0);
    });

    test('groups: member filters, 400 for unknown members, include flags', async () => {
      const names = async (query: string): Promise<string[]> => {
        const r = await h.call('GET', `/api/v3/core/groups/?${query}`, { token: LDAP_TOKEN });
        assert.equal(r.status, 200, JSON.stringify(r.body));
        return r.body.results.map((g: { name: string }) => g.name);
      };
      assert.deepEqual(await names(''), ['admins', 'ops', 'searchers', 'staff']);
      assert.deepEqual(await names('members_by_username=bob'), ['ops']);
      assert.deepEqual(await names('members_by_pk=10'), ['staff']);
      assert.deepEqual(await names('members_by_username=alice&members_by_username=carol'), ['searchers', 'staff']);
      assert.deepEqual(await names('name=ops'), ['ops']);
      const bad = await h.call('GET', '/api/v3/core/groups/?members_by_username=nobody', { token: LDAP_TOKEN });
      assert.deepEqual([bad.status, bad.body], [400, { members_by_username: ['Select a valid choice. nobody is not one of the available choices.'] }]);
      const badPk = await h.call('GET', '/api/v3/core/groups/?members_by_pk=999', { token: LDAP_TOKEN });
      assert.deepEqual([badPk.status, badPk.body], [400, { members_by_pk: ['Select a valid choice. 999 is not one of the available choices.'] }]);

      const staff = (await h.call('GET', '/api/v3/core/groups/?name=staff&include_children=true&include_parents=true', { token: LDAP_TOKEN })).body.results[0];
      const ops = (await h.call('GET', '/api/v3/core/groups/?name=ops&include_users=false', { token: LDAP_TOKEN })).body.results[0];
      assert.deepEqual(staff.users, [10, 13, 14]);
      assert.equal(staff.attributes.floor, 3);
      if (generation === '2026.2') {
        assert.deepEqual(staff.children, [ops.pk]);
        assert.deepEqual(staff.children_obj.map((g: { name: string }) => g.name), ['ops']);
        assert.deepEqual(staff.parents_obj, []);
        assert.deepEqual(ops.parents, [staff.pk]);
        assert.equal(ops.users_obj, null);
        assert.equal(ops.children_obj, null);
      } else {
        assert.equal(ops.parent, staff.pk);
        assert.equal(ops.parent_name, 'staff');
        assert.equal(ops.users_obj.length, 1, '2023.10 always includes users');
      }
      const one = await h.call('GET', `/api/v3/core/groups/${staff.pk}/`, { token: LDAP_TOKEN });
      assert.equal(one.body.name, 'staff');
    });

    test('users/me: the session user, or the token service account', async () => {
      const me = await h.call('GET', '/api/v3/core/users/me/', { cookie: cookies.bob ?? '' });
      assert.equal(me.status, 200);
      assert.equal(me.body.user.pk, 11);
      assert.deepEqual(me.body.user.groups.map((g: { name: string }) => g.name), ['ops']);
      const svc = await h.call('GET', '/api/v3/core/users/me/', { token: LDAP_TOKEN });
      assert.equal(svc.body.user.type, 'internal_service_account');
      assert.equal(svc.body.user.username, `ak-outpost-${LDAP_OUTPOST.replace(/-/g, '')}`);
      const anon = await h.call('GET', '/api/v3/core/users/me/', { cookie: 'not-a-session' });
      assert.equal(anon.status, 403);
    });

    if (generation === '2026.2') {
      test('LDAP check_access: policy and search permission', async () => {
        const check = async (user: string): Promise<{ has_search_permission: boolean; access: { passing: boolean } }> => {
          const r = await h.call('GET', '/api/v3/outposts/ldap/1/check_access/?app_slug=ldap-app', {
            cookie: cookies[user] ?? '',
            headers: { 'x-authentik-outpost-token': LDAP_TOKEN },
          });
          assert.equal(r.status, 200);
          assert.deepEqual(r.body.access.messages, []);
          return r.body;
        };
        const alice = await check('alice');
        assert.deepEqual([alice.access.passing, alice.has_search_permission], [true, true], 'provider-granted');
        const bob = await check('bob');
        assert.deepEqual([bob.access.passing, bob.has_search_permission], [true, false]);
        const carol = await check('carol');
        assert.deepEqual([carol.access.passing, carol.has_search_permission], [true, true], 'group-granted');
        const anon = await h.call('GET', '/api/v3/outposts/ldap/1/check_access/?app_slug=ldap-app');
        assert.deepEqual([anon.status, anon.body], [403, { detail: 'Authentication credentials were not provided.' }]);
        const noProvider = await h.call('GET', '/api/v3/outposts/ldap/2/check_access/?app_slug=ldap-app', { cookie: cookies.alice ?? '' });
        assert.deepEqual([noProvider.status, noProvider.body], [404, { detail: 'No LDAPProvider matches the given query.' }]);
        const noApp = await h.call('GET', '/api/v3/outposts/ldap/1/check_access/?app_slug=nope', { cookie: cookies.alice ?? '' });
        assert.equal(noApp.status, 404);
      });

      test('RADIUS check_access: policy and attributes from property mappings', async () => {
        const check = async (user: string): Promise<{ attributes: string | null; access: { passing: boolean } }> => {
          const r = await h.call('GET', '/api/v3/outposts/radius/2/check_access/?app_slug=wifi', { cookie: cookies[user] ?? '' });
          assert.equal(r.status, 200);
          return r.body;
        };
        const bob = await check('bob');
        assert.equal(bob.access.passing, true, 'effective membership: ops is a child of staff');
        const packet = Buffer.from(bob.attributes ?? '', 'base64');
        assert.equal(packet[0], 1, 'an Access-Request');
        assert.equal(packet.readUInt16BE(2), packet.length);
        assert.equal(packet.subarray(20).toString('hex'), '1b0600000e10' + '40060100000d' + '5104010d', 'mappings in name order');
        const alice = await check('alice');
        assert.equal(Buffer.from(alice.attributes ?? '', 'base64').subarray(20).toString('hex'), '1b0600000e10', 'b-vlan is for ops only');
        const carol = await check('carol');
        assert.deepEqual([carol.access.passing, carol.attributes], [false, null]);
        const guest = await h.call('GET', '/api/v3/outposts/radius/4/check_access/?app_slug=wifi-guest', { cookie: cookies.carol ?? '' });
        assert.equal(guest.body.access.passing, true, 'allowed_users');
        assert.equal(Buffer.from(guest.body.attributes, 'base64').length, 20, 'no mappings: a bare header');
      });
    } else {
      test('2023.10 has no outpost check_access paths; applications/<slug>/check_access/ instead', async () => {
        const missing = await fetch(new URL('api/v3/outposts/ldap/1/check_access/?app_slug=ldap-app', h.core.url), {
          headers: { cookie: `authentik_session=${cookies.alice ?? ''}` },
        });
        assert.equal(missing.status, 404);
        assert.deepEqual(schemaErrors(generation, 'GenericError', await missing.json()), []);
      });
    }

    test('applications/<slug>/check_access/ (PolicyTestResult)', async () => {
      const r = await h.call('GET', '/api/v3/core/applications/wifi/check_access/', { cookie: cookies.alice ?? '' });
      assert.deepEqual(r.body, { passing: true, messages: [], log_messages: [] });
      const carol = await h.call('GET', '/api/v3/core/applications/wifi/check_access/', { cookie: cookies.carol ?? '' });
      assert.equal(carol.body.passing, false);
      const forUser = await h.call('GET', '/api/v3/core/applications/wifi/check_access/?for_user=11', { token: ADMIN_TOKEN });
      assert.equal(forUser.body.passing, true);
      const noUser = await h.call('GET', '/api/v3/core/applications/wifi/check_access/?for_user=999', { token: ADMIN_TOKEN });
      assert.deepEqual([noUser.status, noUser.body], [400, { for_user: ['User not found'] }]);
      const noApp = await h.call('GET', '/api/v3/core/applications/nope/check_access/', { cookie: cookies.alice ?? '' });
      assert.equal(noApp.status, 404);
    });

    test("certificates: an outpost reads its providers' keypairs only", async () => {
      const outposts = await h.call('GET', '/api/v3/outposts/ldap/', { token: LDAP_TOKEN });
      const uuid = outposts.body.results[0].certificate as string;
      const kp = await h.call('GET', `/api/v3/crypto/certificatekeypairs/${uuid}/`, { token: LDAP_TOKEN });
      assert.equal(kp.status, 200);
      assert.equal(kp.body.name, 'ldap-cert');
      assert.equal(kp.body.private_key_available, true);
      assert.equal(generation === '2026.2' ? kp.body.key_type : kp.body.private_key_type, 'ec');
      const cert = await h.call('GET', `/api/v3/crypto/certificatekeypairs/${uuid}/view_certificate/`, { token: LDAP_TOKEN });
      const x509 = new X509Certificate(cert.body.data);
      assert.equal(x509.fingerprint256.toLowerCase(), kp.body.fingerprint_sha256);
      assert.ok(x509.checkHost('ldap.example.com'));
      assert.ok(x509.checkIssued(new X509Certificate(h.core.pki.caCertificatePem)));
      const key = await h.call('GET', `/api/v3/crypto/certificatekeypairs/${uuid}/view_private_key/`, { token: LDAP_TOKEN });
      assert.ok(x509.checkPrivateKey(createPrivateKey(key.body.data)));
      const download = await h.call('GET', `/api/v3/crypto/certificatekeypairs/${uuid}/view_certificate/?download`, { token: LDAP_TOKEN });
      assert.match(download.headers.get('content-disposition') ?? '', /attachment; filename="ldap-cert_certificate.pem"/);
      const denied = await h.call('GET', `/api/v3/crypto/certificatekeypairs/${uuid}/`, { token: RADIUS_TOKEN });
      assert.deepEqual([denied.status, denied.body], [404, { detail: notFound('CertificateKeyPair') }]);
    });

    test('X-authentik-remote-ip is honoured only with a valid outpost token', async () => {
      await login(h, 'alice', 'alice-pw', { outpostToken: LDAP_TOKEN, remoteIp: '10.1.2.3' });
      await login(h, 'bob', 'bob-pw', { outpostToken: 'not-an-outpost-token', remoteIp: '10.9.9.9' });
      const sessions = await h.call('GET', '/api/v3/ak-embedded/sessions/', { token: ADMIN_TOKEN });
      const ips = new Set(sessions.body.map((s: { last_ip: string }) => s.last_ip));
      assert.ok(ips.has('10.1.2.3'));
      assert.ok(!ips.has('10.9.9.9'));
    });

    test('method, media type, JSON and size errors', async () => {
      const post = await h.call('POST', '/api/v3/core/users/', { token: ADMIN_TOKEN, body: { username: 'x' } });
      assert.deepEqual([post.status, post.body], [405, { detail: 'Method "POST" not allowed.' }]);
      const url = new URL('api/v3/outposts/instances/', h.core.url);
      const headers = { authorization: `Bearer ${ADMIN_TOKEN}` };
      // Statuses authentik's schema does not list (415, 413, a 404 outside any path) still carry GenericError.
      const genericError = async (res: Response, status: number): Promise<string> => {
        assert.equal(res.status, status);
        const body = (await res.json()) as { detail: string };
        assert.deepEqual(schemaErrors(generation, 'GenericError', body), []);
        return body.detail;
      };
      const text = await fetch(url, { method: 'POST', headers: { ...headers, 'content-type': 'text/plain' }, body: 'x' });
      assert.equal(await genericError(text, 415), 'Unsupported media type "text/plain" in request.');
      const broken = await h.call('POST', '/api/v3/outposts/instances/', { token: ADMIN_TOKEN, body: undefined, headers: { 'content-type': 'application/json' } });
      assert.equal(broken.status, 400);
      assert.deepEqual(broken.body.name, ['This field is required.'], 'no body reads as an empty form');
      const badJson = await fetch(url, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: '{' });
      assert.match(await genericError(badJson, 400), /^JSON parse error/);
      const huge = await fetch(url, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: 'x'.repeat(1024 * 1024 + 1) });
      assert.equal(await genericError(huge, 413), 'Request body too large.');
      const unknown = await h.call('GET', '/api/v3/no/such/path/', { token: ADMIN_TOKEN }).catch((e: Error) => e);
      assert.ok(unknown instanceof Error, 'paths outside the schema are rejected by the harness');
      const raw = await fetch(new URL('api/v3/no/such/path/', h.core.url));
      assert.equal(await genericError(raw, 404), 'Not found.');
    });
  });
}
