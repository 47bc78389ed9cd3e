/**
 * The compiled load generator (bench/loadgen/ldapload.c): built with cc at bench time, run as its own process.
 * While it runs, the CPU time of the servers under test is sampled when its measured window starts and ends, so
 * every figure comes with the CPU each process spent on it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuTimes, jsonObject, type Managed, type ProcessGroup } from './procs.js';

/** bench/loadgen/<file> (ldapload.c, radload.c) from dist/bench/lib/ (compiled) or bench/lib/ (sources). */
export function loadgenSource(file = 'ldapload.c'): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [resolve(here, '../../../bench/loadgen', file), resolve(here, '../loadgen', file)];
  for (const c of candidates) if (existsSync(c)) return c;
  throw new Error(`${file} not found (looked in ${candidates.join(', ')})`);
}

/** Compiles a generator (ldapload by default) into `dir`, named after its source; returns the binary's path. */
export function buildLoadgen(dir: string, source = loadgenSource()): string {
  const binary = join(dir, basename(source, '.c'));
  const cc = spawnSync('cc', ['-O2', '-Wall', '-pthread', '-o', binary, source, '-lm'], { encoding: 'utf8' });
  if (cc.error !== undefined) throw new Error(`cc not found: ${cc.error.message}`);
  if (cc.status !== 0) throw new Error(`cc failed:\n${cc.stderr}`);
  return binary;
}

export interface LoadOptions {
  port: number;
  mode: 'bind' | 'search' | 'mixed';
  conns: number;
  depth?: number;
  seconds?: number;
  warmupSeconds?: number;
  /** Stop after this many operations instead of after `seconds`. */
  totalOps?: number;
  /** Open loop: operations per second over all connections. */
  rate?: number;
  threads?: number;
  sequential?: boolean;
  lo?: number;
  hi?: number;
  bindDn?: string;
  bindPassword?: string;
  searchDn?: string;
  searchPassword?: string;
  base?: string;
  scope?: 'base' | 'one' | 'sub';
  filter?: string;
  attributes?: readonly string[];
  seed?: number;
}

