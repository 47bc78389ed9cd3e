/**
 * The outpost's link to the core, end to end against the embedded core: HELLO/ACK and the connection gauge,
 * an outpost created and extended through the outpost instance API and picked up within seconds, reconnection
 * after the core restarts, and a scan of every log line for secrets.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/env.js';
import { startEmbeddedCore, type EmbeddedCore } from '../../src/embedded-core/core.js';
import type { DirectoryFile } from '../../src/embedded-core/directory/types.js';
import { MetricsRegistry } from '../../src/observability/metrics.js';
import { moduleFactories } from '../../src/providers/modules.js';
import { startOutpost, type RunningOutpost } from '../../src/run.js';
import { LdapModule } from '../../src/providers/ldap/module.js';
import { CoarseTimers } from '../../src/util/coarse-timers.js';
import { ADMIN_TOKEN, BASE_DN, LDAP_OUTPOST_TOKEN, RADIUS_SECRET, TOTP_SECRET, testDirectory } from '../helpers/directories.js';
import { run } from '../helpers/cli.js';
import { LogCapture } from '../helpers/log-capture.js';

const SECOND_BASE = 'DC=second,DC=test';

async function eventually<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** testDirectory plus a second LDAP provider attached to no outpost yet. */
async function directoryWithSpareProvider(): Promise<DirectoryFile> {
  const dir = await testDirectory();
  dir.providers!.push({ type: 'ldap', name: 'ldap-second', base_dn: SECOND_BASE, search_mode: 'cached', bind_mode: 'direct' });
  dir.applications!.push({ slug: 'ldap-second', name: 'Second', provider: 'ldap-second', allowed_groups: ['staff'] });
  return dir;
}

