import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { buildDirectory } from '../../../src/embedded-core/directory/loader.js';
import { hashPassword } from '../../../src/embedded-core/directory/passwords.js';
import { totpCode } from '../../../src/embedded-core/directory/totp.js';
import type { DirectoryFile } from '../../../src/embedded-core/directory/types.js';
import type { CoreOutpost, Directory, Generation } from '../../../src/embedded-core/model.js';
import { type ExecutorResponse, FlowEngine, innerQuery, sessionUser } from '../../../src/embedded-core/flows/engine.js';
import { SessionStore, type SessionEndReason } from '../../../src/embedded-core/flows/sessions.js';
import { schemaErrors } from '../../helpers/openapi-validate.js';

const TOTP_SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
const RADIUS_QUERY = 'query=goauthentik.io%252Foutpost%252Fradius%3Dtrue';
const T0 = 1_700_000_000_000;

type Body = Record<string, unknown>;

async function directoryFile(generation: Generation): Promise<DirectoryFile> {
  const pw = (plain: string): Promise<string> => hashPassword(plain, 1);
  return {
    version: 1,
    core: { generation },
    groups: [{ name: 'admins', is_superuser: true }, { name: 'staff' }, { name: 'engineering', parents: ['staff'] }],
    users: [
      { username: 'alice', email: 'Alice@Example.com', password: await pw('alice-pw'), groups: ['engineering'] },
      { username: 'carol', password: await pw('carol-pw'), totp: [{ secret: TOTP_SECRET }], groups: ['staff'] },
      { username: 'dan', password: await pw('dan-pw'), static_tokens: ['static-1', 'static-2'] },
      { username: 'erin', password: await pw('erin-pw'), duo: [{ auto_approve: true }] },
      { username: 'frank', password: await pw('frank-pw'), duo: [{ auto_approve: false }], totp: [{ secret: TOTP_SECRET }] },
      { username: 'dave', password: await pw('dave-pw'), is_active: false },
      { username: 'root', password: await pw('root-pw'), groups: ['admins'] },
    ],
    flows: [
      { slug: 'outpost-only', authentication: 'require_outpost', stages: [{ kind: 'identification' }, { kind: 'password' }, { kind: 'user_login' }] },
      { slug: 'combined', stages: [{ kind: 'identification', user_fields: ['username'], password_stage: true }, { kind: 'user_login' }] },
      {
        slug: 'remember',
        stages: [{ kind: 'identification' }, { kind: 'password', failed_attempts_before_cancel: 2 }, { kind: 'user_login', session_duration: 'hours=1', remember_me_offset: 'days=1' }],
      },
      { slug: 'denied', stages: [{ kind: 'deny', deny_message: 'Go away' }] },
      { slug: 'superusers', authentication: 'require_superuser', designation: 'authorization', stages: [{ kind: 'deny' }] },
      { slug: 'strict-mfa', stages: [{ kind: 'identification' }, { kind: 'password' }, { kind: 'authenticator_validate', not_configured_action: 'deny' }, { kind: 'user_login' }] },
      { slug: 'anonymous-only', authentication: 'require_unauthenticated', stages: [{ kind: 'identification' }, { kind: 'user_login' }] },
      // Policy bindings (engine.ts, policies.ts).
      { slug: 'staff-only', policy_bindings: [{ group: 'staff' }], stages: [{ kind: 'identification' }, { kind: 'password' }, { kind: 'user_login' }] },
      {
        slug: 'mfa-unless-staff',
        stages: [
          { kind: 'identification' },
          { kind: 'password' },
          { kind: 'authenticator_validate', not_configured_action: 'deny', policy_bindings: [{ group: 'staff', negate: true }] },
          { kind: 'user_login' },
        ],
      },
      {
        slug: 'deny-staff',
        stages: [
          { kind: 'identification' },
          { kind: 'password' },
          { kind: 'deny', deny_message: 'Staff use the other door', policy_bindings: [{ group: 'staff' }, { user: 'dan', enabled: false }] },
          { kind: 'user_login' },
        ],
      },
      {
        slug: 'deny-on-plan',
        stages: [
          { kind: 'identification' },
          { kind: 'password' },
          {
            kind: 'deny',
            deny_message: 'Only alice',
            evaluate_on_plan: true,
            re_evaluate_policies: false,
            policy_bindings: [{ user: 'alice', negate: true }],
          },
          { kind: 'user_login' },
        ],
      },
    ],
    providers: [{ type: 'radius', name: 'radius', shared_secret: 'secret' }],
    outposts: [{ name: 'radius-outpost', type: 'radius', providers: ['radius'], token: 'outpost-token' }],
  };
}

