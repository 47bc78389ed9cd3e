/**
 * The core client's flow executor and access checks against the embedded core (a real HTTP server following
 * authentik's protocol), for both API generations: correct and wrong passwords, TOTP through `password;code`,
 * inactive users, applications that refuse, a core that is down or slow. Every outcome is a typed refusal or a
 * pass; nothing is logged that should not be.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCoreClient, type CoreClient } from '../../src/core-api/client.js';
import type { LdapProviderConfig } from '../../src/core-api/model.js';
import { startEmbeddedCore, type EmbeddedCore } from '../../src/embedded-core/core.js';
import { totpCode } from '../../src/embedded-core/directory/totp.js';
import { ADMIN_TOKEN, LDAP_OUTPOST_TOKEN, TOTP_SECRET, testDirectory } from '../helpers/directories.js';
import { LogCapture } from '../helpers/log-capture.js';

const LDAP_QUERY = { 'goauthentik.io/outpost/ldap': 'true' };

for (const generation of ['2026.2', '2023.10'] as const) {
  describe(`flow executor against the embedded core (${generation})`, () => {
    const logs = new LogCapture('debug');
    let certsDir: string;
    let core: EmbeddedCore;
    let client: CoreClient;
    let provider: LdapProviderConfig;

    before(async () => {
      certsDir = mkdtempSync(join(tmpdir(), 'ako-flow-'));
      core = await startEmbeddedCore({ directory: await testDirectory({ generation }), certsDir, logger: logs.root.child('authentik.embedded-core') });
      client = createCoreClient({ host: core.url, token: LDAP_OUTPOST_TOKEN, insecure: false, timeoutMs: 5000, logger: logs.root.child('authentik.outpost.ak-api-client') });
      const providers = await client.listLdapProviders();
      assert.equal(providers.length, 1);
      provider = providers[0]!;
    });
    after(async () => {
      await client.close();
      await core.stop();
      rmSync(certsDir, { recursive: true, force: true });
    });

    const attempt = (timeoutMs = 5000) => client.newFlowAttempt({ remoteIp: '192.0.2.10', innerQuery: LDAP_QUERY, timeoutMs });

    test('correct password passes, access check passes, me() names the user', async () => {
      const a = attempt();
      const outcome = await a.execute(provider.bindFlowSlug, { username: 'alice', password: 'alice-pw', mfaSupport: true });
      assert.deepEqual(outcome, { passed: true });
      const access = await a.checkLdapAccess(provider);
      assert.equal(access.passing, true);
      assert.equal(access.hasSearchPermission, false);
      const me = await a.me();
      assert.equal(me.username, 'alice');
      assert.ok(a.sessionId() !== undefined && a.sessionId() !== '');
    });

    test('the search permission follows the generation (global permission / search group)', async () => {
      const a = attempt();
      assert.deepEqual(await a.execute(provider.bindFlowSlug, { username: 'akadmin', password: 'akadmin-pw', mfaSupport: true }), { passed: true });
      assert.equal((await a.checkLdapAccess(provider)).hasSearchPermission, true);
    });

    test('wrong password is a flow_error refusal', async () => {
      const outcome = await attempt().execute(provider.bindFlowSlug, { username: 'alice', password: 'wrong', mfaSupport: true });
      assert.equal(outcome.passed, false);
      assert.equal(!outcome.passed && outcome.reason, 'flow_error');
    });

    test('unknown user is refused', async () => {
      const outcome = await attempt().execute(provider.bindFlowSlug, { username: 'nobody', password: 'x', mfaSupport: true });
      assert.equal(outcome.passed, false);
    });

    test('TOTP through password;code passes; a wrong code and a missing code are refused', async () => {
      const code = totpCode(TOTP_SECRET, Date.now());
      const ok = await attempt().execute(provider.bindFlowSlug, { username: 'carol', password: `carol-pw;${code}`, mfaSupport: true });
      assert.deepEqual(ok, { passed: true });
      const wrongCode = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
      const bad = await attempt().execute(provider.bindFlowSlug, { username: 'carol', password: `carol-pw;${wrongCode}`, mfaSupport: true });
      assert.equal(bad.passed, false);
      const none = await attempt().execute(provider.bindFlowSlug, { username: 'carol', password: 'carol-pw', mfaSupport: true });
      assert.equal(none.passed, false);
    });

    test('an inactive user is refused', async () => {
      const outcome = await attempt().execute(provider.bindFlowSlug, { username: 'dave', password: 'dave-pw', mfaSupport: true });
      assert.equal(outcome.passed, false);
    });

    test('an application that refuses the user: flow passes, access check does not', async () => {
      const a = attempt();
      assert.deepEqual(await a.execute(provider.bindFlowSlug, { username: 'erin', password: 'erin-pw', mfaSupport: true }), { passed: true });
      assert.equal((await a.checkLdapAccess(provider)).passing, false);
    });

    test('nothing secret reaches the logs', () => {
      const leaked = logs.leaked(['alice-pw', 'akadmin-pw', 'carol-pw', 'erin-pw', 'dave-pw', LDAP_OUTPOST_TOKEN, ADMIN_TOKEN, TOTP_SECRET]);
      assert.deepEqual(leaked, []);
      assert.ok(logs.lines.length > 0, 'the scan saw log lines');
    });
  });
}

describe('flow executor when the core misbehaves', () => {
  test('core down: a typed refusal, quickly', async () => {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise<void>((r) => server.close(() => r()));
    const client = createCoreClient({ host: `http://127.0.0.1:${port}`, token: LDAP_OUTPOST_TOKEN, insecure: false, timeoutMs: 2000 });
    try {
      const outcome = await client
        .newFlowAttempt({ remoteIp: '192.0.2.10', innerQuery: LDAP_QUERY, timeoutMs: 2000 })
        .execute('default-authentication-flow', { username: 'alice', password: 'alice-pw', mfaSupport: true });
      assert.equal(outcome.passed, false);
      assert.equal(!outcome.passed && outcome.reason, 'core_error');
      await assert.rejects(client.listLdapProviders());
    } finally {
      await client.close();
    }
  });

  test('core slow: the attempt deadline turns into a refusal', async () => {
    const certsDir = mkdtempSync(join(tmpdir(), 'ako-slow-'));
    const core = await startEmbeddedCore({ directory: await testDirectory(), certsDir });
    const coreUrl = new URL(core.url);
    // A TCP proxy that holds every response back by 10 s (unref'd: the file does not wait for them).
    const proxy = net.createServer((inbound) => {
      const outbound = net.connect(Number(coreUrl.port), coreUrl.hostname);
      inbound.pipe(outbound);
      outbound.on('data', (chunk: Buffer) => setTimeout(() => inbound.writable && inbound.write(chunk), 10_000).unref());
      const end = () => {
        inbound.destroy();
        outbound.destroy();
      };
      inbound.on('error', end).on('close', end);
      outbound.on('error', end).on('close', end);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const client = createCoreClient({
      host: `http://127.0.0.1:${(proxy.address() as net.AddressInfo).port}`,
      token: LDAP_OUTPOST_TOKEN,
      insecure: false,
      timeoutMs: 5000,
    });
    try {
      const started = Date.now();
      const outcome = await client
        .newFlowAttempt({ remoteIp: '192.0.2.10', innerQuery: LDAP_QUERY, timeoutMs: 500 })
        .execute('default-authentication-flow', { username: 'alice', password: 'alice-pw', mfaSupport: true });
      assert.equal(outcome.passed, false);
      assert.equal(!outcome.passed && outcome.reason, 'core_error');
      assert.ok(Date.now() - started < 8000, 'gave up at the deadline, not after the slow answer');
    } finally {
      await client.close();
      await new Promise<void>((r) => proxy.close(() => r()));
      await core.stop();
      rmSync(certsDir, { recursive: true, force: true });
    }
  });
});