export interface Latency {
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

export interface LoadResult {
  mode: string;
  conns: number;
  depth: number;
  seconds: number;
  ops: number;
  opsPerSecond: number;
  errors: number;
  resultCodes: Record<string, number>;
  entries: number;
  entriesPerOp: number;
  entriesPerSecond: number;
  bytesIn: number;
  /** Microseconds. */
  latencyUs: Latency;
  /** The generator's own CPU seconds in the measured window. */
  loadgenCpu: number;
  setupErrors: number;
  closed: number;
  protocolErrors: number;
  unexpected: number;
  unanswered: number;
  /** CPU seconds each watched process spent in the measured window (by name). */
  cpu: Record<string, number>;
}

/** Appends `flag value` to `args` when the value is given. */
export function flagAdder(args: string[]): (flag: string, value: string | number | undefined) => void {
  return (flag, value) => {
    if (value !== undefined) args.push(flag, String(value));
  };
}

export function loadgenArgs(o: LoadOptions): string[] {
  const args = ['-h', '127.0.0.1', '-p', String(o.port), '-m', o.mode, '-c', String(o.conns), '-d', String(o.depth ?? 1)];
  const add = flagAdder(args);
  add('-t', o.seconds ?? (o.totalOps !== undefined ? undefined : 5));
  add('-W', o.warmupSeconds);
  add('-n', o.totalOps);
  add('-r', o.rate);
  add('-T', o.threads);
  add('-l', o.lo);
  add('-H', o.hi);
  add('-S', o.seed);
  add('-D', o.bindDn);
  add('-w', o.bindPassword);
  add('-A', o.searchDn);
  add('-P', o.searchPassword);
  add('-b', o.base);
  add('-s', o.scope);
  add('-f', o.filter);
  if (o.attributes !== undefined && o.attributes.length > 0) add('-a', o.attributes.join(','));
  if (o.sequential === true) args.push('-Q');
  return args;
}

/** The arguments with the password patterns blanked, for messages. */
export function redactedArgs(o: LoadOptions): string[] {
  const args = loadgenArgs(o);
  return args.map((a, i) => (i > 0 && (args[i - 1] === '-w' || args[i - 1] === '-P') ? '***' : a));
}

/** Reads a finite number from a generator's result line, or throws naming the generator and the key. */
export function resultNumber(tool: string): (obj: Record<string, unknown>, key: string) => number {
  return (obj, key) => {
    const v = obj[key];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${tool}: "${key}" is not a number`);
    return v;
  };
}

const num = resultNumber('ldapload');

/** Validates the generator's result line. */
export function parseLoadResult(obj: Record<string, unknown>): Omit<LoadResult, 'cpu'> {
  const lat = obj['lat_us'];
  const rc = obj['rc'];
  if (typeof lat !== 'object' || lat === null || typeof rc !== 'object' || rc === null) throw new Error('ldapload: malformed result');
  const latency = lat as Record<string, unknown>;
  const resultCodes: Record<string, number> = {};
  for (const [k, v] of Object.entries(rc as Record<string, unknown>)) {
    if (typeof v !== 'number') throw new Error('ldapload: malformed rc');
    resultCodes[k] = v;
  }
  return {
    mode: typeof obj['mode'] === 'string' ? obj['mode'] : '',
    conns: num(obj, 'conns'),
    depth: num(obj, 'depth'),
    seconds: num(obj, 'seconds'),
    ops: num(obj, 'ops'),
    opsPerSecond: num(obj, 'ops_per_s'),
    errors: num(obj, 'errors'),
    resultCodes,
    entries: num(obj, 'entries'),
    entriesPerOp: num(obj, 'entries_per_op'),
    entriesPerSecond: num(obj, 'entries_per_s'),
    bytesIn: num(obj, 'bytes_in'),
    latencyUs: {
      mean: num(latency, 'mean'),
      p50: num(latency, 'p50'),
      p90: num(latency, 'p90'),
      p99: num(latency, 'p99'),
      p999: num(latency, 'p999'),
      max: num(latency, 'max'),
    },
    loadgenCpu: num(obj, 'cpu_user_s') + num(obj, 'cpu_sys_s'),
    setupErrors: num(obj, 'setup_errors'),
    closed: num(obj, 'closed'),
    protocolErrors: num(obj, 'protocol_errors'),
    unexpected: num(obj, 'unexpected'),
    unanswered: num(obj, 'unanswered'),
  };
}

export interface RunHooks {
  /** Called when the measured window starts (e.g. to trigger a refresh). */
  onMeasure?: () => void;
  /** Stops the run early (SIGTERM: the generator ends its window and reports). */
  signal?: AbortSignal;
}

/** Runs the generator once; `watch` are the processes whose CPU time is attributed to the window. */
export async function runLoad(
  group: ProcessGroup,
  binary: string,
  options: LoadOptions,
  watch: readonly Managed[],
  hooks: RunHooks = {},
): Promise<LoadResult> {
  const proc = group.start('ldapload', binary, loadgenArgs(options));
  let driverBefore = process.cpuUsage();
  let result: Omit<LoadResult, 'cpu'> | undefined;
  const onAbort = () => proc.child.kill('SIGTERM');
  hooks.signal?.addEventListener('abort', onAbort, { once: true });
  const cpu = sampleWindow(proc, watch, (obj) => (result = parseLoadResult(obj)), {
    onMeasure: () => {
      driverBefore = process.cpuUsage();
      hooks.onMeasure?.();
    },
    onEnd: (window) => {
      const driver = process.cpuUsage(driverBefore);
      // The bench driver itself (reads the servers' logs): it shares the machine, so it is shown too.
      if (watch.length > 0) window['bench driver'] = (driver.user + driver.system) / 1e6;
    },
  });
  const code = await proc.exited;
  hooks.signal?.removeEventListener('abort', onAbort);
  if (code !== 0 || result === undefined) {
    throw new Error(`ldapload ${redactedArgs(options).join(' ')} failed (${code}): ${proc.stderrTail().slice(-1000)}`);
  }
  return { ...result, cpu };
}

/**
 * Samples the CPU time of `watch` when a generator prints {"event":"measure"} and {"event":"end"}; hands its
 * result line (a JSON object with "ops") to `onResult`. Returns the window's CPU seconds by process name, filled
 * at the end line.
 */
/** Key of a process's kernel (system) CPU in a sampleWindow record. */
export function kernelPart(name: string): string {
  return `${name} kernel`;
}

export function sampleWindow(
  proc: Managed,
  watch: readonly Managed[],
  onResult: (obj: Record<string, unknown>) => void,
  hooks: { onMeasure?: () => void; onEnd?: (cpu: Record<string, number>) => void } = {},
): Record<string, number> {
  const before = new Map<string, { total: number; system: number }>();
  const cpu: Record<string, number> = {};
  const none = { total: NaN, system: NaN };
  proc.onLine((line) => {
    const obj = jsonObject(line);
    if (obj === undefined) return;
    if (obj['event'] === 'measure') {
      for (const m of watch) before.set(m.name, cpuTimes(m.pid) ?? none);
      hooks.onMeasure?.();
    } else if (obj['event'] === 'end') {
      for (const m of watch) {
        const start = before.get(m.name) ?? none;
        const end = cpuTimes(m.pid) ?? none;
        cpu[m.name] = end.total - start.total;
        cpu[kernelPart(m.name)] = end.system - start.system;
      }
      hooks.onEnd?.(cpu);
    } else if ('ops' in obj) {
      onResult(obj);
    }
  });
  return cpu;
}
