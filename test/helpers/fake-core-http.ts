/**
 * A small fake authentik core over node:http for core-client tests. It plays the flow-executor semantics of
 * reference plumbing §2.3 (session cookie, 302 to self after a completed stage, response_errors, access denied,
 * flow error, login rotating the session cookie) and serves the list, check_access, users/me and crypto endpoints.
 * Every request is recorded (method, path, headers, body) for assertions. Not a real core: just enough to test
 * the client against the reference transcripts (§2.8).
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeUser {
  pk: number;
  username: string;
  password: string;
  /** A TOTP device (uid `totpDeviceUid`, default "12") accepting exactly this code. */
  totp?: string;
  totpDeviceUid?: string;
  /** A Duo device with this uid; any POST selecting it passes. */
  duoDeviceUid?: string;
  groups?: { pk: string; name: string }[];
}

/**
 * Stages of a fake flow. `mfa` skips itself (inside the GET) for users without a device; `login` logs in inside
 * the GET (new session cookie); `login-challenge` asks for remember_me first. `endless` keeps asking forever.
 * `{ challenge }` serves that JSON on GET and advances on any POST.
 */
export type FakeStage =
  | 'identification'
  | 'password'
  | 'mfa'
  | 'login'
  | 'login-challenge'
  | 'access-denied'
  | 'flow-error'
  | 'captcha'
  | 'endless'
  | { challenge: Record<string, unknown> };

export interface FakeFailure {
  /** Path under /api/v3, e.g. '/outposts/ldap/'. */
  path: string;
  /** Only this page (query `page`); any when absent. */
  page?: number;
  status: number;
  /** How many times to fail (default 1). */
  times?: number;
}

export interface FakeCoreOptions {
  generation?: '2026.2' | '2023.10';
  token?: string;
  users?: FakeUser[];
  flows?: Record<string, FakeStage[]>;
  outposts?: unknown[];
  ldapProviders?: unknown[];
  radiusProviders?: unknown[];
  directoryUsers?: unknown[];
  directoryGroups?: unknown[];
  certificates?: Record<string, { fingerprint: string; certificate: string; key: string }>;
  /** Listen on this unix socket instead of 127.0.0.1:0. */
  socketPath?: string;
  /** Mark session cookies Secure (the http + proxy misconfiguration). */
  secureCookies?: boolean;
}

