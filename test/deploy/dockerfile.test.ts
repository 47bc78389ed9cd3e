/**
 * The Dockerfile, proven without Docker: its build stage's COPY and RUN steps are performed in a scratch build
 * directory (the build context filtered by .dockerignore), its runtime stage's COPY steps into a scratch runtime
 * directory, and the ENTRYPOINT is started there with the image's ENV, as the image's user when the test runs as
 * root (the runtime directory stays root-owned, as in the image). The HEALTHCHECK command must report healthy,
 * SIGTERM must end it with 0, and dropping any one runtime COPY must make the start fail.
 * Paths in the image map to the scratch directories through each stage's WORKDIR; ports are free loopback ones
 * and TMPDIR a private directory (the container's own /dev/shm), so runs never collide.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { loadConfig } from '../../src/config/env.js';
import { durationSeconds, dockerignore, parseDockerfile, type CopyStep, type Stage } from '../helpers/dockerfile.js';
import { figure } from '../helpers/figures.js';
import { freePort } from '../helpers/net.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const stages = parseDockerfile(join(repo, 'Dockerfile'));
const ignored = dockerignore(join(repo, '.dockerignore'));
/** The node image's `node` user. */
const IMAGE_USERS = new Map([['node', 1000], ['1000', 1000]]);
const isRoot = process.getuid?.() === 0;

function runtimeStage(): Stage {
  const stage = stages.at(-1);
  assert.ok(stage !== undefined);
  return stage;
}

test('the recipe: pinned Node LTS base, two stages, non-root user, the reference ports, healthcheck and exec entrypoint', () => {
  assert.equal(stages.length, 2);
  for (const stage of stages) assert.equal(stage.image, 'node:26-trixie-slim');
  const runtime = runtimeStage();
  assert.ok(runtime.steps.every((s) => s.kind === 'copy'), 'the runtime stage only copies');
  assert.ok(
    runtime.steps.some((s) => s.kind === 'copy' && s.from === undefined && s.sources.includes('package.json')),
    'package.json ("type": "module") is in the image',
  );
  assert.ok(runtime.user !== undefined && IMAGE_USERS.has(runtime.user), `USER ${runtime.user}`);
  const defaults = loadConfig({}).listen;
  const port = (list: readonly { port: number }[]): number => list[0]!.port;
  assert.deepEqual(
    new Set(runtime.expose),
    new Set([
      String(port(defaults.ldap)),
      String(port(defaults.ldaps)),
      `${port(defaults.radius)}/udp`,
      `${port(defaults.radiusAccounting)}/udp`,
      String(port(defaults.metrics)),
    ]),
  );
  assert.deepEqual(runtime.expose.sort(), ['1812/udp', '1813/udp', '3389', '6636', '9300']);
  assert.equal(runtime.env.get('TMPDIR'), '/dev/shm/');
  assert.equal(runtime.env.get('NODE_ENV'), 'production');
  assert.deepEqual(runtime.healthcheck?.command.slice(-1), ['healthcheck']);
  // The same node options as `npm start`.
  const start = z.object({ scripts: z.object({ start: z.string() }) }).parse(JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'))).scripts.start;
  assert.deepEqual(runtime.entrypoint, start.split(' '));
});

test('the build context holds every COPY source, and no generated key or local build', () => {
  for (const stage of stages) {
    for (const step of stage.steps) {
      if (step.kind !== 'copy' || step.from !== undefined) continue;
      for (const source of step.sources) assert.ok(contextFiles(source).length > 0, `${step.line}: ${source} is not in the build context`);
    }
  }
  for (const path of ['certs/ca.key', 'examples/certs/x.key', 'dist/src/main.js', 'node_modules/ws/package.json', '.git/HEAD']) {
    assert.ok(ignored(path), `${path} would enter the build context`);
  }
});

describe('built in scratch directories', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'ako-dockerfile-'));
  chmodSync(scratch, 0o755);
  after(() => rmSync(scratch, { recursive: true, force: true }));
  const dirs = new Map<Stage, string>(stages.map((stage, i) => [stage, join(scratch, `stage-${i}`)]));
  const [build, runtime] = [stages[0]!, runtimeStage()];
  const copies = runtime.steps.filter((s): s is CopyStep => s.kind === 'copy');

  test('the build stage: COPY from the context, then its RUN steps', () => {
    for (const dir of dirs.values()) mkdirSync(dir);
    for (const step of build.steps) {
      const started = performance.now();
      if (step.kind === 'copy') copy(step, build, dirs);
      else {
        const r = spawnSync('sh', ['-c', step.command], { cwd: dirs.get(build), env: buildEnv(build), encoding: 'utf8' });
        assert.equal(r.status, 0, `${step.line}\n${r.stdout}\n${r.stderr}`);
        figure('deploy', `dockerfile: ${step.command}`, `${((performance.now() - started) / 1000).toFixed(1)} s`);
      }
    }
  });

  test('the runtime stage starts the demo as the image user, reports healthy and stops on SIGTERM with 0', async () => {
    const image = assemble(runtime, copies, dirs, join(scratch, 'runtime'));
    const sizes = directorySize(image);
    figure('deploy', 'dockerfile: runtime directory (what the image adds)', `${(sizes.bytes / 1e6).toFixed(1)} MB in ${sizes.files} files`);
    figure('deploy', 'dockerfile: its node_modules', `${(directorySize(join(image, 'node_modules')).bytes / 1e6).toFixed(1)} MB`);
    assert.ok(!existsSync(join(image, 'node_modules', 'typescript')), 'dev dependencies were pruned');
    assert.ok(!existsSync(join(image, 'node_modules', 'eslint')), 'dev dependencies were pruned');

    const run = await start(runtime, image, scratch);
    assert.equal(await run.healthy, true, `never healthy:\n${run.output()}`);
    const rootDse = spawnSync('ldapsearch', ['-x', '-LLL', '-H', `ldap://127.0.0.1:${run.ports.ldap}`, '-b', '', '-s', 'base', 'namingContexts'], {
      encoding: 'utf8',
    });
    assert.equal(rootDse.status, 0, rootDse.stderr);
    assert.match(rootDse.stdout, /namingContexts: /);
    run.child.kill('SIGTERM');
    assert.equal(await run.exited, 0, `SIGTERM did not stop it cleanly:\n${run.output()}`);
  });

  // Only as root: an unprivileged run could write where the image's user cannot. package.json is exempt: it
  // declares the ES modules, which Node >= 20.19 would otherwise detect by parsing each file a second time.
  test('without any one runtime COPY (package.json aside) the image does not start', { skip: !isRoot }, async () => {
    for (const left of copies.filter((c) => !c.sources.includes('package.json'))) {
      const partial = assemble(runtime, copies.filter((c) => c !== left), dirs, join(scratch, 'partial'));
      const broken = await start(runtime, partial, scratch);
      const healthy = await broken.healthy;
      if (healthy) broken.child.kill('SIGTERM');
      assert.equal(healthy, false, `still healthy without: ${left.line}`);
      assert.notEqual(await broken.exited, 0, `exited cleanly without: ${left.line}`);
    }
  });
});

