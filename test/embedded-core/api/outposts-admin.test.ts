/**
 * The outpost management API, driven by authentik's own TypeScript client (both generations) as an independent
 * consumer (its responses schema-validated through validatingFetch), plus authentik's validation answers (raw, schema-validated by the harness), permissions, the token
 * read-back, and the pushes that changes cause.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as ak2026 from '@goauthentik/api-2026/dist/esm/index.js';
import * as ak2023 from '@goauthentik/api-2023';
import type { Generation } from '../../../src/embedded-core/model.js';
import { ADMIN_TOKEN, connectOutpost, LDAP_OUTPOST, LDAP_TOKEN, login, RADIUS_OUTPOST, RADIUS_TOKEN, sessionKeyOf, startHarness, validatingFetch } from './harness.js';
import type { Harness } from './harness.js';

interface ClientOutpost {
  pk: string;
  name: string;
  providers: number[];
  tokenIdentifier: string;
  config: Record<string, unknown>;
  refreshIntervalS?: number;
}

/** The calls this test makes, identical in both client generations. */
interface Clients {
  create(body: { name: string; type: 'ldap' | 'radius'; providers: number[]; config: Record<string, unknown> }): Promise<ClientOutpost>;
  update(uuid: string, body: { name: string; type: 'ldap' | 'radius'; providers: number[]; config: Record<string, unknown> }): Promise<ClientOutpost>;
  patchConfig(uuid: string, config: Record<string, unknown>): Promise<ClientOutpost>;
  list(): Promise<ClientOutpost[]>;
  health(uuid: string): Promise<Array<{ uid: string; version: string; hostname?: string }>>;
  defaults(): Promise<Record<string, unknown>>;
  destroy(uuid: string): Promise<void>;
  tokenKey(identifier: string): Promise<string>;
  ldapProviders(token: string): Promise<Array<{ pk: number; name: string }>>;
  usernames(groupName: string): Promise<string[]>;
}

type OutpostBody = Parameters<Clients['create']>[0];

/** authentik 2026.2's client: bearer token through `accessToken`. */
function clients2026(basePath: string): Clients {
  const config = (token: string): ak2026.Configuration => new ak2026.Configuration({ basePath, accessToken: token, fetchApi: validatingFetch('2026.2') });
  const outposts = new ak2026.OutpostsApi(config(ADMIN_TOKEN));
  const core = new ak2026.CoreApi(config(ADMIN_TOKEN));
  const request = (body: OutpostBody): ak2026.OutpostRequest => ({ ...body, type: body.type });
  return {
    create: async (body) => outposts.outpostsInstancesCreate({ outpostRequest: request(body) }),
    update: async (uuid, body) => outposts.outpostsInstancesUpdate({ uuid, outpostRequest: request(body) }),
    patchConfig: async (uuid, cfg) => outposts.outpostsInstancesPartialUpdate({ uuid, patchedOutpostRequest: { config: cfg } }),
    list: async () => (await outposts.outpostsInstancesList({})).results,
    health: async (uuid) => outposts.outpostsInstancesHealthList({ uuid }),
    defaults: async () => (await outposts.outpostsInstancesDefaultSettingsRetrieve()).config,
    destroy: async (uuid) => outposts.outpostsInstancesDestroy({ uuid }),
    tokenKey: async (identifier) => (await core.coreTokensViewKeyRetrieve({ identifier })).key,
    ldapProviders: async (token) => (await new ak2026.OutpostsApi(config(token)).outpostsLdapList({})).results,
    usernames: async (groupName) => (await core.coreUsersList({ groupsByName: [groupName] })).results.map((u) => u.username),
  };
}

