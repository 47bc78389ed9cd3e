import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { SessionStore, type SessionEndReason } from '../../../src/embedded-core/flows/sessions.js';

const KEY = 'k'.repeat(48);

function cookieValue(header: string): string {
  const match = /^authentik_session=([^;]*)/.exec(header);
  assert.ok(match, header);
  return match[1]!;
}

function claims(jwt: string): Record<string, unknown> {
  const [, payload] = jwt.split('.');
  return JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8')) as Record<string, unknown>;
}

function clock(start = 1_700_000_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('session store', () => {
  test('cookie is an HS256 JWT with authentik claims, verified in fromCookie', () => {
    const store = new SessionStore({ signingKey: KEY });
    const session = store.create();
    assert.match(session.key, /^[a-z0-9]{32}$/);
    const jwt = store.cookieValue(session);
    const [header, payload, signature] = jwt.split('.');
    assert.deepEqual(JSON.parse(Buffer.from(header!, 'base64url').toString()), { alg: 'HS256', typ: 'JWT' });
    assert.deepEqual(claims(jwt), { sid: session.key, iss: 'authentik', sub: 'anonymous', authenticated: false, acr: 'goauthentik.io/core/default' });
    assert.equal(signature, createHmac('sha256', KEY).update(`${header}.${payload}`).digest('base64url'));
    assert.equal(store.fromCookie(jwt), session);

    store.login(session, { pk: 7, uid: 'uid-7' }, 0, '192.0.2.1');
    const after = store.cookieValue(session);
    assert.deepEqual(claims(after), { sid: session.key, iss: 'authentik', sub: 'uid-7', authenticated: true, acr: 'goauthentik.io/core/default' });
    assert.equal(store.fromCookie(after), session);
  });

  test('tampered, foreign, malformed and raw-key cookies are refused', () => {
    const store = new SessionStore({ signingKey: KEY });
    const other = new SessionStore({ signingKey: 'x'.repeat(48) });
    const session = store.create();
    const jwt = store.cookieValue(session);
    const [header, payload, signature] = jwt.split('.') as [string, string, string];
    const forged = Buffer.from(JSON.stringify({ sid: store.create().key, iss: 'authentik' })).toString('base64url');
    const noneHeader = Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url');
    for (const bad of [
      undefined,
      '',
      session.key,
      `${header}.${forged}.${signature}`,
      `${header}.${payload}.${signature.slice(0, -2)}`,
      `${noneHeader}.${payload}.`,
      `${jwt}.extra`,
      'x'.repeat(5000),
      other.cookieValue(other.create()),
    ]) {
      assert.equal(store.fromCookie(bad), undefined, String(bad).slice(0, 40));
    }
  });

  test('Set-Cookie attributes; browser sessions have no Expires', () => {
    const c = clock();
    const store = new SessionStore({ signingKey: KEY, now: c.now, defaultTtlMs: 3_600_000 });
    const session = store.create();
    const anon = store.setCookieHeader(session, { secure: false });
    assert.match(anon, /; Path=\/; Expires=[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT; Max-Age=3600; HttpOnly; SameSite=Lax$/);
    store.login(session, { pk: 1, uid: 'u' }, 0, null);
    const browser = store.setCookieHeader(session, { secure: true });
    assert.doesNotMatch(browser, /Expires|Max-Age/);
    assert.match(browser, /; Path=\/; HttpOnly; SameSite=None; Secure$/);
    store.login(session, { pk: 1, uid: 'u' }, 7_200_000, null);
    assert.match(store.setCookieHeader(session, { secure: false }), /Max-Age=7200;/);
    assert.equal(cookieValue(store.clearCookieHeader({ secure: false })), '');
    assert.match(store.clearCookieHeader({ secure: false }), /Max-Age=0/);
  });

  test('rotate gives a new key and invalidates the old cookie', () => {
    const store = new SessionStore({ signingKey: KEY });
    const session = store.create();
    const oldCookie = store.cookieValue(session);
    const oldKey = session.key;
    store.rotate(session);
    assert.notEqual(session.key, oldKey);
    assert.equal(store.fromCookie(oldCookie), undefined);
    assert.equal(store.get(session.key), session);
    assert.equal(store.size, 1);
  });

  test('bounded: least recently used sessions are evicted, authenticated ones reported', () => {
    const ended: Array<[string, SessionEndReason]> = [];
    const store = new SessionStore({ signingKey: KEY, maxSessions: 3, onSessionEnd: (key, reason) => ended.push([key, reason]) });
    const a = store.create();
    store.login(a, { pk: 1, uid: 'u1' }, 0, null);
    const b = store.create();
    const c = store.create();
    assert.equal(store.get(a.key), a); // a becomes most recent; b is now the oldest
    store.create();
    assert.equal(store.size, 3);
    assert.equal(store.get(b.key), undefined);
    assert.equal(store.get(c.key), c);
    assert.deepEqual(ended, []); // b was anonymous
    store.create(); // order was a, d, c (c just touched): a is evicted
    assert.equal(store.get(a.key), undefined);
    assert.deepEqual(ended, [[a.key, 'evicted']]);
  });

  test('expiry: sliding for anonymous sessions, fixed after login with a duration', () => {
    const ended: Array<[string, SessionEndReason]> = [];
    const c = clock();
    const store = new SessionStore({ signingKey: KEY, now: c.now, defaultTtlMs: 1000, onSessionEnd: (key, reason) => ended.push([key, reason]) });
    const anon = store.create();
    c.advance(800);
    store.touch(anon);
    c.advance(800);
    assert.equal(store.get(anon.key), anon, 'touch slid the expiry');
    c.advance(1000);
    assert.equal(store.get(anon.key), undefined);

    const user = store.create();
    store.login(user, { pk: 5, uid: 'u5' }, 5000, null);
    c.advance(4000);
    store.touch(user);
    c.advance(1500);
    assert.equal(store.get(user.key), undefined, 'fixed expiry does not slide');
    assert.deepEqual(ended, [[user.key, 'expired']]);

    const swept = store.create();
    store.login(swept, { pk: 6, uid: 'u6' }, 0, null);
    c.advance(2000);
    assert.equal(store.sweep(), 1);
    assert.equal(store.size, 0);
    assert.equal(ended.length, 2);
  });

  test('admin operations: end sessions of a user, end one, list authenticated', () => {
    const ended: string[] = [];
    const store = new SessionStore({ signingKey: KEY, onSessionEnd: (key) => ended.push(key) });
    const s1 = store.create();
    const s2 = store.create();
    const s3 = store.create();
    store.create();
    store.login(s1, { pk: 1, uid: 'a' }, 0, '198.51.100.1');
    store.login(s2, { pk: 1, uid: 'a' }, 0, null);
    store.login(s3, { pk: 2, uid: 'b' }, 0, null);
    assert.deepEqual(store.authenticatedSessions().map((s) => s.key).sort(), [s1.key, s2.key, s3.key].sort());
    assert.deepEqual(store.endSessionsOfUser(1).sort(), [s1.key, s2.key].sort());
    assert.equal(store.get(s1.key), undefined);
    assert.equal(store.endSession(s3.key), true);
    assert.equal(store.endSession(s3.key), false);
    assert.deepEqual(store.authenticatedSessions(), []);
    assert.deepEqual(ended, [], 'callers of the admin operations broadcast themselves');
    const s4 = store.create();
    store.login(s4, { pk: 3, uid: 'c' }, 0, null);
    store.terminate(s4, 'logout');
    assert.deepEqual(ended, [s4.key]);
  });

  test('rejects a short signing key', () => {
    assert.throws(() => new SessionStore({ signingKey: 'short' }), RangeError);
  });
});