interface Harness {
  directory: Directory;
  sessions: SessionStore;
  engine: FlowEngine;
  ended: Array<[string, SessionEndReason]>;
  clock: { now: number };
  outpost: CoreOutpost;
}

/** A fresh directory per test: device state (TOTP steps, static tokens) is mutated by the flows. */
async function harness(generation: Generation = '2026.2', directory?: Directory): Promise<Harness> {
  const dir = directory ?? (await buildDirectory(await directoryFile(generation), { baseDir: '.', resolveCertificate: () => Promise.reject(new Error('none')) }));
  const clock = { now: T0 };
  const ended: Array<[string, SessionEndReason]> = [];
  const sessions = new SessionStore({ signingKey: 's'.repeat(64), now: () => clock.now, onSessionEnd: (key, reason) => ended.push([key, reason]) });
  const fixed = dir;
  const engine = new FlowEngine({ directory: () => fixed, sessions, now: () => clock.now, unknownIdentifierDelayMs: () => 0 });
  return { directory: dir, sessions, engine, ended, clock, outpost: [...dir.outposts.values()][0]! };
}

/** A client like the outposts' executor: its own cookie jar; checks every challenge against the schema. */
class Client {
  cookie: string | undefined;
  readonly cookieHistory: string[] = [];

  readonly #h: Harness;
  readonly #slug: string;
  readonly #opts: { outpost?: CoreOutpost | null; rawQuery?: string; cookie?: string };

  constructor(
    h: Harness,
    slug = 'default-authentication-flow',
    opts: { outpost?: CoreOutpost | null; rawQuery?: string; cookie?: string } = {},
  ) {
    this.#h = h;
    this.#slug = slug;
    this.#opts = opts;
    this.cookie = opts.cookie;
  }

  get location(): string {
    return `/api/v3/flows/executor/${this.#slug}/?${this.#opts.rawQuery ?? RADIUS_QUERY}`;
  }

  async send(method: 'GET' | 'POST', body?: unknown): Promise<ExecutorResponse> {
    const res = await this.#h.engine.handle({
      method,
      flowSlug: this.#slug,
      rawQuery: this.#opts.rawQuery ?? RADIUS_QUERY,
      body,
      sessionCookie: this.cookie,
      outpost: this.#opts.outpost ?? null,
      remoteIp: '192.0.2.10',
      secure: false,
    });
    for (const header of res.setCookies) {
      const value = /^authentik_session=([^;]*)/.exec(header)?.[1];
      assert.ok(value !== undefined, header);
      this.cookie = value === '' ? undefined : value;
      if (value !== '') this.cookieHistory.push(value);
    }
    if (res.status === 200) {
      assert.deepEqual(schemaErrors(this.#h.directory.settings.generation, 'ChallengeTypes', res.body), [], JSON.stringify(res.body));
    }
    if (res.status === 302) assert.equal(res.location, this.location);
    return res;
  }

  get(): Promise<ExecutorResponse> {
    return this.send('GET');
  }

  post(body: unknown): Promise<ExecutorResponse> {
    return this.send('POST', body);
  }

  /** Follows 302s with GETs, like the Go client. */
  async follow(res: ExecutorResponse): Promise<ExecutorResponse> {
    let current = res;
    for (let i = 0; current.status === 302 && i < 10; i++) current = await this.get();
    return current;
  }
}

function body(res: ExecutorResponse): Body {
  assert.equal(res.status, 200);
  return res.body as Body;
}

function component(res: ExecutorResponse): string {
  return body(res)['component'] as string;
}

function sid(cookie: string | undefined): string {
  assert.ok(cookie);
  return (JSON.parse(Buffer.from(cookie.split('.')[1]!, 'base64url').toString()) as { sid: string }).sid;
}

async function passwordLogin(c: Client, username: string, password: string): Promise<ExecutorResponse> {
  assert.equal(component(await c.get()), 'ak-stage-identification');
  let res = await c.follow(await c.post({ component: 'ak-stage-identification', uid_field: username, password }));
  assert.equal(component(res), 'ak-stage-password');
  res = await c.post({ component: 'ak-stage-password', password });
  return res;
}

