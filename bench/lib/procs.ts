/**
 * Child processes for the benchmark: spawn with bounded output capture, per-process CPU time and RSS from /proc,
 * free loopback ports, and a registry that stops every process it started (also on Ctrl-C).
 */
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { closeSync, fstatSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import net from 'node:net';

/** Ticks per second of /proc/<pid>/stat times. */
let clockTicks: number | undefined;
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    const out = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
    const n = Number(out.stdout?.trim());
    clockTicks = Number.isInteger(n) && n > 0 ? n : 100;
  }
  return clockTicks;
}

/**
 * User + system CPU seconds of a live process (all its threads) and its live child processes (an outpost with
 * AUTHENTIK_WORKERS forks its workers), or undefined when it is gone.
 */
export function cpuSeconds(pid: number): number | undefined {
  return cpuTimes(pid)?.total;
}

/** cpuSeconds with its kernel (system) part, which bounds what any user-space change can save. */
export function cpuTimes(pid: number): { total: number; system: number } | undefined {
  const own = ownCpuTimes(pid);
  if (own === undefined) return undefined;
  const sum = { ...own };
  for (const child of childPids(pid)) {
    const c = cpuTimes(child);
    sum.total += c?.total ?? 0;
    sum.system += c?.system ?? 0;
  }
  return sum;
}

function childPids(pid: number): number[] {
  const out: number[] = [];
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const task of tasks) {
    try {
      for (const c of readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim().split(/\s+/)) {
        const n = Number(c);
        if (c !== '' && Number.isInteger(n)) out.push(n);
      }
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

function ownCpuTimes(pid: number): { total: number; system: number } | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may contain spaces and parentheses: fields restart after the last ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return undefined;
  return { total: (utime + stime) / ticksPerSecond(), system: stime / ticksPerSecond() };
}

/** Resident and peak resident set size in bytes (VmRSS, VmHWM), or undefined when the process is gone. */
export function memoryOf(pid: number): { rss: number; peak: number } | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const kb = (name: string): number => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status);
    return m === null ? 0 : Number(m[1]) * 1024;
  };
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

// The OS may hand a just-released port out again: never give the same one twice in one run.
const handedOut = new Set<number>();

/** A TCP port that was free on 127.0.0.1 a moment ago (bound and released; the caller binds it next). */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await anyFreePort();
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}

function anyFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no port'))));
    });
  });
}

const MAX_CAPTURE = 256 * 1024;

export interface Managed {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  /** Last MAX_CAPTURE bytes of stderr, for error messages. */
  stderrTail(): string;
  /** Resolves with the exit code (or signal name) when the process ends. */
  readonly exited: Promise<number | string>;
  /** Calls `onLine` for each stdout line (kept until removed). */
  onLine(onLine: (line: string) => void): () => void;
}

/** Starts and tracks processes; stopAll() ends them (SIGTERM, then SIGKILL after a grace period). */
export class ProcessGroup {
  readonly #running = new Set<Managed>();
  #signalHandlers: Array<[NodeJS.Signals, () => void]> = [];

  constructor() {
    const onSignal = (signal: NodeJS.Signals) => () => {
      process.stderr.write(`\n${signal}: stopping benchmark processes\n`);
      void this.stopAll().then(() => process.exit(130));
    };
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      const handler = onSignal(signal);
      process.on(signal, handler);
      this.#signalHandlers.push([signal, handler]);
    }
    // Last resort on an unexpected exit: never leave a server behind.
    process.on('exit', () => {
      for (const m of this.#running) m.child.kill('SIGKILL');
    });
  }

