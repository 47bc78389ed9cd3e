import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../src/config/env.js';
import { CoreError } from '../src/errors.js';
import { MetricsRegistry } from '../src/observability/metrics.js';
import type { OutpostModule } from '../src/outpost/module.js';
import { startOutpost } from '../src/run.js';
import { CoarseTimers } from '../src/util/coarse-timers.js';
import { FakeCore, fakeOutpost } from './helpers/fake-core.js';
import { captureLogs, FakeCoreWs, waitFor } from './outpost/helpers.js';

function trivialModule(type: 'ldap' | 'radius', log: string[]): OutpostModule {
  return {
    type,
    refresh: async (ctx) => void log.push(`refresh:${ctx.outpost.name}:${ctx.reason}`),
    start: async () => void log.push('start'),
    stop: async () => void log.push('stop'),
  };
}

describe('startOutpost', () => {
  let ws: FakeCoreWs;
  const timers = new CoarseTimers();
  before(async () => {
    ws = await FakeCoreWs.start();
  });
  after(async () => {
    timers.close();
    await ws.close();
  });

  test('two outposts share one registry, told apart by outpost_name', async () => {
    const registry = new MetricsRegistry();
    const logs = captureLogs('info');
    const config = loadConfig({ AUTHENTIK_HOST: `http://127.0.0.1:${ws.port}/`, AUTHENTIK_TOKEN: 'tok' });
    const events: string[] = [];
    const apiA = new FakeCore();
    apiA.outposts = [fakeOutpost({ name: 'ldap-a', type: 'ldap' })];
    const apiB = new FakeCore();
    apiB.outposts = [fakeOutpost({ name: 'radius-b', type: 'radius', pk: '11111111-1111-4111-8111-111111111111' })];
    const factories = { ldap: () => trivialModule('ldap', events), radius: () => trivialModule('radius', events) };
    const a = await startOutpost(config, { logRoot: logs.root, registry, timers, api: apiA, moduleFactories: factories });
    const b = await startOutpost(config, { logRoot: logs.root, registry, timers, api: apiB, moduleFactories: factories });
    try {
      await waitFor(() => a.controller.state.connected && b.controller.state.connected, 'both links up');
      const text = await registry.exposition();
      assert.match(text, /authentik_outpost_info\{outpost_name="ldap-a",outpost_type="ldap",[^}]*\} 1/);
      assert.match(text, /authentik_outpost_info\{outpost_name="radius-b",outpost_type="radius",[^}]*\} 1/);
      assert.match(text, /authentik_outpost_connection\{outpost_name="radius-b",outpost_type="radius",uuid="[^"]+"\} 1/);
      assert.equal(await b.refresh('signal'), true);
      assert.ok(events.includes('refresh:radius-b:signal'));
    } finally {
      await a.stop();
      await b.stop();
    }
    assert.equal(events.filter((e) => e === 'stop').length, 2);
  });

  test('aborting the signal stops an outpost still retrying the core', async () => {
    const config = loadConfig({ AUTHENTIK_HOST: `http://127.0.0.1:${ws.port}/`, AUTHENTIK_TOKEN: 'tok' });
    const api = new FakeCore();
    api.failNext('listOutposts', new CoreError('transport', 'refused'), 1000);
    const ac = new AbortController();
    const starting = startOutpost(config, {
      logRoot: captureLogs('error').root,
      registry: new MetricsRegistry(),
      timers,
      api,
      moduleFactories: {},
      signal: ac.signal,
      controller: { startupRetryMs: 60_000 },
    });
    await waitFor(() => api.calls.listOutposts === 1, 'first attempt');
    ac.abort();
    await assert.rejects(starting, /stopped during start-up/);
  });

  test('without AUTHENTIK_HOST it refuses', async () => {
    await assert.rejects(
      startOutpost(loadConfig({}), { logRoot: captureLogs().root, registry: new MetricsRegistry(), timers }),
      /AUTHENTIK_HOST: not set/,
    );
  });
});
