/**
 * The standalone CLI (main.js) and directory-file reloads: banner with the outpost environment on stdout, JSON
 * logs without secrets on stderr, SIGHUP and file changes push TRIGGER_UPDATE, SIGTERM exits cleanly.
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmbeddedCore } from '../../../src/embedded-core/core.js';
import { connectOutpost } from './harness.js';
import { assertValidResponse } from '../../helpers/openapi-validate.js';
import type { Harness } from './harness.js';

const MAIN = fileURLToPath(new URL('../../../src/embedded-core/main.js', import.meta.url));
const OUTPOST_TOKEN = 'cli-outpost-token-5e8d2c';
const ADMIN_TOKEN = 'cli-admin-token-71b3aa';

function directoryYaml(extraUser = ''): string {
  return `version: 1
core:
  generation: '2026.2'
  admin_token: ${ADMIN_TOKEN}
users:
  - username: alice
${extraUser}providers:
  - type: ldap
    name: ldap
applications:
  - slug: ldap
    provider: ldap
outposts:
  - name: ldap
    uuid: 5f0c1d2e-3a4b-4c5d-8e6f-7a8b9c0d1e2f
    type: ldap
    providers: [ldap]
    token: ${OUTPOST_TOKEN}
`;
}

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ak-cli-'));
  dirs.push(dir);
  return dir;
}
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function run(args: string[]): { child: ChildProcess; stdout: () => string; stderr: () => string; exit: Promise<number | null> } {
  const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<number | null>((resolveExit) => child.on('exit', (code) => resolveExit(code)));
  return { child, stdout: () => out, stderr: () => err, exit };
}

async function until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Just enough of a Harness for connectOutpost. */
function pseudoHarness(url: string): Harness {
  return { core: { url } } as unknown as Harness;
}

