/**
 * AUTHENTIK_WORKERS=2: the real entry point as a child process against the embedded core. Both workers serve the
 * one LDAP port, /metrics merges them with a `worker` label, a bind verified by one worker is a cache hit on the
 * other (no second flow), a killed worker is forked again while the other keeps serving, and SIGTERM stops all.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedCore, type EmbeddedCore } from '../../src/embedded-core/core.js';
import { MAIN, run, spawnMain, type SpawnedMain } from '../helpers/cli.js';
import { ADMIN_TOKEN, BASE_DN, LDAP_OUTPOST_TOKEN, testDirectory } from '../helpers/directories.js';
import { freePort } from '../helpers/net.js';
import { metricSum } from '../helpers/metrics-text.js';

const userDn = (name: string): string => `cn=${name},ou=users,${BASE_DN}`;

async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

interface LogLine {
  event?: string;
  worker?: number;
  pid?: number;
  [key: string]: unknown;
}

describe('AUTHENTIK_WORKERS=2', () => {
  let core: EmbeddedCore;
  let outpost: SpawnedMain;
  let dir: string;
  let ldapUrl: string;
  let metricsUrl: string;
  let env: Record<string, string>;
  const logLines = (): LogLine[] =>
    outpost
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as LogLine);
  const metrics = async (): Promise<string> => (await fetch(metricsUrl)).text();
  const whoami = (user: string, password: string) => run('ldapwhoami', ['-x', '-H', ldapUrl, '-D', userDn(user), '-w', password]);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ako-cluster-'));
    core = await startEmbeddedCore({ directory: await testDirectory({ bindMode: 'cached' }), certsDir: join(dir, 'certs') });
    const ldapPort = await freePort();
    const metricsPort = await freePort();
    ldapUrl = `ldap://127.0.0.1:${ldapPort}`;
    metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    env = {
      ...(process.env as Record<string, string>),
      AUTHENTIK_HOST: core.url,
      AUTHENTIK_TOKEN: LDAP_OUTPOST_TOKEN,
      AUTHENTIK_WORKERS: '2',
      AUTHENTIK_LISTEN__LDAP: `127.0.0.1:${ldapPort}`,
      AUTHENTIK_LISTEN__LDAPS: `127.0.0.1:${await freePort()}`,
      AUTHENTIK_LISTEN__METRICS: `127.0.0.1:${metricsPort}`,
      AUTHENTIK_LOG_LEVEL: 'debug',
      TMPDIR: dir,
    };
    outpost = spawnMain(env);
    await waitFor('all workers serving', () => {
      assert.equal(outpost.child.exitCode, null, `exited early:\n${outpost.output()}`);
      return logLines().some((l) => l.event === 'all workers serving');
    });
  });

  after(async () => {
    if (outpost.child.exitCode === null) outpost.child.kill('SIGKILL');
    await core.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('both workers serve the one port, each with its own core link, merged in /metrics', async () => {
    const serving = logLines().filter((l) => l.event === 'worker serving');
    assert.deepEqual(serving.map((l) => l.worker).sort(), [1, 2]);
    const text = await metrics();
    assert.match(text, /^authentik_outpost_connection\{[^}]*worker="1"[^}]*\} 1$/m);
    assert.match(text, /^authentik_outpost_connection\{[^}]*worker="2"[^}]*\} 1$/m);
    // One HELP/TYPE per family even though three processes export it.
    assert.equal(text.match(/^# TYPE process_resident_memory_bytes /gm)?.length, 1);
    const ping = await fetch(metricsUrl.replace('/metrics', '/outpost.goauthentik.io/ping'));
    assert.equal(ping.status, 204);
    // The healthcheck subcommand asks the primary (unix socket under TMPDIR).
    const health = await run(process.execPath, [MAIN, 'healthcheck'], env);
    assert.equal(health.code, 0, health.stderr);
  });

  test('a bind verified by one worker is a cache hit on the other', async () => {
    const flows = async (): Promise<number> =>
      metricSum(await metrics(), 'authentik_outpost_flow_timing_get_seconds_count', { flow: 'default-authentication-flow' });
    const before = await flows();
    const first = await whoami('alice', 'alice-pw');
    assert.equal(first.code, 0, first.stderr);
    const afterFirst = await flows();
    assert.ok(afterFirst > before, 'the first bind ran the flow');
    // The share crosses two IPC hops; give it a moment (this is not a timing assertion).
    await new Promise((resolve) => setTimeout(resolve, 200));
    // New connections alternate between the workers.
    for (let i = 0; i < 4; i++) {
      const again = await whoami('alice', 'alice-pw');
      assert.equal(again.code, 0, again.stderr);
    }
    assert.equal(await flows(), afterFirst, 'no worker ran the flow again');
    const text = await metrics();
    for (const worker of ['1', '2']) {
      const binds = metricSum(text, 'authentik_outpost_ldap_request_duration_seconds_count', { worker, type: 'bind' });
      assert.ok(binds >= 1, `worker ${worker} answered binds:\n${text}`);
    }
    // A wrong password is still refused (the shared entry is keyed by the password's HMAC).
    assert.equal((await whoami('alice', 'wrong')).code, 49);
  });

  test('a killed worker is forked again; the other keeps serving meanwhile', async () => {
    const victim = logLines().find((l) => l.event === 'worker serving' && l.worker === 1)?.pid;
    assert.ok(typeof victim === 'number');
    process.kill(victim, 'SIGKILL');
    await waitFor('restart logged', () => logLines().some((l) => l.event === 'worker exited, restarting it' && l.worker === 1));
    const during = await whoami('bob', 'bob-pw');
    assert.equal(during.code, 0, during.stderr);
    await waitFor('worker 1 serving again', () =>
      logLines().some((l) => l.event === 'worker serving' && l.worker === 1 && l.pid !== victim),
    );
    const text = await metrics();
    assert.match(text, /^authentik_outpost_connection\{[^}]*worker="1"[^}]*\} 1$/m);
  });

  test('SIGTERM stops the primary and every worker; nothing secret was logged', async () => {
    const workerPids = logLines()
      .filter((l) => l.event === 'worker serving' && typeof l.pid === 'number')
      .map((l) => l.pid as number);
    outpost.child.kill('SIGTERM');
    assert.equal(await outpost.exited, 0, outpost.output());
    for (const pid of workerPids) {
      assert.throws(() => process.kill(pid, 0), /ESRCH/, `worker ${pid} still runs`);
    }
    for (const secret of ['alice-pw', 'bob-pw', LDAP_OUTPOST_TOKEN, ADMIN_TOKEN]) {
      assert.ok(!outpost.output().includes(secret), `${secret} was logged`);
    }
    // The bind-cache key handed to the workers is not logged either.
    assert.doesNotMatch(outpost.output(), /AKO_BIND_CACHE_KEY/);
    assert.equal(readFileSync(join(dir, 'certs', 'ca.pem'), 'utf8').includes('BEGIN CERTIFICATE'), true);
  });
});

test('AUTHENTIK_WORKERS=2 with the core unreachable: ping 503 while the workers retry, SIGTERM stops everything', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ako-cluster-down-'));
  const metricsPort = await freePort();
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    AUTHENTIK_HOST: `http://127.0.0.1:${await freePort()}`,
    AUTHENTIK_TOKEN: LDAP_OUTPOST_TOKEN,
    AUTHENTIK_WORKERS: '2',
    AUTHENTIK_LISTEN__LDAP: `127.0.0.1:${await freePort()}`,
    AUTHENTIK_LISTEN__LDAPS: `127.0.0.1:${await freePort()}`,
    AUTHENTIK_LISTEN__METRICS: `127.0.0.1:${metricsPort}`,
    TMPDIR: dir,
  };
  const { child, output, exited } = spawnMain(env);
  try {
    await waitFor('the ping to answer', async () => {
      try {
        return (await fetch(`http://127.0.0.1:${metricsPort}/outpost.goauthentik.io/ping`)).status === 503;
      } catch {
        return false;
      }
    });
    child.kill('SIGTERM');
    assert.equal(await exited, 0, output());
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
