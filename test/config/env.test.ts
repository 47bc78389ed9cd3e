import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { cidrBlockList, coreConnectionConfig, loadConfig } from '../../src/config/env.js';
import { ConfigError } from '../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'ako-env-'));
const tokenFile = join(dir, 'token');
writeFileSync(tokenFile, '  tok-from-file\n');
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

const HOST = { AUTHENTIK_HOST: 'https://ak.example', AUTHENTIK_TOKEN: 'tok' };

describe('loadConfig defaults', () => {
  test('embedded default mode without AUTHENTIK_HOST', () => {
    const c = loadConfig({});
    assert.equal(c.core, undefined);
    assert.equal(c.insecure, false);
    assert.deepEqual(c.listen.ldap, [{ host: '0.0.0.0', port: 3389 }]);
    assert.deepEqual(c.listen.ldaps, [{ host: '0.0.0.0', port: 6636 }]);
    assert.deepEqual(c.listen.radius, [{ host: '0.0.0.0', port: 1812 }]);
    assert.deepEqual(c.listen.radiusAccounting, [{ host: '0.0.0.0', port: 1813 }]);
    assert.deepEqual(c.listen.metrics, [{ host: '0.0.0.0', port: 9300 }]);
    assert.deepEqual(
      c.listen.trustedProxyCidrs.map((x) => `${x.address}/${x.prefix}`),
      ['127.0.0.0/8', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fe80::/10', '::1/128'],
    );
    assert.equal(c.logLevel, 'info');
    assert.equal(c.ldap.pageSize, 50);
    assert.equal(c.ldap.requireTls, false);
    assert.equal(c.coreTimeoutMs, 10_000);
    assert.equal(c.buildHash, '');
    assert.equal(c.metricsSocketPath, '/tmp/authentik-metrics.sock');
  });

  test('config is deeply frozen', () => {
    const c = loadConfig(HOST);
    assert.ok(Object.isFrozen(c));
    assert.ok(Object.isFrozen(c.listen));
    assert.ok(Object.isFrozen(c.listen.ldap));
    assert.ok(Object.isFrozen(c.listen.ldap[0]));
    assert.ok(Object.isFrozen(c.core));
    assert.ok(Object.isFrozen(c.ldap));
  });
});

describe('loadConfig values', () => {
  const cases: Array<{ name: string; env: NodeJS.ProcessEnv; check: (c: ReturnType<typeof loadConfig>) => void }> = [
    {
      name: 'host normalised with trailing slash',
      env: { ...HOST, AUTHENTIK_HOST: 'http://localhost:9000' },
      check: (c) => assert.deepEqual([c.core?.baseUrl, c.core?.query, c.core?.socketPath], ['http://localhost:9000/', '', undefined]),
    },
    {
      name: 'host sub-path kept, slash appended',
      env: { ...HOST, AUTHENTIK_HOST: 'http://localhost:9000/authentik' },
      check: (c) => assert.equal(c.core?.baseUrl, 'http://localhost:9000/authentik/'),
    },
    {
      name: 'host query kept apart',
      env: { ...HOST, AUTHENTIK_HOST: 'https://ak.example/sub/?foo=bar&x=1' },
      check: (c) => assert.deepEqual([c.core?.baseUrl, c.core?.query], ['https://ak.example/sub/', 'foo=bar&x=1']),
    },
    {
      name: 'unix socket host',
      env: { ...HOST, AUTHENTIK_HOST: 'unix:///run/authentik/core.sock' },
      check: (c) => assert.deepEqual([c.core?.baseUrl, c.core?.socketPath], ['http://localhost/', '/run/authentik/core.sock']),
    },
    {
      name: 'insecure and timeout reach the core connection',
      env: { ...HOST, AUTHENTIK_INSECURE: 'TRUE', AUTHENTIK_CORE_TIMEOUT_MS: '2500' },
      check: (c) => assert.deepEqual([c.insecure, c.core?.insecure, c.core?.timeoutMs], [true, true, 2500]),
    },
    {
      name: 'booleans accept Go spellings',
      env: { AUTHENTIK_INSECURE: '0', AUTHENTIK_LDAP__REQUIRE_TLS: 't' },
      check: (c) => assert.deepEqual([c.insecure, c.ldap.requireTls], [false, true]),
    },
    {
      name: 'RADIUS Message-Authenticator policy: auto by default, booleans, auto in any case',
      env: {},
      check: (c) => {
        assert.equal(c.radius.requireMessageAuthenticator, 'auto');
        assert.equal(loadConfig({ AUTHENTIK_RADIUS__REQUIRE_MESSAGE_AUTHENTICATOR: 'yes' }).radius.requireMessageAuthenticator, 'true');
        assert.equal(loadConfig({ AUTHENTIK_RADIUS__REQUIRE_MESSAGE_AUTHENTICATOR: 'false' }).radius.requireMessageAuthenticator, 'false');
        assert.equal(loadConfig({ AUTHENTIK_RADIUS__REQUIRE_MESSAGE_AUTHENTICATOR: 'AUTO' }).radius.requireMessageAuthenticator, 'auto');
      },
    },
    {
      name: 'listen list, IPv6 brackets, duplicates dropped',
      env: { AUTHENTIK_LISTEN__LDAP: '[::]:3389, 127.0.0.1:3390,[::]:3389' },
      check: (c) => assert.deepEqual(c.listen.ldap, [{ host: '::', port: 3389 }, { host: '127.0.0.1', port: 3390 }]),
    },
    {
      name: 'listen with host name and with empty host',
      env: { AUTHENTIK_LISTEN__METRICS: 'localhost:9301,:9302' },
      check: (c) => assert.deepEqual(c.listen.metrics, [{ host: 'localhost', port: 9301 }, { host: '', port: 9302 }]),
    },
    {
      name: 'blank value means default',
      env: { AUTHENTIK_LISTEN__RADIUS: '  ', AUTHENTIK_LOG_LEVEL: '' },
      check: (c) => assert.deepEqual([c.listen.radius, c.logLevel], [[{ host: '0.0.0.0', port: 1812 }], 'info']),
    },
    {
      name: 'log level case-insensitive, warn alias',
      env: { AUTHENTIK_LOG_LEVEL: 'WARN' },
      check: (c) => assert.equal(c.logLevel, 'warning'),
    },
    {
      name: 'page size bounds accepted',
      env: { AUTHENTIK_LDAP__PAGE_SIZE: '1000' },
      check: (c) => assert.equal(c.ldap.pageSize, 1000),
    },
    {
      name: 'trusted proxies, bare address is a host prefix',
      env: { AUTHENTIK_LISTEN__TRUSTED_PROXY_CIDRS: '10.1.0.0/16, 2001:db8::1' },
      check: (c) =>
        assert.deepEqual(c.listen.trustedProxyCidrs, [
          { address: '10.1.0.0', prefix: 16, family: 'ipv4' },
          { address: '2001:db8::1', prefix: 128, family: 'ipv6' },
        ]),
    },
    {
      name: 'GIT_BUILD_HASH and TMPDIR',
      env: { GIT_BUILD_HASH: 'abc123', TMPDIR: '/dev/shm/' },
      check: (c) => assert.deepEqual([c.buildHash, c.metricsSocketPath], ['abc123', '/dev/shm/authentik-metrics.sock']),
    },
    {
      name: 'env:// indirection',
      env: { ...HOST, AUTHENTIK_TOKEN: 'env://MY_TOKEN', MY_TOKEN: 'tok-indirect' },
      check: (c) => assert.equal(c.core?.token, 'tok-indirect'),
    },
    {
      name: 'env:// fallback when the variable is unset',
      env: { AUTHENTIK_LOG_LEVEL: 'env://NOPE?debug' },
      check: (c) => assert.equal(c.logLevel, 'debug'),
    },
    {
      name: 'file:// indirection, trimmed',
      env: { ...HOST, AUTHENTIK_TOKEN: `file://${tokenFile}` },
      check: (c) => assert.equal(c.core?.token, 'tok-from-file'),
    },
    {
      name: 'file:// fallback when unreadable',
      env: { ...HOST, AUTHENTIK_TOKEN: `file://${join(dir, 'missing')}?tok-fallback` },
      check: (c) => assert.equal(c.core?.token, 'tok-fallback'),
    },
  ];
  for (const c of cases) test(c.name, () => c.check(loadConfig(c.env)));
});

describe('loadConfig errors name the variable in one line', () => {
  const cases: Array<[string, NodeJS.ProcessEnv, string]> = [
    ['listen not host:port', { AUTHENTIK_LISTEN__LDAP: 'foo' }, 'AUTHENTIK_LISTEN__LDAP: "foo" is not host:port'],
    ['listen bad port', { AUTHENTIK_LISTEN__LDAPS: '0.0.0.0:70000' }, 'AUTHENTIK_LISTEN__LDAPS: "0.0.0.0:70000" is not host:port'],
    ['listen unbracketed IPv6', { AUTHENTIK_LISTEN__RADIUS: ':::1812' }, 'AUTHENTIK_LISTEN__RADIUS: ":::1812" is not host:port'],
    ['listen bad entry in list', { AUTHENTIK_LISTEN__METRICS: '[::]:9300,x y:1' }, 'AUTHENTIK_LISTEN__METRICS: "x y:1" is not host:port'],
    ['listen empty list', { AUTHENTIK_LISTEN__RADIUS_ACCOUNTING: ' , ' }, 'AUTHENTIK_LISTEN__RADIUS_ACCOUNTING: "," is an empty list'],
    ['token missing', { AUTHENTIK_HOST: 'http://x' }, 'AUTHENTIK_TOKEN: not set (required when AUTHENTIK_HOST is set)'],
    ['host not a URL', { ...HOST, AUTHENTIK_HOST: 'ak.example' }, 'AUTHENTIK_HOST: "ak.example" is not an http://, https:// or unix:// URL'],
    ['host wrong scheme', { ...HOST, AUTHENTIK_HOST: 'ftp://ak.example' }, 'AUTHENTIK_HOST: "ftp://ak.example" is not an http://, https:// or unix:// URL'],
    ['host relative unix', { ...HOST, AUTHENTIK_HOST: 'unix://run/x.sock' }, 'AUTHENTIK_HOST: "unix://run/x.sock" needs an absolute socket path (unix:///path/to.sock)'],
    ['host credentials', { ...HOST, AUTHENTIK_HOST: 'https://u:p@ak.example' }, 'AUTHENTIK_HOST: must not contain credentials'],
    ['token with whitespace', { ...HOST, AUTHENTIK_TOKEN: 'a b' }, 'AUTHENTIK_TOKEN: contains whitespace or control characters'],
    ['bool', { AUTHENTIK_INSECURE: 'maybe' }, 'AUTHENTIK_INSECURE: "maybe" is not a boolean (true or false)'],
    ['require tls bool', { AUTHENTIK_LDAP__REQUIRE_TLS: '2' }, 'AUTHENTIK_LDAP__REQUIRE_TLS: "2" is not a boolean (true or false)'],
    ['radius MA policy', { AUTHENTIK_RADIUS__REQUIRE_MESSAGE_AUTHENTICATOR: 'sometimes' }, 'AUTHENTIK_RADIUS__REQUIRE_MESSAGE_AUTHENTICATOR: "sometimes" is not a boolean (true or false)'],
    ['page size zero', { AUTHENTIK_LDAP__PAGE_SIZE: '0' }, 'AUTHENTIK_LDAP__PAGE_SIZE: "0" must be an integer from 1 to 1000'],
    ['page size too big', { AUTHENTIK_LDAP__PAGE_SIZE: '1001' }, 'AUTHENTIK_LDAP__PAGE_SIZE: "1001" must be an integer from 1 to 1000'],
    ['page size not a number', { AUTHENTIK_LDAP__PAGE_SIZE: '5e1' }, 'AUTHENTIK_LDAP__PAGE_SIZE: "5e1" must be an integer from 1 to 1000'],
    ['core timeout', { AUTHENTIK_CORE_TIMEOUT_MS: '-1' }, 'AUTHENTIK_CORE_TIMEOUT_MS: "-1" must be an integer from 100 to 300000'],
    ['log level', { AUTHENTIK_LOG_LEVEL: 'loud' }, 'AUTHENTIK_LOG_LEVEL: "loud" is not one of trace, debug, info, warning, error'],
    ['cidr prefix', { AUTHENTIK_LISTEN__TRUSTED_PROXY_CIDRS: '10.0.0.0/33' }, 'AUTHENTIK_LISTEN__TRUSTED_PROXY_CIDRS: "10.0.0.0/33" is not a CIDR (address/prefix)'],
    ['cidr address', { AUTHENTIK_LISTEN__TRUSTED_PROXY_CIDRS: 'foo/8' }, 'AUTHENTIK_LISTEN__TRUSTED_PROXY_CIDRS: "foo/8" is not a CIDR (address/prefix)'],
    ['file:// unreadable without fallback', { ...HOST, AUTHENTIK_TOKEN: `file://${join(dir, 'missing')}` }, `AUTHENTIK_TOKEN: cannot read file ${JSON.stringify(join(dir, 'missing'))}`],
  ];
  for (const [name, env, message] of cases) {
    test(name, () => {
      assert.throws(
        () => loadConfig(env),
        (err: unknown) => {
          assert.ok(err instanceof ConfigError, 'ConfigError');
          assert.equal(err.message, message);
          assert.ok(!err.message.includes('\n'));
          assert.equal(err.variable, message.split(':')[0]);
          return true;
        },
      );
    });
  }

  test('token value never appears in the error', () => {
    const secret = 'tok-SECRET-\u0001-123';
    assert.throws(() => loadConfig({ ...HOST, AUTHENTIK_TOKEN: secret }), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.ok(!err.message.includes('SECRET'));
      return true;
    });
  });
});

