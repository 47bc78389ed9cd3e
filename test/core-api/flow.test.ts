import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { CoreError } from '../../src/errors.js';
import { createCoreClient, type CoreClient } from '../../src/core-api/client.js';
import { encodeInnerQuery, executorUrl, goQueryEscape, sessionIdFromCookie } from '../../src/core-api/flow.js';
import type { LdapProviderConfig, RadiusProviderConfig } from '../../src/core-api/model.js';
import type { CoreLogger, FlowMetrics } from '../../src/core-api/options.js';
import type { FlowAttemptOptions, FlowCodeRequired, FlowOutcome } from '../../src/core-api/port.js';
import { USER_AGENT } from '../../src/version.js';
import { startFakeCore, type FakeCore, type FakeCoreOptions, type FakeUser } from '../helpers/fake-core-http.js';

const TOKEN = 'outpost-token';
const FLOW = 'default-authentication-flow';
const LDAP_QUERY = { 'goauthentik.io/outpost/ldap': 'true' };
const ALICE: FakeUser = { pk: 5, username: 'alice', password: 'pw', groups: [{ pk: 'A1B2-group', name: 'staff' }] };
const TOTP_USER: FakeUser = { pk: 6, username: 'tom', password: 'pw', totp: '123456' };
const DUO_USER: FakeUser = { pk: 7, username: 'dora', password: 'pw', duoDeviceUid: '7' };

const ldapProvider: LdapProviderConfig = {
  pk: 1,
  name: 'ldap',
  baseDn: 'dc=ldap,dc=goauthentik,dc=io',
  bindFlowSlug: FLOW,
  unbindFlowSlug: null,
  applicationSlug: 'ldap-app',
  certificate: null,
  tlsServerName: '',
  uidStartNumber: 2000,
  gidStartNumber: 4000,
  searchMode: 'direct',
  bindMode: 'direct',
  mfaSupport: true,
  searchGroup: null,
};

const radiusProvider: RadiusProviderConfig = {
  pk: 3,
  name: 'wifi',
  applicationSlug: 'wifi',
  authFlowSlug: FLOW,
  clientNetworks: '0.0.0.0/0',
  sharedSecret: 's',
  mfaSupport: true,
  certificate: null,
};

interface Recorded {
  gets: [string, string, number][];
  posts: [string, string, number][];
  warns: string[];
}

function recorders(): { metrics: FlowMetrics; logger: CoreLogger; seen: Recorded } {
  const seen: Recorded = { gets: [], posts: [], warns: [] };
  const noop = (): void => {};
  return {
    seen,
    metrics: {
      flowGet: (stage, flow, seconds) => seen.gets.push([stage, flow, seconds]),
      flowPost: (stage, flow, seconds) => seen.posts.push([stage, flow, seconds]),
    },
    logger: { debug: noop, info: noop, error: noop, warn: (_o, msg) => seen.warns.push(msg) },
  };
}

async function withFlowCore(
  coreOptions: FakeCoreOptions,
  run: (core: FakeCore, client: CoreClient, seen: Recorded) => Promise<void>,
): Promise<void> {
  const core = await startFakeCore({ token: TOKEN, users: [ALICE, TOTP_USER, DUO_USER], ...coreOptions });
  const { metrics, logger, seen } = recorders();
  const client = createCoreClient({ host: core.host, token: TOKEN, insecure: false, timeoutMs: 5_000, metrics, logger });
  try {
    await run(core, client, seen);
  } finally {
    await client.close();
    await core.close();
  }
}

function attemptOptions(extra: Partial<FlowAttemptOptions> = {}): FlowAttemptOptions {
  return { remoteIp: '192.0.2.10', innerQuery: LDAP_QUERY, timeoutMs: 5_000, ...extra };
}

function refused(outcome: FlowOutcome | FlowCodeRequired, reason: string, detail?: RegExp): void {
  assert.equal(outcome.passed, false, 'expected a refusal');
  if (outcome.passed) return;
  assert.equal(outcome.reason, reason, outcome.detail);
  if (detail !== undefined) assert.match(outcome.detail, detail);
}

