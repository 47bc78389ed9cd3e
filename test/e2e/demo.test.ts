/**
 * `npm start` without AUTHENTIK_HOST: the embedded core, the demo outposts, and a banner of client commands that
 * must work exactly as printed. Also the healthcheck subcommand against the running process, a clean SIGTERM, and
 * no demo secret in any JSON log line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAIN, run, spawnMain } from '../helpers/cli.js';
import { freePort } from '../helpers/net.js';

test('npm start serves the demo and every printed command works as printed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ako-demo-'));
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    AKO_EMBEDDED_CORE_LISTEN: `127.0.0.1:${await freePort()}`,
    AUTHENTIK_LISTEN__LDAP: `127.0.0.1:${await freePort()}`,
    AUTHENTIK_LISTEN__LDAPS: `127.0.0.1:${await freePort()}`,
    AUTHENTIK_LISTEN__METRICS: `127.0.0.1:${await freePort()}`,
    AUTHENTIK_LISTEN__RADIUS: `127.0.0.1:${await freePort()}`,
    AUTHENTIK_LISTEN__RADIUS_ACCOUNTING: `127.0.0.1:${await freePort()}`,
    AKO_CERTS_DIR: join(dir, 'certs'),
    TMPDIR: dir,
  };
  delete env.AUTHENTIK_HOST;
  const { child, output, exited } = spawnMain(env);
  try {
    const deadline = Date.now() + 30_000;
    while (!output().includes('Stop with Ctrl-C.')) {
      assert.ok(Date.now() < deadline, `no banner:\n${output()}`);
      assert.equal(child.exitCode, null, `exited early:\n${output()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const commands = output()
      .split('\n')
      .filter((l) => /^ {2}(ldap|LDAPTLS_CACERT=)/.test(l))
      .map((l) => l.trim());
    assert.ok(commands.length >= 4, `commands:\n${commands.join('\n')}`);
    for (const command of commands) {
      const r = await run('bash', ['-c', command], { LDAPTLS_REQCERT: 'demand' });
      assert.equal(r.code, 0, `${command}\n${r.stdout}\n${r.stderr}`);
      assert.match(r.stdout, /dn:|result: 0 Success/, command);
    }
    const radtest = output()
      .split('\n')
      .filter((l) => l.startsWith('  radtest '))
      .map((l) => l.trim());
    assert.equal(radtest.length, 1, output());
    const r = await run('bash', ['-c', radtest[0]!]);
    assert.match(r.stdout, /Received Access-Accept/, `${radtest[0]}\n${r.stdout}\n${r.stderr}`);
    const eapolTest = output()
      .split('\n')
      .filter((l) => l.startsWith('  printf ') && l.includes('eapol_test'))
      .map((l) => l.trim());
    assert.equal(eapolTest.length, 1, output());
    const eap = await run('bash', ['-c', eapolTest[0]!]);
    assert.match(eap.stdout, /^SUCCESS$/m, `${eapolTest[0]}\n${eap.stdout.slice(-2000)}\n${eap.stderr}`);
    const health = await run(process.execPath, [MAIN, 'healthcheck'], env);
    assert.equal(health.code, 0, health.stderr);
  } finally {
    child.kill('SIGTERM');
  }
  assert.equal(await exited, 0, 'SIGTERM stops it cleanly');
  const logLines = output().split('\n').filter((l) => l.startsWith('{'));
  assert.ok(logLines.length > 5);
  for (const secret of ['akadmin-demo', 'alice-demo', 'bob-demo', 'demo-ldap-outpost-token-0001', 'demo-radius-outpost-token-0001', 'demo-admin-token-change-me', 'testing123', 'OR6SOUV3AXCTZ3PRN5YNOGCLECOJD6WI']) {
    assert.ok(!logLines.some((l) => l.includes(secret)), `a log line contains ${secret}`);
  }
  rmSync(dir, { recursive: true, force: true });
});