/** authentik 2023.10's client: the whole Authorization header through `apiKey`. */
function clients2023(basePath: string): Clients {
  const config = (token: string): ak2023.Configuration => new ak2023.Configuration({ basePath, apiKey: `Bearer ${token}`, fetchApi: validatingFetch('2023.10') });
  const outposts = new ak2023.OutpostsApi(config(ADMIN_TOKEN));
  const core = new ak2023.CoreApi(config(ADMIN_TOKEN));
  const request = (body: OutpostBody): ak2023.OutpostRequest => ({ ...body, type: body.type });
  return {
    create: async (body) => outposts.outpostsInstancesCreate({ outpostRequest: request(body) }),
    update: async (uuid, body) => outposts.outpostsInstancesUpdate({ uuid, outpostRequest: request(body) }),
    patchConfig: async (uuid, cfg) => outposts.outpostsInstancesPartialUpdate({ uuid, patchedOutpostRequest: { config: cfg } }),
    list: async () => (await outposts.outpostsInstancesList({})).results,
    health: async (uuid) => outposts.outpostsInstancesHealthList({ uuid }),
    defaults: async () => (await outposts.outpostsInstancesDefaultSettingsRetrieve()).config,
    destroy: async (uuid) => outposts.outpostsInstancesDestroy({ uuid }),
    tokenKey: async (identifier) => (await core.coreTokensViewKeyRetrieve({ identifier })).key,
    ldapProviders: async (token) => (await new ak2023.OutpostsApi(config(token)).outpostsLdapList({})).results,
    usernames: async (groupName) => (await core.coreUsersList({ groupsByName: [groupName] })).results.map((u) => u.username),
  };
}

function clientsFor(generation: Generation, url: string): Clients {
  return generation === '2026.2' ? clients2026(`${url}api/v3`) : clients2023(`${url}api/v3`);
}

