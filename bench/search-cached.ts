/**
 * Cached directory benchmark: build time and memory for 100,000 users x 5 groups (10,000 groups), equality
 * search throughput by cn, and a full subtree dump of a 10,505-entry directory, all in-process (no sockets).
 *
 *   npx tsc -p tsconfig.json && node --expose-gc dist/bench/search-cached.js [users] [groups]
 */
import { buildSnapshot } from '../src/directory/build.js';
import type { DirectorySnapshot } from '../src/directory/snapshot.js';
import { parseFilter } from '../src/protocol/ldap/filter.js';
import { MessageBatch } from '../src/protocol/ldap/search-response.js';
import type { SearchQuery } from '../src/directory/types.js';
import { generatedCore, PROVIDER, BASE } from '../test/directory/fixtures.js';
import { directorySizeArgs } from './lib/cli.js';

const gc = (globalThis as { gc?: () => void }).gc;
const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

function memory(label: string): void {
  gc?.();
  const m = process.memoryUsage();
  console.log(`${label}: rss ${mb(m.rss)}, heapUsed ${mb(m.heapUsed)} of ${mb(m.heapTotal)}, external+arrayBuffers ${mb(m.external)}`);
}

async function build(users: number, groups: number): Promise<{ snapshot: DirectorySnapshot; ms: number }> {
  const started = performance.now();
  const snapshot = await buildSnapshot(generatedCore(users, groups, 5), PROVIDER, {
    // Steady state: every entry encoded at build time (the outpost encodes each on its first `*` send).
    encodeOnDemand: false,
    progressEvery: 25_000,
    onProgress: (p) => console.log(`  ${p.phase}: ${p.users} users, ${p.groups} groups, ${((performance.now() - started) / 1000).toFixed(2)} s`),
  });
  return { snapshot, ms: performance.now() - started };
}

function q(filter: string, extra: Partial<SearchQuery> = {}): SearchQuery {
  return { baseObject: BASE, scope: 2, attributes: [], typesOnly: false, sizeLimit: 0, filter: parseFilter(filter), ...extra };
}

/** Search and frame every entry plus a done message, as the listener will. */
function respond(snapshot: DirectorySnapshot, query: SearchQuery, batch: MessageBatch, messageID: number): number {
  const result = snapshot.search(query, { userPk: 1, canSearch: true });
  for (let i = 0; i < result.count; i++) batch.append(messageID, result.encoded(i));
  batch.appendSearchDone(messageID, result.resultCode);
  const bytes = batch.length;
  batch.take();
  return bytes;
}

function throughput(label: string, snapshot: DirectorySnapshot, makeQuery: (i: number) => SearchQuery, iterations: number): void {
  const batch = new MessageBatch(64 * 1024);
  for (let i = 0; i < Math.min(2000, iterations); i++) respond(snapshot, makeQuery(i), batch, 1);
  const started = performance.now();
  let bytes = 0;
  for (let i = 0; i < iterations; i++) bytes += respond(snapshot, makeQuery(i), batch, (i % 1000) + 1);
  const seconds = (performance.now() - started) / 1000;
  console.log(`${label}: ${Math.round(iterations / seconds).toLocaleString('en')} ops/s (${iterations} ops, ${(bytes / iterations).toFixed(0)} bytes each)`);
}

async function main(): Promise<void> {
  const [userCount, groupCount] = directorySizeArgs('node --expose-gc dist/bench/search-cached.js');
  memory('start');
  console.log(`building ${userCount} users, ${groupCount} groups, 5 groups per user`);
  const large = await build(userCount, groupCount);
  console.log(`build: ${(large.ms / 1000).toFixed(2)} s, ${large.snapshot.size} entries, pre-encoded ${mb(large.snapshot.encodedBytes)}`);
  memory('after build (snapshot live)');
  // V8 gives back the build's transient heap after a short idle; that is the steady state.
  await new Promise((resolve) => setTimeout(resolve, 5000));
  memory('after 5 s idle');

  const users = large.snapshot.userCount;
  throughput('equality (cn=userN), subtree, all attributes', large.snapshot, (i) => q(`(cn=user${(i * 7919) % users})`), 100_000);
  throughput('equality (cn=userN), attributes cn,mail', large.snapshot, (i) => q(`(cn=user${(i * 7919) % users})`, { attributes: ['cn', 'mail'] }), 100_000);
  throughput(
    '(&(objectClass=user)(uid=...)) typical bind lookup',
    large.snapshot,
    (i) => q(`(&(objectClass=user)(sAMAccountName=user${(i * 7919) % users}))`),
    100_000,
  );
  throughput('(memberOf=<nonexistent group>)', large.snapshot, () => q(`(memberOf=cn=nope,ou=groups,${BASE})`), 100_000);
  throughput(
    'in-chain memberOf (group with nesting), 1.1',
    large.snapshot,
    (i) => q(`(memberOf:1.2.840.113556.1.4.1941:=cn=group-${String((i * 10) % groupCount).padStart(5, '0')},ou=groups,${BASE})`, { attributes: ['1.1'] }),
    200,
  );

  const dumpDirectory = await build(5000, 501);
  console.log(`dump directory: ${dumpDirectory.snapshot.size} entries`);
  const batch = new MessageBatch(8 * 1024 * 1024);
  const dump = q('(objectClass=*)');
  for (let i = 0; i < 5; i++) respond(dumpDirectory.snapshot, dump, batch, 2);
  const runs = 50;
  const times: number[] = [];
  let bytes = 0;
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    bytes = respond(dumpDirectory.snapshot, dump, batch, 2);
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  console.log(`full subtree dump: median ${times[runs >> 1]!.toFixed(2)} ms, max ${times[runs - 1]!.toFixed(2)} ms, ${mb(bytes)}`);
  memory('end');
}

await main();
