import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../src/errors.js';
import { parseAuthentikHost } from '../../src/core-api/host.js';

describe('AUTHENTIK_HOST normalisation (reference §5.4)', () => {
  const table: [string, string, string][] = [
    ['http://localhost:9000', 'http://localhost:9000/', 'http://localhost:9000/api/v3'],
    ['http://localhost:9000/', 'http://localhost:9000/', 'http://localhost:9000/api/v3'],
    ['http://localhost:9000/authentik', 'http://localhost:9000/authentik/', 'http://localhost:9000/authentik/api/v3'],
    ['http://localhost:9000/authentik/', 'http://localhost:9000/authentik/', 'http://localhost:9000/authentik/api/v3'],
    ['https://ak.example/', 'https://ak.example/', 'https://ak.example/api/v3'],
    ['https://ak.example/sub/', 'https://ak.example/sub/', 'https://ak.example/sub/api/v3'],
    ['https://ak.example:443', 'https://ak.example/', 'https://ak.example/api/v3'],
    ['http://[::1]:9000/x?foo=bar', 'http://[::1]:9000/x/', 'http://[::1]:9000/x/api/v3'],
  ];
  for (const [input, host, base] of table) {
    test(input, () => {
      const e = parseAuthentikHost(input);
      assert.equal(e.normalizedHost, host);
      assert.equal(e.apiBase, base);
      assert.equal(e.socketPath, undefined);
    });
  }

  test('query is kept for the websocket only', () => {
    const e = parseAuthentikHost('http://localhost:9000?foo=bar');
    assert.equal(e.search, '?foo=bar');
    assert.equal(e.apiBase, 'http://localhost:9000/api/v3');
    assert.equal(e.secure, false);
    assert.equal(parseAuthentikHost('https://a.example').secure, true);
  });

  test('unix:// uses the socket and Host localhost', () => {
    const e = parseAuthentikHost('unix:///run/authentik/core.sock');
    assert.equal(e.socketPath, '/run/authentik/core.sock');
    assert.equal(e.apiBase, 'http://localhost/api/v3');
    assert.equal(e.origin, 'http://localhost');
  });

  test('invalid values name the variable', () => {
    for (const bad of ['', '   ', 'not a url', 'ftp://x/', 'unix://relative/sock', 'unix:///']) {
      assert.throws(() => parseAuthentikHost(bad), (err: unknown) => err instanceof ConfigError && err.variable === 'AUTHENTIK_HOST', bad);
    }
  });
});
