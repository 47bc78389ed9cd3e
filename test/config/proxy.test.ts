import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { coreConnectionConfig, loadConfig, type CoreConnectionConfig } from '../../src/config/env.js';
import { createCoreClient } from '../../src/core-api/client.js';
import { proxyFor, proxySettingsFromEnv, type ProxySettings } from '../../src/config/proxy.js';
import { ConfigError, CoreError } from '../../src/errors.js';
import { buildHelloArgs, EventLink } from '../../src/outpost/events.js';
import { startConnectProxy } from '../helpers/connect-proxy.js';
import { startFakeCore } from '../helpers/fake-core-http.js';
import { captureLogs, FakeCoreWs, waitFor } from '../outpost/helpers.js';

const TOKEN = 'outpost-token';
const HTTP = new URL('http://proxy.example:3128');
const HTTPS = new URL('http://secure-proxy.example:3129');

function settings(noProxy: string): ProxySettings {
  return { httpProxy: HTTP, httpsProxy: HTTPS, noProxy };
}

describe('proxy settings (Go ProxyFromEnvironment rules)', () => {
  test('HTTPS_PROXY for https and wss, HTTP_PROXY for http and ws; upper case first; a bare host:port is http', () => {
    const s = proxySettingsFromEnv({ HTTPS_PROXY: 'upper:3129', https_proxy: 'http://lower:1', http_proxy: 'http://plain:3128' });
    assert.equal(s.httpsProxy?.href, 'http://upper:3129/');
    assert.equal(s.httpProxy?.href, 'http://plain:3128/');
    assert.equal(proxyFor(new URL('https://ak.example/'), s)?.host, 'upper:3129');
    assert.equal(proxyFor(new URL('wss://ak.example/ws/'), s)?.host, 'upper:3129');
    assert.equal(proxyFor(new URL('http://ak.example/'), s)?.host, 'plain:3128');
    // No fallback from one to the other.
    assert.equal(proxyFor(new URL('https://ak.example/'), proxySettingsFromEnv({ HTTP_PROXY: 'http://p:1' })), undefined);
    assert.equal(proxyFor(new URL('http://ak.example/'), proxySettingsFromEnv({})), undefined);
  });

  test('an unusable proxy URL stops start-up naming its variable', () => {
    assert.throws(() => proxySettingsFromEnv({ https_proxy: 'socks5://p:1080' }), (e: unknown) => e instanceof ConfigError && e.variable === 'https_proxy');
    assert.throws(() => proxySettingsFromEnv({ HTTP_PROXY: 'http://[bad' }), (e: unknown) => e instanceof ConfigError && e.variable === 'HTTP_PROXY');
  });

  test('NO_PROXY: *, names and subdomains, .name and *.name, ports, addresses, CIDR ranges, case', () => {
    const direct = (target: string, noProxy: string): boolean => proxyFor(new URL(target), settings(noProxy)) === undefined;
    assert.ok(direct('https://ak.example/', '*'));
    assert.ok(direct('https://ak.example/', 'other.test, AK.Example'));
    assert.ok(direct('https://auth.ak.example/', 'ak.example'));
    assert.ok(!direct('https://notak.example/', 'ak.example'));
    assert.ok(!direct('https://ak.example/', '.ak.example'));
    assert.ok(direct('https://auth.ak.example/', '.ak.example'));
    assert.ok(!direct('https://ak.example/', '*.ak.example'));
    assert.ok(direct('https://auth.ak.example/', '*.ak.example'));
    assert.ok(direct('https://ak.example/', 'ak.example:443'));
    assert.ok(!direct('https://ak.example:9443/', 'ak.example:443'));
    assert.ok(direct('http://10.1.2.3:9000/', '10.0.0.0/8'));
    assert.ok(!direct('http://11.1.2.3:9000/', '10.0.0.0/8'));
    assert.ok(direct('http://10.1.2.3:9000/', '10.1.2.3'));
    assert.ok(direct('http://10.1.2.3:9000/', '10.1.2.3:9000'));
    assert.ok(!direct('http://10.1.2.3:9000/', '10.1.2.3:80'));
    assert.ok(direct('http://[fd00::5]:9000/', 'fd00::/8'));
    assert.ok(direct('http://[fd00::5]:9000/', '[fd00::5]:9000'));
    assert.ok(direct('http://[fd00::5]:9000/', 'fd00::5'));
    assert.ok(!direct('http://ak.example/', '10.0.0.0/8, fd00::/8'));
    // Unlike Go, loopback is not exempt by itself.
    assert.ok(!direct('http://127.0.0.1:9000/', ''));
    assert.ok(direct('http://127.0.0.1:9000/', '127.0.0.1'));
  });

  test('loadConfig: the decision is made for AUTHENTIK_HOST, never for a unix socket', () => {
    const base = { AUTHENTIK_TOKEN: TOKEN, HTTPS_PROXY: 'http://p:3128', HTTP_PROXY: 'http://q:3128' };
    assert.equal(loadConfig({ ...base, AUTHENTIK_HOST: 'https://ak.example/sub/' }).core?.proxy?.host, 'p:3128');
    assert.equal(loadConfig({ ...base, AUTHENTIK_HOST: 'https://ak.example/', NO_PROXY: 'ak.example' }).core?.proxy, undefined);
    assert.equal(loadConfig({ ...base, AUTHENTIK_HOST: 'unix:///run/ak.sock' }).core?.proxy, undefined);
    // The proxy URL may carry credentials: it stays out of logs like the token.
    assert.ok(!JSON.stringify(loadConfig({ ...base, AUTHENTIK_HOST: 'https://ak.example/' }).core).includes('3128'));
  });
});

