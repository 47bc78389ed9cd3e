/**
 * Where a cached-mode refresh blocks the event loop: builds a snapshot of a generated directory from the embedded
 * core (in this process) through the real core client, and prints the longest event-loop stalls per phase.
 *   node dist/bench/refresh-stall.js [users] [groups]
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSnapshot } from '../src/directory/build.js';
import { createCoreClient } from '../src/core-api/client.js';
import { startEmbeddedCore } from '../src/embedded-core/core.js';
import { generateDirectory } from '../src/embedded-core/directory/generate.js';
import { directorySizeArgs } from './lib/cli.js';

const [users, groups] = directorySizeArgs('node dist/bench/refresh-stall.js');
const certsDir = mkdtempSync(join(tmpdir(), 'ako-stall-'));
const directory = await generateDirectory({ users, groups, groupsPerUser: 5, seed: 1, iterations: 1 });
const core = await startEmbeddedCore({ directory, certsDir });
const outpost = [...core.directory().outposts.values()].find((o) => o.type === 'ldap')!;
const client = createCoreClient({ host: core.url, token: outpost.token, insecure: false, timeoutMs: 60_000 });
const provider = (await client.listLdapProviders())[0]!;
// First the initial load, then a refresh as the outpost runs it (the live snapshot passed as `previous`).
let previous: Awaited<ReturnType<typeof buildSnapshot>> | undefined;
for (const run of ['load', 'refresh'] as const) {
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  const started = performance.now();
  const cpuStarted = process.cpuUsage();
  let last = started;
  const snapshot = await buildSnapshot(client, provider, {
    pageSize: 50,
    ...(previous !== undefined ? { previous } : {}),
    onProgress: (p) => {
      const now = performance.now();
      console.log(`  ${p.phase} users=${p.users} groups=${p.groups} +${Math.round(now - last)} ms`);
      last = now;
    },
  });
  h.disable();
  const cpu = process.cpuUsage(cpuStarted);
  console.log(
    `${run}: ${snapshot.userCount} users in ${Math.round(performance.now() - started)} ms (process CPU incl. the in-process core ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s); loop delay max ${Math.round(h.max / 1e6)} ms, p99 ${Math.round(h.percentile(99) / 1e6)} ms; rss ${Math.round(process.memoryUsage().rss / 1e6)} MB`,
  );
  previous = snapshot;
}
await client.close();
await core.stop();
rmSync(certsDir, { recursive: true, force: true });