for (const generation of ['2026.2', '2023.10'] as const) {
  describe(`outpost management (${generation})`, () => {
    let h: Harness;
    let api: Clients;
    before(async () => {
      h = await startHarness(generation);
      api = clientsFor(generation, h.core.url);
    });
    after(() => h.close());

    test("create, read the token, PUT a provider (TRIGGER_UPDATE), PATCH, list, health, delete — with authentik's client", async () => {
      const created = await api.create({ name: 'ldap-two', type: 'ldap', providers: [1], config: { log_level: 'debug' } });
      assert.match(created.pk, /^[0-9a-f-]{36}$/);
      assert.equal(created.tokenIdentifier, `ak-outpost-${created.pk}-api`);
      assert.deepEqual(created.providers, [1]);

      const token = await api.tokenKey(created.tokenIdentifier);
      assert.ok(token.length >= 32);
      const seen = await h.call('GET', '/api/v3/outposts/instances/', { token });
      assert.deepEqual(seen.body.results.map((o: { pk: string }) => o.pk), [created.pk], 'the new token is that outpost’s service account');

      const socket = await connectOutpost(h, created.pk, token, '?instance_uuid=two-1');
      const bystander = await connectOutpost(h, LDAP_OUTPOST, LDAP_TOKEN);
      const updated = await api.update(created.pk, { name: 'ldap-two', type: 'ldap', providers: [1, 3], config: { log_level: 'debug' } });
      assert.deepEqual(updated.providers, [1, 3]);
      assert.deepEqual(await socket.next(), { instruction: 2, args: {} });
      assert.deepEqual((await api.ldapProviders(token)).map((p) => p.name), ['ldap-main'], 'ldap-unattached has no application');

      const patched = await api.patchConfig(created.pk, { log_level: 'info', refresh_interval: 'minutes=10' });
      assert.deepEqual(patched.config, { log_level: 'info', refresh_interval: 'minutes=10' });
      if (generation === '2026.2') assert.equal(patched.refreshIntervalS, 600);
      assert.deepEqual(await socket.next(), { instruction: 2, args: {} });
      assert.equal(bystander.pending(), 0, 'other outposts are not told');

      assert.deepEqual((await api.list()).map((o) => o.name), ['ldap-outpost', 'ldap-two', 'radius-outpost']);

      socket.send({ instruction: 1, args: { version: '2026.2.2', buildHash: '', uuid: 'two-1', hostname: 'host-two' } });
      assert.deepEqual(await socket.next(), { instruction: 0, args: {} });
      const health = await api.health(created.pk);
      assert.deepEqual(health.map((s) => [s.uid, s.version, s.hostname]), [['two-1', '2026.2.2', 'host-two']]);

      const defaults = await api.defaults();
      assert.equal(defaults.authentik_host, h.core.url);
      assert.equal('refresh_interval' in defaults, generation === '2026.2');

      const closed = new Promise<void>((resolveClose) => socket.ws.once('close', () => resolveClose()));
      await api.destroy(created.pk);
      await closed;
      const gone = await h.call('GET', `/api/v3/outposts/instances/${created.pk}/`, { token: ADMIN_TOKEN });
      assert.equal(gone.status, 404);
      await bystander.close();
    });

    test("users listed through authentik's client", async () => {
      assert.deepEqual(await api.usernames('staff'), ['alice', 'dave', 'erin']);
    });

    test('validation answers are authentik’s', async () => {
      const post = (body: unknown) => h.call('POST', '/api/v3/outposts/instances/', { token: ADMIN_TOKEN, body });
      const ok = { name: 'v', type: 'ldap', providers: [1], config: {} };
      let r = await post({});
      assert.deepEqual([r.status, r.body], [
        400,
        { name: ['This field is required.'], type: ['This field is required.'], providers: ['This field is required.'], config: ['This field is required.'] },
      ]);
      r = await post({ ...ok, name: 'ldap-outpost' });
      assert.deepEqual(r.body, { name: ['Outpost with this name already exists.'] });
      r = await post({ ...ok, name: '  ' });
      assert.deepEqual(r.body, { name: ['This field may not be blank.'] });
      r = await post({ ...ok, providers: [1, 9] });
      assert.deepEqual(r.body, { providers: ['Invalid pk "9" - object does not exist.'] });
      r = await post({ ...ok, providers: [2] });
      assert.deepEqual(r.body, { providers: ["Outpost type ldap can't be used with RadiusProvider providers."] });
      r = await post({ ...ok, type: 'radius', providers: [1] });
      assert.deepEqual(r.body, { providers: ["Outpost type radius can't be used with LDAPProvider providers."] });
      r = await post({ ...ok, providers: [] });
      assert.deepEqual(r.body, { providers: ['This list may not be empty.'] });
      r = await post({ ...ok, providers: 'x' });
      assert.deepEqual(r.body, { providers: ['Expected a list of items but got type "str".'] });
      r = await post({ ...ok, providers: ['abc'] });
      assert.deepEqual(r.body, { providers: ['Incorrect type. Expected pk value, received str.'] });
      r = await post({ ...ok, type: 'foo' });
      assert.deepEqual(r.body, { type: ['"foo" is not a valid choice.'] });
      // `rac` exists from 2024.1 on; 2023.10's OutpostTypeEnum has proxy, ldap and radius only.
      r = await post({ ...ok, type: 'rac' });
      if (generation === '2023.10') assert.deepEqual([r.status, r.body], [400, { type: ['"rac" is not a valid choice.'] }]);
      else assert.deepEqual([r.status, r.body], [400, { providers: ["Outpost type rac can't be used with LDAPProvider providers."] }]);
      r = await post({ ...ok, config: { log_level: 1 } });
      assert.deepEqual(r.body, {
        config: ['Failed to validate config: wrong value type for field "log_level" - should be "str" instead of value "1" of type "int"'],
      });
      r = await post({ ...ok, config: [] });
      assert.deepEqual(r.body, { config: ['Value must be a dictionary, and not list'] });
      r = await post([]);
      assert.deepEqual(r.body, { non_field_errors: ['Invalid data. Expected a dictionary, but got list.'] });
      // Our fix: a PATCH without `type` is still checked against the outpost's type.
      r = await h.call('PATCH', `/api/v3/outposts/instances/${LDAP_OUTPOST}/`, { token: ADMIN_TOKEN, body: { providers: [2] } });
      assert.deepEqual([r.status, r.body], [400, { providers: ["Outpost type ldap can't be used with RadiusProvider providers."] }]);
    });

    test('only the admin token writes', async () => {
      const denied = { detail: 'You do not have permission to perform this action.' };
      let r = await h.call('POST', '/api/v3/outposts/instances/', { token: LDAP_TOKEN, body: { name: 'x', type: 'ldap', providers: [1], config: {} } });
      assert.deepEqual([r.status, r.body], [403, denied]);
      r = await h.call('PUT', `/api/v3/outposts/instances/${LDAP_OUTPOST}/`, { token: LDAP_TOKEN, body: { name: 'x', type: 'ldap', providers: [1], config: {} } });
      assert.deepEqual([r.status, r.body], [403, denied]);
      r = await h.call('DELETE', `/api/v3/outposts/instances/${RADIUS_OUTPOST}/`, { token: LDAP_TOKEN });
      assert.deepEqual([r.status, r.body], [403, denied]);
      r = await h.call('GET', `/api/v3/core/tokens/ak-outpost-${RADIUS_OUTPOST}-api/view_key/`, { token: LDAP_TOKEN });
      assert.equal(r.status, 404, 'an outpost reads only its own token');
      r = await h.call('GET', `/api/v3/core/tokens/ak-outpost-${LDAP_OUTPOST}-api/view_key/`, { token: LDAP_TOKEN });
      assert.deepEqual(r.body, { key: LDAP_TOKEN });
      r = await h.call('POST', '/api/v3/ak-embedded/reload/', { token: RADIUS_TOKEN });
      assert.equal(r.status, 403);
    });

    test('reload pushes TRIGGER_UPDATE to all; ending sessions pushes SESSION_END to all', async () => {
      const ldap = await connectOutpost(h, LDAP_OUTPOST, LDAP_TOKEN);
      const radius = await connectOutpost(h, RADIUS_OUTPOST, RADIUS_TOKEN);
      const r = await h.call('POST', '/api/v3/ak-embedded/reload/', { token: ADMIN_TOKEN });
      assert.deepEqual([r.status, r.body], [200, { reloaded: true }]);
      assert.deepEqual(await ldap.next(), { instruction: 2, args: {} });
      assert.deepEqual(await radius.next(), { instruction: 2, args: {} });

      const cookie = await login(h, 'bob', 'bob-pw');
      const ended = await h.call('POST', '/api/v3/ak-embedded/end-sessions/', { token: ADMIN_TOKEN, body: { username: 'bob' } });
      assert.deepEqual(ended.body, { ended: 1 });
      const sessionEnd = { instruction: 4, args: { type: 'event.session.end', session_id: createHash('sha256').update(sessionKeyOf(cookie)).digest('hex') } };
      assert.deepEqual(await ldap.next(), sessionEnd);
      assert.deepEqual(await radius.next(), sessionEnd);

      // authentik's DELETE /core/authenticated_sessions/{uuid}/ does the same for one session.
      const cookie2 = await login(h, 'alice', 'alice-pw');
      const sessions = await h.call('GET', '/api/v3/ak-embedded/sessions/', { token: ADMIN_TOKEN });
      const mine = sessions.body.find((s: { username: string }) => s.username === 'alice');
      const del = await h.call('DELETE', `/api/v3/core/authenticated_sessions/${mine.uuid}/`, { token: ADMIN_TOKEN });
      assert.equal(del.status, 204);
      const sessionId = createHash('sha256').update(sessionKeyOf(cookie2)).digest('hex');
      assert.equal((await ldap.next()).args.session_id, sessionId);
      assert.equal((await radius.next()).args.session_id, sessionId);
      const again = await h.call('DELETE', `/api/v3/core/authenticated_sessions/${mine.uuid}/`, { token: ADMIN_TOKEN });
      assert.equal(again.status, 404);
      const noUser = await h.call('POST', '/api/v3/ak-embedded/end-sessions/', { token: ADMIN_TOKEN, body: {} });
      assert.equal(noUser.status, 400);
      await Promise.all([ldap.close(), radius.close()]);
    });
  });
}