  /** `stdoutFile`: stdout goes to that file instead of a pipe (chatty processes; read it with LogFollower). */
  start(name: string, command: string, args: readonly string[], options: SpawnOptions & { stdoutFile?: string } = {}): Managed {
    const { stdoutFile, ...spawnOptions } = options;
    const stdoutFd = stdoutFile === undefined ? undefined : openSync(stdoutFile, 'a');
    const child = spawn(command, args, { stdio: ['ignore', stdoutFd ?? 'pipe', 'pipe'], ...spawnOptions });
    if (stdoutFd !== undefined) closeSync(stdoutFd);
    if (child.pid === undefined) throw new Error(`${name}: could not start ${command}`);
    let tail = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      tail = (tail + chunk).slice(-MAX_CAPTURE);
    });
    const listeners = new Set<(line: string) => void>();
    let partial = '';
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      partial += chunk;
      const lastNl = partial.lastIndexOf('\n');
      if (lastNl < 0) {
        partial = partial.slice(-MAX_CAPTURE);
        return;
      }
      const text = partial;
      partial = text.slice(lastNl + 1);
      for (const line of text.slice(0, lastNl).split('\n')) for (const l of listeners) l(line);
    });
    const exited = new Promise<number | string>((resolve) => {
      child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
      child.once('error', (err) => resolve(`error: ${err.message}`));
    });
    const managed: Managed = {
      name,
      child,
      pid: child.pid,
      stderrTail: () => tail,
      exited,
      onLine: (l) => {
        listeners.add(l);
        return () => listeners.delete(l);
      },
    };
    this.#running.add(managed);
    void exited.then(() => this.#running.delete(managed));
    return managed;
  }

  async stop(m: Managed, graceMs = 5_000): Promise<void> {
    if (!this.#running.has(m)) return;
    m.child.kill('SIGTERM');
    const timer = setTimeout(() => m.child.kill('SIGKILL'), graceMs);
    await m.exited;
    clearTimeout(timer);
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.#running].map((m) => this.stop(m)));
  }

  dispose(): void {
    for (const [signal, handler] of this.#signalHandlers) process.off(signal, handler);
    this.#signalHandlers = [];
  }
}

/** Waits for the first stdout line accepted by `pick`, or fails when the process exits or the time is up. */
export function waitForLine<T>(m: Managed, pick: (line: string) => T | undefined, timeoutMs: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    let off: () => void = () => undefined;
    const timer = setTimeout(() => {
      off();
      reject(new Error(`${m.name}: no ${what} within ${timeoutMs} ms\n${m.stderrTail().slice(-2000)}`));
    }, timeoutMs);
    off = m.onLine((line) => {
      const value = pick(line);
      if (value === undefined) return;
      clearTimeout(timer);
      off();
      resolve(value);
    });
    void m.exited.then((code) => {
      clearTimeout(timer);
      off();
      reject(new Error(`${m.name} exited (${code}) before ${what}\n${m.stderrTail().slice(-2000)}`));
    });
  });
}

/** Parses a line as a JSON object, or undefined. */
export function jsonObject(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const FOLLOW_CHUNK = 4 * 1024 * 1024;

/** Reads a growing log file incrementally and hands out the complete lines that contain a needle. */
export class LogFollower {
  #offset = 0;
  #rest: Buffer = Buffer.alloc(0);

  readonly #needle: string;

  constructor(
    readonly path: string,
    needle: string,
  ) {
    this.#needle = needle;
  }

  /** Lines appended since the last call that contain the needle (lines without it are never decoded). */
  matches(): string[] {
    let fd: number;
    try {
      fd = openSync(this.path, 'r');
    } catch {
      return [];
    }
    const out: string[] = [];
    const needle = Buffer.from(this.#needle);
    try {
      const size = fstatSync(fd).size;
      while (this.#offset < size) {
        const chunk = Buffer.alloc(Math.min(FOLLOW_CHUNK, size - this.#offset));
        const n = readSync(fd, chunk, 0, chunk.length, this.#offset);
        if (n <= 0) break;
        this.#offset += n;
        const data = this.#rest.length > 0 ? Buffer.concat([this.#rest, chunk.subarray(0, n)]) : chunk.subarray(0, n);
        const lastNl = data.lastIndexOf(0x0a);
        this.#rest = Buffer.from(data.subarray(lastNl + 1).subarray(-MAX_CAPTURE));
        for (let at = data.indexOf(needle); at >= 0 && at < lastNl; at = data.indexOf(needle, at + 1)) {
          const start = data.lastIndexOf(0x0a, at) + 1;
          const end = data.indexOf(0x0a, at);
          out.push(data.subarray(start, end).toString('utf8'));
          at = end;
        }
      }
    } finally {
      closeSync(fd);
    }
    return out;
  }

  /** Polls until a matching line appears; fails when `m` exits or the time is up. */
  async next(m: Managed, timeoutMs: number, pollMs = 20): Promise<string> {
    const deadline = performance.now() + timeoutMs;
    let exited: number | string | undefined;
    void m.exited.then((code) => (exited = code));
    for (;;) {
      const [line] = this.#pending.length > 0 ? this.#pending : (this.#pending = this.matches());
      if (line !== undefined) {
        this.#pending.shift();
        return line;
      }
      if (exited !== undefined) throw new Error(`${m.name} exited (${exited}) while waiting for "${this.#needle}"\n${m.stderrTail().slice(-2000)}`);
      if (performance.now() > deadline) throw new Error(`${m.name}: no "${this.#needle}" within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, pollMs));
    }
  }

  #pending: string[] = [];
}