describe('embedded core CLI', () => {
  test('prints the outpost environment, reloads on SIGHUP, stops on SIGTERM, logs no secrets', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'directory.yaml'), directoryYaml());
    const p = run(['--directory', join(dir, 'directory.yaml'), '--listen', '127.0.0.1:0']);
    try {
      await until(() => /AUTHENTIK_INSECURE/.test(p.stdout()), 'the banner');
      const url = /^export AUTHENTIK_HOST=(\S+)$/m.exec(p.stdout())?.[1];
      assert.ok(url?.startsWith('http://127.0.0.1:'), p.stdout());
      assert.match(p.stdout(), new RegExp(`^export AUTHENTIK_TOKEN=${OUTPOST_TOKEN}$`, 'm'));
      assert.match(p.stdout(), /CA certificate: .*certs\/ca\.pem/);

      const socket = await connectOutpost(pseudoHarness(url ?? ''), '5f0c1d2e-3a4b-4c5d-8e6f-7a8b9c0d1e2f', OUTPOST_TOKEN);
      p.child.kill('SIGHUP');
      assert.deepEqual(await socket.next(5000), { instruction: 2, args: {} });
      await socket.close();

      p.child.kill('SIGTERM');
      assert.equal(await p.exit, 0);
      const logLines = p.stderr().trim().split('\n');
      for (const line of logLines) assert.doesNotThrow(() => JSON.parse(line), `not JSON: ${line}`);
      assert.ok(logLines.some((l) => l.includes('directory reloaded')));
      assert.ok(!p.stderr().includes(OUTPOST_TOKEN) && !p.stderr().includes(ADMIN_TOKEN), 'tokens in the logs');
    } finally {
      p.child.kill('SIGKILL');
    }
  });

  test('bad arguments are one line and exit 2; --help prints the usage; an unreadable file exits 1', async () => {
    const file = join(tempDir(), 'directory.yaml');
    const cases: Array<[string[], string]> = [
      [['--listen', '127.0.0.1:0'], 'embedded-core: --directory is required (see --help)\n'],
      [['--directory', file, '--bogus'], "embedded-core: Unknown option '--bogus' (see --help)\n"],
      [['--directory', file, 'extra'], "embedded-core: Unexpected argument 'extra' (see --help)\n"],
      [['--directory', file, '--listen', 'nope'], 'embedded-core: --listen: expected host:port, got "nope" (see --help)\n'],
      [['--directory', file, '--listen', ':::9000'], 'embedded-core: --listen: expected host:port, got ":::9000" (see --help)\n'],
      [['--directory', file, '--log-level', 'loud'], 'embedded-core: --log-level: expected one of trace, debug, info, warning, error, got "loud" (see --help)\n'],
      [['--directory'], "embedded-core: Option '--directory <value>' argument missing (see --help)\n"],
    ];
    for (const [args, stderr] of cases) {
      const bad = run(args);
      assert.equal(await bad.exit, 2, args.join(' '));
      assert.equal(bad.stderr(), stderr);
    }
    const help = run(['--help']);
    assert.equal(await help.exit, 0);
    assert.match(help.stdout(), /^usage: main\.js --directory <file>/);
    const missing = run(['--directory', join(tempDir(), 'absent.yaml'), '--listen', '127.0.0.1:0']);
    assert.equal(await missing.exit, 1);
    assert.match(missing.stderr(), /^embedded core: .*absent\.yaml/);
  });

  test('--listen :0 is every interface, reached over loopback; log levels are named like the outpost\'s', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'directory.yaml'), directoryYaml());
    const p = run(['--directory', join(dir, 'directory.yaml'), '--listen', ':0', '--log-level', 'INFO']);
    try {
      await until(() => /AUTHENTIK_INSECURE/.test(p.stdout()), 'the banner');
      const port = /listening on :(\d+): http:\/\/127\.0\.0\.1:(\d+)\//.exec(p.stdout());
      assert.ok(port !== null && port[1] === port[2], p.stdout());
      assert.match(p.stdout(), new RegExp(`^export AUTHENTIK_HOST=http://127\\.0\\.0\\.1:${port[1]}/$`, 'm'));
      // Any HTTP answer proves the wildcard listener is reached over loopback (no token: refused).
      const response = await fetch(`http://127.0.0.1:${port[1]}/api/v3/core/users/`);
      assert.equal(response.status, 403);
      const lines = p.stderr().trim().split('\n').map((l) => JSON.parse(l) as { level?: unknown; listen?: unknown });
      assert.ok(lines.some((l) => l.level === 'info' && l.listen === `:${port[1]}`), p.stderr());
    } finally {
      p.child.kill('SIGKILL');
    }
  });

  test('watch: a changed file reloads, pushes TRIGGER_UPDATE and keeps outposts made through the API', async () => {
    const dir = tempDir();
    const file = join(dir, 'directory.yaml');
    writeFileSync(file, directoryYaml());
    const core = await startEmbeddedCore({ directoryPath: file, certsDir: join(dir, 'certs'), watch: true });
    try {
      const created = await fetch(new URL('api/v3/outposts/instances/', core.url), {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'made-by-api', type: 'ldap', providers: [1], config: {} }),
      });
      assertValidResponse('2026.2', { method: 'POST', path: '/api/v3/outposts/instances/', status: created.status, body: (await created.json()) as never });
      assert.equal(created.status, 201);
      const socket = await connectOutpost(pseudoHarness(core.url), '5f0c1d2e-3a4b-4c5d-8e6f-7a8b9c0d1e2f', OUTPOST_TOKEN);
      writeFileSync(file, directoryYaml('  - username: bob\n'));
      assert.deepEqual(await socket.next(5000), { instruction: 2, args: {} });
      assert.ok(core.directory().userByUsername('bob'));
      assert.ok([...core.directory().outposts.values()].some((o) => o.name === 'made-by-api'));
      await socket.close();
    } finally {
      await core.stop();
    }
  });

  test('reload requests arriving during a reload share one follow-up reload', async () => {
    const dir = tempDir();
    const file = join(dir, 'directory.yaml');
    writeFileSync(file, directoryYaml());
    const events: string[] = [];
    const record = (_fields: Record<string, unknown>, message: string): void => void events.push(message);
    const core = await startEmbeddedCore({ directoryPath: file, certsDir: join(dir, 'certs'), logger: { debug: record, info: record, warn: record, error: record } });
    try {
      await Promise.all([core.reload(), core.reload(), core.reload(), core.reload()]);
      assert.equal(events.filter((e) => e === 'directory reloaded').length, 2);
      writeFileSync(file, 'version: 2\n');
      await assert.rejects(core.reload(), /version/);
      await core.reload().catch(() => undefined);
      writeFileSync(file, directoryYaml());
      await core.reload();
      assert.ok(core.directory().userByUsername('alice'), 'a failed reload keeps the previous directory, later ones work');
    } finally {
      await core.stop();
    }
  });
});