describe('executor URL (reference §2.1, LDAP correction 4)', () => {
  test('inner query is double-encoded byte for byte', () => {
    const url = executorUrl('http://core/api/v3', FLOW, LDAP_QUERY);
    assert.equal(url.href, 'http://core/api/v3/flows/executor/default-authentication-flow/?query=goauthentik.io%252Foutpost%252Fldap%3Dtrue');
    const radius = executorUrl('http://core/sub/api/v3', 'f', { 'goauthentik.io/outpost/radius': 'true' });
    assert.equal(radius.search, '?query=goauthentik.io%252Foutpost%252Fradius%3Dtrue');
    assert.equal(radius.pathname, '/sub/api/v3/flows/executor/f/');
  });

  test('warm-up query: keys sorted like Go url.Values', () => {
    const inner = encodeInnerQuery({ 'goauthentik.io/outpost/ldap-warmup': 'true', 'goauthentik.io/outpost/ldap': 'true' });
    assert.equal(inner, 'goauthentik.io%2Foutpost%2Fldap=true&goauthentik.io%2Foutpost%2Fldap-warmup=true');
    assert.equal(goQueryEscape(inner), 'goauthentik.io%252Foutpost%252Fldap%3Dtrue%26goauthentik.io%252Foutpost%252Fldap-warmup%3Dtrue');
    assert.equal(goQueryEscape("a b*!'()~"), "a+b%2A%21%27%28%29~");
  });

  test('session id: JWT sid claim, else the raw value', () => {
    const payload = Buffer.from(JSON.stringify({ sid: 'django-key', iss: 'authentik' })).toString('base64url');
    assert.equal(sessionIdFromCookie(`eyJhbGciOiJIUzI1NiJ9.${payload}.sig`), 'django-key');
    assert.equal(sessionIdFromCookie('plainsessionkey'), 'plainsessionkey');
    assert.equal(sessionIdFromCookie('a.!!notbase64json.c'), 'a.!!notbase64json.c');
  });
});

