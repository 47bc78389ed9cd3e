/**
 * Test harness for the embedded core's API: a fixture directory (both generations), a started core on an
 * ephemeral port, and `call()`, which validates every /api/v3 response against the generation's schema.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { WebSocket } from 'ws';
import { join } from 'node:path';
import { startEmbeddedCore } from '../../../src/embedded-core/core.js';
import type { EmbeddedCore, EmbeddedCoreOptions } from '../../../src/embedded-core/core.js';
import type { DirectoryFile } from '../../../src/embedded-core/directory/types.js';
import { hashPassword } from '../../../src/embedded-core/directory/passwords.js';
import type { Generation } from '../../../src/embedded-core/model.js';
import { assertValidResponse } from '../../helpers/openapi-validate.js';

export const ADMIN_TOKEN = 'test-admin-token-4f1c2b9a7d3e';
export const LDAP_TOKEN = 'test-ldap-outpost-token-8b2d1e';
export const RADIUS_TOKEN = 'test-radius-outpost-token-3c9a7f';
export const LDAP_OUTPOST = '0a6c3a2e-5d0b-4c44-9f1e-3c1f2d7a9b01';
export const RADIUS_OUTPOST = '1b7d4b3f-6e1c-4d55-8a2f-4d2a3e8b0c12';
export const PASSWORDS: Record<string, string> = { alice: 'alice-pw', bob: 'bob-pw', carol: 'carol-pw', dave: 'dave-pw' };

let hashes: Promise<Record<string, string>> | undefined;
function passwordHashes(): Promise<Record<string, string>> {
  hashes ??= (async () => {
    const out: Record<string, string> = {};
    for (const [user, pw] of Object.entries(PASSWORDS)) out[user] = await hashPassword(pw, 1000);
    return out;
  })();
  return hashes;
}

export async function fixtureDirectory(generation: Generation): Promise<DirectoryFile> {
  const h = await passwordHashes();
  return {
    version: 1,
    core: { generation, admin_token: ADMIN_TOKEN, default_app_access: true },
    groups: [
      { name: 'staff', attributes: { floor: 3 } },
      { name: 'ops', parents: ['staff'] },
      { name: 'admins', is_superuser: true },
      { name: 'searchers', search_full_directory: true },
    ],
    users: [
      { pk: 10, username: 'alice', name: 'Alice Able', email: 'alice@example.com', password: h.alice ?? '', groups: ['staff'] },
      { pk: 11, username: 'bob', name: 'Bob Baker', email: 'bob@example.com', password: h.bob ?? '', groups: ['ops'] },
      { pk: 12, username: 'carol', name: 'Carol Cole', email: 'carol@example.com', password: h.carol ?? '', groups: ['searchers'] },
      { pk: 13, username: 'dave', name: 'Dave Dunn', email: 'dave@example.com', password: h.dave ?? '', is_active: false, groups: ['staff'] },
      { pk: 14, username: 'erin', name: 'Erin Ek', email: 'erin@example.com', groups: ['admins', 'staff'], date_joined: '2024-05-06T07:08:09.123456Z' },
    ],
    certificates: [
      { name: 'ldap-cert', subject_alt_names: ['ldap.example.com'] },
      { name: 'other-cert' },
    ],
    providers: [
      {
        type: 'ldap',
        pk: 1,
        name: 'ldap-main',
        base_dn: 'dc=example,dc=com',
        certificate: 'ldap-cert',
        search_full_directory: { users: ['alice'] },
        ...(generation === '2023.10' ? { search_group: 'staff' } : {}),
      },
      {
        type: 'radius',
        pk: 2,
        name: 'wifi',
        shared_secret: 'radius-shared-secret',
        property_mappings: [
          { name: 'b-vlan', groups: ['ops'], attributes: [{ type: 64, value: 13, tag: 1 }, { type: 81, value: '0x0d', tag: 1 }] },
          { name: 'a-session', attributes: [{ type: 27, value: 3600 }] },
        ],
      },
      { type: 'ldap', pk: 3, name: 'ldap-unattached' },
      { type: 'radius', pk: 4, name: 'wifi-guest', shared_secret: 'guest-secret' },
    ],
    applications: [
      { slug: 'ldap-app', name: 'LDAP', provider: 'ldap-main' },
      { slug: 'wifi', name: 'Wi-Fi', provider: 'wifi', allowed_groups: ['staff'] },
      { slug: 'wifi-guest', name: 'Guest Wi-Fi', provider: 'wifi-guest', allowed_users: ['carol'] },
    ],
    outposts: [
      { uuid: LDAP_OUTPOST, name: 'ldap-outpost', type: 'ldap', providers: ['ldap-main'], token: LDAP_TOKEN },
      { uuid: RADIUS_OUTPOST, name: 'radius-outpost', type: 'radius', providers: ['wifi'], token: RADIUS_TOKEN, config: { refresh_interval: 'minutes=2;seconds=30' } },
    ],
  };
}

export interface CallOptions {
  token?: string;
  cookie?: string;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface CallResult {
  status: number;
  /** Parsed JSON (already validated against the schema), typed loosely for test convenience. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- validated against the OpenAPI schema before tests read it
  body: any;
  headers: Headers;
}

/** Our extension paths and authentik paths outside the trimmed schemas: checked by the tests themselves. */
const UNSCHEMED = ['/api/v3/ak-embedded/', '/api/v3/core/tokens/', '/api/v3/core/authenticated_sessions/'];

