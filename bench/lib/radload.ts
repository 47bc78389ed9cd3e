/**
 * The compiled RADIUS load generator (bench/loadgen/radload.c), run as its own process; the servers' CPU time is
 * sampled when its measured window opens and closes, as for ldapload.
 */
import { flagAdder, resultNumber, sampleWindow } from './loadgen.js';
import type { Managed, ProcessGroup } from './procs.js';

export type RadloadKind = 'pap' | 'status' | 'acct' | 'retrans' | 'badma';

export interface RadloadOptions {
  port: number;
  secret: string;
  kind: RadloadKind;
  inFlight: number;
  seconds?: number;
  warmupSeconds?: number;
  /** Stop after this many answers (or losses) instead of after `seconds`. */
  totalOps?: number;
  /** badma: packets per second (open loop). */
  rate?: number;
  timeoutMs?: number;
  /** A file of user:password lines, cycled. */
  usersFile?: string;
}

export interface RadloadResult {
  kind: string;
  inFlight: number;
  seconds: number;
  /** Answers that verified (code, Response Authenticator, Message-Authenticator). */
  ops: number;
  opsPerSecond: number;
  sent: number;
  sentPerSecond: number;
  wrong: number;
  rejected: number;
  lost: number;
  late: number;
  unexpected: number;
  sendErrors: number;
  /** Microseconds. */
  latencyUs: { p50: number; p99: number; max: number };
  /** The generator's own CPU seconds in the measured window. */
  loadgenCpu: number;
  /** CPU seconds each watched process spent in the measured window (by name). */
  cpu: Record<string, number>;
}

export function radloadArgs(o: RadloadOptions): string[] {
  const args = ['-h', '127.0.0.1', '-p', String(o.port), '-s', o.secret, '-k', o.kind, '-c', String(o.inFlight)];
  const add = flagAdder(args);
  add('-t', o.seconds ?? (o.totalOps !== undefined ? undefined : 5));
  add('-W', o.warmupSeconds);
  add('-n', o.totalOps);
  add('-r', o.rate);
  add('-T', o.timeoutMs);
  add('-u', o.usersFile);
  return args;
}

/** The arguments with the shared secret blanked, for messages. */
export function redactedRadloadArgs(o: RadloadOptions): string[] {
  const args = radloadArgs(o);
  return args.map((a, i) => (i > 0 && args[i - 1] === '-s' ? '***' : a));
}

const num = resultNumber('radload');

/** Validates the generator's result line. */
export function parseRadloadResult(obj: Record<string, unknown>): Omit<RadloadResult, 'cpu'> {
  const lat = obj['lat_us'];
  if (typeof lat !== 'object' || lat === null || Array.isArray(lat)) throw new Error('radload: malformed result');
  const latency = lat as Record<string, unknown>;
  return {
    kind: typeof obj['kind'] === 'string' ? obj['kind'] : '',
    inFlight: num(obj, 'in_flight'),
    seconds: num(obj, 'seconds'),
    ops: num(obj, 'ops'),
    opsPerSecond: num(obj, 'ops_per_s'),
    sent: num(obj, 'sent'),
    sentPerSecond: num(obj, 'sent_per_s'),
    wrong: num(obj, 'wrong'),
    rejected: num(obj, 'rejected'),
    lost: num(obj, 'lost'),
    late: num(obj, 'late'),
    unexpected: num(obj, 'unexpected'),
    sendErrors: num(obj, 'send_errors'),
    latencyUs: { p50: num(latency, 'p50'), p99: num(latency, 'p99'), max: num(latency, 'max') },
    loadgenCpu: num(obj, 'cpu_user_s') + num(obj, 'cpu_sys_s'),
  };
}

/** Runs radload once; `watch` are the processes whose CPU time is attributed to the window. */
export async function runRadload(group: ProcessGroup, binary: string, options: RadloadOptions, watch: readonly Managed[]): Promise<RadloadResult> {
  const proc = group.start('radload', binary, radloadArgs(options));
  let result: Omit<RadloadResult, 'cpu'> | undefined;
  const cpu = sampleWindow(proc, watch, (obj) => (result = parseRadloadResult(obj)));
  const code = await proc.exited;
  if (code !== 0 || result === undefined) {
    throw new Error(`radload ${redactedRadloadArgs(options).join(' ')} failed (${code}): ${proc.stderrTail().slice(-1000)}`);
  }
  return { ...result, cpu };
}