describe('flow transcripts (reference §2.8)', () => {
  test('correct password: identification -> 302 -> password -> 302 -> MFA skip 302 -> login -> redirect', async () => {
    await withFlowCore({}, async (core, client, seen) => {
      const attempt = client.newFlowAttempt(attemptOptions());
      const outcome = await attempt.execute(FLOW, { username: 'alice', password: 'pw', mfaSupport: true });
      assert.deepEqual(outcome, { passed: true });

      const flow = core.requestsTo('/flows/executor/');
      assert.deepEqual(flow.map((r) => r.method), ['GET', 'POST', 'GET', 'POST', 'GET', 'GET']);
      for (const r of flow) {
        assert.equal(r.target, '/api/v3/flows/executor/default-authentication-flow/?query=goauthentik.io%252Foutpost%252Fldap%3Dtrue');
        assert.equal(r.headers.authorization, undefined, 'no Authorization on flow requests');
        assert.equal(r.headers['x-authentik-outpost-token'], TOKEN);
        assert.equal(r.headers['x-authentik-remote-ip'], '192.0.2.10');
        assert.equal(r.headers['user-agent'], USER_AGENT);
        assert.equal(r.headers['x-authentik-outpost-certificate'], undefined);
      }
      assert.equal(flow[0]?.headers.cookie, undefined, 'first request has no cookie yet');
      assert.equal(flow[1]?.headers['content-type'], 'application/json');
      assert.deepEqual(JSON.parse(flow[1]?.body ?? ''), { component: 'ak-stage-identification', uid_field: 'alice', password: 'pw' });
      assert.deepEqual(JSON.parse(flow[3]?.body ?? ''), { component: 'ak-stage-password', password: 'pw' });
      // The cookie set on the 302 hop is sent on the GET that follows it.
      assert.match(flow[2]?.headers.cookie ?? '', /authentik_hop=1/);
      assert.match(flow[4]?.headers.cookie ?? '', /authentik_hop=2/);
      assert.match(flow[2]?.headers.cookie ?? '', /authentik_session=/);

      // Login rotated the session: the newest cookie is used for the access check.
      const sid = core.loggedInSessions[0];
      assert.ok(sid);
      assert.equal(attempt.sessionId(), sid);
      assert.equal(sessionIdFromCookie(attempt.sessionCookie() ?? ''), sid);
      const access = await attempt.checkLdapAccess(ldapProvider);
      assert.deepEqual(access, { passing: true, hasSearchPermission: true });
      const check = core.requestsTo('/outposts/ldap/1/check_access/')[0];
      assert.ok(check);
      assert.equal(check.target, '/api/v3/outposts/ldap/1/check_access/?app_slug=ldap-app');
      assert.equal(check.headers.authorization, undefined);
      assert.equal(check.headers['x-authentik-outpost-token'], TOKEN);
      assert.ok((check.headers.cookie ?? '').includes(`authentik_session=${attempt.sessionCookie() ?? 'x'}`));
      assert.ok(!(check.headers.cookie ?? '').includes(firstSessionCookie(core)));

      const me = await attempt.me();
      assert.deepEqual(me, { pk: 5, username: 'alice', groups: [{ pk: 'A1B2-group', name: 'staff' }] });

      // Metrics: one GET (component received), one POST per answer (component sent).
      assert.deepEqual(seen.gets.map(([stage, flowSlug]) => [stage, flowSlug]), [['ak-stage-identification', FLOW]]);
      assert.deepEqual(seen.posts.map(([stage]) => stage), ['ak-stage-identification', 'ak-stage-password']);
      assert.ok(seen.posts.every(([, , seconds]) => seconds >= 0));
    });
  });

  test('wrong password: response_errors -> flow_error with the first error', async () => {
    await withFlowCore({}, async (core, client) => {
      const outcome = await client.newFlowAttempt(attemptOptions()).execute(FLOW, { username: 'alice', password: 'nope', mfaSupport: true });
      refused(outcome, 'flow_error', /^flow error password: Invalid password$/);
      assert.equal(core.loggedInSessions.length, 0);
    });
  });

  test('TOTP via pw;123456: password stage gets pw, authenticator-validate gets the code', async () => {
    await withFlowCore({}, async (core, client) => {
      const outcome = await client.newFlowAttempt(attemptOptions()).execute(FLOW, { username: 'tom', password: 'pw;123456', mfaSupport: true });
      assert.deepEqual(outcome, { passed: true });
      const posts = core.requestsTo('/flows/executor/').filter((r) => r.method === 'POST').map((r) => JSON.parse(r.body) as Record<string, unknown>);
      assert.equal(posts[1]?.['password'], 'pw');
      assert.deepEqual(posts[2], {
        component: 'ak-stage-authenticator-validate',
        selected_challenge: { device_class: 'totp', device_uid: '12', challenge: {}, last_used: null },
        code: '123456',
      });
    });
  });

  test('TOTP device but no code in the password: no compatible authenticator', async () => {
    await withFlowCore({}, async (_core, client) => {
      const outcome = await client.newFlowAttempt(attemptOptions()).execute(FLOW, { username: 'tom', password: 'pw', mfaSupport: true });
      refused(outcome, 'flow_error', /no compatible authenticator class found/);
    });
  });

  test('executeOrPause: a TOTP prompt without a code pauses; resume answers it in the same session', async () => {
    await withFlowCore({}, async (core, client, seen) => {
      const attempt = client.newFlowAttempt(attemptOptions());
      const paused = await attempt.executeOrPause(FLOW, { username: 'tom', password: 'pw', mfaSupport: true });
      assert.equal(paused.passed, false);
      assert.equal(!paused.passed && paused.reason, 'code_required');
      const before = core.requestsTo('/flows/executor/');
      assert.deepEqual(before.map((r) => r.method), ['GET', 'POST', 'GET', 'POST', 'GET'], 'stopped at the prompt, nothing posted to it');

      assert.deepEqual(await attempt.resume('123456', 5_000), { passed: true });
      const after = core.requestsTo('/flows/executor/').slice(before.length);
      assert.equal(after[0]?.method, 'POST');
      assert.deepEqual(JSON.parse(after[0]?.body ?? ''), {
        component: 'ak-stage-authenticator-validate',
        selected_challenge: { device_class: 'totp', device_uid: '12', challenge: {}, last_used: null },
        code: '123456',
      });
      // The same session: the cookie the first part got is sent with the code.
      const cookie = /authentik_session=[^;]+/.exec(before.at(-1)?.headers.cookie ?? '')?.[0];
      assert.ok(cookie !== undefined);
      assert.ok((after[0]?.headers.cookie ?? '').includes(cookie));
      assert.equal(core.loggedInSessions.length, 1);
      assert.deepEqual(await attempt.checkRadiusAccess(radiusProvider), { passing: true, attributes: null });
      assert.deepEqual(seen.posts.map(([stage]) => stage), ['ak-stage-identification', 'ak-stage-password', 'ak-stage-authenticator-validate']);

      refused(await attempt.resume('123456', 5_000), 'flow_error', /no flow run waits for a code/);
    });
  });

  test('executeOrPause: a wrong code is the core\'s refusal; a code in the password or MFA support off never pauses', async () => {
    await withFlowCore({}, async (_core, client) => {
      const attempt = client.newFlowAttempt(attemptOptions());
      refused(await attempt.resume('123456', 5_000), 'flow_error', /no flow run waits for a code/);
      const paused = await attempt.executeOrPause(FLOW, { username: 'tom', password: 'pw', mfaSupport: true });
      assert.equal(!paused.passed && paused.reason, 'code_required');
      refused(await attempt.resume('654321', 5_000), 'flow_error', /^flow error code: Invalid Token$/);

      const inline = await client.newFlowAttempt(attemptOptions()).executeOrPause(FLOW, { username: 'tom', password: 'pw;123456', mfaSupport: true });
      assert.deepEqual(inline, { passed: true });
      const empty = client.newFlowAttempt(attemptOptions());
      assert.equal((await empty.executeOrPause(FLOW, { username: 'tom', password: 'pw', mfaSupport: true })).passed, false);
      refused(await empty.resume('', 5_000), 'flow_error', /no compatible authenticator class found/);
    });
  });

  test('executeOrPause with MFA support off: an empty code prompt is refused, not paused', async () => {
    await withFlowCore({ flows: { m: ['identification', 'mfa', 'login'] } }, async (_core, client) => {
      const attempt = client.newFlowAttempt(attemptOptions());
      refused(await attempt.executeOrPause('m', { username: 'tom', password: '', mfaSupport: false }), 'flow_error', /no compatible authenticator class found/);
      refused(await attempt.resume('123456', 5_000), 'flow_error', /no flow run waits for a code/);
      // The same flow pauses with MFA support on.
      const paused = await client.newFlowAttempt(attemptOptions()).executeOrPause('m', { username: 'tom', password: '', mfaSupport: true });
      assert.equal(!paused.passed && paused.reason, 'code_required');
    });
  });

  test('resume restarts the deadline: a pause longer than the first deadline does not end the run', async () => {
    await withFlowCore({}, async (_core, client) => {
      const attempt = client.newFlowAttempt(attemptOptions({ timeoutMs: 2_000 }));
      const paused = await attempt.executeOrPause(FLOW, { username: 'tom', password: 'pw', mfaSupport: true });
      assert.equal(!paused.passed && paused.reason, 'code_required');
      await new Promise((resolve) => setTimeout(resolve, 2_100));
      assert.deepEqual(await attempt.resume('123456', 5_000), { passed: true });
    });
  });

  test('resume with a core too slow for its deadline -> core_error', async () => {
    await withFlowCore({}, async (core, client) => {
      const attempt = client.newFlowAttempt(attemptOptions());
      await attempt.executeOrPause(FLOW, { username: 'tom', password: 'pw', mfaSupport: true });
      core.delayMs = 300;
      refused(await attempt.resume('123456', 100), 'core_error', /deadline|no complete answer|idle/);
    });
  });

  test('execute (LDAP) never pauses: no code is still a refusal', async () => {
    await withFlowCore({}, async (_core, client) => {
      const attempt = client.newFlowAttempt(attemptOptions());
      refused(await attempt.execute(FLOW, { username: 'tom', password: 'pw', mfaSupport: true }), 'flow_error', /no compatible authenticator class found/);
      refused(await attempt.resume('123456', 5_000), 'flow_error', /no flow run waits for a code/);
    });
  });

  test('TOTP with a wrong code -> flow_error', async () => {
    await withFlowCore({}, async (_core, client) => {
      const outcome = await client.newFlowAttempt(attemptOptions()).execute(FLOW, { username: 'tom', password: 'pw;654321', mfaSupport: true });
      refused(outcome, 'flow_error', /^flow error code: Invalid Token$/);
    });
  });

  test('Duo: device id parsed as int32 and sent as duo', async () => {
    await withFlowCore({}, async (core, client) => {
      const outcome = await client.newFlowAttempt(attemptOptions()).execute(FLOW, { username: 'dora', password: 'pw', mfaSupport: true });
      assert.deepEqual(outcome, { passed: true });
      const mfa = core.requestsTo('/flows/executor/').filter((r) => r.method === 'POST')[2];
      assert.deepEqual(JSON.parse(mfa?.body ?? '{}'), {
        component: 'ak-stage-authenticator-validate',
        selected_challenge: { device_class: 'duo', device_uid: '7', challenge: {}, last_used: null },
        duo: 7,
      });
    });
  });

  test('user-login challenge is answered with remember_me', async () => {
    await withFlowCore({ flows: { f: ['identification', 'password', 'login-challenge'] } }, async (core, client) => {
      const outcome = await client.newFlowAttempt(attemptOptions()).execute('f', { username: 'alice', password: 'pw', mfaSupport: false });
      assert.deepEqual(outcome, { passed: true });
      const last = core.requestsTo('/flows/executor/').filter((r) => r.method === 'POST').at(-1);
      assert.deepEqual(JSON.parse(last?.body ?? '{}'), { component: 'ak-stage-user-login', remember_me: true });
    });
  });

  test('access denied -> access_denied refusal, never success', async () => {
    await withFlowCore({ flows: { f: ['identification', 'access-denied'] } }, async (_core, client) => {
      const outcome = await client.newFlowAttempt(attemptOptions()).execute('f', { username: 'alice', password: 'pw', mfaSupport: true });
      refused(outcome, 'access_denied');
    });
  });

  test('flow error and unsupported stages -> flow_error', async () => {
    await withFlowCore({ flows: { e: ['flow-error'], c: ['identification', 'captcha'] } }, async (_core, client) => {
      refused(await client.newFlowAttempt(attemptOptions()).execute('e', { username: 'alice', password: 'pw', mfaSupport: true }), 'flow_error', /unsupported challenge type ak-stage-flow-error/);
      refused(await client.newFlowAttempt(attemptOptions()).execute('c', { username: 'alice', password: 'pw', mfaSupport: true }), 'flow_error', /unsupported challenge type ak-stage-captcha/);
    });
  });

  test('a stage asking for ever: 10 POSTs, then exceeded stage recursion depth', async () => {
    await withFlowCore({ flows: { loop: ['endless'] } }, async (core, client) => {
      const outcome = await client.newFlowAttempt(attemptOptions()).execute('loop', { username: 'alice', password: 'pw', mfaSupport: true });
      refused(outcome, 'flow_error', /exceeded stage recursion depth/);
      assert.equal(core.requestsTo('/flows/executor/').filter((r) => r.method === 'POST').length, 10);
    });
  });

  test('unknown flow -> 404 -> core_error', async () => {
    await withFlowCore({}, async (_core, client) => {
      const outcome = await client.newFlowAttempt(attemptOptions()).execute('nope', { username: 'alice', password: 'pw', mfaSupport: true });
      refused(outcome, 'core_error', /HTTP 404/);
    });
  });

  test('empty username: identification response_errors -> flow_error', async () => {
    await withFlowCore({}, async (_core, client) => {
      const outcome = await client.newFlowAttempt(attemptOptions()).execute(FLOW, { username: '', password: 'pw', mfaSupport: true });
      refused(outcome, 'flow_error', /^flow error uid_field: /);
    });
  });

  test('slow core -> the attempt deadline ends it as core_error', async () => {
    await withFlowCore({}, async (core, client) => {
      core.delayMs = 150;
      const outcome = await client.newFlowAttempt(attemptOptions({ timeoutMs: 400 })).execute(FLOW, { username: 'alice', password: 'pw', mfaSupport: true });
      refused(outcome, 'core_error', /deadline|no complete answer|idle/);
      // The deadline covers the whole attempt: fewer exchanges than a full flow.
      assert.ok(core.requestsTo('/flows/executor/').length < 6);
    });
  });

  test('closed port -> core_error; warmUp never rejects', async () => {
    const port = await closedPort();
    const client = createCoreClient({ host: `http://127.0.0.1:${port}`, token: TOKEN, insecure: false, timeoutMs: 2000 });
    try {
      const attempt = client.newFlowAttempt(attemptOptions());
      refused(await attempt.execute(FLOW, { username: 'a', password: 'b', mfaSupport: true }), 'core_error', /ECONNREFUSED/);
      await attempt.warmUp(FLOW);
      await assert.rejects(attempt.me(), (e: unknown) => e instanceof CoreError && e.kind === 'transport');
    } finally {
      await client.close();
    }
  });

  test('Secure cookie over http: not sent back, flow restarts, one warning', async () => {
    await withFlowCore({ secureCookies: true, flows: { f: ['identification', 'password'] } }, async (core, client, seen) => {
      const outcome = await client.newFlowAttempt(attemptOptions()).execute('f', { username: 'alice', password: 'pw', mfaSupport: true });
      refused(outcome, 'flow_error', /exceeded stage recursion depth/);
      assert.ok(core.requestsTo('/flows/executor/').every((r) => !(r.headers.cookie ?? '').includes('authentik_session')));
      assert.equal(seen.warns.length, 1);
      // Once per client, not per attempt.
      await client.newFlowAttempt(attemptOptions()).execute('f', { username: 'alice', password: 'pw', mfaSupport: true });
      assert.equal(seen.warns.length, 1);
    });
  });
});