describe('flow executor: default authentication flow', () => {
  test('correct password: the reference transcript, cookie rotated at login', async () => {
    const h = await harness();
    const c = new Client(h);
    const first = await c.get();
    assert.equal(first.status, 200);
    assert.equal(first.setCookies.length, 1);
    const ident = body(first);
    assert.equal(ident['component'], 'ak-stage-identification');
    assert.deepEqual(ident['user_fields'], ['username', 'email']);
    assert.equal(ident['password_fields'], false);
    assert.equal(ident['flow_designation'], 'authentication');
    assert.equal(ident['primary_action'], 'Log in');
    assert.deepEqual(ident['flow_info'], {
      title: 'Welcome to authentik!',
      background: '/static/dist/assets/images/flow_background.jpg',
      background_themed_urls: null,
      cancel_url: '/flows/-/cancel/',
      layout: 'stacked',
    });
    assert.ok(!('type' in ident));
    const anonymousSid = sid(c.cookie);

    const afterIdent = await c.post({ component: 'ak-stage-identification', uid_field: 'alice', password: 'alice-pw' });
    assert.equal(afterIdent.status, 302);
    assert.equal(afterIdent.body, undefined);
    const password = body(await c.get());
    assert.equal(password['component'], 'ak-stage-password');
    assert.equal(password['pending_user'], 'alice');
    assert.equal(password['pending_user_avatar'], '/static/dist/assets/images/user_default.png');

    const afterPassword = await c.post({ component: 'ak-stage-password', password: 'alice-pw' });
    assert.equal(afterPassword.status, 302);
    const mfaSkipped = await c.get();
    assert.equal(mfaSkipped.status, 302, 'authenticator_validate skips inside the GET');
    assert.equal(sid(c.cookie), anonymousSid);
    const done = await c.get();
    assert.deepEqual(body(done), { component: 'xak-flow-redirect', to: '/' });
    assert.equal(done.setCookies.length, 1);
    assert.notEqual(sid(c.cookie), anonymousSid, 'login cycles the session key');
    const claims = JSON.parse(Buffer.from(c.cookie!.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    assert.equal(claims['authenticated'], true);
    assert.equal(claims['sub'], h.directory.userByUsername('alice')!.uid);
    assert.doesNotMatch(done.setCookies[0]!, /Expires/, 'session_duration seconds=0 is a browser session');

    const session = h.sessions.fromCookie(c.cookie);
    assert.equal(sessionUser(h.directory, session)?.username, 'alice');
    assert.equal(session?.lastIp, '192.0.2.10');
    assert.equal(session?.plan, undefined);
    assert.equal(h.sessions.fromCookie(c.cookieHistory[0]), undefined, 'the pre-login cookie is dead');
  });

  test('identification matches email and username case-insensitively', async () => {
    const h = await harness();
    for (const uid of ['ALICE@example.COM', 'Alice']) {
      const c = new Client(h);
      await c.get();
      const res = await c.follow(await c.post({ component: 'ak-stage-identification', uid_field: uid }));
      assert.equal(body(res)['pending_user'], 'alice', uid);
    }
  });

  test('wrong password: field errors, then access denied after failed_attempts_before_cancel', async () => {
    const h = await harness();
    const c = new Client(h);
    let res = await passwordLogin(c, 'alice', 'nope');
    for (let attempt = 1; attempt <= 4; attempt++) {
      const challenge = body(res);
      assert.equal(challenge['component'], 'ak-stage-password', `attempt ${attempt}`);
      assert.deepEqual(challenge['response_errors'], { password: [{ string: 'Invalid password', code: 'invalid' }] });
      res = await c.post({ component: 'ak-stage-password', password: `nope-${attempt}` });
    }
    const denied = body(res);
    assert.equal(denied['component'], 'ak-stage-access-denied');
    assert.equal(denied['error_message'], 'Invalid password');
    assert.equal(denied['pending_user'], 'alice');
    // The plan is gone: the next GET starts over.
    assert.equal(component(await c.get()), 'ak-stage-identification');
  });

  test('blank and missing passwords are field errors and do not count as attempts', async () => {
    const h = await harness();
    const c = new Client(h, 'remember');
    await passwordLogin(c, 'alice', 'wrong');
    let res = await c.post({ component: 'ak-stage-password', password: '' });
    assert.deepEqual(body(res)['response_errors'], { password: [{ string: 'This field may not be blank.', code: 'blank' }] });
    res = await c.post({ component: 'ak-stage-password' });
    assert.deepEqual(body(res)['response_errors'], { password: [{ string: 'This field is required.', code: 'required' }] });
    res = await c.post({ component: 'ak-stage-password', password: 'wrong again' });
    assert.equal(body(res)['error_message'], 'Invalid password', 'second real failure cancels (limit 2)');
  });

  test('unknown user and bad bodies', async () => {
    const h = await harness();
    const c = new Client(h);
    await c.get();
    let res = await c.post({ component: 'ak-stage-identification', uid_field: 'nobody', password: 'x' });
    assert.deepEqual(body(res)['response_errors'], { non_field_errors: [{ string: 'Failed to authenticate.', code: 'invalid' }] });
    assert.equal(component(res), 'ak-stage-identification');
    res = await c.post({ component: 'ak-stage-identification', uid_field: '' });
    assert.deepEqual(body(res)['response_errors'], { non_field_errors: [{ string: 'No identification data provided.', code: 'invalid' }] });
    res = await c.post(['not', 'an', 'object']);
    assert.deepEqual(body(res)['response_errors'], {
      non_field_errors: [{ string: 'Invalid data. Expected a dictionary, but got list.', code: 'invalid' }],
    });
    res = await c.post({ uid_field: { nested: true } });
    assert.deepEqual(body(res)['response_errors'], { uid_field: [{ string: 'Not a valid string.', code: 'invalid' }] });
  });

  test('inactive user: identified, then refused by the password stage', async () => {
    const h = await harness();
    const c = new Client(h);
    const res = await passwordLogin(c, 'dave', 'dave-pw');
    assert.deepEqual(body(res)['response_errors'], { password: [{ string: 'Invalid password', code: 'invalid' }] });
    const combined = new Client(h, 'combined');
    await combined.get();
    const r2 = await combined.post({ component: 'ak-stage-identification', uid_field: 'dave', password: 'dave-pw' });
    assert.deepEqual(body(r2)['response_errors'], { non_field_errors: [{ string: 'Failed to authenticate.', code: 'invalid' }] });
  });

  test('identification with an embedded password field', async () => {
    const h = await harness();
    const c = new Client(h, 'combined');
    assert.equal(body(await c.get())['password_fields'], true);
    let res = await c.post({ component: 'ak-stage-identification', uid_field: 'alice', password: 'wrong' });
    assert.deepEqual(body(res)['response_errors'], { non_field_errors: [{ string: 'Failed to authenticate.', code: 'invalid' }] });
    res = await c.post({ component: 'ak-stage-identification', uid_field: 'alice', password: 'alice-pw' });
    assert.equal(res.status, 302);
    assert.deepEqual(body(await c.get()), { component: 'xak-flow-redirect', to: '/' });
    assert.equal(sessionUser(h.directory, h.sessions.fromCookie(c.cookie))?.username, 'alice');
  });
});

describe('flow executor: authenticator validation', () => {
  async function toMfa(h: Harness, user: string, password: string, slug = 'default-authentication-flow'): Promise<{ c: Client; challenge: Body }> {
    const c = new Client(h, slug);
    const res = await c.follow(await passwordLogin(c, user, password));
    const challenge = body(res);
    assert.equal(challenge['component'], 'ak-stage-authenticator-validate');
    return { c, challenge };
  }

  test('TOTP: offered device, wrong code, right code, no reuse', async () => {
    const h = await harness();
    const carol = h.directory.userByUsername('carol')!;
    carol.totp[0]!.lastUsedStep = -1;
    const { c, challenge } = await toMfa(h, 'carol', 'carol-pw');
    const devices = challenge['device_challenges'] as Body[];
    assert.deepEqual(devices, [{ device_class: 'totp', device_uid: String(carol.totp[0]!.pk), challenge: {}, last_used: null }]);
    assert.deepEqual(challenge['configuration_stages'], []);
    let res = await c.post({ component: 'ak-stage-authenticator-validate', selected_challenge: devices[0], code: '000000' === totpCode(TOTP_SECRET, T0) ? '111111' : '000000' });
    assert.deepEqual(body(res)['response_errors'], { code: [{ string: 'Invalid Token', code: 'invalid' }] });
    const code = totpCode(TOTP_SECRET, T0);
    res = await c.post({ component: 'ak-stage-authenticator-validate', selected_challenge: devices[0], code });
    assert.equal(res.status, 302);
    assert.deepEqual(body(await c.get()), { component: 'xak-flow-redirect', to: '/' });

    const again = await toMfa(h, 'carol', 'carol-pw');
    assert.match(String((again.challenge['device_challenges'] as Body[])[0]!['last_used']), /^\d{4}-\d{2}-\d{2}T/);
    const reuse = await again.c.post({ component: 'ak-stage-authenticator-validate', selected_challenge: (again.challenge['device_challenges'] as Body[])[0], code });
    assert.deepEqual(body(reuse)['response_errors'], { code: [{ string: 'Invalid Token', code: 'invalid' }] });
    h.clock.now += 30_000;
    const next = await again.c.post({ component: 'ak-stage-authenticator-validate', selected_challenge: (again.challenge['device_challenges'] as Body[])[0], code: totpCode(TOTP_SECRET, h.clock.now) });
    assert.equal(next.status, 302);
  });

  test('static tokens work once', async () => {
    const h = await harness();
    const first = await toMfa(h, 'dan', 'dan-pw');
    const selected = (first.challenge['device_challenges'] as Body[])[0];
    assert.equal(selected?.['device_class'], 'static');
    assert.equal((await first.c.post({ component: 'ak-stage-authenticator-validate', selected_challenge: selected, code: 'static-1' })).status, 302);
    const second = await toMfa(h, 'dan', 'dan-pw');
    const res = await second.c.post({ component: 'ak-stage-authenticator-validate', selected_challenge: selected, code: 'static-1' });
    assert.deepEqual(body(res)['response_errors'], { code: [{ string: 'Invalid Token', code: 'invalid' }] });
    assert.equal((await second.c.post({ component: 'ak-stage-authenticator-validate', selected_challenge: selected, code: 'static-2' })).status, 302);
  });

  test('selected challenge must be one that was offered; empty response', async () => {
    const h = await harness();
    const { c, challenge } = await toMfa(h, 'dan', 'dan-pw');
    const offered = (challenge['device_challenges'] as Body[])[0]!;
    let res = await c.post({ component: 'ak-stage-authenticator-validate', selected_challenge: { ...offered, device_uid: '999' }, code: 'static-2' });
    assert.deepEqual(body(res)['response_errors'], { selected_challenge: [{ string: 'invalid challenge selected', code: 'invalid' }] });
    res = await c.post({ component: 'ak-stage-authenticator-validate', selected_challenge: offered });
    assert.deepEqual(body(res)['response_errors'], { non_field_errors: [{ string: 'Empty response', code: 'invalid' }] });
    res = await c.post({ component: 'ak-stage-authenticator-validate', selected_challenge: offered, duo: 1 });
    assert.deepEqual(body(res)['response_errors'], { duo: [{ string: 'No compatible device class allowed', code: 'invalid' }] });
    // The token was not consumed by the refused attempts.
    assert.equal((await c.post({ component: 'ak-stage-authenticator-validate', selected_challenge: offered, code: 'static-2' })).status, 302);
  });

  test('Duo: approved, denied, unknown device is a flow error', async () => {
    const h = await harness();
    const erin = await toMfa(h, 'erin', 'erin-pw');
    const duoChallenge = (erin.challenge['device_challenges'] as Body[])[0]!;
    assert.equal(duoChallenge['device_class'], 'duo');
    const ok = await erin.c.post({ component: 'ak-stage-authenticator-validate', selected_challenge: duoChallenge, duo: Number(duoChallenge['device_uid']) });
    assert.equal(ok.status, 302);

    const frank = await toMfa(h, 'frank', 'frank-pw');
    const offered = frank.challenge['device_challenges'] as Body[];
    assert.deepEqual(offered.map((d) => d['device_class']), ['duo', 'totp'], 'authentik orders duo before totp');
    const denied = await frank.c.post({ component: 'ak-stage-authenticator-validate', selected_challenge: offered[0], duo: Number(offered[0]!['device_uid']) });
    assert.deepEqual(body(denied)['response_errors'], { duo: [{ string: 'Duo denied access', code: 'denied' }] });
    const unknown = await frank.c.post({ component: 'ak-stage-authenticator-validate', selected_challenge: offered[0], duo: 4242 });
    const error = body(unknown);
    assert.equal(error['component'], 'ak-stage-flow-error');
    assert.match(String(error['request_id']), /^[0-9a-f]{32}$/);
  });

  test('not_configured_action deny refuses users without devices', async () => {
    const h = await harness();
    const c = new Client(h, 'strict-mfa');
    const res = await c.follow(await passwordLogin(c, 'alice', 'alice-pw'));
    assert.equal(body(res)['component'], 'ak-stage-access-denied');
    assert.equal(body(res)['error_message'], 'Unknown error');
  });
});

describe('flow executor: flow-level behaviour', () => {
  test('unknown flow slug is a 404 without cookies', async () => {
    const h = await harness();
    const res = await h.engine.handle({ method: 'GET', flowSlug: 'nope', rawQuery: '', body: undefined, sessionCookie: undefined, outpost: null, remoteIp: '::1', secure: false });
    assert.deepEqual(res, { status: 404, body: { detail: 'Not found.' }, setCookies: [] });
  });

  test('require_outpost: denied without a recognised outpost, planned with one (outpost in the plan context)', async () => {
    const h = await harness();
    const anonymous = new Client(h, 'outpost-only');
    const denied = body(await anonymous.get());
    assert.equal(denied['component'], 'ak-stage-access-denied');
    assert.equal(denied['error_message'], 'Flow does not apply to current user.');
    assert.equal(denied['pending_user'], '');
    assert.equal(anonymous.cookie, undefined, 'no session is kept for a refused flow');

    const c = new Client(h, 'outpost-only', { outpost: h.outpost });
    assert.equal(component(await c.get()), 'ak-stage-identification');
    const session = h.sessions.fromCookie(c.cookie);
    assert.deepEqual(session?.plan?.context.outpost, { instance: { uuid: h.outpost.uuid, name: 'radius-outpost', type: 'radius' } });
    assert.equal(session?.plan?.context.remoteIp, '192.0.2.10');
  });

  test('require_superuser uses effective (group) superuser status', async () => {
    const h = await harness();
    const root = new Client(h);
    await root.follow(await passwordLogin(root, 'root', 'root-pw'));
    const asRoot = new Client(h, 'superusers', { cookie: root.cookie });
    assert.equal(body(await asRoot.get())['error_message'], 'Unknown error', 'root reaches the deny stage');
    const alice = new Client(h);
    await alice.follow(await passwordLogin(alice, 'alice', 'alice-pw'));
    const asAlice = new Client(h, 'superusers', { cookie: alice.cookie });
    assert.equal(body(await asAlice.get())['error_message'], 'Flow does not apply to current user.');
  });

  test('an authenticated user hitting a require_unauthenticated authentication flow is simply redirected', async () => {
    const h = await harness();
    const c = new Client(h);
    await c.follow(await passwordLogin(c, 'alice', 'alice-pw'));
    const again = new Client(h, 'anonymous-only', { cookie: c.cookie });
    assert.deepEqual(body(await again.get()), { component: 'xak-flow-redirect', to: '/' });
  });

  test('deny stage and empty flows', async () => {
    const h = await harness();
    const denied = body(await new Client(h, 'denied').get());
    assert.equal(denied['component'], 'ak-stage-access-denied');
    assert.equal(denied['error_message'], 'Go away');
    assert.deepEqual(body(await new Client(h, 'default-provider-invalidation-flow').get()), { component: 'xak-flow-redirect', to: '/' });
  });

  test('next from the inner query: relative accepted, absolute refused', async () => {
    const h = await harness();
    const relative = new Client(h, 'default-provider-invalidation-flow', { rawQuery: `query=${encodeURIComponent('next=/if/user/')}` });
    assert.deepEqual(body(await relative.get()), { component: 'xak-flow-redirect', to: '/if/user/' });
    const absolute = new Client(h, 'default-provider-invalidation-flow', { rawQuery: `query=${encodeURIComponent('next=https://evil.example/')}` });
    assert.equal(body(await absolute.get())['error_message'], 'Invalid next URL');
    // Double-encoded (the Go outposts) and single-encoded inner queries read alike.
    assert.equal(innerQuery('?query=goauthentik.io%252Foutpost%252Fldap%3Dtrue').get('goauthentik.io/outpost/ldap'), 'true');
    assert.equal(innerQuery('query=goauthentik.io%2Foutpost%2Fldap%3Dtrue').get('goauthentik.io/outpost/ldap'), 'true');
  });

  test('remember me: the login stage asks, and the session lasts duration + offset', async () => {
    const h = await harness();
    const c = new Client(h, 'remember');
    const res = await c.follow(await passwordLogin(c, 'alice', 'alice-pw'));
    const login = body(res);
    assert.equal(login['component'], 'ak-stage-user-login');
    assert.equal(login['pending_user'], 'alice');
    const bad = await c.post({ component: 'ak-stage-user-login' });
    assert.deepEqual(body(bad)['response_errors'], { remember_me: [{ string: 'This field is required.', code: 'required' }] });
    const done = await c.post({ component: 'ak-stage-user-login', remember_me: true });
    assert.deepEqual(body(done), { component: 'xak-flow-redirect', to: '/' });
    assert.match(done.setCookies[0]!, /Max-Age=90000;/, '1 hour + 1 day');
    const session = h.sessions.fromCookie(c.cookie)!;
    assert.equal(session.expiresAt, T0 + 90_000_000);
  });

  test('user_logout ends the session and reports it', async () => {
    const h = await harness();
    const c = new Client(h);
    await c.follow(await passwordLogin(c, 'alice', 'alice-pw'));
    const loggedIn = c.cookie;
    const key = sid(loggedIn);
    const logout = new Client(h, 'default-invalidation-flow', { cookie: loggedIn });
    const res = await logout.get();
    assert.deepEqual(body(res), { component: 'xak-flow-redirect', to: '/' });
    assert.deepEqual(h.ended, [[key, 'logout']]);
    assert.equal(h.sessions.fromCookie(loggedIn), undefined);
    assert.equal(logout.cookie, undefined, 'the cookie is cleared');
    assert.match(res.setCookies[0]!, /^authentik_session=; .*Max-Age=0/);
    assert.equal(h.sessions.size, 0);
  });

  test('a plan for another flow is dropped; a stale cookie starts a new session', async () => {
    const h = await harness();
    const c = new Client(h);
    await passwordLogin(c, 'alice', 'wrong');
    const other = new Client(h, 'combined', { cookie: c.cookie });
    assert.equal(component(await other.get()), 'ak-stage-identification');
    assert.equal(h.sessions.fromCookie(other.cookie)?.plan?.flowSlug, 'combined');
    const stale = new Client(h, 'default-authentication-flow', { cookie: 'not-a-jwt' });
    assert.equal(component(await stale.get()), 'ak-stage-identification');
    assert.notEqual(stale.cookie, 'not-a-jwt');
  });

  test('an exception inside a stage becomes ak-stage-flow-error (never a 500)', async () => {
    const base = await harness();
    const broken = Object.create(base.directory) as Directory;
    Object.defineProperty(broken, 'userByEmail', { value: () => { throw new Error('boom'); } });
    Object.defineProperty(broken, 'settings', { value: base.directory.settings });
    const h = await harness('2026.2', broken);
    const c = new Client(h);
    await c.get();
    const res = await c.post({ component: 'ak-stage-identification', uid_field: 'someone@example.com' });
    assert.equal(res.status, 200);
    assert.equal(component(res), 'ak-stage-flow-error');
  });

  test('concurrent requests on one session are serialised', async () => {
    const h = await harness();
    const c = new Client(h);
    await c.get();
    await c.follow(await c.post({ component: 'ak-stage-identification', uid_field: 'alice' }));
    const [a, b] = await Promise.all([
      h.engine.handle({ method: 'POST', flowSlug: 'default-authentication-flow', rawQuery: RADIUS_QUERY, body: { password: 'alice-pw' }, sessionCookie: c.cookie, outpost: null, remoteIp: '::1', secure: false }),
      h.engine.handle({ method: 'POST', flowSlug: 'default-authentication-flow', rawQuery: RADIUS_QUERY, body: { password: 'alice-pw' }, sessionCookie: c.cookie, outpost: null, remoteIp: '::1', secure: false }),
    ]);
    assert.equal(a.status, 302);
    // The second POST ran after the first had moved the plan on, so it met authenticator_validate (not the
    // password stage a second time): its body is no answer there.
    assert.equal(component(b), 'ak-stage-authenticator-validate');
    assert.deepEqual(body(b)['response_errors'], { non_field_errors: [{ string: 'Empty response', code: 'invalid' }] });
    const session = h.sessions.fromCookie(c.cookie);
    assert.deepEqual(session?.plan?.stages.map((s) => s.kind), ['authenticator_validate', 'user_login']);
  });
});

describe('flow executor: 2023.10 generation', () => {
  test('challenges carry type; uid_field is required; the transcript still works', async () => {
    const h = await harness('2023.10');
    const c = new Client(h);
    const ident = body(await c.get());
    assert.equal(ident['type'], 'native');
    assert.ok(!('flow_designation' in ident));
    assert.ok(!('background_themed_urls' in (ident['flow_info'] as Body)));
    const missing = await c.post({ component: 'ak-stage-identification' });
    assert.deepEqual(body(missing)['response_errors'], { uid_field: [{ string: 'This field is required.', code: 'required' }] });
    const password = body(await c.follow(await c.post({ component: 'ak-stage-identification', uid_field: 'carol' })));
    assert.equal(password['type'], 'native');
    // 2023.10 trimmed the password field.
    const mfa = body(await c.follow(await c.post({ component: 'ak-stage-password', password: ' carol-pw ' })));
    assert.equal(mfa['type'], 'native');
    const devices = mfa['device_challenges'] as Body[];
    assert.ok(!('last_used' in devices[0]!), '2023.10 device challenges have no last_used');
    h.directory.userByUsername('carol')!.totp[0]!.lastUsedStep = -1;
    const done = await c.follow(await c.post({ component: 'ak-stage-authenticator-validate', selected_challenge: devices[0], code: totpCode(TOTP_SECRET, T0) }));
    assert.deepEqual(body(done), { type: 'redirect', component: 'xak-flow-redirect', to: '/' });
    const denied = body(await new Client(h, 'denied').get());
    assert.equal(denied['type'], 'native');
    assert.equal(denied['component'], 'ak-stage-access-denied');
  });
});

describe('flow executor: policy bindings', () => {
  test('a flow\'s bindings are checked when the plan is made, with the session\'s user: an anonymous start is refused', async () => {
    const h = await harness();
    const anonymous = new Client(h, 'staff-only');
    const denied = body(await anonymous.get());
    assert.deepEqual([denied['component'], denied['error_message'], denied['pending_user']], ['ak-stage-access-denied', 'Flow does not apply to current user.', '']);
    assert.equal(anonymous.cookie, undefined, 'no plan, no session');

    // A session of a member (alice: engineering, inside staff) gets a plan; a non-member's authentication flow is
    // simply done, as authentik's executor does for an authenticated user.
    const alice = new Client(h);
    await alice.follow(await passwordLogin(alice, 'alice', 'alice-pw'));
    assert.equal(component(await new Client(h, 'staff-only', { cookie: alice.cookie }).get()), 'ak-stage-identification');
    const root = new Client(h);
    await root.follow(await passwordLogin(root, 'root', 'root-pw'));
    assert.deepEqual(body(await new Client(h, 'staff-only', { cookie: root.cookie }).get()), { component: 'xak-flow-redirect', to: '/' });
  });

  test('a stage binding that fails for the pending user skips the stage (MFA not asked of staff), it does not deny', async () => {
    const h = await harness();
    const carol = new Client(h, 'mfa-unless-staff');
    const afterPassword = await passwordLogin(carol, 'carol', 'carol-pw');
    assert.equal(afterPassword.status, 302);
    assert.deepEqual(body(await carol.follow(afterPassword)), { component: 'xak-flow-redirect', to: '/' }, 'carol (staff) skips the TOTP stage');
    assert.equal(sessionUser(h.directory, h.sessions.fromCookie(carol.cookie))?.username, 'carol');

    const frank = new Client(h, 'mfa-unless-staff');
    assert.equal(component(await frank.follow(await passwordLogin(frank, 'frank', 'frank-pw'))), 'ak-stage-authenticator-validate');
    const root = new Client(h, 'mfa-unless-staff');
    const refused = body(await root.follow(await passwordLogin(root, 'root', 'root-pw')));
    assert.equal(refused['component'], 'ak-stage-access-denied', 'root has no device and the stage denies unconfigured users');
  });

  test('a deny stage bound to a group denies its members (nested too) after the password; a disabled binding counts for nothing', async () => {
    const h = await harness();
    const alice = new Client(h, 'deny-staff');
    const denied = body(await alice.follow(await passwordLogin(alice, 'alice', 'alice-pw')));
    assert.deepEqual([denied['component'], denied['error_message'], denied['pending_user']], ['ak-stage-access-denied', 'Staff use the other door', 'alice']);
    const dan = new Client(h, 'deny-staff');
    assert.deepEqual(body(await dan.follow(await passwordLogin(dan, 'dan', 'dan-pw'))), { component: 'xak-flow-redirect', to: '/' });
  });

  test('evaluate_on_plan checks the binding once, when planning, when nobody is known yet', async () => {
    const h = await harness();
    // "everyone but alice" is decided for the anonymous planner: the deny stage stays, and alice meets it.
    const alice = new Client(h, 'deny-on-plan');
    assert.equal(body(await alice.follow(await passwordLogin(alice, 'alice', 'alice-pw')))['error_message'], 'Only alice');
  });
});
