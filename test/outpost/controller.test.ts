import { test, describe, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { CoreError } from '../../src/errors.js';
import type { LdapProviderConfig } from '../../src/core-api/model.js';
import { MetricsRegistry } from '../../src/observability/metrics.js';
import {
  EMBEDDED_OUTPOST_MANAGED,
  NO_OUTPOST_MESSAGE,
  OutpostController,
  refreshIntervalMs,
  type ControllerOptions,
} from '../../src/outpost/controller.js';
import type { ModuleContext, OutpostModule, RefreshContext, RefreshReason } from '../../src/outpost/module.js';
import { FakeCore, fakeLdapProvider, fakeOutpost } from '../helpers/fake-core.js';
import { metricSum } from '../helpers/metrics-text.js';
import { captureLogs, FakeCoreWs, waitFor } from './helpers.js';

/** A module that loads LDAP providers from the core, the way a real one would, and records what happens. */
class FakeLdapModule implements OutpostModule {
  readonly type = 'ldap' as const;
  providers: LdapProviderConfig[] = [];
  reasons: RefreshReason[] = [];
  concurrent = 0;
  maxConcurrent = 0;
  started = 0;
  stopped = 0;
  sessionEnds: string[] = [];
  providerSpecific: Array<Record<string, unknown>> = [];
  stopHangs = false;

  constructor(readonly ctx: ModuleContext) {}

  async refresh(ctx: RefreshContext): Promise<void> {
    this.reasons.push(ctx.reason);
    this.concurrent += 1;
    this.maxConcurrent = Math.max(this.maxConcurrent, this.concurrent);
    try {
      const providers = await ctx.api.listLdapProviders();
      if (providers.length === 0) throw new Error('no ldap provider defined');
      this.providers = providers;
    } finally {
      this.concurrent -= 1;
    }
  }
  async start(): Promise<void> {
    this.started += 1;
  }
  stop(): Promise<void> {
    this.stopped += 1;
    return this.stopHangs ? new Promise(() => {}) : Promise.resolve();
  }
  onSessionEnd(id: string): void {
    this.sessionEnds.push(id);
  }
  onProviderSpecific(args: Record<string, unknown>): void {
    this.providerSpecific.push(args);
  }
}

describe('outpost controller', () => {
  let ws: FakeCoreWs;
  let controller: OutpostController | undefined;

  before(async () => {
    ws = await FakeCoreWs.start();
  });
  after(async () => {
    await ws.close();
  });
  afterEach(async () => {
    await controller?.stop();
    controller = undefined;
    ws.connections.length = 0;
  });

  function setup(overrides: Partial<ControllerOptions> = {}) {
    const api = new FakeCore();
    api.ldapProviders = [fakeLdapProvider()];
    const logs = captureLogs('info');
    const registry = new MetricsRegistry();
    const modules: FakeLdapModule[] = [];
    controller = new OutpostController({
      api,
      core: ws.core(),
      logRoot: logs.root,
      registry,
      moduleFactories: {
        ldap: (ctx) => {
          const m = new FakeLdapModule(ctx);
          modules.push(m);
          return m;
        },
      },
      version: '2026.2.2',
      buildHash: 'abc',
      userAgent: 'goauthentik.io/outpost/2026.2.2+abc',
      reloadOffsetMs: 0,
      startupRetryMs: 10,
      stopTimeoutMs: 200,
      eventLinkTiming: { backoffInitialMs: 10, backoffMaxMs: 20 },
      ...overrides,
    });
    const c = controller;
    const metric = async (name: string, labels: Record<string, string>): Promise<number> => metricSum(await registry.exposition(), name, labels);
    const connectionLabels = () => ({ outpost_name: 'test-outpost', outpost_type: 'ldap', uuid: c.instanceUuid });
    const infoLabels = () => ({ ...connectionLabels(), version: '2026.2.2', build: 'abc' });
    return { api, logs, registry, modules, controller: c, metric, connectionLabels, infoLabels, module: () => modules[0] };
  }

  test('start-up: retries listing the outpost, then refreshes and starts the module', async () => {
    const t = setup();
    t.api.failNext('listOutposts', new CoreError('transport', 'connection refused'), 2);
    await t.controller.start();
    assert.equal(t.api.calls.listOutposts, 3);
    const retries = t.logs.events().filter((e) => e['event'] === 'Failed to fetch outpost configuration, retrying in 3 seconds');
    assert.equal(retries.length, 2);
    assert.equal(retries[0]?.['logger'], 'authentik.outpost.ak-api-controller');
    assert.equal(t.modules.length, 1);
    assert.deepEqual(t.module()?.reasons, ['startup']);
    assert.equal(t.module()?.started, 1);
    assert.equal(t.module()?.ctx.logger.bindings()['logger'], 'authentik.outpost.ldap');
    assert.equal(t.controller.state.started, true);
    assert.equal(t.controller.state.outpost?.name, 'test-outpost');
    assert.ok(t.controller.state.lastUpdate instanceof Date);
    assert.equal(await t.metric('authentik_outpost_info', t.infoLabels()), 1);
    assert.ok((await t.metric('authentik_outpost_last_update', t.infoLabels())) > 1_600_000_000);
    assert.match(t.controller.instanceUuid, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.ok(t.logs.events().some((e) => e['event'] === 'Starting authentik outpost' && e['version'] === '2026.2.2' && e['hash'] === 'abc'));
  });

  test('start-up: an empty outpost list fails with the reference message', async () => {
    const t = setup();
    t.api.outposts = [];
    await assert.rejects(t.controller.start(), (err: Error) => err.message === NO_OUTPOST_MESSAGE);
    assert.equal(t.modules.length, 0);
    assert.ok(t.logs.events().some((e) => e['event'] === NO_OUTPOST_MESSAGE && e['level'] === 'error'));
  });

  test('start-up: an outpost type without a module fails clearly', async () => {
    const t = setup();
    t.api.outposts = [fakeOutpost({ type: 'proxy' })];
    await assert.rejects(t.controller.start(), /type "proxy", which this outpost does not run \(supported: ldap\)/);
  });

  test('start-up: root config failure fails without retry', async () => {
    const t = setup();
    t.api.failNext('rootConfig');
    await assert.rejects(t.controller.start(), CoreError);
    assert.equal(t.api.calls.rootConfig, 1);
    assert.equal(t.modules.length, 0);
  });

  test('start-up: a failing first refresh fails start and closes the event link', async () => {
    const t = setup();
    t.api.ldapProviders = [];
    await assert.rejects(t.controller.start(), /no ldap provider defined/);
    assert.equal(t.module()?.started, 0);
    assert.equal(t.module()?.stopped, 1);
    await waitFor(() => ws.connections.every((c) => c.closed), 'event link closed');
  });

  test('stop() during the start-up retry loop ends start()', async () => {
    const t = setup({ startupRetryMs: 60_000 });
    t.api.failNext('listOutposts', new CoreError('timeout', 'timed out'), 100);
    const starting = t.controller.start();
    await waitFor(() => t.api.calls.listOutposts === 1, 'first attempt');
    await t.controller.stop();
    await assert.rejects(starting, /stopped during start-up/);
  });

  test('stop() during the first refresh: start() rejects, the module stops once', async () => {
    const t = setup();
    const release = t.api.block('listLdapProviders');
    const starting = t.controller.start();
    await waitFor(() => t.module()?.reasons.length === 1, 'first refresh running');
    const stopping = t.controller.stop();
    release();
    await assert.rejects(starting, /stopped during start-up/);
    await stopping;
    await t.controller.stop();
    assert.equal(t.module()?.started, 0);
    assert.equal(t.module()?.stopped, 1);
  });

  test('a failed refresh keeps the last good providers; a later one succeeds', async () => {
    const t = setup();
    await t.controller.start();
    const firstUpdate = t.controller.state.lastUpdate;
    const good = t.module()?.providers;
    t.api.ldapProviders = [];
    assert.equal(await t.controller.refresh(), false);
    assert.deepEqual(t.module()?.providers, good);
    assert.equal(t.controller.state.lastUpdate, firstUpdate);
    t.api.failNext('listOutposts');
    assert.equal(await t.controller.refresh(), false);
    t.api.outposts = [];
    assert.equal(await t.controller.refresh(), false);
    t.api.outposts = [fakeOutpost()];
    t.api.ldapProviders = [fakeLdapProvider({ name: 'renamed' })];
    assert.equal(await t.controller.refresh('signal'), true);
    assert.equal(t.module()?.providers[0]?.name, 'renamed');
    assert.notEqual(t.controller.state.lastUpdate, firstUpdate);
    assert.deepEqual(t.module()?.reasons, ['startup', 'manual', 'signal'], 'failed listings never reach the module');
  });

  test('concurrent refreshes coalesce: one runs, one waits', async () => {
    const t = setup();
    await t.controller.start();
    const release = t.api.block('listLdapProviders');
    const results = [t.controller.refresh(), t.controller.refresh(), t.controller.refresh(), t.controller.refresh()];
    await waitFor(() => t.module()?.reasons.length === 2, 'first refresh running');
    release();
    assert.deepEqual(await Promise.all(results), [true, true, true, true]);
    assert.equal(t.module()?.reasons.length, 3, 'startup + one running + one queued');
    assert.equal(t.module()?.maxConcurrent, 1);
  });

  test('TRIGGER_UPDATE refreshes after the reload offset; SESSION_END and PROVIDER_SPECIFIC reach the module', async () => {
    const t = setup();
    await t.controller.start();
    await waitFor(() => t.controller.state.connected, 'event link up');
    ws.send({ instruction: 2, args: {} });
    await waitFor(() => t.module()?.reasons.includes('trigger') === true, 'trigger refresh');
    ws.send({ instruction: 4, args: { type: 'event.session.end', session_id: 'deadbeef' } });
    ws.send({ instruction: 3, args: { type: 'x' } });
    await waitFor(() => (t.module()?.providerSpecific.length ?? 0) === 1, 'provider specific');
    assert.deepEqual(t.module()?.sessionEnds, ['deadbeef']);
  });

  test('the event link carries instance_uuid and the connection gauge follows it', async () => {
    const t = setup();
    await t.controller.start();
    await waitFor(() => t.controller.state.connected, 'connected');
    assert.equal(ws.last?.url, `/ws/outpost/${fakeOutpost().pk}/?instance_uuid=${t.controller.instanceUuid}`);
    assert.equal(await t.metric('authentik_outpost_connection', t.connectionLabels()), 1);
    ws.last?.socket.terminate();
    await waitFor(() => !t.controller.state.connected, 'dropped');
    assert.equal(await t.metric('authentik_outpost_connection', t.connectionLabels()), 0);
    await waitFor(() => t.controller.state.connected, 'reconnected');
    assert.equal(await t.metric('authentik_outpost_connection', t.connectionLabels()), 1);
    await waitFor(() => t.module()?.reasons.includes('trigger') === true, 'refresh after reconnect (missed triggers)');
    assert.match(ws.last?.url ?? '', new RegExp(`\\?attempt=1&instance_uuid=${t.controller.instanceUuid}$`));
  });

  test('log level comes from the outpost config only when unmanaged', async () => {
    const t = setup();
    t.api.outposts = [fakeOutpost({ logLevel: 'debug' })];
    await t.controller.start();
    assert.equal(t.logs.root.level, 'debug');
    t.api.outposts = [fakeOutpost({ logLevel: 'warning' })];
    await t.controller.refresh();
    assert.equal(t.logs.root.level, 'warning');
    await t.controller.stop();

    const m = setup();
    m.api.outposts = [fakeOutpost({ logLevel: 'trace', managed: EMBEDDED_OUTPOST_MANAGED })];
    await m.controller.start();
    assert.equal(m.logs.root.level, 'info');
  });

  test('interval refresher re-arms after each tick', async () => {
    const t = setup({ refreshIntervalMs: 20 });
    await t.controller.start();
    await waitFor(() => (t.module()?.reasons.filter((r) => r === 'interval').length ?? 0) >= 2, 'two interval refreshes');
  });

  test('stop() closes the link with 1000 and stops the module, bounded by the timeout', async () => {
    const t = setup({ stopTimeoutMs: 50 });
    await t.controller.start();
    await waitFor(() => t.controller.state.connected, 'connected');
    const mod = t.module();
    assert.ok(mod);
    mod.stopHangs = true;
    const before = Date.now();
    await t.controller.stop();
    assert.ok(Date.now() - before < 1000);
    assert.equal(mod.stopped, 1);
    await waitFor(() => ws.last?.closed === true, 'link closed');
    assert.equal(ws.last?.closeCode, 1000);
    assert.equal(await t.controller.refresh(), false, 'no refresh after stop');
    assert.ok(t.logs.events().some((e) => e['event'] === 'module did not stop in time'));
  });

  test('refreshIntervalMs clamps like the reference', () => {
    assert.equal(refreshIntervalMs(undefined), 300_000);
    assert.equal(refreshIntervalMs(0), 300_000);
    assert.equal(refreshIntervalMs(-5), 300_000);
    assert.equal(refreshIntervalMs(10), 30_000);
    assert.equal(refreshIntervalMs(120), 120_000);
    assert.equal(refreshIntervalMs(10_000_000), 86_400_000);
  });
});
