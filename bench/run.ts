/**
 * `npm run bench`: ak-outpost against OpenLDAP slapd on the same generated directory, driven by the same compiled
 * load generator (bench/loadgen/ldapload.c), every process separate so CPU time is per process. Prints one
 * markdown table (also written to bench/results/latest.md, raw figures to latest.json). See bench/README.md.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/run.js [--users 10000] [--groups 500] [--seconds 3] [--large] ...
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  GENERATED_ADMIN,
  GENERATED_LDAP_OUTPOST_TOKEN,
  GENERATED_RADIUS_OUTPOST_TOKEN,
  GENERATED_RADIUS_SECRET,
  generateDirectory,
  generatedPassword,
  generatedUsername,
} from '../src/embedded-core/directory/generate.js';
import type { DirectoryFile } from '../src/embedded-core/directory/types.js';
import { certificateFileStem, openPki } from '../src/embedded-core/pki.js';
import { benchCommandLine, intArg, numberArg } from './lib/cli.js';
import { BENCH_BASE_DN, expectedEntryCount } from './lib/ldif.js';
import { ensureFreeradius, freeradiusVersion, prepareFreeradius, startFreeradius } from './lib/freeradius.js';
import { buildLoadgen, loadgenSource, kernelPart, runLoad, type LoadOptions, type LoadResult } from './lib/loadgen.js';
import { runRadload, type RadloadKind, type RadloadOptions, type RadloadResult } from './lib/radload.js';
import { cpuSeconds, cpuTimes, freePort, jsonObject, LogFollower, memoryOf, ProcessGroup, waitForLine, type Managed } from './lib/procs.js';
import { runEapolBatch } from './lib/eapol.js';
import {
  atLeast,
  atMost,
  fmtInt,
  fmtMs,
  fmtNum,
  fmtRatio,
  median,
  ratio,
  renderReport,
  throughputTarget,
  type CpuRow,
  type Row,
} from './lib/report.js';
import { ensureSystemPackages, prepareSlapd, slapdVersion, startSlapd } from './lib/slapd.js';

const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DIRECT_OUTPOST_TOKEN = 'bench-direct-bind-outpost-token';
const SEARCH_DN = `cn=${GENERATED_ADMIN.username},ou=users,${BENCH_BASE_DN}`;
const USER_DN = `cn=user%05d,ou=users,${BENCH_BASE_DN}`;
const GROUP_DN = `cn=group%05d,ou=groups,${BENCH_BASE_DN}`;
const IN_CHAIN = '1.2.840.113556.1.4.1941';

// ------------------------------------------------------------------------------------------------- options

interface Options {
  users: number;
  groups: number;
  groupsPerUser: number;
  seconds: number;
  warmup: number;
  sections: Set<number>;
  large: boolean;
  largeUsers: number;
  largeGroups: number;
  pipelineConns: number;
  depth: number;
  bindUsers: number;
  refreshRate: number;
  /** AUTHENTIK_WORKERS of the outpost in sections 1-4. */
  workers: number;
  /** AUTHENTIK_WORKERS of the outpost in sections 7 to 9. */
  radiusWorkers: number;
  /** Section 9: EAP-TTLS conversations per server and TLS version, and how many at once. */
  eapAuths: number;
  eapConcurrency: number;
  /** Sections 1, 2 and 4: measurements per server, alternating; the median ratio is reported. */
  rounds: number;
  keep: boolean;
}

const USAGE = `usage: node dist/bench/run.js [options]
  --users N            users in the directory (default 10000, at most 100000)
  --groups N           groups (default 500)
  --groups-per-user N  direct groups per user (default 3)
  --seconds S          measured seconds per run (default 3)
  --warmup S           warm-up seconds before each run (default 1)
  --sections LIST      which of 1-9 to run (default 1,2,3,4,5,7,8,9; 6 comes with --large)
  --large              also section 6: 100,000 users and 10,000 groups (cached mode; takes a few minutes)
  --large-users N / --large-groups N   size of section 6 (default 100000 / 10000)
  --pipeline C,D       pipelined runs: C connections with D requests in flight each (default 8,16)
  --bind-users N       users whose binds are cached first and then measured (default 1000); also the RADIUS users
  --refresh-rate R     section 6: searches per second while the refresh runs (default 2000)
  --workers N          AUTHENTIK_WORKERS of the outpost in sections 1-4 (default 2, one per CPU; 5 and 6 use 1)
  --radius-workers N   AUTHENTIK_WORKERS of the outpost in sections 7 to 9 (default 2, one per CPU)
  --eap-auths N        section 9: EAP-TTLS/PAP conversations per server and TLS version (default 60)
  --eap-concurrency N  section 9: conversations at once (default 4)
  --rounds N           sections 1, 2 and 4: runs per server, alternating ours and slapd (default 3; median ratio)
  --keep               keep the temp dir (configs, LDIF, logs)
`;

function parseOptions(): Options {
  const string = { type: 'string' } as const;
  return benchCommandLine(
    'run.js',
    USAGE,
    {
      options: {
        users: string,
        groups: string,
        'groups-per-user': string,
        seconds: string,
        warmup: string,
        sections: string,
        large: { type: 'boolean', default: false },
        'large-users': string,
        'large-groups': string,
        pipeline: string,
        'bind-users': string,
        'refresh-rate': string,
        workers: string,
        'radius-workers': string,
        'eap-auths': string,
        'eap-concurrency': string,
        rounds: string,
        keep: { type: 'boolean', default: false },
      },
    },
    ({ values: v }) => {
      const sections = new Set((v.sections ?? '1,2,3,4,5,7,8,9').split(',').map((s) => intArg('--sections', s.trim(), 1, 9)));
      const [connections, depth] = (v.pipeline ?? '8,16').split(',');
      const users = intArg('--users', v.users ?? '10000', 10, 100_000);
      return {
        users,
        groups: intArg('--groups', v.groups ?? '500', 1, 10_000),
        groupsPerUser: intArg('--groups-per-user', v['groups-per-user'] ?? '3', 0, 50),
        seconds: numberArg('--seconds', v.seconds ?? '3', 0.5, 600),
        warmup: numberArg('--warmup', v.warmup ?? '1', 0, 60),
        sections,
        large: v.large || sections.has(6),
        largeUsers: intArg('--large-users', v['large-users'] ?? '100000', 10, 100_000),
        largeGroups: intArg('--large-groups', v['large-groups'] ?? '10000', 1, 10_000),
        pipelineConns: intArg('--pipeline', connections, 1, 1024),
        depth: intArg('--pipeline', depth, 2, 32),
        bindUsers: Math.min(intArg('--bind-users', v['bind-users'] ?? '1000', 1, 100_000), users),
        refreshRate: intArg('--refresh-rate', v['refresh-rate'] ?? '2000', 10, 100_000),
        workers: intArg('--workers', v.workers ?? '2', 1, 16),
        radiusWorkers: intArg('--radius-workers', v['radius-workers'] ?? '2', 1, 16),
        eapAuths: intArg('--eap-auths', v['eap-auths'] ?? '60', 1, 10_000),
        eapConcurrency: intArg('--eap-concurrency', v['eap-concurrency'] ?? '4', 1, 64),
        rounds: intArg('--rounds', v.rounds ?? '3', 1, 9),
        keep: v.keep,
      };
    },
  );
}

const log = (text: string): void => void process.stderr.write(`[bench] ${text}\n`);

// ------------------------------------------------------------------------------------------------- servers

