/**
 * The layering of src/, enforced on the import graph (test/helpers/source-imports.ts):
 * - src/protocol: pure codecs, buffers in and values out; they import nothing of the project but src/protocol,
 *   src/lib, src/errors.ts and the constants of src/config/limits.ts, which imports nothing itself
 *   (test/protocol/imports.test.ts keeps node: I/O modules out of them).
 * - src/directory: the directory model (entries, schema, filter engine, indexed snapshot). The LDAP provider uses
 *   it, never the other way round: it imports only src/protocol, src/lib, src/core-api (the port and the model
 *   it builds from), src/errors.ts and src/config/limits.ts.
 * - src/listeners own sockets, src/providers hold per-provider behaviour and plug into the controller in
 *   src/outpost through its module interface; src/run.ts, src/main.ts and src/demo.ts wire them together.
 * - No cycles between the top-level parts of src/ (each folder, and each file directly in src/).
 * - The embedded core is a separate product that reaches the outpost only over HTTP and WebSocket, so it
 *   imports nothing of the outpost (and the outpost nothing of it, except the demo wiring); src/lib holds generic
 *   helpers both may use.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join, relative, sep } from 'node:path';
import { importsUnder, repoRoot } from './helpers/source-imports.js';

const src = join(repoRoot, 'src');
const inside = (path: string, dir: string): boolean => !relative(join(src, dir), path).startsWith('..');

/** Imports under `dir` that resolve into the project outside every folder of `allowed` (files count as well). */
function projectImportsOutside(dir: string, allowed: readonly string[]): string[] {
  return importsUnder(join(src, dir))
    .filter(({ target }) => target !== undefined && !allowed.some((a) => (a.endsWith('.ts') ? target === join(src, a) : inside(target, a))))
    .map(({ file, specifier }) => `${relative(repoRoot, file)}: ${specifier}`);
}

/** The top-level part of src/ a path belongs to: its first folder, or the file itself. */
const part = (path: string): string => relative(src, path).split(sep)[0]!;

/** Strongly connected parts with more than one member (Tarjan), each sorted; empty when the graph is acyclic. */
function cycles(edges: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, index.size);
    low.set(node, index.get(node)!);
    stack.push(node);
    onStack.add(node);
    for (const next of edges.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) low.set(node, Math.min(low.get(node)!, index.get(next)!));
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    if (component.length > 1) found.push(component.sort());
  };
  for (const node of edges.keys()) if (!index.has(node)) visit(node);
  return found;
}

test('src/protocol imports nothing of the project outside src/protocol, src/lib, src/errors.ts and the limits', () => {
  assert.deepEqual(projectImportsOutside('protocol', ['protocol', 'lib', 'errors.ts', 'config/limits.ts']), []);
});

test('src/config/limits.ts imports nothing (the codecs reach no configuration or I/O through it)', () => {
  const limits = join(src, 'config', 'limits.ts');
  assert.deepEqual(importsUnder(join(src, 'config')).filter(({ file }) => file === limits), []);
});

test('src/directory imports nothing of the providers, listeners or outpost (the LDAP provider uses it)', () => {
  assert.deepEqual(projectImportsOutside('directory', ['directory', 'protocol', 'lib', 'core-api', 'errors.ts', 'config/limits.ts']), []);
  const providerUses = importsUnder(join(src, 'providers')).filter(({ target }) => target !== undefined && inside(target, 'directory'));
  assert.ok(providerUses.length > 0, 'the LDAP provider builds and searches through src/directory');
});

test('no import cycles between the top-level parts of src/', () => {
  const edges = new Map<string, Set<string>>();
  for (const { file, target } of importsUnder(src)) {
    if (target === undefined || !inside(target, '.')) continue;
    const from = part(file);
    const to = part(target);
    if (!edges.has(from)) edges.set(from, new Set());
    if (from !== to) edges.get(from)!.add(to);
  }
  assert.ok(edges.size > 10, `parts not found under ${src}`);
  assert.deepEqual(cycles(edges), []);
});

test('the cycle check finds a cycle through three parts and none in a chain', () => {
  const graph = (pairs: [string, string][]) => {
    const m = new Map<string, Set<string>>();
    for (const [a, b] of pairs) {
      if (!m.has(a)) m.set(a, new Set());
      if (!m.has(b)) m.set(b, new Set());
      m.get(a)!.add(b);
    }
    return m;
  };
  assert.deepEqual(cycles(graph([['cache', 'providers'], ['providers', 'outpost'], ['outpost', 'cache'], ['outpost', 'lib']])), [['cache', 'outpost', 'providers']]);
  assert.deepEqual(cycles(graph([['providers', 'directory'], ['directory', 'protocol'], ['providers', 'protocol']])), []);
});

test('the embedded core imports only itself, src/lib, src/errors.ts, node: and packages', () => {
  assert.deepEqual(projectImportsOutside('embedded-core', ['embedded-core', 'lib', 'errors.ts']), []);
});

test('the outpost never imports the embedded core (only src/demo.ts wires the demo)', () => {
  const violations = importsUnder(src)
    .filter(({ file, target }) => target !== undefined && inside(target, 'embedded-core') && !inside(file, 'embedded-core') && file !== join(src, 'demo.ts'))
    .map(({ file, specifier }) => `${relative(repoRoot, file)}: ${specifier}`);
  assert.deepEqual(violations, []);
});

test('src/lib depends on nothing of the project but itself', () => {
  const violations = importsUnder(join(src, 'lib'))
    .filter(({ specifier, target }) => (target !== undefined ? !inside(target, 'lib') : !specifier.startsWith('node:')))
    .map(({ file, specifier }) => `${relative(repoRoot, file)}: ${specifier}`);
  assert.deepEqual(violations, []);
});