/** Files (relative to the repository) that a context source contributes, after .dockerignore. */
function contextFiles(source: string): string[] {
  const full = join(repo, source);
  if (!existsSync(full)) return [];
  if (!statSync(full).isDirectory()) return ignored(source) ? [] : [source];
  return readdirSync(full, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(repo, join(e.parentPath, e.name)))
    .filter((p) => !ignored(p));
}

/** The scratch path of an image path, through the stage's WORKDIR. */
function scratchPath(stage: Stage, dirs: Map<Stage, string>, imagePath: string): string {
  const workdir = stage.workdir.replace(/\/$/, '');
  const inWorkdir = imagePath.startsWith('/') ? relative(workdir, imagePath) : imagePath;
  assert.ok(!inWorkdir.startsWith('..'), `${imagePath} lies outside WORKDIR ${stage.workdir}; this test maps only the WORKDIR`);
  return join(dirs.get(stage)!, inWorkdir);
}

function copy(step: CopyStep, stage: Stage, dirs: Map<Stage, string>): void {
  const destination = scratchPath(stage, dirs, step.destination);
  const intoDirectory = step.destination.endsWith('/') || step.sources.length > 1;
  const owner = step.chown === undefined ? undefined : IMAGE_USERS.get(step.chown.split(':')[0]!);
  assert.ok(step.chown === undefined || owner !== undefined, `${step.line}: unknown user`);
  for (const source of step.sources) {
    let files: { from: string; to: string }[];
    if (step.from === undefined) {
      const found = contextFiles(source);
      assert.ok(found.length > 0, `${step.line}: ${source} is not in the build context`);
      const isDirectory = statSync(join(repo, source)).isDirectory();
      files = found.map((f) => ({
        from: join(repo, f),
        to: isDirectory ? join(destination, relative(source, f)) : intoDirectory ? join(destination, basename(f)) : destination,
      }));
    } else {
      const fromStage = stages.find((s) => s.name === step.from);
      assert.ok(fromStage !== undefined, `${step.line}: no stage ${step.from}`);
      const from = scratchPath(fromStage, dirs, source);
      assert.ok(existsSync(from), `${step.line}: ${source} does not exist in stage ${step.from}`);
      const to = statSync(from).isDirectory() || !intoDirectory ? destination : join(destination, basename(from));
      files = [{ from, to }];
    }
    for (const { from, to } of files) {
      const created = mkdirSync(dirname(to), { recursive: true });
      cpSync(from, to, { recursive: true, verbatimSymlinks: true });
      // COPY --chown owns what it copies and the directories it creates, not those that existed (BuildKit).
      if (owner === undefined || !isRoot) continue;
      chownTree(to, owner);
      if (created !== undefined) for (let p = dirname(to); p.startsWith(created); p = dirname(p)) chownSync(p, owner, owner);
    }
  }
}