interface Server {
  name: 'ak-outpost' | 'slapd';
  port: number;
  /** Processes whose CPU is attributed to this server's runs (besides the generator). */
  watch: Managed[];
}

interface RadiusServer {
  name: 'ak-outpost' | 'freeradius';
  /** The authentication port. */
  port: number;
  watch: Managed[];
  usersFile: string;
}

interface Outpost {
  proc: Managed;
  port: number;
  radiusPort: number;
  accountingPort: number;
  /** Resolves at each "Directory loaded" log line, in order (polled from the log file). */
  nextLoad(timeoutMs?: number): Promise<LoadedEvent>;
  /** Resolves once the ping answers 204: every worker serves. */
  serving(timeoutMs: number): Promise<void>;
}

interface LoadedEvent {
  tookMs: number;
  users: number;
  groups: number;
  at: number;
}

/** Adds the direct-bind provider and outpost (section 5) and a long refresh interval (no refresh mid-run). */
function benchDirectory(dir: DirectoryFile): DirectoryFile {
  const config = { refresh_interval: 'hours=1' };
  return {
    ...dir,
    providers: [...(dir.providers ?? []), { type: 'ldap', name: 'ldap-direct', search_mode: 'direct', bind_mode: 'direct' }],
    applications: [...(dir.applications ?? []), { slug: 'ldap-direct', name: 'LDAP direct', provider: 'ldap-direct' }],
    outposts: [
      ...(dir.outposts ?? []).map((o) => ({ ...o, config })),
      { name: 'ldap-direct-outpost', type: 'ldap', providers: ['ldap-direct'], token: DIRECT_OUTPOST_TOKEN, config },
    ],
  };
}

function passwordOf(username: string): string | undefined {
  if (username === GENERATED_ADMIN.username) return GENERATED_ADMIN.password;
  const m = /^user(\d+)$/.exec(username);
  return m === null ? undefined : generatedPassword(Number(m[1]));
}

async function startCore(group: ProcessGroup, tmp: string, directoryPath: string): Promise<{ proc: Managed; url: string }> {
  const proc = group.start('core', process.execPath, [join(packageRoot, 'dist', 'bench', 'run-core.js'), directoryPath, join(tmp, 'certs')]);
  const url = await waitForLine(
    proc,
    (line) => {
      const obj = jsonObject(line);
      return obj?.['event'] === 'ready' && typeof obj['url'] === 'string' ? obj['url'] : undefined;
    },
    300_000,
    'ready line',
  );
  return { proc, url };
}

/** The real entry point (dist/src/main.js) with AUTHENTIK_HOST set: an outpost process like in production. */
async function startOutpost(group: ProcessGroup, tmp: string, name: string, coreUrl: string, token: string, workers = 1): Promise<Outpost> {
  const port = await freePort();
  const radiusPort = await freePort();
  const accountingPort = await freePort();
  const metricsPort = await freePort();
  const scratch = join(tmp, name);
  mkdirSync(scratch, { recursive: true });
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AUTHENTIK_')) env[k] = v;
  Object.assign(env, {
    AUTHENTIK_HOST: coreUrl,
    AUTHENTIK_TOKEN: token,
    AUTHENTIK_INSECURE: 'false',
    AUTHENTIK_LISTEN__LDAP: `127.0.0.1:${port}`,
    AUTHENTIK_LISTEN__LDAPS: `127.0.0.1:${await freePort()}`,
    AUTHENTIK_LISTEN__METRICS: `127.0.0.1:${metricsPort}`,
    AUTHENTIK_LISTEN__RADIUS: `127.0.0.1:${radiusPort}`,
    AUTHENTIK_LISTEN__RADIUS_ACCOUNTING: `127.0.0.1:${accountingPort}`,
    TMPDIR: scratch,
    AUTHENTIK_WORKERS: String(workers),
  });
  // Logs (one line per request at the default level) go to a file, so reading them costs the driver nothing
  // while the outpost is measured; only "Directory loaded" lines are picked out of it.
  const logPath = join(scratch, 'stdout.log');
  // As `npm start` runs it (--expose-gc: the outpost returns the first load's garbage at once).
  // BENCH_OUTPOST_NODE_ARGS: extra node flags for the outpost only, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
  const extra = (process.env['BENCH_OUTPOST_NODE_ARGS'] ?? '').split(' ').filter((a) => a !== '');
  const proc = group.start(name, process.execPath, ['--expose-gc', ...extra, join(packageRoot, 'dist', 'src', 'main.js')], { env, stdoutFile: logPath });
  const follower = new LogFollower(logPath, '"event":"Directory loaded"');
  return {
    proc,
    port,
    radiusPort,
    accountingPort,
    nextLoad: async (timeoutMs = 600_000) => {
      const obj = jsonObject(await follower.next(proc, timeoutMs)) ?? {};
      const num = (k: string): number => (typeof obj[k] === 'number' ? obj[k] : NaN);
      return { tookMs: num('took-ms'), users: num('users'), groups: num('groups'), at: performance.now() };
    },
    serving: async (timeoutMs) => {
      const deadline = performance.now() + timeoutMs;
      for (;;) {
        const status = await fetch(`http://127.0.0.1:${metricsPort}/outpost.goauthentik.io/ping`).then((r) => r.status, () => 0);
        if (status === 204) return;
        if (performance.now() > deadline) throw new Error(`${name} not serving after ${timeoutMs} ms (ping ${status})`);
        await new Promise((res) => setTimeout(res, 100));
      }
    },
  };
}

/** Section 9: the EAP server certificate both RADIUS servers present. */
const EAP_CERTIFICATE = 'radius-bench';

// ------------------------------------------------------------------------------------------------- the run

class Bench {
  readonly rows: Row[] = [];
  readonly cpuRows: CpuRow[] = [];
  readonly notes: string[] = [];
  readonly raw: Record<string, unknown>[] = [];
  /** Closed-loop throughput runs (sections 1, 2, 4): how busy each side was, for the generator-headroom note. */
  readonly throughputRuns: Array<{ server: string; opsPerSecond: number; serverShare: number; loadgenShare: number }> = [];

  constructor(
    readonly group: ProcessGroup,
    readonly binary: string,
    readonly o: Options,
    /** Built only when a RADIUS section runs. */
    readonly radloadBinary?: string,
  ) {}

  note(text: string): string {
    const existing = this.notes.indexOf(text);
    if (existing >= 0) return `[${existing + 1}]`;
    this.notes.push(text);
    return `[${this.notes.length}]`;
  }

  async load(server: Server, run: string, options: Omit<LoadOptions, 'port'>, hooks?: Parameters<typeof runLoad>[4]): Promise<LoadResult> {
    const result = await runLoad(this.group, this.binary, { ...options, port: server.port }, server.watch, hooks);
    this.cpuRows.push({ run, server: server.name, wall: result.seconds, ops: result.ops, cpu: { ...result.cpu, ldapload: result.loadgenCpu } });
    this.raw.push({ run, server: server.name, ...result });
    const bad = result.errors + result.setupErrors + result.protocolErrors + result.closed + result.unexpected;
    log(
      `${server.name.padEnd(10)} ${run.padEnd(40)} ${fmtInt(result.opsPerSecond).padStart(8)} ops/s  p50 ${fmtMs(result.latencyUs.p50)}  p99 ${fmtMs(result.latencyUs.p99)}  ` +
        `${fmtNum(result.entriesPerOp)} entries/op${bad > 0 ? `  errors ${result.errors} rc ${JSON.stringify(result.resultCodes)} setup ${result.setupErrors} closed ${result.closed}` : ''}`,
    );
    return result;
  }

