import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/env.js';
import { runHealthcheck } from '../../src/observability/healthcheck.js';
import { LogRoot } from '../../src/observability/log.js';
import { MetricsRegistry } from '../../src/observability/metrics.js';
import { startMetricsServer, type MetricsServer } from '../../src/observability/server.js';

const logRoot = new LogRoot({ level: 'error', destination: { write: () => {} } });

function call(
  target: { socketPath: string } | { port: number },
  method: string,
  path: string,
): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ ...('port' in target ? { host: '127.0.0.1' } : {}), ...target, method, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('metrics server', () => {
  let dir: string;
  let server: MetricsServer;
  let port: number;
  let socketPath: string;
  let ready = true;
  const registry = new MetricsRegistry();
  registry.gauge({ name: 'test_up', help: 'x' }).set({}, 1);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ako-metrics-'));
    socketPath = join(dir, 'authentik-metrics.sock');
    // A stale socket file from an earlier run (a process killed while listening) must not stop the server.
    spawnSync(process.execPath, [
      '-e',
      `require('net').createServer().listen(${JSON.stringify(socketPath)}, () => process.kill(process.pid, 'SIGKILL'))`,
    ]);
    assert.ok(existsSync(socketPath), 'stale socket file present');
    server = await startMetricsServer({
      addresses: [{ host: '127.0.0.1', port: 0 }],
      socketPath,
      registry,
      logger: logRoot.child('authentik.outpost.metrics'),
      isReady: () => ready,
    });
    const first = server.tcpAddresses[0];
    assert.ok(first);
    port = first.port;
  });

  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('ping answers 204 to any method, on TCP and on the unix socket', async () => {
    for (const method of ['GET', 'HEAD', 'POST', 'DELETE']) {
      assert.equal((await call({ port }, method, '/outpost.goauthentik.io/ping')).status, 204, method);
    }
    assert.equal(server.socketPath, socketPath);
    assert.equal((await call({ socketPath }, 'HEAD', '/outpost.goauthentik.io/ping')).status, 204);
  });

  test('ping answers 503 while not ready', async () => {
    ready = false;
    try {
      assert.equal((await call({ port }, 'GET', '/outpost.goauthentik.io/ping')).status, 503);
    } finally {
      ready = true;
    }
  });

  test('/metrics serves the exposition; other paths 404', async () => {
    const res = await call({ port }, 'GET', '/metrics');
    assert.equal(res.status, 200);
    assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    assert.match(res.body, /^test_up 1$/m);
    assert.equal((await call({ socketPath }, 'GET', '/metrics')).status, 200);
    assert.equal((await call({ port }, 'POST', '/metrics')).status, 405);
    assert.equal((await call({ port }, 'GET', '/nope')).status, 404);
  });

  test('healthcheck: 0 over the unix socket', async () => {
    const config = loadConfig({ TMPDIR: dir, AUTHENTIK_LISTEN__METRICS: '127.0.0.1:1' });
    assert.equal(await runHealthcheck(config, { timeoutMs: 2000 }), 0);
  });

  test('healthcheck: falls back to TCP (0.0.0.0 -> 127.0.0.1) when the socket is absent', async () => {
    const config = loadConfig({ TMPDIR: join(dir, 'nowhere'), AUTHENTIK_LISTEN__METRICS: `0.0.0.0:${port}` });
    assert.equal(await runHealthcheck(config, { timeoutMs: 2000 }), 0);
  });

  test('healthcheck: 1 when the ping answers 503', async () => {
    ready = false;
    try {
      const config = loadConfig({ TMPDIR: dir });
      assert.equal(await runHealthcheck(config, { timeoutMs: 2000 }), 1);
    } finally {
      ready = true;
    }
  });
});

describe('healthcheck without a server', () => {
  test('1 when neither the socket nor TCP answers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ako-hc-'));
    try {
      // A port that was just free: nothing listens there.
      const probe = createServer();
      await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
      const { port } = probe.address() as { port: number };
      await new Promise<void>((r) => probe.close(() => r()));
      writeFileSync(join(dir, 'authentik-metrics.sock'), 'not a socket');
      const config = loadConfig({ TMPDIR: dir, AUTHENTIK_LISTEN__METRICS: `127.0.0.1:${port}` });
      assert.equal(await runHealthcheck(config, { timeoutMs: 2000 }), 1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a listener that fails is skipped, not fatal; a non-socket file is never removed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ako-hc-'));
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const { port } = blocker.address() as { port: number };
    const file = join(dir, 'authentik-metrics.sock');
    writeFileSync(file, 'keep me');
    try {
      const server = await startMetricsServer({
        addresses: [{ host: '127.0.0.1', port }, { host: '127.0.0.1', port: 0 }],
        socketPath: file,
        registry: new MetricsRegistry(),
        logger: logRoot.child('authentik.outpost.metrics'),
      });
      assert.equal(server.tcpAddresses.length, 1);
      assert.equal(server.socketPath, undefined);
      assert.ok(existsSync(file));
      await server.close();
    } finally {
      await new Promise<void>((r) => blocker.close(() => r()));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