export interface Harness {
  core: EmbeddedCore;
  generation: Generation;
  call(method: string, path: string, options?: CallOptions): Promise<CallResult>;
  close(): Promise<void>;
}

export async function startHarness(
  generation: Generation,
  options: { file?: DirectoryFile; core?: Partial<EmbeddedCoreOptions> } = {},
): Promise<Harness> {
  const certsDir = mkdtempSync(join(tmpdir(), 'ak-core-'));
  const core = await startEmbeddedCore({
    directory: options.file ?? (await fixtureDirectory(generation)),
    certsDir,
    ...options.core,
  });
  const call = async (method: string, path: string, opts: CallOptions = {}): Promise<CallResult> => {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
    if (opts.cookie !== undefined) headers.cookie = `authentik_session=${opts.cookie}`;
    let body: string | undefined;
    if (opts.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(opts.body);
    }
    const res = await fetch(new URL(path.replace(/^\//, ''), core.url), { method, headers, body, redirect: 'manual' });
    const text = await res.text();
    const parsed: unknown = text === '' ? undefined : (res.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : text;
    // Downloads (?download) are files, not the JSON the schema describes; the tests check them directly.
    const isJson = text === '' || (res.headers.get('content-type') ?? '').includes('json');
    if (path.startsWith('/api/v3/') && !UNSCHEMED.some((p) => path.startsWith(p)) && res.status !== 302 && isJson) {
      assertValidResponse(generation, { method, path, status: res.status, body: parsed as never });
    }
    return { status: res.status, body: parsed, headers: res.headers };
  };
  return {
    core,
    generation,
    call,
    close: async () => {
      await core.stop();
      rmSync(certsDir, { recursive: true, force: true });
    },
  };
}

/** Newest authentik_session value among Set-Cookie headers, if any. */
export function sessionCookieFrom(headers: Headers): string | undefined {
  let value: string | undefined;
  for (const cookie of headers.getSetCookie()) {
    const match = /^authentik_session=([^;]*)/.exec(cookie);
    if (match) value = match[1];
  }
  return value;
}

/**
 * Runs the default authentication flow the way an outpost does (identification -> password -> … -> redirect),
 * following 302s, and returns the logged-in session cookie.
 */
export async function login(
  h: Harness,
  username: string,
  password: string,
  options: { outpostToken?: string; remoteIp?: string; flow?: string } = {},
): Promise<string> {
  const flow = options.flow ?? 'default-authentication-flow';
  const path = `/api/v3/flows/executor/${flow}/?query=${encodeURIComponent('goauthentik.io/outpost/ldap=true')}`;
  const headers: Record<string, string> = {};
  if (options.outpostToken) headers['x-authentik-outpost-token'] = options.outpostToken;
  if (options.remoteIp) headers['x-authentik-remote-ip'] = options.remoteIp;
  let cookie: string | undefined;
  let next = await h.call('GET', path, { headers });
  for (let step = 0; step < 12; step++) {
    cookie = sessionCookieFrom(next.headers) ?? cookie;
    const cookieOpt = cookie !== undefined ? { cookie } : {};
    if (next.status === 302) {
      const location = next.headers.get('location');
      assert.ok(location, '302 without Location');
      next = await h.call('GET', location, { headers, ...cookieOpt });
      continue;
    }
    assert.equal(next.status, 200, `executor answered ${next.status}`);
    const component = next.body?.component as string;
    if (component === 'xak-flow-redirect') {
      assert.ok(cookie, 'no session cookie after login');
      return cookie;
    }
    if (component === 'ak-stage-identification') {
      next = await h.call('POST', path, { headers, ...cookieOpt, body: { component, uid_field: username, password } });
    } else if (component === 'ak-stage-password') {
      next = await h.call('POST', path, { headers, ...cookieOpt, body: { component, password } });
    } else {
      throw new assert.AssertionError({ message: `login of ${username} stopped at ${component}: ${JSON.stringify(next.body)}` });
    }
  }
  throw new assert.AssertionError({ message: 'login did not finish' });
}

export interface OutpostSocket {
  ws: WebSocket;
  /** The next message from the core (parsed), waiting up to `timeoutMs`. */
  next(timeoutMs?: number): Promise<{ instruction: number; args: Record<string, unknown> }>;
  /** Messages received and not yet taken with next(). */
  pending(): number;
  send(message: unknown): void;
  close(): Promise<void>;
}

/** Opens /ws/outpost/<uuid>/ like an outpost does; rejects with the HTTP status when the upgrade is refused. */
export function connectOutpost(h: Harness, outpostUuid: string, token: string | undefined, query = ''): Promise<OutpostSocket> {
  const url = new URL(`ws/outpost/${outpostUuid}/${query}`, h.core.url.replace(/^http/, 'ws'));
  const headers: Record<string, string> = { 'user-agent': 'goauthentik.io/outpost/test' };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  const ws = new WebSocket(url, { headers });
  const inbox: Array<{ instruction: number; args: Record<string, unknown> }> = [];
  const waiters: Array<(m: { instruction: number; args: Record<string, unknown> }) => void> = [];
  ws.on('message', (data) => {
    const message = JSON.parse(String(data)) as { instruction: number; args: Record<string, unknown> };
    const waiter = waiters.shift();
    if (waiter) waiter(message);
    else inbox.push(message);
  });
  return new Promise((resolveOpen, reject) => {
    ws.once('unexpected-response', (_req, res) => {
      reject(Object.assign(new Error(`upgrade refused: ${res.statusCode ?? 0}`), { status: res.statusCode }));
      ws.terminate();
    });
    ws.once('error', reject);
    ws.once('open', () => {
      resolveOpen({
        ws,
        next: (timeoutMs = 2000) => {
          const queued = inbox.shift();
          if (queued) return Promise.resolve(queued);
          return new Promise((resolveMessage, rejectMessage) => {
            const timer = setTimeout(() => rejectMessage(new Error('no message from the core')), timeoutMs);
            waiters.push((m) => {
              clearTimeout(timer);
              resolveMessage(m);
            });
          });
        },
        pending: () => inbox.length,
        send: (message) => ws.send(typeof message === 'string' ? message : JSON.stringify(message)),
        close: () =>
          new Promise<void>((resolveClose) => {
            if (ws.readyState === WebSocket.CLOSED) return resolveClose();
            ws.once('close', () => resolveClose());
            ws.close();
          }),
      });
    });
  });
}

/** The Django session key inside an authentik_session JWT (its `sid` claim). */
export function sessionKeyOf(cookie: string): string {
  const payload = cookie.split('.')[1] ?? '';
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { sid: string };
  return claims.sid;
}

/**
 * A fetch for authentik's generated clients that validates every JSON response against the generation's schema,
 * so calls made through the clients are checked like the harness's own.
 */
export function validatingFetch(generation: Generation): typeof fetch {
  return async (input, init) => {
    const res = await fetch(input, init);
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    const path = `${url.pathname}${url.search}`;
    if (!UNSCHEMED.some((p) => path.startsWith(p))) {
      const text = await res.clone().text();
      const body: unknown = text === '' ? undefined : JSON.parse(text);
      assertValidResponse(generation, { method: init?.method ?? 'GET', path, status: res.status, body: body as never });
    }
    return res;
  };
}
