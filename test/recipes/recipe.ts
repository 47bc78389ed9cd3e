/**
 * The README's client recipes as the tests use them: each file under docs/recipes/ is printed verbatim in the README
 * (checked by readme.test.ts), and a test swaps only the example's host names, ports, paths and secrets for
 * its own. Every swap must find its text, so a recipe edited away from what the test knows fails loudly.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const RECIPES_DIR = join(REPO_ROOT, 'docs', 'recipes');

/** The text of docs/recipes/<name> with each [example, actual] pair replaced everywhere. */
export function recipe(name: string, swaps: readonly (readonly [string, string])[]): string {
  let text = readFileSync(join(RECIPES_DIR, name), 'utf8');
  for (const [example, actual] of swaps) {
    if (!text.includes(example)) throw new Error(`docs/recipes/${name} no longer contains ${JSON.stringify(example)}`);
    text = text.split(example).join(actual);
  }
  return text;
}

/** A scratch directory that daemons dropping privileges (dovecot's auth process, httpd's children) can read. */
export function readableTempDir(prefix: string): { path: string; write(name: string, text: string): string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(path, 0o755);
  return {
    path,
    write(name, text) {
      const file = join(path, name);
      writeFileSync(file, text, { mode: 0o644 });
      return file;
    },
    remove: () => rmSync(path, { recursive: true, force: true }),
  };
}

/** A daemon started in the foreground by the test, its output passed through; stop() ends it and waits. */
export function startDaemon(command: string, args: readonly string[]): { stop(): Promise<void> } {
  const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