describe('attempt options', () => {
  test('session cookie seed, client certificate header, warm-up query', async () => {
    await withFlowCore({}, async (core, client) => {
      const pem = '-----BEGIN CERTIFICATE-----\nMIIB+/=\n-----END CERTIFICATE-----\n';
      const attempt = client.newFlowAttempt(attemptOptions({ sessionCookie: 'seeded', clientCertificatePem: pem, innerQuery: { 'goauthentik.io/outpost/ldap-warmup': 'true', 'goauthentik.io/outpost/ldap': 'true' } }));
      assert.equal(attempt.sessionCookie(), 'seeded');
      await attempt.warmUp(FLOW);
      const req = core.requestsTo('/flows/executor/')[0];
      assert.ok(req);
      assert.equal(req.headers.cookie, 'authentik_session=seeded');
      assert.equal(req.headers['x-authentik-outpost-certificate'], encodeURIComponent(pem));
      assert.equal(req.target.split('?')[1], 'query=goauthentik.io%252Foutpost%252Fldap%3Dtrue%26goauthentik.io%252Foutpost%252Fldap-warmup%3Dtrue');
    });
  });

  test('check_access before login -> CoreError 403', async () => {
    await withFlowCore({}, async (_core, client) => {
      const attempt = client.newFlowAttempt(attemptOptions());
      await assert.rejects(attempt.checkLdapAccess(ldapProvider), (e: unknown) => e instanceof CoreError && e.status === 403);
    });
  });

  test('radius check_access: passing and attributes', async () => {
    await withFlowCore({}, async (core, client) => {
      core.access = { passing: true, hasSearchPermission: false, radiusAttributes: 'AQIDBA==' };
      const attempt = client.newFlowAttempt(attemptOptions({ innerQuery: { 'goauthentik.io/outpost/radius': 'true' } }));
      assert.deepEqual(await attempt.execute(FLOW, { username: 'alice', password: 'pw', mfaSupport: true }), { passed: true });
      assert.deepEqual(await attempt.checkRadiusAccess(radiusProvider), { passing: true, attributes: 'AQIDBA==' });
      core.access = { passing: false, hasSearchPermission: false, radiusAttributes: null };
      assert.deepEqual(await attempt.checkRadiusAccess(radiusProvider), { passing: false, attributes: null });
      assert.equal(core.requestsTo('/outposts/radius/3/check_access/')[0]?.query.get('app_slug'), 'wifi');
    });
  });
});

