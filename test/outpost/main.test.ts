// The entry point as a process: CLI, config errors, start-up failure and graceful stop, healthcheck.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fullVersion } from '../../src/version.js';
import { MAIN } from '../helpers/cli.js';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runMain(args: string[], env: NodeJS.ProcessEnv, whileRunning?: (child: ReturnType<typeof spawn>, out: () => string) => Promise<void>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], {
      env: { PATH: process.env['PATH'], AUTHENTIK_LISTEN__METRICS: '127.0.0.1:0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr });
    });
    if (whileRunning) whileRunning(child, () => stdout).catch(reject);
  });
}

async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A core that answers the outpost list with `results` (or 503 while failing). */
async function fakeHttpCore(results: unknown[], failing: () => boolean): Promise<{ url: string; requests: IncomingMessage[]; close(): Promise<void> }> {
  const requests: IncomingMessage[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    requests.push(req);
    if (failing()) {
      res.writeHead(503).end();
      return;
    }
    const body = JSON.stringify({
      pagination: { next: 0, previous: 0, count: results.length, current: 1, total_pages: 1, start_index: 1, end_index: results.length },
      results,
      autocomplete: {},
    });
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    requests,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe('main', () => {
  test('--version prints the full version', async () => {
    const r = await runMain(['--version'], {});
    assert.equal(r.code, 0);
    assert.equal(r.stdout, `${fullVersion()}\n`);
  });

  test('a config error is one line on stderr and exit 1', async () => {
    const r = await runMain([], { AUTHENTIK_LISTEN__LDAP: 'foo' });
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'AUTHENTIK_LISTEN__LDAP: "foo" is not host:port\n');
  });

  test('--help prints the usage; -v is --version', async () => {
    const help = await runMain(['--help'], {});
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: ak-outpost \[healthcheck\] \[--version\] \[--help\]$/m);
    const version = await runMain(['-v'], {});
    assert.deepEqual([version.code, version.stdout], [0, `${fullVersion()}\n`]);
  });

  test('an unknown option or command is one line on stderr and exit 2', async () => {
    const cases: Array<[string[], string]> = [
      [['frobnicate'], "ak-outpost: Unknown command 'frobnicate' (see --help)\n"],
      [['--frobnicate'], "ak-outpost: Unknown option '--frobnicate' (see --help)\n"],
      [['healthcheck', 'now'], "ak-outpost: Unexpected argument 'now' (see --help)\n"],
      [['--version=2'], "ak-outpost: Option '-v, --version' does not take an argument (see --help)\n"],
    ];
    for (const [args, stderr] of cases) {
      const r = await runMain(args, {});
      assert.deepEqual([r.code, r.stderr, r.stdout], [2, stderr, ''], args.join(' '));
    }
  });

  test('healthcheck exits 1 with nothing listening', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ako-main-'));
    try {
      const r = await runMain(['healthcheck'], { TMPDIR: dir, AUTHENTIK_LISTEN__METRICS: '127.0.0.1:1' });
      assert.equal(r.code, 1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('an empty outpost list exits 1 with the reference message; the token is sent, never logged', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ako-main-'));
    const core = await fakeHttpCore([], () => false);
    try {
      const r = await runMain([], { TMPDIR: dir, AUTHENTIK_HOST: core.url, AUTHENTIK_TOKEN: 'tok-SECRET-123' });
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stdout, /No outposts found with given token, ensure the given token corresponds to an authentik Outpost/);
      assert.equal(core.requests[0]?.headers['authorization'], 'Bearer tok-SECRET-123');
      assert.ok(!(r.stdout + r.stderr).includes('tok-SECRET-123'));
    } finally {
      await core.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('SIGTERM while retrying the core stops cleanly with exit 0; not healthy meanwhile', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ako-main-'));
    const core = await fakeHttpCore([], () => true);
    try {
      let healthDuringRetry: number | undefined;
      const r = await runMain([], { TMPDIR: dir, AUTHENTIK_HOST: core.url, AUTHENTIK_TOKEN: 'tok' }, async (child, out) => {
        await until(() => out().includes('Failed to fetch outpost configuration'), 'retry log');
        const hc = await runMain(['healthcheck'], { TMPDIR: dir, AUTHENTIK_LISTEN__METRICS: '127.0.0.1:1' });
        healthDuringRetry = hc.code ?? undefined;
        child.kill('SIGTERM');
      });
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.equal(healthDuringRetry, 1, 'not healthy before the outpost started');
      assert.match(r.stdout, /"event":"shutting down"/);
    } finally {
      await core.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