describe('the core link through a CONNECT proxy', () => {
  test('REST calls and flow exchanges go through HTTP_PROXY; directly when NO_PROXY matches', async () => {
    const proxy = await startConnectProxy();
    const core = await startFakeCore({ token: TOKEN });
    const port = new URL(core.host).port;
    try {
      for (const noProxy of ['', '127.0.0.1']) {
        const config = loadConfig({ AUTHENTIK_HOST: core.host, AUTHENTIK_TOKEN: TOKEN, HTTP_PROXY: proxy.url, NO_PROXY: noProxy }).core;
        assert.ok(config !== undefined);
        const client = createCoreClient({ host: config.host, token: TOKEN, insecure: false, timeoutMs: 5_000, ...(config.proxy !== undefined ? { proxy: config.proxy } : {}) });
        const tunnelsBefore = proxy.tunnels.length;
        const requestsBefore = core.requests.length;
        try {
          assert.equal((await client.listOutposts()).length, 1);
          assert.equal((await client.rootConfig()).cacheTimeoutFlows, 300);
          const attempt = client.newFlowAttempt({ remoteIp: '192.0.2.1', innerQuery: {}, timeoutMs: 5_000 });
          await attempt.warmUp('default-authentication-flow');
        } finally {
          await client.close();
        }
        assert.equal(core.requests.length - requestsBefore, 3);
        const tunnels = proxy.tunnels.slice(tunnelsBefore);
        if (noProxy === '') {
          assert.ok(tunnels.length >= 1);
          assert.ok(tunnels.every((t) => t === `127.0.0.1:${port}`));
        } else {
          assert.deepEqual(tunnels, []);
        }
      }
    } finally {
      await core.close();
      await proxy.close();
    }
  });

  test('a proxy that cannot be reached is a transport error, never a silent direct connection', async () => {
    const proxy = await startConnectProxy();
    const deadProxy = proxy.url;
    await proxy.close();
    const core = await startFakeCore({ token: TOKEN });
    const client = createCoreClient({ host: core.host, token: TOKEN, insecure: false, timeoutMs: 2_000, proxy: new URL(deadProxy) });
    try {
      await assert.rejects(client.rootConfig(), (e: unknown) => e instanceof CoreError && e.kind === 'transport');
      assert.equal(core.requests.length, 0);
    } finally {
      await client.close();
      await core.close();
    }
  });

  test('the WebSocket goes through HTTP_PROXY; directly when NO_PROXY matches', async () => {
    const proxy = await startConnectProxy();
    const ws = await FakeCoreWs.start();
    try {
      for (const noProxy of ['', '127.0.0.1']) {
        const core: CoreConnectionConfig = coreConnectionConfig(`http://127.0.0.1:${ws.port}/`, TOKEN, {
          insecure: false,
          timeoutMs: 2_000,
          proxy: { httpProxy: new URL(proxy.url), httpsProxy: undefined, noProxy },
        });
        const tunnelsBefore = proxy.tunnels.length;
        const connectionsBefore = ws.connections.length;
        const logs = captureLogs();
        const link = new EventLink({
          core,
          outpostPk: 'pk',
          instanceUuid: 'uuid',
          userAgent: 'test',
          helloArgs: () => buildHelloArgs({ version: '2026.2.2', buildHash: '', instanceUuid: 'uuid' }),
          logger: logs.root.child('authentik.outpost.events'),
          handlers: { triggerUpdate: () => undefined, providerSpecific: () => undefined, sessionEnd: () => undefined },
        });
        link.start();
        try {
          await waitFor(() => link.connected && ws.last?.frames.length === 1, 'link up and HELLO received');
        } finally {
          await link.close();
        }
        assert.equal(ws.connections.length - connectionsBefore, 1);
        assert.equal(ws.last?.headers.authorization, `Bearer ${TOKEN}`);
        assert.deepEqual(proxy.tunnels.slice(tunnelsBefore), noProxy === '' ? [`127.0.0.1:${ws.port}`] : []);
      }
    } finally {
      await ws.close();
      await proxy.close();
    }
  });
});