export interface RecordedRequest {
  method: string;
  /** Raw request target (path + query). */
  target: string;
  /** Path relative to /api/v3. */
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface FakeAccess {
  passing: boolean;
  hasSearchPermission: boolean;
  radiusAttributes: string | null;
}

export interface FakeCore {
  /** AUTHENTIK_HOST for the client: http://127.0.0.1:<port> or unix://<socket>. */
  readonly host: string;
  readonly requests: RecordedRequest[];
  readonly failures: FakeFailure[];
  access: FakeAccess;
  /** Delay before every answer (slow core). */
  delayMs: number;
  /** Session keys (sid) of logged-in sessions, in login order. */
  readonly loggedInSessions: string[];
  /** Recorded requests whose path starts with `prefix`. */
  requestsTo(prefix: string): RecordedRequest[];
  close(): Promise<void>;
}

interface Session {
  key: string;
  plans: Map<string, { index: number; user: FakeUser | undefined; username: string }>;
  user: FakeUser | undefined;
}

const API = '/api/v3';
const DEFAULT_FLOWS: Record<string, FakeStage[]> = {
  'default-authentication-flow': ['identification', 'password', 'mfa', 'login'],
};

export function defaultOutpost(generation: '2026.2' | '2023.10' = '2026.2'): Record<string, unknown> {
  const outpost: Record<string, unknown> = {
    pk: '23470845-7263-4fe3-bd79-ec1d7bf77d77',
    name: 'ldap',
    type: 'ldap',
    providers: [3],
    providers_obj: [],
    service_connection: null,
    service_connection_obj: null,
    token_identifier: 'ak-outpost-23470845-7263-4fe3-bd79-ec1d7bf77d77-api',
    config: { log_level: 'info', refresh_interval: 'minutes=5' },
    managed: null,
  };
  if (generation === '2026.2') outpost['refresh_interval_s'] = 300;
  return outpost;
}

function jwtFor(sid: string): string {
  const enc = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${enc({ alg: 'HS256', typ: 'JWT' })}.${enc({ sid, iss: 'authentik', sub: 'anonymous', authenticated: false })}.c2ln`;
}

function sidOf(cookieHeader: string | undefined): string | undefined {
  if (cookieHeader === undefined) return undefined;
  for (const part of cookieHeader.split(';')) {
    const [name, value] = part.trim().split('=', 2);
    if (name === 'authentik_session' && value !== undefined) {
      const payload = value.split('.')[1];
      if (payload === undefined) return value;
      try {
        const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { sid?: string };
        return claims.sid;
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

export async function startFakeCore(options: FakeCoreOptions = {}): Promise<FakeCore> {
  const generation = options.generation ?? '2026.2';
  const token = options.token ?? 'outpost-token';
  const users = options.users ?? [];
  const flows = options.flows ?? DEFAULT_FLOWS;
  const sessions = new Map<string, Session>();
  const requests: RecordedRequest[] = [];
  const failures: FakeFailure[] = [];
  const loggedInSessions: string[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let hop = 0;

  const state: { access: FakeAccess; delayMs: number } = {
    access: { passing: true, hasSearchPermission: true, radiusAttributes: null },
    delayMs: 0,
  };

  const legacy = generation === '2023.10';
  const withType = (c: Record<string, unknown>, type = 'native'): Record<string, unknown> => (legacy ? { type, ...c } : c);

  function newSession(): Session {
    const session: Session = { key: randomBytes(12).toString('hex'), plans: new Map(), user: undefined };
    sessions.set(session.key, session);
    return session;
  }

  function cookieFor(session: Session): string {
    return `authentik_session=${jwtFor(session.key)}; Path=/; HttpOnly; SameSite=Lax${options.secureCookies === true ? '; Secure' : ''}`;
  }

  function challengeFor(stage: FakeStage, plan: { user: FakeUser | undefined; username: string }): Record<string, unknown> {
    if (typeof stage === 'object') return stage.challenge;
    const pending = { pending_user: plan.username, pending_user_avatar: 'data:' };
    switch (stage) {
      case 'identification':
        return withType({
          component: 'ak-stage-identification',
          flow_info: { title: 'Welcome', layout: 'stacked', cancel_url: '/flows/-/cancel/' },
          user_fields: ['username', 'email'],
          password_fields: false,
          flow_designation: 'authentication',
          primary_action: 'Log in',
          sources: [],
          show_source_labels: false,
        });
      case 'password':
      case 'endless':
        return withType({ component: 'ak-stage-password', ...pending, allow_show_password: false });
      case 'mfa': {
        const devices: Record<string, unknown>[] = [];
        if (plan.user?.totp !== undefined) {
          devices.push({ device_class: 'totp', device_uid: plan.user.totpDeviceUid ?? '12', challenge: {}, last_used: null });
        }
        if (plan.user?.duoDeviceUid !== undefined) {
          devices.push({ device_class: 'duo', device_uid: plan.user.duoDeviceUid, challenge: {}, last_used: null });
        }
        return withType({ component: 'ak-stage-authenticator-validate', ...pending, device_challenges: devices, configuration_stages: [] });
      }
      case 'login-challenge':
        return withType({ component: 'ak-stage-user-login', ...pending });
      case 'access-denied':
        return withType({ component: 'ak-stage-access-denied', ...pending, error_message: 'Flow does not apply to current user.' });
      case 'flow-error':
        return withType({ component: 'ak-stage-flow-error', request_id: 'req-1' });
      case 'captcha':
        return withType({ component: 'ak-stage-captcha', ...pending, site_key: 'k', js_url: 'https://x/', interactive: true });
      default:
        throw new Error(`stage ${stage} has no challenge`);
    }
  }

  /** Whether a POST body answers the stage; returns response_errors on failure. */
  function validate(
    stage: FakeStage,
    body: Record<string, unknown>,
    plan: { user: FakeUser | undefined; username: string },
  ): Record<string, unknown> | undefined {
    if (typeof stage === 'object' || stage === 'endless' || stage === 'login-challenge') return undefined;
    switch (stage) {
      case 'identification': {
        const uid = body['uid_field'];
        if (typeof uid !== 'string' || uid === '') {
          return { uid_field: [{ string: 'This field is required.', code: 'required' }] };
        }
        plan.username = uid;
        plan.user = users.find((u) => u.username === uid);
        return undefined;
      }
      case 'password': {
        const password = body['password'];
        if (typeof password !== 'string' || password === '') {
          return { password: [{ string: 'This field may not be blank.', code: 'blank' }] };
        }
        if (plan.user === undefined || plan.user.password !== password) {
          return { password: [{ string: 'Invalid password', code: 'invalid' }] };
        }
        return undefined;
      }
      case 'mfa': {
        const selected = body['selected_challenge'] as Record<string, unknown> | undefined;
        const user = plan.user;
        if (user === undefined || selected === undefined) return { non_field_errors: [{ string: 'invalid challenge selected', code: 'invalid' }] };
        if (selected['device_class'] === 'totp' && selected['device_uid'] === (user.totpDeviceUid ?? '12')) {
          return body['code'] === user.totp ? undefined : { code: [{ string: 'Invalid Token', code: 'invalid' }] };
        }
        if (selected['device_class'] === 'duo' && selected['device_uid'] === user.duoDeviceUid) {
          return body['duo'] === Number(user.duoDeviceUid) ? undefined : { duo: [{ string: 'Invalid device', code: 'invalid' }] };
        }
        return { non_field_errors: [{ string: 'invalid challenge selected', code: 'invalid' }] };
      }
      default:
        return { non_field_errors: [{ string: 'unexpected answer', code: 'invalid' }] };
    }
  }

  function isInteractive(stage: FakeStage, user: FakeUser | undefined): boolean {
    if (stage === 'login') return false;
    if (stage === 'mfa') return user?.totp !== undefined || user?.duoDeviceUid !== undefined;
    return true;
  }

  function login(session: Session, user: FakeUser | undefined, res: http.ServerResponse): Session {
    // user_login cycles the session key: a new cookie the client must use from now on.
    sessions.delete(session.key);
    const fresh: Session = { key: randomBytes(12).toString('hex'), plans: session.plans, user };
    sessions.set(fresh.key, fresh);
    loggedInSessions.push(fresh.key);
    appendCookie(res, cookieFor(fresh));
    return fresh;
  }

  function appendCookie(res: http.ServerResponse, cookie: string): void {
    const prev = res.getHeader('set-cookie');
    const list = Array.isArray(prev) ? prev : typeof prev === 'string' ? [prev] : [];
    res.setHeader('set-cookie', [...list, cookie]);
  }

  function json(res: http.ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  function paginated(res: http.ServerResponse, query: URLSearchParams, items: readonly unknown[]): void {
    const page = Number(query.get('page') ?? '1');
    const size = Number(query.get('page_size') ?? '100');
    const start = (page - 1) * size;
    const results = items.slice(start, start + size);
    const totalPages = Math.max(1, Math.ceil(items.length / size));
    json(res, 200, {
      pagination: {
        next: page < totalPages ? page + 1 : 0,
        previous: page > 1 ? page - 1 : 0,
        count: items.length,
        current: page,
        total_pages: totalPages,
        start_index: results.length > 0 ? start + 1 : 0,
        end_index: start + results.length,
      },
      results,
      autocomplete: {},
    });
  }

  /** Runs stages that need no input (inside a GET) and answers with the next challenge, a 302, or the redirect. */
  function advanceAndAnswer(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    session: Session,
    slug: string,
    stages: FakeStage[],
    fromPost: boolean,
  ): void {
    const plan = session.plans.get(slug);
    if (plan === undefined) throw new Error('no plan');
    if (plan.index >= stages.length) {
      session.plans.delete(slug);
      json(res, 200, withType({ component: 'xak-flow-redirect', to: '/' }, 'redirect'));
      return;
    }
    if (fromPost) {
      // A completed stage with stages left: 302 to the same executor URL (plus a cookie on the hop).
      appendCookie(res, `authentik_hop=${++hop}; Path=/`);
      res.writeHead(302, { location: req.url ?? '/', 'content-length': 0 });
      res.end();
      return;
    }
    const stage = stages[plan.index];
    if (stage === undefined) throw new Error('no stage');
    if (!isInteractive(stage, plan.user)) {
      if (stage === 'login') session = login(session, plan.user, res);
      plan.index++;
      if (plan.index >= stages.length) {
        session.plans.delete(slug);
        json(res, 200, withType({ component: 'xak-flow-redirect', to: '/' }, 'redirect'));
      } else {
        res.writeHead(302, { location: req.url ?? '/', 'content-length': 0 });
        res.end();
      }
      return;
    }
    json(res, 200, challengeFor(stage, plan));
  }

  function handleExecutor(req: http.IncomingMessage, res: http.ServerResponse, slug: string, body: string): void {
    const stages = flows[slug];
    if (stages === undefined) {
      json(res, 404, { detail: 'Not found.' });
      return;
    }
    let session = sessions.get(sidOf(req.headers.cookie) ?? '');
    if (session === undefined) {
      session = newSession();
      appendCookie(res, cookieFor(session));
    }
    let plan = session.plans.get(slug);
    if (plan === undefined) {
      plan = { index: 0, user: session.user, username: session.user?.username ?? '' };
      session.plans.set(slug, plan);
    }
    if (req.method === 'GET') {
      advanceAndAnswer(req, res, session, slug, stages, false);
      return;
    }
    if (req.method !== 'POST') {
      json(res, 405, { detail: 'Method not allowed.' });
      return;
    }
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(body) as Record<string, unknown>;
    } catch {
      json(res, 400, { non_field_errors: ['invalid JSON'] });
      return;
    }
    const stage = stages[plan.index];
    if (stage === undefined) {
      json(res, 200, withType({ component: 'xak-flow-redirect', to: '/' }, 'redirect'));
      return;
    }
    const errors = validate(stage, parsed, plan);
    if (errors !== undefined) {
      json(res, 200, { ...challengeFor(stage, plan), response_errors: errors });
      return;
    }
    if (stage === 'endless') {
      // Never advances: 302 back to the same stage, for ever.
      advanceAndAnswer(req, res, session, slug, stages, true);
      return;
    }
    if (stage === 'login-challenge') session = login(session, plan.user, res);
    plan.index++;
    advanceAndAnswer(req, res, session, slug, stages, true);
  }

  function authenticatedSession(req: http.IncomingMessage): Session | undefined {
    const session = sessions.get(sidOf(req.headers.cookie) ?? '');
    return session?.user !== undefined ? session : undefined;
  }

  function route(req: http.IncomingMessage, res: http.ServerResponse, record: RecordedRequest): void {
    const { path, query } = record;
    const failure = failures.find(
      (f) => f.path === path && (f.page === undefined || String(f.page) === (query.get('page') ?? '1')) && (f.times ?? 1) > 0,
    );
    if (failure !== undefined) {
      failure.times = (failure.times ?? 1) - 1;
      json(res, failure.status, { detail: 'injected failure' });
      return;
    }

    const executor = /^\/flows\/executor\/([^/]+)\/$/.exec(path);
    if (executor?.[1] !== undefined) {
      handleExecutor(req, res, decodeURIComponent(executor[1]), record.body);
      return;
    }

    // Session-authenticated endpoints (the flow attempt's cookie, no Authorization).
    const ldapAccess = /^\/outposts\/ldap\/(\d+)\/check_access\/$/.exec(path);
    const radiusAccess = /^\/outposts\/radius\/(\d+)\/check_access\/$/.exec(path);
    const appAccess = /^\/core\/applications\/([^/]+)\/check_access\/$/.exec(path);
    if (ldapAccess !== null || radiusAccess !== null || appAccess !== null || path === '/core/users/me/') {
      if ((ldapAccess !== null || radiusAccess !== null) && legacy) {
        json(res, 404, { detail: 'Not found.' });
        return;
      }
      const session = authenticatedSession(req);
      if (session?.user === undefined) {
        json(res, 403, { detail: 'Authentication credentials were not provided.' });
        return;
      }
      const policy = { passing: state.access.passing, messages: [], log_messages: [] };
      if (ldapAccess !== null) json(res, 200, { has_search_permission: state.access.hasSearchPermission, access: policy });
      else if (radiusAccess !== null) {
        json(res, 200, { access: policy, ...(state.access.radiusAttributes !== null ? { attributes: state.access.radiusAttributes } : {}) });
      } else if (appAccess !== null) json(res, 200, policy);
      else {
        const u = session.user;
        json(res, 200, { user: { pk: u.pk, username: u.username, name: u.username, is_active: true, is_superuser: false, groups: u.groups ?? [], avatar: '', uid: 'x', settings: {}, system_permissions: [] } });
      }
      return;
    }

    if (req.headers.authorization !== `Bearer ${token}`) {
      json(res, 403, { detail: 'Authentication credentials were not provided.' });
      return;
    }
    const cert = /^\/crypto\/certificatekeypairs\/([^/]+)\/(view_certificate\/|view_private_key\/)?$/.exec(path);
    if (cert?.[1] !== undefined) {
      const entry = options.certificates?.[cert[1]];
      if (entry === undefined) json(res, 404, { detail: 'Not found.' });
      else if (cert[2] === 'view_certificate/') json(res, 200, { data: entry.certificate });
      else if (cert[2] === 'view_private_key/') json(res, 200, { data: entry.key });
      else json(res, 200, { pk: cert[1], name: 'kp', fingerprint_sha256: entry.fingerprint, fingerprint_sha1: null });
      return;
    }
    const user = /^\/core\/users\/(\d+)\/$/.exec(path);
    if (user?.[1] !== undefined) {
      const found = (options.directoryUsers ?? []).find((u) => (u as { pk?: unknown }).pk === Number(user[1]));
      if (found === undefined) json(res, 404, { detail: 'Not found.' });
      else json(res, 200, found);
      return;
    }
    switch (path) {
      case '/outposts/instances/':
        paginated(res, query, options.outposts ?? [defaultOutpost(generation)]);
        return;
      case '/root/config/':
        json(res, 200, {
          error_reporting: { enabled: false, sentry_dsn: '', environment: '', send_pii: false, traces_sample_rate: 0 },
          capabilities: [],
          cache_timeout: 300,
          cache_timeout_flows: 300,
          cache_timeout_policies: 300,
        });
        return;
      case '/outposts/ldap/':
        paginated(res, query, options.ldapProviders ?? []);
        return;
      case '/outposts/radius/':
        paginated(res, query, options.radiusProviders ?? []);
        return;
      case '/core/users/':
        paginated(res, query, options.directoryUsers ?? []);
        return;
      case '/core/groups/':
        paginated(res, query, options.directoryGroups ?? []);
        return;
      default:
        json(res, 404, { detail: 'Not found.' });
    }
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const target = req.url ?? '/';
      const url = new URL(target, 'http://fake');
      const record: RecordedRequest = {
        method: req.method ?? 'GET',
        target,
        path: url.pathname.startsWith(API) ? url.pathname.slice(API.length) : url.pathname,
        query: url.searchParams,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(record);
      const answer = (): void => {
        try {
          route(req, res, record);
        } catch (err) {
          json(res, 500, { detail: String(err) });
        }
      };
      if (state.delayMs > 0) {
        const timer = setTimeout(() => {
          timers.delete(timer);
          answer();
        }, state.delayMs);
        timers.add(timer);
      } else answer();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    if (options.socketPath !== undefined) server.listen(options.socketPath, resolve);
    else server.listen(0, '127.0.0.1', resolve);
  });
  const host =
    options.socketPath !== undefined ? `unix://${options.socketPath}` : `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    host,
    requests,
    failures,
    loggedInSessions,
    get access() {
      return state.access;
    },
    set access(value: FakeAccess) {
      state.access = value;
    },
    get delayMs() {
      return state.delayMs;
    },
    set delayMs(value: number) {
      state.delayMs = value;
    },
    requestsTo(prefix: string) {
      return requests.filter((r) => r.path.startsWith(prefix));
    },
    close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
