/**
 * The TypeScript side of ldap3_driver.py: one Debian python3 process (it has python3-ldap3; the `python3` on PATH
 * may not) answering JSON commands line by line, so a test keeps ldap3 connections open across its own steps.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** The system interpreter with python3-ldap3 (Debian package). */
export const SYSTEM_PYTHON = '/usr/bin/python3';
/** Compiled to dist/test/e2e/py/; the script stays in the source tree. */
export const DRIVER_SCRIPT = fileURLToPath(new URL('../../../../test/e2e/py/ldap3_driver.py', import.meta.url));

export interface Ldap3Answer {
  ok: boolean;
  error?: string;
  message?: string;
  result?: number;
  description?: string;
  bound?: boolean;
  started?: boolean;
  entries?: { dn: string; attributes: Record<string, string[]> }[];
  dns?: string[];
  whoami?: string | null;
  schema?: { valid: boolean; objectClasses: string[]; attributeTypes: number; userClassOid: string | null; userClassMay: string[] } | null;
  rootDse?: { namingContexts: string[]; supportedExtensions: string[] } | null;
}

export class Ldap3Driver {
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #pending = new Map<number, { resolve: (a: Ldap3Answer) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  #nextId = 1;
  #stderr = '';
  readonly #exited: Promise<void>;

  constructor() {
    this.#child = spawn(SYSTEM_PYTHON, [DRIVER_SCRIPT], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.#child.stderr.on('data', (chunk: Buffer) => {
      if (this.#stderr.length < 64 * 1024) this.#stderr += chunk.toString('utf8');
    });
    createInterface({ input: this.#child.stdout }).on('line', (line) => {
      let answer: unknown;
      try {
        answer = JSON.parse(line);
      } catch {
        return;
      }
      if (typeof answer !== 'object' || answer === null || typeof (answer as { id?: unknown }).id !== 'number') return;
      const id = (answer as { id: number }).id;
      const waiter = this.#pending.get(id);
      if (waiter === undefined) return;
      this.#pending.delete(id);
      clearTimeout(waiter.timer);
      waiter.resolve(answer as Ldap3Answer);
    });
    this.#exited = new Promise((resolve) => {
      this.#child.on('exit', () => {
        for (const w of this.#pending.values()) {
          clearTimeout(w.timer);
          w.reject(new Error(`ldap3 driver exited: ${this.#stderr}`));
        }
        this.#pending.clear();
        resolve();
      });
    });
  }

  /** Sends one command; resolves with the driver's answer (ok false carries the Python exception). */
  send(op: string, args: Record<string, unknown>, timeoutMs = 15_000): Promise<Ldap3Answer> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`ldap3 ${op} timed out; stderr: ${this.#stderr}`));
      }, timeoutMs);
      this.#pending.set(id, { resolve, reject, timer });
      this.#child.stdin.write(JSON.stringify({ id, op, ...args }) + '\n');
    });
  }

  /** Like send, but fails the test when the driver raised. */
  async must(op: string, args: Record<string, unknown>): Promise<Ldap3Answer> {
    const answer = await this.send(op, args);
    if (!answer.ok) throw new Error(`ldap3 ${op} raised ${answer.error}: ${answer.message}`);
    return answer;
  }

  /** Ends the process (closing its connections); killed if it does not exit promptly. */
  async close(): Promise<void> {
    this.#child.stdin.end();
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 3000);
    await this.#exited;
    clearTimeout(timer);
  }
}