  /** One search or bind until it works (the server may still be starting); fails after `timeoutMs`. */
  async probe(server: Server, options: Omit<LoadOptions, 'port' | 'conns'>, timeoutMs: number): Promise<LoadResult> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const r = await runLoad(this.group, this.binary, { conns: 1, totalOps: 1, ...options, port: server.port }, []);
      if (r.ops === 1 && r.errors === 0 && r.setupErrors === 0) return r;
      if (performance.now() > deadline) throw new Error(`${server.name} does not answer: ${JSON.stringify({ ...r, cpu: undefined })}`);
      await new Promise((res) => setTimeout(res, 250));
    }
  }

  track(server: Server, r: LoadResult): LoadResult {
    const main = server.watch[0];
    const share = (cpu: number | undefined): number => (cpu ?? NaN) / r.seconds;
    this.throughputRuns.push({ server: server.name, opsPerSecond: r.opsPerSecond, serverShare: share(main === undefined ? undefined : r.cpu[main.name]), loadgenShare: share(r.loadgenCpu) });
    return r;
  }

  /** States from the measurements whether the generator or the server bounded the throughput figures. */
  headroomNote(): void {
    const slapd = this.throughputRuns.filter((r) => r.server === 'slapd');
    const ours = this.throughputRuns.filter((r) => r.server === 'ak-outpost');
    if (slapd.length === 0 || ours.length === 0) return;
    const pct = (v: number): string => `${Math.round(v * 100)}%`;
    const maxSlapd = Math.max(...slapd.map((r) => r.opsPerSecond));
    const maxOurs = Math.max(...ours.map((r) => r.opsPerSecond));
    const loadgenMax = Math.max(...this.throughputRuns.map((r) => r.loadgenShare));
    const ourShares = ours.map((r) => r.serverShare).filter(Number.isFinite);
    this.notes.push(
      `Generator headroom: ldapload drove slapd at up to ${fmtInt(maxSlapd)} ops/s and ak-outpost at up to ${fmtInt(maxOurs)} ops/s, never using more than ${pct(loadgenMax)} of one CPU; ` +
        `the outpost (with its worker processes) ran at ${pct(Math.min(...ourShares))}–${pct(Math.max(...ourShares))} of one CPU in its throughput runs (each Node process runs JavaScript on one thread), so the servers, not the generator, bound these figures.`,
    );
  }

  levels(): Array<{ conns: number; depth: number; label: string }> {
    return [
      { conns: 1, depth: 1, label: '1 conn' },
      { conns: 8, depth: 1, label: '8 conns' },
      { conns: 64, depth: 1, label: '64 conns' },
      { conns: this.o.pipelineConns, depth: this.o.depth, label: `${this.o.pipelineConns} conns × ${this.o.depth} in flight` },
    ];
  }

  /**
   * One row from alternating rounds (ours, slapd, ours, slapd, ...): each server's median ops/s, and the median of
   * the per-round ratios, since adjacent runs share the machine's momentary noise. The range of those ratios
   * follows in brackets when there is more than one round.
   */
  throughputRow(section: string, what: string, load: string, conns: number, ours: readonly LoadResult[], theirs: readonly LoadResult[] | undefined, theirsNote?: string): void {
    const mid = (runs: readonly LoadResult[]): LoadResult => {
      const sorted = [...runs].sort((a, b) => a.opsPerSecond - b.opsPerSecond);
      return sorted[Math.floor((sorted.length - 1) / 2)]!;
    };
    const errors = (runs: readonly LoadResult[]): number => runs.reduce((n, r) => n + r.errors, 0);
    const fmt = (runs: readonly LoadResult[]): string => {
      const r = mid(runs);
      const failed = errors(runs);
      return `${fmtInt(r.opsPerSecond)} ops/s${failed > 0 ? ` (${fmtInt(failed)} errors)` : ''}`;
    };
    const ourMid = mid(ours);
    const theirMid = theirs === undefined ? undefined : mid(theirs);
    const mismatch = theirMid !== undefined && Math.abs(ourMid.entriesPerOp - theirMid.entriesPerOp) > 0.01 * Math.max(1, theirMid.entriesPerOp);
    const mismatchNote = mismatch
      ? ` ${this.note(`${what}: entries per operation differ (ak-outpost ${fmtNum(ourMid.entriesPerOp)}, slapd ${fmtNum(theirMid?.entriesPerOp ?? NaN)}).`)}`
      : '';
    const ratios = theirs === undefined ? [] : ours.map((o, i) => ratio(o.opsPerSecond, theirs[i]?.opsPerSecond ?? NaN)).filter((x) => Number.isFinite(x));
    const r = ratios.length === 0 ? NaN : median(ratios);
    const spread = ratios.length > 1 ? ` (${fmtRatio(Math.min(...ratios))}-${fmtRatio(Math.max(...ratios))})` : '';
    const target = throughputTarget(conns);
    const clean = errors(ours) === 0 && (theirs === undefined || errors(theirs) === 0);
    this.rows.push({
      section,
      what,
      load,
      ours: fmt(ours) + mismatchNote,
      slapd: theirs === undefined ? `n/a ${theirsNote ?? ''}`.trim() : fmt(theirs),
      ratio: `${fmtRatio(r)}${spread}`,
      target: `≥${target}×`,
      met: theirs === undefined ? '—' : clean ? atLeast(r, target) : 'no',
    });
  }

  /** `rounds` runs of each server at one load level, alternating (ours first); slapd skipped when n/a. */
  async alternate(run: string, ours: Server, theirs: Server | undefined, options: Omit<LoadOptions, 'port'>): Promise<{ ours: LoadResult[]; theirs: LoadResult[] | undefined }> {
    const mine: LoadResult[] = [];
    const peer: LoadResult[] = [];
    for (let round = 1; round <= this.o.rounds; round++) {
      const label = this.o.rounds > 1 ? `${run} #${round}` : run;
      mine.push(this.track(ours, await this.load(ours, label, options)));
      if (theirs !== undefined) peer.push(this.track(theirs, await this.load(theirs, label, options)));
    }
    return { ours: mine, theirs: theirs === undefined ? undefined : peer };
  }

  // ---- sections 1 to 4: search and bind throughput

  async searchThroughput(section: string, what: string, servers: readonly Server[], filter: string, hi: number, attributes: readonly string[], slapdNa?: string): Promise<void> {
    const [outpost, slapd] = servers as [Server, Server];
    for (const level of this.levels()) {
      const options: Omit<LoadOptions, 'port'> = {
        mode: 'search',
        conns: level.conns,
        depth: level.depth,
        seconds: this.o.seconds,
        warmupSeconds: this.o.warmup,
        searchDn: SEARCH_DN,
        searchPassword: GENERATED_ADMIN.password,
        base: BENCH_BASE_DN,
        scope: 'sub',
        filter,
        attributes,
        lo: 1,
        hi,
      };
      const run = `${section}. ${what}, ${level.label}`;
      const { ours, theirs } = await this.alternate(run, outpost, slapdNa === undefined ? slapd : undefined, options);
      this.throughputRow(section, what, level.label, level.conns, ours, theirs, slapdNa);
    }
  }

  async cachedBinds(servers: readonly Server[]): Promise<void> {
    const n = this.o.bindUsers;
    const bind = { mode: 'bind' as const, bindDn: USER_DN, bindPassword: 'pass%05d', lo: 1, hi: n };
    for (const server of servers) {
      // Every user binds once first, so the measured binds are cache hits (DN + password verified before).
      const prime = await runLoad(this.group, this.binary, { ...bind, port: server.port, conns: 16, totalOps: n, sequential: true }, []);
      if (prime.errors > 0 || prime.ops !== n) throw new Error(`${server.name}: priming ${n} binds failed: ${JSON.stringify(prime.resultCodes)}`);
      log(`${server.name}: ${n} users bound once (priming, ${fmtInt(prime.opsPerSecond)} binds/s)`);
    }
    const what = `cached bind (${fmtInt(n)} users, each bound once before)`;
    for (const level of [...this.levels().slice(0, 3), { conns: 256, depth: 1, label: '256 conns' }]) {
      const options = { ...bind, conns: level.conns, seconds: this.o.seconds, warmupSeconds: this.o.warmup };
      const run = `2. cached bind, ${level.label}`;
      const { ours, theirs } = await this.alternate(run, servers[0]!, servers[1], options);
      this.throughputRow('2', what, level.label, level.conns, ours, theirs);
    }
    const noPipelining = this.note(
      'Binds are not pipelined: RFC 4511 §4.2.1 forbids other requests on a connection while a bind is in progress, so the bind rows use more connections (256) instead.',
    );
    this.rows.push({ section: '2', what, load: 'pipelined', ours: `n/a ${noPipelining}`, slapd: 'n/a', ratio: '—', target: '—', met: '—' });
  }

  async wholeDirectory(servers: readonly Server[], expected: number): Promise<void> {
    const options: Omit<LoadOptions, 'port'> = {
      mode: 'search',
      conns: 1,
      totalOps: 1,
      searchDn: SEARCH_DN,
      searchPassword: GENERATED_ADMIN.password,
      base: BENCH_BASE_DN,
      scope: 'sub',
      filter: '(objectClass=*)',
    };
    const figures = new Map<string, { seconds: number; entries: number }>();
    for (const server of servers) {
      await this.load(server, '3. whole directory (warm-up)', options);
      const times: number[] = [];
      let entries = 0;
      for (let i = 0; i < 5; i++) {
        const r = await this.load(server, `3. whole directory #${i + 1}`, options);
        times.push(r.latencyUs.max / 1e6);
        entries = r.entries;
      }
      figures.set(server.name, { seconds: median(times), entries });
    }
    const ours = figures.get('ak-outpost')!;
    const theirs = figures.get('slapd')!;
    const fmt = (f: { seconds: number; entries: number }): string => `${fmtNum(f.seconds)} s, ${fmtInt(f.entries / f.seconds)} entries/s`;
    const r = ratio(ours.seconds, theirs.seconds);
    const counts =
      ours.entries === theirs.entries && ours.entries === expected
        ? ''
        : ` ${this.note(`Whole-directory entry counts: ak-outpost ${ours.entries}, slapd ${theirs.entries}, expected ${expected}.`)}`;
    this.rows.push({
      section: '3',
      what: `subtree search, whole directory (${fmtInt(ours.entries)} entries, all attributes)${counts}`,
      load: '1 conn, median of 5',
      ours: fmt(ours),
      slapd: fmt(theirs),
      ratio: `${fmtRatio(r)} time`,
      target: '≤1.0× time',
      met: atMost(r, 1.0),
    });
  }

  // ---- section 5: uncached bind overhead

  async uncachedBinds(group: ProcessGroup, tmp: string, coreUrl: string, core: Managed): Promise<void> {
    const direct = await startOutpost(group, tmp, 'ak-outpost-direct-bind', coreUrl, DIRECT_OUTPOST_TOKEN);
    const server: Server = { name: 'ak-outpost', port: direct.port, watch: [direct.proc, core] };
    const hi = this.o.users;
    const bind = { mode: 'bind' as const, bindDn: USER_DN, bindPassword: 'pass%05d', lo: 1, hi };
    await this.probe(server, bind, 60_000);
    for (const inFlight of [1, 256]) {
      const label = `${inFlight} in flight`;
      const ldap = await this.load(server, `5. uncached bind via LDAP, ${label}`, { ...bind, conns: inFlight, seconds: this.o.seconds + 2, warmupSeconds: this.o.warmup });
      const flow = await this.flowDirect(coreUrl, core, inFlight, hi, `5. same HTTP calls, no outpost, ${label}`);
      const p50 = ldap.latencyUs.p50 / 1000 - flow.p50;
      const p99 = ldap.latencyUs.p99 / 1000 - flow.p99;
      const outpostCpu = ldap.cpu[direct.proc.name] ?? NaN;
      const perBindMs = (outpostCpu / Math.max(1, ldap.ops)) * 1000;
      this.rows.push(
        {
          section: '5',
          what: 'uncached bind through the outpost: p50 / p99',
          load: label,
          ours: `${fmtNum(ldap.latencyUs.p50 / 1000)} / ${fmtNum(ldap.latencyUs.p99 / 1000)} ms, ${fmtInt(ldap.opsPerSecond)} binds/s`,
          slapd: '—',
          ratio: '—',
          target: '—',
          met: '—',
        },
        {
          section: '5',
          what: `core alone, same HTTP calls: p50 / p99 ${this.note('Uncached bind overhead = LDAP bind latency through an outpost whose provider binds directly (bind_mode direct, every bind runs the flow) minus the latency of the same HTTP calls (executor GET, one POST per challenge, redirects, check_access, users/me) issued by bench/flow-direct.ts through the same HTTP transport as the outpost, in its own process with the same socket pool size (64), against the same core at the same concurrency. At 256 in flight the core is saturated, so both latencies are mostly queueing (in flight ÷ throughput) and the difference tracks the throughput difference; "outpost CPU per bind" is the queueing-free cost.')}`,
          load: label,
          ours: `${fmtNum(flow.p50)} / ${fmtNum(flow.p99)} ms, ${fmtInt(flow.opsPerSecond)} flows/s`,
          slapd: '—',
          ratio: '—',
          target: '—',
          met: '—',
        },
        {
          section: '5',
          what: 'latency added by the outpost: p50 / p99 (outpost CPU per bind)',
          load: label,
          ours: `${p50 >= 0 ? '+' : ''}${fmtNum(p50)} / ${p99 >= 0 ? '+' : ''}${fmtNum(p99)} ms (${fmtNum(perBindMs)} ms CPU)`,
          slapd: '—',
          ratio: '—',
          // With the core saturated the difference is queueing, not the outpost's latency (see the note).
          target: inFlight === 1 ? '≤1 ms p50' : '— (queueing)',
          met: inFlight === 1 ? atMost(p50, 1) : '—',
        },
        {
          section: '5',
          what: 'uncached bind errors',
          load: label,
          ours: `${fmtInt(ldap.errors + ldap.closed)} of ${fmtInt(ldap.ops)}${Object.keys(ldap.resultCodes).length > 0 ? ` rc ${JSON.stringify(ldap.resultCodes)}` : ''}; direct ${fmtInt(flow.errors)}`,
          slapd: '—',
          ratio: '—',
          target: inFlight >= 256 ? '0 errors' : '—',
          met: inFlight >= 256 ? (ldap.errors + ldap.closed + ldap.setupErrors === 0 ? 'yes' : 'no') : '—',
        },
      );
    }
    await group.stop(direct.proc);
  }

  async flowDirect(coreUrl: string, core: Managed, concurrency: number, hi: number, run: string): Promise<{ p50: number; p99: number; opsPerSecond: number; errors: number }> {
    const args = JSON.stringify({ url: coreUrl, concurrency, seconds: this.o.seconds + 2, warmupSeconds: this.o.warmup, lo: 1, hi });
    const proc = this.group.start('flow-direct', process.execPath, [join(packageRoot, 'dist', 'bench', 'flow-direct.js'), args], {
      env: { ...process.env, AKO_BENCH_TOKEN: DIRECT_OUTPOST_TOKEN },
    });
    let before = NaN;
    let coreCpu = NaN;
    let result: Record<string, unknown> | undefined;
    proc.onLine((line) => {
      const obj = jsonObject(line);
      if (obj?.['event'] === 'measure') before = cpuSeconds(core.pid) ?? NaN;
      else if (obj?.['event'] === 'end') coreCpu = (cpuSeconds(core.pid) ?? NaN) - before;
      else if (obj !== undefined && 'ops' in obj) result = obj;
    });
    const code = await proc.exited;
    if (code !== 0 || result === undefined) throw new Error(`flow-direct failed (${code}): ${proc.stderrTail().slice(-1000)}`);
    const lat = result['latencyMs'] as Record<string, unknown> | undefined;
    const n = (v: unknown): number => (typeof v === 'number' ? v : NaN);
    const out = { p50: n(lat?.['p50']), p99: n(lat?.['p99']), opsPerSecond: n(result['opsPerSecond']), errors: n(result['errors']) };
    const seconds = n(result['seconds']);
    this.cpuRows.push({ run, server: 'core only', wall: seconds, ops: n(result['ops']), cpu: { core: coreCpu, 'flow-direct': n(result['cpuSeconds']) } });
    this.raw.push({ run, server: 'core only', ...result, coreCpu });
    log(`core only  ${run.padEnd(40)} ${fmtInt(out.opsPerSecond).padStart(8)} flows/s  p50 ${fmtNum(out.p50)} ms  p99 ${fmtNum(out.p99)} ms  errors ${out.errors}`);
    return out;
  }

  // ---- section 6: 100k users in cached mode

  async large(tmp: string): Promise<void> {
    const { largeUsers: users, largeGroups: groups } = this.o;
    log(`section 6: generating ${fmtInt(users)} users, ${fmtInt(groups)} groups`);
    const dir = benchDirectory(await generateDirectory({ users, groups, groupsPerUser: this.o.groupsPerUser, seed: 6 }));
    const path = join(tmp, 'directory-large.json');
    writeFileSync(path, JSON.stringify(dir));
    const group = this.group;
    const core = await startCore(group, tmp, path);
    log(`section 6: core up at ${core.url}`);
    const spawnedAt = performance.now();
    const outpost = await startOutpost(group, tmp, 'ak-outpost-large', core.url, GENERATED_LDAP_OUTPOST_TOKEN);
    const loaded = await outpost.nextLoad();
    const outpostCpu = cpuSeconds(outpost.proc.pid) ?? NaN;
    const coreCpuAtLoad = cpuSeconds(core.proc.pid) ?? NaN;
    const wall = (loaded.at - spawnedAt) / 1000;
    await new Promise((r) => setTimeout(r, 1000));
    const mem = memoryOf(outpost.proc.pid);
    // Let the collector and the post-load work settle before the baseline.
    await new Promise((r) => setTimeout(r, 2000));
    log(`section 6: outpost loaded ${loaded.users} users in ${fmtNum(loaded.tookMs / 1000)} s (outpost CPU ${fmtNum(outpostCpu)} s), RSS ${fmtNum((mem?.rss ?? NaN) / 2 ** 20)} MB`);
    const server: Server = { name: 'ak-outpost', port: outpost.port, watch: [outpost.proc, core.proc] };
    const search: Omit<LoadOptions, 'port'> = {
      mode: 'search',
      searchDn: SEARCH_DN,
      searchPassword: GENERATED_ADMIN.password,
      base: BENCH_BASE_DN,
      scope: 'sub',
      filter: '(cn=user%05d)',
      lo: 1,
      hi: users,
      conns: 8,
    };
    await this.probe(server, search, 30_000);
    const quiet = await this.load(server, '6. search at a fixed rate, no refresh', { ...search, rate: this.o.refreshRate, seconds: this.o.seconds, warmupSeconds: this.o.warmup });
    // Entries are encoded for `*` (and kept, up to 64 MiB) as searches first send them: memory after searching.
    const searched = memoryOf(outpost.proc.pid);
    // Refresh (SIGUSR1, as an operator would) while searches run at a fixed rate; the window closes when the
    // new snapshot is live.
    const stop = new AbortController();
    let refreshStarted = NaN;
    let refreshed: LoadedEvent | undefined;
    const during = await this.load(
      server,
      '6. search at a fixed rate during a refresh',
      { ...search, rate: this.o.refreshRate, seconds: 600, warmupSeconds: 0.5 },
      {
        signal: stop.signal,
        onMeasure: () => {
          refreshStarted = performance.now();
          outpost.proc.child.kill('SIGUSR1');
          void outpost.nextLoad().then((e) => {
            refreshed = e;
            stop.abort();
          });
        },
      },
    );
    const refreshSeconds = refreshed === undefined ? NaN : (refreshed.at - refreshStarted) / 1000;
    const peak = memoryOf(outpost.proc.pid);
    this.rows.push(
      {
        section: '6',
        what: `cached mode, ${fmtInt(loaded.users)} users and ${fmtInt(loaded.groups)} groups: RSS after load (peak)`,
        load: '—',
        ours: `${fmtInt((mem?.rss ?? NaN) / 2 ** 20)} MB (${fmtInt((mem?.peak ?? NaN) / 2 ** 20)} MB; after the searches ${fmtInt((searched?.rss ?? NaN) / 2 ** 20)} MB)`,
        slapd: '—',
        ratio: '—',
        target: '<400 MB',
        met: atMost((mem?.rss ?? NaN) / 2 ** 20, 399.999),
      },
      {
        section: '6',
        what: `outpost-side load time ${this.note('Outpost-side load time = CPU seconds of the outpost process from its start until the "Directory loaded" log line (includes Node start-up). Wall time includes waiting for the core, which pages /core/users/ and /core/groups/ (AUTHENTIK_LDAP__PAGE_SIZE default); the core\'s CPU in that time is shown beside it.')}`,
        load: '—',
        ours: `${fmtNum(outpostCpu)} s CPU (wall ${fmtNum(wall)} s, load ${fmtNum(loaded.tookMs / 1000)} s; core ${fmtNum(coreCpuAtLoad)} s CPU)`,
        slapd: '—',
        ratio: '—',
        target: '≤2 s',
        met: atMost(outpostCpu, 2),
      },
      {
        section: '6',
        what: `p99 search latency (cn=userN) while a refresh runs ${this.note('Open loop: searches are issued on a fixed schedule and latency counts from the scheduled time, so a stall shows in full. The refresh is triggered with SIGUSR1 at the start of the window; the window ends when the new snapshot is live.')}`,
        load: `8 conns, ${fmtInt(this.o.refreshRate)} searches/s`,
        ours: `${fmtMs(during.latencyUs.p99)} (no refresh: ${fmtMs(quiet.latencyUs.p99)}; refresh ${fmtNum(refreshSeconds)} s, ${fmtInt(during.ops)} searches, ${fmtInt(during.errors)} errors, peak RSS ${fmtInt((peak?.peak ?? NaN) / 2 ** 20)} MB)`,
        slapd: '—',
        ratio: '—',
        target: '≤50 ms',
        met: refreshed === undefined || during.errors > 0 ? 'no' : atMost(during.latencyUs.p99 / 1000, 50),
      },
    );
    await group.stop(outpost.proc);
    await group.stop(core.proc);
  }

  // ---- sections 7 and 8: RADIUS against FreeRADIUS

  async radLoad(server: RadiusServer, run: string, options: Omit<RadloadOptions, 'port' | 'secret' | 'usersFile'>, port = server.port): Promise<RadloadResult> {
    const r = await runRadload(this.group, this.radBinary(), { ...options, port, secret: GENERATED_RADIUS_SECRET, usersFile: server.usersFile }, server.watch);
    this.cpuRows.push({ run, server: server.name, wall: r.seconds, ops: r.kind === 'badma' ? r.sent : r.ops, cpu: { ...r.cpu, radload: r.loadgenCpu } });
    this.raw.push({ run, server: server.name, ...r });
    const bad = r.wrong + r.lost + r.unexpected + r.sendErrors;
    log(
      `${server.name.padEnd(10)} ${run.padEnd(40)} ${fmtInt(r.opsPerSecond).padStart(8)} answers/s (sent ${fmtInt(r.sentPerSecond)}/s)  p50 ${fmtMs(r.latencyUs.p50)}  p99 ${fmtMs(r.latencyUs.p99)}` +
        `${bad > 0 ? `  wrong ${r.wrong} (rejects ${r.rejected}) lost ${r.lost} unexpected ${r.unexpected} send errors ${r.sendErrors}` : ''}`,
    );
    return r;
  }

  radBinary(): string {
    if (this.radloadBinary === undefined) throw new Error('radload was not built');
    return this.radloadBinary;
  }

  /** One PAP request until it is accepted (the outpost may still be fetching its providers). */
  async radProbe(server: RadiusServer, timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const r = await runRadload(this.group, this.radBinary(), { port: server.port, secret: GENERATED_RADIUS_SECRET, usersFile: server.usersFile, kind: 'pap', inFlight: 1, totalOps: 1, timeoutMs: 5_000 }, []);
      if (r.ops === 1) return;
      if (performance.now() > deadline) throw new Error(`${server.name} does not accept PAP: ${JSON.stringify({ ...r, cpu: undefined })}`);
      await new Promise((res) => setTimeout(res, 250));
    }
  }

  async radius(tmp: string): Promise<void> {
    const users = this.o.bindUsers;
    log(`sections 7-8: generating ${fmtInt(users)} users`);
    // One EAP server certificate from the core's CA for both servers (files in the core's certs dir).
    const pki = openPki(join(tmp, 'certs'));
    pki.serverCertificate(EAP_CERTIFICATE, []);
    const tls = {
      certificateFile: join(pki.certsDir, `${certificateFileStem(EAP_CERTIFICATE)}.pem`),
      keyFile: join(pki.certsDir, `${certificateFileStem(EAP_CERTIFICATE)}.key`),
      caFile: pki.caPath,
    };
    const generated = await generateDirectory({ users, groups: 10, groupsPerUser: 1, seed: 7 });
    const dir = {
      ...generated,
      certificates: [{ name: EAP_CERTIFICATE, certificate_file: tls.certificateFile, key_file: tls.keyFile }],
      providers: (generated.providers ?? []).map((p) => (p.type === 'radius' ? { ...p, certificate: EAP_CERTIFICATE } : p)),
    };
    const path = join(tmp, 'directory-radius.json');
    writeFileSync(path, JSON.stringify(dir));
    const list = Array.from({ length: users }, (_, i) => ({ name: generatedUsername(i + 1), password: generatedPassword(i + 1) }));
    const usersFile = join(tmp, 'radius-users.txt');
    writeFileSync(usersFile, list.map((u) => `${u.name}:${u.password}\n`).join(''), { mode: 0o600 });
    const frPort = await freePort();
    const frDir = prepareFreeradius(join(tmp, 'freeradius'), frPort, GENERATED_RADIUS_SECRET, list, tls);
    const fr = startFreeradius(this.group, frDir);
    const core = await startCore(this.group, tmp, path);
    const outpost = await startOutpost(this.group, tmp, 'ak-outpost-radius', core.url, GENERATED_RADIUS_OUTPOST_TOKEN, this.o.radiusWorkers);
    const ours: RadiusServer = { name: 'ak-outpost', port: outpost.radiusPort, watch: [outpost.proc, core.proc], usersFile };
    const theirs: RadiusServer = { name: 'freeradius', port: frPort, watch: [fr], usersFile };
    await this.radProbe(theirs, 30_000);
    await outpost.serving(60_000);
    await this.radProbe(ours, 60_000);
    const timing = { seconds: this.o.seconds, warmupSeconds: this.o.warmup };
    const perMicro = (cpu: number | undefined, n: number): number => ((cpu ?? NaN) / n) * 1e6;
    const theirPap = new Map<number, RadloadResult>();

    if (this.o.sections.has(7)) {
      const what = `RADIUS PAP Access-Request through the flow ${this.note("PAP through the flow: every Access-Request runs the provider's authentication flow and the access check on the core (the outpost keeps no password cache). Outpost CPU per request = the outpost process's CPU in the window / answered requests, the core's excluded. The core's limit = 1 / (core CPU per request): the requests/s one CPU of core time allows. FreeRADIUS checks a Cleartext-Password from its users file (no flow), so the throughput ratio compares different work; the targets are the outpost's own CPU and zero lost or wrong answers.")}`;
      for (const inFlight of [1, 8, 64, 256]) {
        const run = `7. RADIUS PAP, ${inFlight} in flight`;
        const mine = await this.radLoad(ours, run, { kind: 'pap', inFlight, ...timing });
        const peer = await this.radLoad(theirs, run, { kind: 'pap', inFlight, ...timing });
        theirPap.set(inFlight, peer);
        const outpostUs = perMicro(mine.cpu[outpost.proc.name], mine.ops);
        const coreUs = perMicro(mine.cpu[core.proc.name], mine.ops);
        const failures = mine.wrong + mine.lost;
        const target = inFlight === 64 ? '≤100 µs outpost CPU/req' : inFlight === 256 ? '0 lost or wrong' : '—';
        const met = inFlight === 64 ? atMost(outpostUs, 100) : inFlight === 256 ? (failures === 0 && mine.ops > 0 ? 'yes' : 'no') : '—';
        this.rows.push({
          section: '7',
          what,
          load: `${inFlight} in flight`,
          ours: `${fmtInt(mine.opsPerSecond)} req/s (core's limit ${fmtInt(1e6 / coreUs)} req/s); outpost ${fmtInt(outpostUs)} µs CPU/req (kernel ${fmtInt(perMicro(mine.cpu[kernelPart(outpost.proc.name)], mine.ops))}); ${fmtInt(mine.lost)} lost, ${fmtInt(mine.wrong)} wrong`,
          slapd: `${fmtInt(peer.opsPerSecond)} req/s (${fmtInt(perMicro(peer.cpu[fr.name], peer.ops))} µs CPU/req)${peer.wrong + peer.lost > 0 ? `; ${peer.lost} lost, ${peer.wrong} wrong` : ''}`,
          ratio: fmtRatio(ratio(mine.opsPerSecond, peer.opsPerSecond)),
          target,
          met,
        });
      }
    }

    if (this.o.sections.has(8)) {
      const paths: Array<{ kind: RadloadKind; what: string; port: number }> = [
        { kind: 'status', what: 'Status-Server (authentication port)', port: outpost.radiusPort },
        { kind: 'acct', what: 'Accounting-Request (Interim-Update)', port: outpost.accountingPort },
        { kind: 'retrans', what: 'PAP retransmission answered from the duplicate cache', port: outpost.radiusPort },
      ];
      const pathNote = this.note(
        "Paths that never reach the core, against FreeRADIUS's PAP requests/s at the same number in flight (FreeRADIUS does more work per PAP request than the outpost does here). The core's CPU in the window is shown to confirm it was not involved. Retransmission: each in-flight slot repeats one fixed Access-Request (same identifier and authenticator); its first copy runs the flow during the warm-up, every later copy is answered from the cache (kept 5 s, longer than warm-up + window).",
      );
      for (const inFlight of [8, 64]) {
        const peer = theirPap.get(inFlight) ?? (await this.radLoad(theirs, `8. FreeRADIUS PAP, ${inFlight} in flight`, { kind: 'pap', inFlight, ...timing }));
        for (const p of paths) {
          const mine = await this.radLoad(ours, `8. ${p.kind}, ${inFlight} in flight`, { kind: p.kind, inFlight, ...timing }, p.port);
          const r = ratio(mine.opsPerSecond, peer.opsPerSecond);
          this.rows.push({
            section: '8',
            what: `${p.what} ${pathNote}`,
            load: `${inFlight} in flight`,
            ours: `${fmtInt(mine.opsPerSecond)} answers/s; outpost ${fmtInt(perMicro(mine.cpu[outpost.proc.name], mine.ops))} µs CPU each (kernel ${fmtInt(perMicro(mine.cpu[kernelPart(outpost.proc.name)], mine.ops))}); core ${fmtNum(mine.cpu[core.proc.name] ?? NaN)} s CPU; ${fmtInt(mine.lost)} lost, ${fmtInt(mine.wrong)} wrong`,
            slapd: `${fmtInt(peer.opsPerSecond)} PAP req/s`,
            ratio: fmtRatio(r),
            target: '≥1.0×',
            met: mine.wrong + mine.lost > 0 ? 'no' : atLeast(r, 1),
          });
        }
        // Dropped packets have no answer to count: send them at FreeRADIUS's rate and measure the outpost's CPU.
        const rate = Math.max(1, Math.round(peer.opsPerSecond));
        const drop = await this.radLoad(ours, `8. bad Message-Authenticator at ${fmtInt(rate)}/s`, { kind: 'badma', inFlight: 256, rate, ...timing });
        const dropUs = perMicro(drop.cpu[outpost.proc.name], drop.sent);
        const capacity = 1e6 / dropUs;
        const r = ratio(capacity, peer.opsPerSecond);
        const keptRate = drop.sentPerSecond >= 0.95 * rate;
        this.rows.push({
          section: '8',
          what: `Access-Request with a bad Message-Authenticator, dropped ${this.note("Bad Message-Authenticator: sent open loop at FreeRADIUS's PAP rate at that number in flight (no answer comes back to pace a closed loop). The outpost's capacity = 1 / (outpost CPU per dropped packet), the packets/s one CPU allows; met when that is ≥ FreeRADIUS's rate, the generator kept the rate, and no packet was answered.")}`,
          load: `open loop, FreeRADIUS's ${inFlight}-in-flight rate`,
          ours: `sent ${fmtInt(drop.sentPerSecond)} pkt/s, ${fmtInt(drop.unexpected)} answered; outpost ${fmtNum(dropUs)} µs CPU each (capacity ≈ ${fmtInt(capacity)} pkt/s); core ${fmtNum(drop.cpu[core.proc.name] ?? NaN)} s CPU`,
          slapd: `${fmtInt(peer.opsPerSecond)} PAP req/s`,
          ratio: fmtRatio(r),
          target: '≥1.0×',
          met: drop.unexpected > 0 || drop.sendErrors > 0 || !keptRate ? 'no' : atLeast(r, 1),
        });
      }
    }
    if (this.o.sections.has(9)) await this.eapTtls({ ours, theirs, outpost: outpost.proc, core: core.proc, fr, tls, list, tmp });
    await this.group.stop(outpost.proc);
    await this.group.stop(core.proc);
    await this.group.stop(fr);
  }

  // ---- section 9: EAP-TTLS/PAP against FreeRADIUS, same certificate

  async eapTtls(s: {
    ours: RadiusServer;
    theirs: RadiusServer;
    outpost: Managed;
    core: Managed;
    fr: Managed;
    tls: { caFile: string };
    list: ReadonlyArray<{ name: string; password: string }>;
    tmp: string;
  }): Promise<void> {
    const { eapAuths: total, eapConcurrency: concurrency } = this.o;
    const note = this.note(
      `EAP-TTLS with inner PAP: ${fmtInt(total)} eapol_test conversations per server and TLS version, ${concurrency} at once, each a whole authentication (TLS handshake with the same P-256 certificate from the core's CA, the tunnelled password, MS-MPPE keys checked by eapol_test). CPU per authentication = the server's process CPU over the batch / succeeded conversations; for the outpost the core's is shown apart (each inner PAP runs the flow there). FreeRADIUS checks the tunnelled password against its users file. eapol_test's own start-up bounds the rate.`,
    );
    for (const version of ['1.2', '1.3'] as const) {
      const run = `9. EAP-TTLS/PAP, TLS ${version}`;
      const measure = async (server: RadiusServer, procs: readonly Managed[]) => {
        const before = procs.map((p) => cpuTimes(p.pid));
        const result = await runEapolBatch({ port: server.port, secret: GENERATED_RADIUS_SECRET, caFile: s.tls.caFile, users: s.list, tls: version, total, concurrency, dir: s.tmp });
        const cpu: Record<string, number> = {};
        procs.forEach((p, i) => {
          const end = cpuTimes(p.pid);
          cpu[p.name] = (end?.total ?? NaN) - (before[i]?.total ?? NaN);
          cpu[kernelPart(p.name)] = (end?.system ?? NaN) - (before[i]?.system ?? NaN);
        });
        this.cpuRows.push({ run, server: server.name, wall: result.seconds, ops: result.succeeded, cpu });
        this.raw.push({ run, server: server.name, ...result, cpu });
        log(`${server.name.padEnd(10)} ${run.padEnd(40)} ${fmtNum(result.succeeded / result.seconds)} auth/s, ${result.succeeded} ok, ${result.failed} failed, keys matched ${result.keysMatched}`);
        if (result.lastFailure !== undefined) log(`${server.name}: last failure: ${result.lastFailure}`);
        return { result, cpu };
      };
      const mine = await measure(s.ours, [s.outpost, s.core]);
      const peer = await measure(s.theirs, [s.fr]);
      const perAuthMs = (cpu: number | undefined, n: number): number => ((cpu ?? NaN) / n) * 1000;
      const oursMs = perAuthMs(mine.cpu[s.outpost.name], mine.result.succeeded);
      const theirsMs = perAuthMs(peer.cpu[s.fr.name], peer.result.succeeded);
      this.rows.push({
        section: '9',
        what: `EAP-TTLS/PAP authentication, TLS ${version} ${note}`,
        load: `${fmtInt(total)} conversations, ${concurrency} at once`,
        ours: `${fmtNum(mine.result.succeeded / mine.result.seconds)} auth/s; outpost ${fmtNum(oursMs)} ms CPU/auth (core ${fmtNum(perAuthMs(mine.cpu[s.core.name], mine.result.succeeded))} ms); ${mine.result.failed} failed; MPPE keys matched ${mine.result.keysMatched}/${total}`,
        slapd: `${fmtNum(peer.result.succeeded / peer.result.seconds)} auth/s; ${fmtNum(theirsMs)} ms CPU/auth; ${peer.result.failed} failed; MPPE keys matched ${peer.result.keysMatched}/${total}`,
        ratio: `${fmtRatio(ratio(oursMs, theirsMs))} CPU`,
        target: 'reported',
        met: mine.result.failed === 0 && mine.result.keysMatched === total ? '—' : 'no',
      });
    }
  }
}