describe('2023.10 core', () => {
  test('challenges with type; search group from users/me; application check_access', async () => {
    await withFlowCore({ generation: '2023.10' }, async (core, client) => {
      await client.listOutposts();
      assert.equal(client.generation, '2023.10');
      const attempt = client.newFlowAttempt(attemptOptions());
      assert.deepEqual(await attempt.execute(FLOW, { username: 'alice', password: 'pw', mfaSupport: true }), { passed: true });
      const member = await attempt.checkLdapAccess({ ...ldapProvider, searchGroup: 'a1b2-group' });
      assert.deepEqual(member, { passing: true, hasSearchPermission: true });
      const other = await attempt.checkLdapAccess({ ...ldapProvider, searchGroup: 'ffff' });
      assert.deepEqual(other, { passing: true, hasSearchPermission: false });
      assert.equal(core.requestsTo('/outposts/ldap/').length, 0);
      assert.equal(core.requestsTo('/core/applications/ldap-app/check_access/').length, 2);
      assert.deepEqual(await attempt.checkRadiusAccess(radiusProvider), { passing: true, attributes: null });
      core.access = { passing: false, hasSearchPermission: true, radiusAttributes: null };
      assert.deepEqual(await attempt.checkLdapAccess({ ...ldapProvider, searchGroup: 'a1b2-group' }), { passing: false, hasSearchPermission: false });
    });
  });

  test('typed challenges teach the client it talks to 2023.10', async () => {
    await withFlowCore({ generation: '2023.10' }, async (_core, client) => {
      assert.equal(client.generation, '2026.2');
      const attempt = client.newFlowAttempt(attemptOptions());
      assert.deepEqual(await attempt.execute(FLOW, { username: 'alice', password: 'pw', mfaSupport: true }), { passed: true });
      assert.equal(client.generation, '2023.10');
    });
  });

  test('a 2026 client falls back to the application check when the provider endpoint is 404', async () => {
    await withFlowCore({}, async (core, client) => {
      const attempt = client.newFlowAttempt(attemptOptions());
      assert.deepEqual(await attempt.execute(FLOW, { username: 'alice', password: 'pw', mfaSupport: true }), { passed: true });
      core.failures.push({ path: '/outposts/ldap/1/check_access/', status: 404 });
      assert.deepEqual(await attempt.checkLdapAccess(ldapProvider), { passing: true, hasSearchPermission: false });
      assert.equal(core.requestsTo('/core/applications/ldap-app/check_access/').length, 1);
      core.failures.push({ path: '/outposts/ldap/1/check_access/', status: 500 });
      await assert.rejects(attempt.checkLdapAccess(ldapProvider), (e: unknown) => e instanceof CoreError && e.status === 500);
    });
  });

  test('a challenge of type "redirect" without component is success', async () => {
    await withFlowCore({ flows: { f: [{ challenge: { type: 'redirect', to: '/' } }] } }, async (_core, client) => {
      assert.deepEqual(await client.newFlowAttempt(attemptOptions()).execute('f', { username: 'a', password: 'b', mfaSupport: true }), { passed: true });
    });
  });

  test('a body without component -> core_error', async () => {
    await withFlowCore({ flows: { f: [{ challenge: { hello: 'world' } }] } }, async (_core, client) => {
      refused(await client.newFlowAttempt(attemptOptions()).execute('f', { username: 'a', password: 'b', mfaSupport: true }), 'core_error', /without component/);
    });
  });
});

