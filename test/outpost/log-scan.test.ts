import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CoreError } from '../../src/errors.js';
import { MetricsRegistry } from '../../src/observability/metrics.js';
import { OutpostController } from '../../src/outpost/controller.js';
import type { ModuleContext, OutpostModule, RefreshContext } from '../../src/outpost/module.js';
import { FakeCore, fakeOutpost, fakeRadiusProvider } from '../helpers/fake-core.js';
import { captureLogs, FakeCoreWs, waitFor } from './helpers.js';

const TOKEN = 'tok-SECRET-123';
const SHARED_SECRET = 'radius-SECRET-456';
const SECOND_SECRET = 'radius-SECRET-789';
const KEY_MARKER = 'KEY-SECRET-000';

/** A careless module: logs whole provider objects at debug, which redaction has to catch. */
class ChattyRadiusModule implements OutpostModule {
  readonly type = 'radius' as const;
  readonly #ctx: ModuleContext;

  constructor(ctx: ModuleContext) {
    this.#ctx = ctx;
  }
  async refresh(ctx: RefreshContext): Promise<void> {
    const providers = await ctx.api.listRadiusProviders();
    for (const provider of providers) this.#ctx.logger.debug({ provider }, 'loaded provider');
    this.#ctx.logger.debug({ providers }, 'all providers');
    await this.#ctx.certificates.get('00000000-0000-4000-8000-000000000001');
    if (providers.length === 0) throw new Error('no radius provider defined');
  }
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  onSessionEnd(id: string): void {
    this.#ctx.logger.debug({ session: id }, 'session ended');
  }
}

test('no secret reaches the logs on any controller path (debug level)', async () => {
  const ws = await FakeCoreWs.start();
  const api = new FakeCore();
  api.outposts = [fakeOutpost({ type: 'radius', logLevel: 'trace' })];
  api.radiusProviders = [fakeRadiusProvider({ sharedSecret: SHARED_SECRET })];
  api.certificates.set('00000000-0000-4000-8000-000000000001', {
    fingerprintSha256: 'aa',
    certificatePem: 'not a certificate',
    privateKeyPem: `-----BEGIN PRIVATE KEY-----\n${KEY_MARKER}\n-----END PRIVATE KEY-----\n`,
  });
  api.failNext('listOutposts', new CoreError('http_status', 'GET /api/v3/outposts/instances/: HTTP 503', { status: 503 }), 2);
  const logs = captureLogs('debug');
  ws.reject = 403;
  const controller = new OutpostController({
    api,
    core: ws.core('/', 'x=1', TOKEN),
    logRoot: logs.root,
    registry: new MetricsRegistry(),
    moduleFactories: { radius: (ctx) => new ChattyRadiusModule(ctx) },
    version: '2026.2.2',
    buildHash: '',
    userAgent: 'goauthentik.io/outpost/2026.2.2',
    reloadOffsetMs: 0,
    startupRetryMs: 5,
    stopTimeoutMs: 500,
    eventLinkTiming: { backoffInitialMs: 5, backoffMaxMs: 10 },
  });
  try {
    await controller.start();
    await waitFor(() => ws.rejected.length >= 2, 'refused handshakes');
    ws.reject = undefined;
    await waitFor(() => controller.state.connected, 'connected');
    ws.send({ instruction: 2, args: {} });
    await waitFor(() => api.calls.listRadiusProviders >= 2, 'trigger refresh');
    ws.send({ instruction: 4, args: { session_id: 'abc' } });
    api.radiusProviders = [fakeRadiusProvider({ sharedSecret: SECOND_SECRET }), fakeRadiusProvider({ pk: 3, sharedSecret: SHARED_SECRET })];
    assert.equal(await controller.refresh('signal'), true);
    api.radiusProviders = [];
    assert.equal(await controller.refresh('interval'), false);
    ws.last?.socket.terminate();
    await waitFor(() => ws.connections.length >= 2, 'reconnected');
  } finally {
    await controller.stop();
    await ws.close();
  }
  const text = logs.text();
  assert.equal(logs.root.level, 'trace', 'outpost log_level applied, so every path logged');
  assert.ok(text.includes('loaded provider'), 'the module did log providers');
  assert.ok(text.includes('Failed to fetch outpost configuration'), 'retry path ran');
  assert.ok(text.includes('waiting'), 'reconnect path ran');
  for (const secret of [TOKEN, SHARED_SECRET, SECOND_SECRET, KEY_MARKER, 'Bearer ']) {
    assert.ok(!text.includes(secret), `log output contains ${secret}`);
  }
});
