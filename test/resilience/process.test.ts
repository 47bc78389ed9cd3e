/**
 * The outpost as a process (dist/src/main.js), as Docker and Kubernetes run it (issue 13, part 2): started while
 * the core is down it waits, retries and says so on the health path and in `healthcheck`; SIGTERM while binds
 * are waiting on a slow core lets them finish, refuses new connections, then exits 0.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startEmbeddedCore, type EmbeddedCore } from '../../src/embedded-core/core.js';
import { MAIN, run, spawnMain, type SpawnedMain } from '../helpers/cli.js';
import { BASE_DN, LDAP_OUTPOST_TOKEN, testDirectory } from '../helpers/directories.js';
import { FaultProxy } from '../helpers/fault-proxy.js';
import { figure } from '../helpers/figures.js';
import { LdapTestClient } from '../helpers/ldap-client.js';
import { freePort } from '../helpers/net.js';
import { waitFor } from '../helpers/wait.js';

const SUITE = 'resilience: process';
const userDn = (name: string): string => `cn=${name},ou=users,${BASE_DN}`;


describe('outpost process against a core behind a fault proxy', () => {
  let dir: string;
  let core: EmbeddedCore;
  let proxy: FaultProxy;
  let outpost: SpawnedMain;
  let env: Record<string, string>;
  let ldapPort: number;
  let metricsPort: number;

  const ping = async (): Promise<number | undefined> => {
    try {
      return (await fetch(`http://127.0.0.1:${metricsPort}/outpost.goauthentik.io/ping`)).status;
    } catch {
      return undefined;
    }
  };
  const healthcheck = async (): Promise<number> => (await run(process.execPath, [MAIN, 'healthcheck'], env)).code;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ako-resilience-'));
    core = await startEmbeddedCore({ directory: await testDirectory({ bindMode: 'direct' }), certsDir: join(dir, 'certs') });
    proxy = await FaultProxy.start(core.url);
    ldapPort = await freePort();
    metricsPort = await freePort();
    env = {
      ...(process.env as Record<string, string>),
      AUTHENTIK_HOST: proxy.url,
      AUTHENTIK_TOKEN: LDAP_OUTPOST_TOKEN,
      AUTHENTIK_LISTEN__LDAP: `127.0.0.1:${ldapPort}`,
      AUTHENTIK_LISTEN__LDAPS: `127.0.0.1:${await freePort()}`,
      AUTHENTIK_LISTEN__METRICS: `127.0.0.1:${metricsPort}`,
      AUTHENTIK_LOG_LEVEL: 'trace',
      TMPDIR: dir,
    };
  });
  after(async () => {
    if (outpost !== undefined && outpost.child.exitCode === null) outpost.child.kill('SIGKILL');
    await proxy.close();
    await core.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('started with the core down: health 503 and healthcheck 1 while it retries, then it serves', async () => {
    proxy.mode = 'refuse';
    outpost = spawnMain(env);
    await waitFor('the ping to answer', async () => {
      assert.equal(outpost.child.exitCode, null, `exited early:\n${outpost.output()}`);
      return (await ping()) === 503;
    }, 30_000);
    assert.equal(await healthcheck(), 1, 'healthcheck fails while the core is down');
    await waitFor('a second attempt at the core', () => proxy.accepted >= 2, 30_000);
    assert.equal(await ping(), 503, 'still waiting');

    proxy.mode = 'pass';
    const readyMs = await waitFor('the outpost to serve', async () => (await ping()) === 204, 30_000);
    figure(SUITE, 'ready after the core came up (ms; retries every 3 s)', Math.round(readyMs));
    assert.equal(await healthcheck(), 0);
    const whoami = await run('ldapwhoami', ['-x', '-H', `ldap://127.0.0.1:${ldapPort}`, '-D', userDn('alice'), '-w', 'alice-pw']);
    assert.equal(whoami.code, 0, whoami.stderr);
  });

  test('SIGTERM while binds wait on a slow core: they all finish, new connections are refused, exit 0', async () => {
    proxy.delayMs = 100; // every answer of the core arrives 100 ms late, so each bind takes several round trips
    const users = ['alice', 'bob', 'carol', 'erin', 'akadmin'];
    const clients = await Promise.all(Array.from({ length: 30 }, () => LdapTestClient.connect(ldapPort)));
    const binds = clients.map((c, i) => {
      const user = users[i % users.length]!;
      return c.bind(userDn(user), `${user}-pw`).then((r) => r.resultCode);
    });
    await new Promise((r) => setTimeout(r, 150)); // every bind has been read and is waiting on the core
    const stopAt = performance.now();
    outpost.child.kill('SIGTERM');
    const codes = await Promise.all(binds);
    // The core's own answers, each complete: carol has TOTP and gave no code (49), erin is not in an allowed group (50).
    const expected: Record<string, number> = { carol: 49, erin: 50 };
    assert.deepEqual(
      codes,
      clients.map((_, i) => expected[users[i % users.length]!] ?? 0),
      'every bind in flight got its answer',
    );
    const refused = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ port: ldapPort, host: '127.0.0.1' });
      socket.once('connect', () => {
        socket.destroy();
        resolve(false);
      });
      socket.once('error', () => resolve(true));
    });
    assert.ok(refused, 'no new connection is accepted once stopping');
    assert.equal(await outpost.exited, 0, outpost.output());
    figure(SUITE, 'SIGTERM with 30 binds in flight on a slow core', `30 answered, exit 0 after ${Math.round(performance.now() - stopAt)} ms`);
    for (const c of clients) c.destroy();
    proxy.delayMs = 0;

    const log = outpost.output();
    assert.ok(log.split('\n').filter((l) => l.startsWith('{')).length > 20, 'trace logging was on');
    for (const secret of [...users.map((u) => `${u}-pw`), LDAP_OUTPOST_TOKEN]) assert.ok(!log.includes(secret), `the log contains ${secret}`);
  });
});
