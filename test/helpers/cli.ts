/** Runs real client programs (ldapsearch, ldapwhoami, python3 ...) without a shell; output captured. */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(command: string, args: readonly string[], env: Record<string, string> = {}, timeoutMs = 30_000): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { env: { ...process.env, LDAPTLS_REQCERT: 'demand', ...env }, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Parses ldapsearch LDIF output into entries (attribute names as printed; base64 values decoded). */
export function parseLdif(text: string): { dn: string; attributes: Map<string, string[]> }[] {
  const entries: { dn: string; attributes: Map<string, string[]> }[] = [];
  const unfolded = text.replace(/\n /g, '');
  for (const block of unfolded.split(/\n\n+/)) {
    let current: { dn: string; attributes: Map<string, string[]> } | undefined;
    for (const line of block.split('\n')) {
      if (line === '' || line.startsWith('#')) continue;
      const m = /^([^:]+)(::?) ?(.*)$/.exec(line);
      if (m === null) continue;
      const value = m[2] === '::' ? Buffer.from(m[3]!, 'base64').toString('utf8') : m[3]!;
      if (m[1] === 'dn') current = { dn: value, attributes: new Map() };
      else if (current !== undefined) current.attributes.set(m[1]!, [...(current.attributes.get(m[1]!) ?? []), value]);
    }
    if (current !== undefined) entries.push(current);
  }
  return entries;
}

/** dist/src/main.js, the outpost's real entry point. */
export const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url));

export interface SpawnedMain {
  child: ChildProcess;
  /** stdout and stderr so far, interleaved as they arrived. */
  output(): string;
  /** The exit code (null when killed by a signal). */
  exited: Promise<number | null>;
}

/** Starts main.js as a child process with `env`, collecting its output. */
export function spawnMain(env: Record<string, string>): SpawnedMain {
  const child = spawn(process.execPath, [MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (c: Buffer) => (output += c.toString('utf8')));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}
