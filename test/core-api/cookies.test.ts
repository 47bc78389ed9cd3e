import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CookieJar } from '../../src/core-api/cookies.js';

const http = new URL('http://core.example/api/v3/flows/executor/x/?query=a');
const https = new URL('https://core.example/api/v3/flows/executor/x/');

describe('CookieJar', () => {
  test('stores name/value and sends them back to the same host', () => {
    const jar = new CookieJar();
    jar.storeFromResponse(http, ['authentik_session=abc; Path=/; HttpOnly; SameSite=Lax', 'other=1; Path=/']);
    assert.equal(jar.header(http), 'authentik_session=abc; other=1');
    assert.equal(jar.header(new URL('http://elsewhere.example/api/v3/')), undefined);
  });

  test('newer value replaces the older one; get() returns the newest', () => {
    const jar = new CookieJar();
    jar.storeFromResponse(http, ['authentik_session=old; Path=/']);
    jar.storeFromResponse(http, ['authentik_session=new; Path=/']);
    assert.equal(jar.get('authentik_session'), 'new');
    assert.equal(jar.header(http), 'authentik_session=new');
  });

  test('Max-Age=0 and past Expires delete; Max-Age wins over Expires', () => {
    const jar = new CookieJar();
    const now = Date.parse('2026-01-01T00:00:00Z');
    jar.storeFromResponse(http, ['a=1; Path=/', 'b=2; Path=/'], now);
    jar.storeFromResponse(http, ['a=x; Max-Age=0; Path=/', 'b=x; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/'], now);
    assert.equal(jar.header(http, now), undefined);
    jar.storeFromResponse(http, ['c=3; Max-Age=10; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/'], now);
    assert.equal(jar.header(http, now), 'c=3');
    assert.equal(jar.header(http, now + 11_000), undefined);
  });

  test('Secure cookies are sent only over https and reported when received over http', () => {
    const jar = new CookieJar();
    const r = jar.storeFromResponse(http, ['s=1; Secure; Path=/']);
    assert.deepEqual(r.secureOverHttp, ['s']);
    assert.equal(jar.header(http), undefined);
    assert.equal(jar.header(https), 's=1');
  });

  test('path matching and default path', () => {
    const jar = new CookieJar();
    jar.storeFromResponse(http, ['p=1; Path=/api/v3/flows', 'd=2']);
    // d's default path is the request's directory (/api/v3/flows/executor/x); longer paths go first.
    assert.equal(jar.header(new URL('http://core.example/api/v3/flows/executor/x/?q')), 'd=2; p=1');
    assert.equal(jar.header(new URL('http://core.example/api/v3/flows/executor/')), 'p=1');
    assert.equal(jar.header(new URL('http://core.example/api/v3/core/users/me/')), undefined);
    assert.equal(jar.header(new URL('http://core.example/api/v3/flowsX')), undefined);
  });

  test('Domain for another host is rejected; a matching Domain is kept host-only', () => {
    const jar = new CookieJar();
    const r = jar.storeFromResponse(http, ['x=1; Domain=evil.example', 'y=2; Domain=core.example; Path=/']);
    assert.equal(r.rejected, 1);
    assert.equal(jar.header(http), 'y=2');
  });

  test('bounded: malformed, oversized and excess cookies are dropped', () => {
    const jar = new CookieJar({ maxCookies: 2, maxCookieBytes: 16 });
    const r = jar.storeFromResponse(http, ['noequals', '=v', 'big=' + 'x'.repeat(20), 'a=1; Path=/', 'b=2; Path=/', 'c=3; Path=/']);
    assert.equal(r.rejected, 4);
    assert.equal(jar.size, 2);
    assert.equal(jar.header(http), 'a=1; b=2');
  });

  test('seeded session cookie is sent on every path of the host', () => {
    const jar = new CookieJar();
    jar.set(new URL('http://core.example/api/v3'), 'authentik_session', 'seed');
    assert.equal(jar.header(http), 'authentik_session=seed');
    assert.equal(jar.get('authentik_session'), 'seed');
  });
});