describe('redirect handling (raw server)', () => {
  test('cross-origin redirect refused, redirect loop bounded, non-JSON body, 303 after POST becomes GET', async () => {
    const seen: string[] = [];
    const server = http.createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname.includes('/executor/away/')) {
        res.writeHead(302, { location: 'http://evil.example/api/v3/' }).end();
      } else if (url.pathname.includes('/executor/loop/')) {
        res.writeHead(307, { location: req.url ?? '/' }).end();
      } else if (url.pathname.includes('/executor/html/')) {
        res.writeHead(200, { 'content-type': 'text/html' }).end('<html>');
      } else if (url.pathname.includes('/executor/see/') && req.method === 'POST') {
        res.writeHead(303, { location: '/api/v3/done/' }).end();
      } else if (url.pathname.includes('/executor/see/')) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ component: 'ak-stage-password' }));
      } else if (url.pathname === '/api/v3/done/') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ component: 'xak-flow-redirect', to: '/' }));
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    const client = createCoreClient({ host: `http://127.0.0.1:${port}`, token: TOKEN, insecure: false, timeoutMs: 2000 });
    const creds = { username: 'a', password: 'b', mfaSupport: true };
    try {
      refused(await client.newFlowAttempt(attemptOptions()).execute('away', creds), 'core_error', /another origin/);
      refused(await client.newFlowAttempt(attemptOptions()).execute('loop', creds), 'core_error', /10 redirects/);
      assert.equal(seen.filter((s) => s.includes('/executor/loop/')).length, 11);
      refused(await client.newFlowAttempt(attemptOptions()).execute('html', creds), 'core_error', /not JSON/);
      assert.deepEqual(await client.newFlowAttempt(attemptOptions()).execute('see', creds), { passed: true });
      assert.equal(seen.at(-1), 'GET /api/v3/done/');
    } finally {
      await client.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

/** The first session cookie the fake set (before login rotated it). */
function firstSessionCookie(core: FakeCore): string {
  const second = core.requestsTo('/flows/executor/')[1];
  const match = /authentik_session=([^;]+)/.exec(second?.headers.cookie ?? '');
  return match?.[1] ?? 'none';
}

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
