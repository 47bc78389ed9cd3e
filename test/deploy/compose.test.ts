/**
 * deploy/docker-compose.yml: parses, runs authentik at the release the outpost reports (no Redis since 2025.10),
 * and its ak-outpost service agrees with the Dockerfile and the code: build context, core URL, token, ports.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { z } from 'zod';
import { loadConfig } from '../../src/config/env.js';
import { ConfigError } from '../../src/errors.js';
import { AUTHENTIK_VERSION } from '../../src/version.js';
import { parseDockerfile } from '../helpers/dockerfile.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const composeFile = join(repo, 'deploy', 'docker-compose.yml');

const serviceSchema = z.object({
  image: z.string().optional(),
  build: z.union([z.string(), z.object({ context: z.string(), dockerfile: z.string().optional() })]).optional(),
  command: z.string().optional(),
  environment: z.record(z.string(), z.string()).optional(),
  ports: z.array(z.string()).optional(),
  depends_on: z.union([z.array(z.string()), z.record(z.string(), z.object({ condition: z.string() }))]).optional(),
});
const composeSchema = z.object({ services: z.record(z.string(), serviceSchema.passthrough()), volumes: z.record(z.string(), z.null()).optional() });
const compose = composeSchema.parse(parse(readFileSync(composeFile, 'utf8'), { merge: true }));
const services = compose.services;

/** Compose interpolation of `${NAME}`, `${NAME:-default}` and `${NAME:?error}` against `vars`. */
function interpolate(value: string, vars: Record<string, string>): string {
  return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([-?])([^}]*))?\}/g, (_, name: string, kind: string | undefined, arg: string | undefined) => {
    const set = vars[name];
    if (set !== undefined && set !== '') return set;
    if (kind === '?') throw new Error(`${name}: ${arg}`);
    return kind === '-' ? (arg ?? '') : '';
  });
}

test('authentik at the release the outpost reports: postgresql, server, worker, no Redis', () => {
  assert.deepEqual(Object.keys(services).sort(), ['ak-outpost', 'postgresql', 'server', 'worker']);
  for (const name of ['server', 'worker'] as const) {
    assert.equal(services[name]!.image, `ghcr.io/goauthentik/server:${AUTHENTIK_VERSION}`);
    assert.equal(services[name]!.command, name);
    assert.equal(services[name]!.environment?.['AUTHENTIK_POSTGRESQL__HOST'], 'postgresql');
    assert.ok(!Object.keys(services[name]!.environment ?? {}).some((k) => k.startsWith('AUTHENTIK_REDIS__')));
  }
  assert.ok(services['server']!.ports?.includes('9000:9000'));
});

test('ak-outpost: built from the repository Dockerfile, against the server service, token from the environment', () => {
  const outpost = services['ak-outpost']!;
  const build = outpost.build;
  const context = typeof build === 'string' ? build : build?.context;
  assert.ok(context !== undefined);
  assert.equal(resolve(dirname(composeFile), context), repo);
  assert.ok(existsSync(join(repo, 'Dockerfile')));

  const environment = outpost.environment ?? {};
  assert.equal(environment['AUTHENTIK_HOST'], 'http://server:9000');
  assert.ok(services['server']!.ports?.some((p) => p.endsWith(':9000')), 'the server listens on 9000');
  assert.match(environment['AUTHENTIK_TOKEN'] ?? '', /^\$\{AUTHENTIK_TOKEN\b/);
  const env = (token: string): Record<string, string> =>
    Object.fromEntries(Object.entries(environment).map(([k, v]) => [k, interpolate(v, { AUTHENTIK_TOKEN: token })]));
  const config = loadConfig(env('outpost-token'));
  assert.equal(config.core?.token, 'outpost-token');
  assert.equal(config.insecure, false);
  // Without a token it stops with one line naming the variable (the comment in the file says so).
  assert.throws(() => loadConfig(env('')), (err: unknown) => err instanceof ConfigError && err.message.includes('AUTHENTIK_TOKEN'));
});

test('ak-outpost publishes the image\'s LDAP and RADIUS ports, on the standard host ports', () => {
  const image = parseDockerfile(join(repo, 'Dockerfile')).at(-1)!;
  const published = (services['ak-outpost']!.ports ?? []).map((p) => {
    const m = /^(\d+):(\d+)(\/udp)?$/.exec(p);
    assert.ok(m !== null, p);
    return { host: Number(m[1]), container: `${m[2]}${m[3] ?? ''}` };
  });
  const defaults = loadConfig({}).listen;
  assert.deepEqual(published, [
    { host: 389, container: String(defaults.ldap[0]!.port) },
    { host: 636, container: String(defaults.ldaps[0]!.port) },
    { host: 1812, container: `${defaults.radius[0]!.port}/udp` },
    { host: 1813, container: `${defaults.radiusAccounting[0]!.port}/udp` },
  ]);
  // Everything the image exposes is published except the metrics port, which stays on the compose network.
  assert.deepEqual(
    new Set(image.expose),
    new Set([...published.map((p) => p.container), String(defaults.metrics[0]!.port)]),
  );
});