describe('helpers', () => {
  test('token is hidden from JSON and inspect', () => {
    const c = loadConfig({ ...HOST, AUTHENTIK_TOKEN: 'tok-SECRET-123' });
    assert.equal(c.core?.token, 'tok-SECRET-123');
    assert.ok(!JSON.stringify(c).includes('tok-SECRET-123'));
    assert.ok(!inspect(c, { depth: 10 }).includes('tok-SECRET-123'));
  });

  test('coreConnectionConfig validates like loadConfig', () => {
    const c = coreConnectionConfig('http://127.0.0.1:9000/x?y=1', 'tok', { insecure: false, timeoutMs: 1000 });
    assert.deepEqual([c.baseUrl, c.query, c.token], ['http://127.0.0.1:9000/x/', 'y=1', 'tok']);
    assert.throws(() => coreConnectionConfig('http://x', ' ', { insecure: false, timeoutMs: 1 }), /AUTHENTIK_TOKEN: is empty/);
  });

  test('cidrBlockList matches the default trusted proxies', () => {
    const list = cidrBlockList(loadConfig({}).listen.trustedProxyCidrs);
    assert.equal(list.check('10.2.3.4', 'ipv4'), true);
    assert.equal(list.check('172.31.255.255', 'ipv4'), true);
    assert.equal(list.check('172.32.0.1', 'ipv4'), false);
    assert.equal(list.check('::1', 'ipv6'), true);
    assert.equal(list.check('2001:db8::1', 'ipv6'), false);
  });
});

describe('AUTHENTIK_WORKERS', () => {
  const base = { AUTHENTIK_HOST: 'http://core.test', AUTHENTIK_TOKEN: 't' };
  test('defaults to one process; takes a count or auto (one per CPU, capped)', () => {
    assert.equal(loadConfig(base).workers, 1);
    assert.equal(loadConfig({ ...base, AUTHENTIK_WORKERS: '3' }).workers, 3);
    const auto = loadConfig({ ...base, AUTHENTIK_WORKERS: 'auto' }).workers;
    assert.ok(auto >= 1 && auto <= 16, String(auto));
  });
  test('refuses zero, negatives, words and more than 16', () => {
    for (const value of ['0', '-1', 'two', '17', '1.5']) {
      assert.throws(() => loadConfig({ ...base, AUTHENTIK_WORKERS: value }), ConfigError, value);
    }
  });
});
