/**
 * The layering visible in the tree, enforced: the embedded core is a separate product that reaches the outpost
 * only over HTTP and WebSocket, so it imports nothing of the outpost (and the outpost nothing of it, except the
 * demo wiring); src/lib holds generic helpers both may use.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join, relative } from 'node:path';
import { importsUnder, repoRoot } from './helpers/source-imports.js';

const src = join(repoRoot, 'src');
const inside = (path: string, dir: string): boolean => !relative(join(src, dir), path).startsWith('..');

test('the embedded core imports only itself, src/lib, src/errors.ts, node: and packages', () => {
  const violations = importsUnder(join(src, 'embedded-core'))
    .filter(({ target }) => target !== undefined && !inside(target, 'embedded-core') && !inside(target, 'lib') && target !== join(src, 'errors.ts'))
    .map(({ file, specifier }) => `${relative(repoRoot, file)}: ${specifier}`);
  assert.deepEqual(violations, []);
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