describe('outpost link against the embedded core', () => {
  const logs = new LogCapture('debug');
  const registry = new MetricsRegistry();
  const timers = new CoarseTimers({ resolutionMs: 50 });
  let certsDir: string;
  let core: EmbeddedCore;
  let port: number;
  const outposts: RunningOutpost[] = [];

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the tests read answer fields directly and assert on them
  const api = async (method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> => {
    const res = await fetch(`${core.url}api/v3${path}`, {
      method,
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, json: text === '' ? undefined : JSON.parse(text) };
  };

  const start = async (token: string): Promise<{ outpost: RunningOutpost; ldapPort: number }> => {
    const config = loadConfig({
      AUTHENTIK_HOST: core.url,
      AUTHENTIK_TOKEN: token,
      AUTHENTIK_LISTEN__LDAP: '127.0.0.1:0',
      AUTHENTIK_LISTEN__LDAPS: '127.0.0.1:0',
    });
    const outpost = await startOutpost(config, {
      logRoot: logs.root,
      registry,
      timers,
      moduleFactories: moduleFactories({ config, logRoot: logs.root, registry, timers }),
      controller: { reloadOffsetMs: 0, eventLinkTiming: { helloIntervalMs: 200, backoffInitialMs: 100, backoffMaxMs: 400, stableAfterMs: 1000 } },
    });
    outposts.push(outpost);
    const module = outpost.controller.module;
    assert.ok(module instanceof LdapModule);
    return { outpost, ldapPort: module.boundAddresses.find((b) => b.mode === 'ldap')!.port };
  };

  before(async () => {
    certsDir = mkdtempSync(join(tmpdir(), 'ako-link-'));
    core = await startEmbeddedCore({ directory: await directoryWithSpareProvider(), certsDir, logger: logs.root.child('authentik.embedded-core') });
    port = Number(new URL(core.url).port);
  });
  after(async () => {
    await Promise.allSettled(outposts.map((o) => o.stop()));
    timers.close();
    await core.stop();
    rmSync(certsDir, { recursive: true, force: true });
  });

  test('HELLO reaches the core with our version, the core ACKs, the connection gauge is 1', async () => {
    const { outpost } = await start(LDAP_OUTPOST_TOKEN);
    const instance = await eventually('a HELLO', () =>
      core.connectedOutposts().find((i) => i.instanceUuid === outpost.controller.instanceUuid && i.state !== null),
    );
    assert.equal(instance.state!.version, '2026.2.2');
    assert.deepEqual(instance.attempts, [null], 'the first connection carries no attempt parameter');
    assert.equal(outpost.controller.state.connected, true);
    assert.match(await registry.exposition(), /authentik_outpost_connection\{[^}]*outpost_name="ldap-test"[^}]*\} 1/);
    // HELLO keeps coming every interval (the core's lastSeen moves).
    const seen = instance.state!.lastSeen.epochMicros;
    await eventually('a second HELLO', () => {
      const now = core.connectedOutposts().find((i) => i.instanceUuid === outpost.controller.instanceUuid);
      return now !== undefined && now.state!.lastSeen.epochMicros > seen ? true : undefined;
    });
  });

  test('an outpost created by POST serves its provider; a provider added by PUT is served within seconds', async () => {
    const providers = core.directory().providers;
    const first = [...providers.values()].find((p) => p.name === 'ldap')!;
    const second = [...providers.values()].find((p) => p.name === 'ldap-second')!;
    const created = await api('POST', '/outposts/instances/', { name: 'made-by-api', type: 'ldap', providers: [first.pk], config: {} });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    const uuid: string = created.json.pk;
    const token = await api('GET', `/core/tokens/ak-outpost-${uuid}-api/view_key/`);
    assert.equal(token.status, 200);
    const { outpost, ldapPort } = await start(token.json.key as string);
    const whoami = (base: string) =>
      run('ldapwhoami', ['-x', '-H', `ldap://127.0.0.1:${ldapPort}`, '-D', `cn=alice,ou=users,${base}`, '-w', 'alice-pw']);
    assert.equal((await whoami(BASE_DN)).code, 0);
    assert.equal((await whoami(SECOND_BASE)).code, 50, 'no provider for the second base yet');

    const put = await api('PUT', `/outposts/instances/${uuid}/`, { name: 'made-by-api', type: 'ldap', providers: [first.pk, second.pk], config: {} });
    assert.equal(put.status, 200, JSON.stringify(put.json));
    const started = Date.now();
    await eventually('the new provider served', async () => ((await whoami(SECOND_BASE)).code === 0 ? true : undefined));
    assert.ok(Date.now() - started < 10_000);
    assert.equal(outpost.controller.state.outpost?.providers.length, 2);
  });

  test('the outpost reconnects after the core restarts (attempt counts up) and keeps serving', async () => {
    const outpost = outposts[0]!;
    await core.stop();
    await eventually('the link to drop', () => (outpost.controller.state.connected ? undefined : true));
    assert.match(await registry.exposition(), /authentik_outpost_connection\{[^}]*outpost_name="ldap-test"[^}]*\} 0/);
    core = await startEmbeddedCore({ directory: await directoryWithSpareProvider(), certsDir, port, logger: logs.root.child('authentik.embedded-core') });
    const instance = await eventually('the reconnect', () =>
      core.connectedOutposts().find((i) => i.instanceUuid === outpost.controller.instanceUuid && i.state !== null),
    );
    assert.ok(instance.attempts.length > 0 && instance.attempts.every((a) => a !== null && Number(a) >= 1), `attempts ${JSON.stringify(instance.attempts)}`);
    await eventually('the gauge back at 1', () => (outpost.controller.state.connected ? true : undefined));
  });

  test('no password, token or secret in any log line', () => {
    const leaked = logs.leaked(['alice-pw', LDAP_OUTPOST_TOKEN, ADMIN_TOKEN, RADIUS_SECRET, TOTP_SECRET]);
    assert.deepEqual(leaked, []);
    assert.ok(logs.lines.length > 20);
  });
});