function cpuModel(): string {
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m?.[1] !== undefined) return m[1].trim();
  } catch {
    // not Linux
  }
  return os.cpus()[0]?.model ?? 'unknown';
}

async function main(): Promise<void> {
  const o = parseOptions();
  const started = performance.now();
  ensureSystemPackages(log);
  const tmp = mkdtempSync(join(os.tmpdir(), 'ak-bench-'));
  const group = new ProcessGroup();
  try {
    const binary = buildLoadgen(tmp);
    const runRadius = o.sections.has(7) || o.sections.has(8) || o.sections.has(9);
    if (runRadius) ensureFreeradius(log);
    const bench = new Bench(group, binary, o, runRadius ? buildLoadgen(tmp, loadgenSource('radload.c')) : undefined);
    const runDefault = [1, 2, 3, 4, 5].some((s) => o.sections.has(s));
    let directoryLine = '';
    if (runDefault) {
      log(`generating ${fmtInt(o.users)} users, ${fmtInt(o.groups)} groups, ${o.groupsPerUser} groups per user`);
      const dir = benchDirectory(await generateDirectory({ users: o.users, groups: o.groups, groupsPerUser: o.groupsPerUser, seed: 1 }));
      const directoryPath = join(tmp, 'directory.json');
      writeFileSync(directoryPath, JSON.stringify(dir));
      const expected = expectedEntryCount(dir);

      const slapdSetup = await prepareSlapd(join(tmp, 'slapd'), dir, { searchDn: SEARCH_DN, passwordOf });
      log(`slapd: ${fmtInt(slapdSetup.entries)} entries loaded with slapadd in ${fmtNum(slapdSetup.loadSeconds)} s`);
      const slapdPort = await freePort();
      const slapdProc = startSlapd(group, slapdSetup, slapdPort);
      const core = await startCore(group, tmp, directoryPath);
      log(`core: ${core.url}`);
      const outpost = await startOutpost(group, tmp, 'ak-outpost', core.url, GENERATED_LDAP_OUTPOST_TOKEN, o.workers);
      // Each worker loads its own copy; the listeners serve once every worker has.
      for (let w = 0; w < o.workers; w++) {
        const loaded = await outpost.nextLoad();
        log(`outpost: ${loaded.users} users, ${loaded.groups} groups loaded in ${fmtNum(loaded.tookMs / 1000)} s`);
      }
      const servers: Server[] = [
        { name: 'ak-outpost', port: outpost.port, watch: [outpost.proc, core.proc] },
        { name: 'slapd', port: slapdPort, watch: [slapdProc] },
      ];
      const searchProbe = { mode: 'search' as const, searchDn: SEARCH_DN, searchPassword: GENERATED_ADMIN.password, base: BENCH_BASE_DN, filter: '(cn=user00001)' };
      for (const s of servers) await bench.probe(s, searchProbe, 60_000);
      directoryLine = `${fmtInt(o.users)} users, ${fmtInt(o.groups)} groups (nested, 10 children per group), ${o.groupsPerUser} direct groups per user; ${fmtInt(expected)} entries in both trees (users, groups, per-user virtual groups, containers)`;

      if (o.sections.has(1)) {
        await bench.searchThroughput('1', 'equality search (cn=userN), all attributes', servers, '(cn=user%05d)', o.users, []);
      }
      if (o.sections.has(2)) await bench.cachedBinds(servers);
      if (o.sections.has(3)) await bench.wholeDirectory(servers, expected);
      if (o.sections.has(4)) {
        const attrs = ['cn'];
        await bench.searchThroughput('4', '(member=<user DN>), cn only', servers, `(member=${USER_DN})`, o.users, attrs);
        await bench.searchThroughput('4', '(memberOf=<group DN>), cn only', servers, `(memberOf=${GROUP_DN})`, o.groups, attrs);
        const inChainNote = bench.note(
          `slapd cannot answer in-chain (LDAP_MATCHING_RULE_IN_CHAIN, ${IN_CHAIN}): OpenLDAP 2.5 has no such matching rule, and its memberof overlay only maintains direct memberships; the filter evaluates to Undefined and slapd returns no entries.`,
        );
        await bench.searchThroughput('4', `(memberOf:${IN_CHAIN}:=<group DN>), cn only`, servers, `(memberOf:${IN_CHAIN}:=${GROUP_DN})`, o.groups, attrs, inChainNote);
      }
      if (o.sections.has(5)) await bench.uncachedBinds(group, tmp, core.url, core.proc);
      await group.stop(outpost.proc);
      await group.stop(core.proc);
      await group.stop(slapdProc);
    }
    if (o.large) await bench.large(tmp);
    if (runRadius) await bench.radius(tmp);
    bench.headroomNote();

    bench.notes.push(
      'Runs are short (--seconds) on a shared 2-CPU machine: repeated runs differ, most for 1-connection figures, which are bound by round trips and process wake-ups rather than CPU. Compare ratios from the same run.',
      'Each server runs in its own process (slapd; the outpost is dist/src/main.js with AUTHENTIK_HOST pointing at the embedded core in another process); the generator ldapload is compiled C (epoll, one thread). CPU times come from /proc/<pid>/stat (user + system, all threads) sampled when the generator opens and closes its measured window.',
      `slapd: mdb, slapd.conf in a temp dir, indexes on objectClass, cn, uid, member, memberOf; memberof overlay loaded, memberOf values written by the LDIF (slapadd does not run overlays); userPassword {SSHA}; 16 threads (default). The outpost: cached search and cached bind; the bench user ${GENERATED_ADMIN.username} holds search_full_directory (in slapd: a read ACL).`,
    );
    const report = renderReport(
      {
        date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
        cpus: os.cpus().length,
        cpuModel: cpuModel(),
        node: process.version,
        slapd: slapdVersion(),
        ...(runRadius ? { freeradius: freeradiusVersion() } : {}),
        directory: directoryLine || '(default sections not run)',
        settings: `outpost AUTHENTIK_WORKERS=${o.workers} in sections 1-4 (1 in 5 and 6, ${o.radiusWorkers} in 7-9); ${o.seconds} s per run after ${o.warmup} s warm-up; sections 1, 2 and 4: ${o.rounds} alternating runs per server, median ops/s and median ratio (range of the rounds' ratios in brackets); pipelined = ${o.pipelineConns} connections × ${o.depth} requests in flight; total ${fmtNum((performance.now() - started) / 1000)} s`,
      },
      bench.rows,
      bench.cpuRows,
      bench.notes,
    );
    process.stdout.write(`\n${report}`);
    const results = join(packageRoot, 'bench', 'results');
    mkdirSync(results, { recursive: true });
    writeFileSync(join(results, 'latest.md'), report);
    writeFileSync(join(results, 'latest.json'), `${JSON.stringify({ options: { ...o, sections: [...o.sections] }, runs: bench.raw }, null, 1)}\n`);
    log(`written to ${join(results, 'latest.md')}`);
  } finally {
    await group.stopAll();
    group.dispose();
    if (o.keep) log(`kept ${tmp}`);
    else rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