function chownTree(path: string, uid: number): void {
  chownSync(path, uid, uid);
  if (!statSync(path).isDirectory()) return;
  for (const name of readdirSync(path)) chownTree(join(path, name), uid);
}

/** The runtime stage's copies into a fresh directory. */
function assemble(runtime: Stage, copies: CopyStep[], dirs: Map<Stage, string>, dir: string): string {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { mode: 0o755 });
  const withTarget = new Map(dirs).set(runtime, dir);
  for (const step of copies) copy(step, runtime, withTarget);
  return dir;
}

function directorySize(dir: string): { bytes: number; files: number } {
  let bytes = 0;
  let files = 0;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    bytes += statSync(join(entry.parentPath, entry.name)).size;
    files += 1;
  }
  return { bytes, files };
}

/** A build's environment: the stage's ENV, the npm cache of whoever runs the tests, nothing else of theirs. */
function buildEnv(stage: Stage): Record<string, string> {
  return {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: process.env['HOME'] ?? '/root',
    npm_config_prefer_offline: 'true',
    npm_config_update_notifier: 'false',
    ...Object.fromEntries(stage.env),
  };
}

interface Started {
  child: ReturnType<typeof spawn>;
  output(): string;
  ports: { ldap: number };
  healthy: Promise<boolean>;
  exited: Promise<number | null>;
}

/** ENTRYPOINT + CMD in `dir` with the image's ENV, as the image's user; `healthy` runs the HEALTHCHECK command. */
async function start(runtime: Stage, dir: string, scratch: string): Promise<Started> {
  const tmp = mkdtempSync(join(scratch, 'shm-'));
  const uid = runtime.user === undefined ? undefined : IMAGE_USERS.get(runtime.user);
  const asUser = isRoot && uid !== undefined ? { uid, gid: uid } : {};
  if (isRoot && uid !== undefined) chownSync(tmp, uid, uid);
  const ldap = await freePort();
  const env: Record<string, string> = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    ...Object.fromEntries(runtime.env),
    TMPDIR: tmp,
    AKO_EMBEDDED_CORE_LISTEN: `127.0.0.1:${await freePort()}`,
    AUTHENTIK_LISTEN__LDAP: `127.0.0.1:${ldap}`,
    AUTHENTIK_LISTEN__LDAPS: `127.0.0.1:${await freePort()}`,
    AUTHENTIK_LISTEN__METRICS: `127.0.0.1:${await freePort()}`,
    AUTHENTIK_LISTEN__RADIUS: `127.0.0.1:${await freePort()}`,
    AUTHENTIK_LISTEN__RADIUS_ACCOUNTING: `127.0.0.1:${await freePort()}`,
  };
  const argv = [...runtime.entrypoint, ...runtime.cmd];
  const program = (name: string): string => (name === 'node' ? process.execPath : name);
  const child = spawn(program(argv[0]!), argv.slice(1), { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'], ...asUser });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (output += c.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let gone = false;
  void exited.then(() => (gone = true));

  const check = runtime.healthcheck;
  assert.ok(check !== undefined);
  const retries = Number(check.options.get('retries') ?? '3');
  const startPeriod = durationSeconds(check.options.get('start-period') ?? '0s');
  const interval = durationSeconds(check.options.get('interval') ?? '30s');
  const healthy = (async (): Promise<boolean> => {
    // Docker's budget: failures during the start period do not count, then `retries` failures mark it unhealthy.
    // Probed ten times as often as the interval; the budget in probes stays Docker's.
    const probes = Math.ceil((startPeriod / interval + retries) * 10);
    for (let i = 0; i < probes && !gone; i++) {
      const [command, ...args] = check.command;
      const r = spawnSync(program(command!), args, { cwd: dir, env, ...asUser });
      if (r.status === 0) return true;
      await new Promise((resolve) => setTimeout(resolve, (interval * 1000) / 10));
    }
    return false;
  })();
  return { child, output: () => output, ports: { ldap }, healthy, exited };
}
