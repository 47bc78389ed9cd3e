import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join, relative, resolve, dirname } from 'node:path';
import { readFileSync } from 'node:fs';
import { repoRoot as root, sourceFiles as sources, specifiers } from '../helpers/source-imports.js';

const protocolDir = join(root, 'src', 'protocol');
const allowedFile = join(root, 'src', 'errors.ts');

function allowed(file: string, specifier: string): boolean {
  if (specifier === 'node:buffer' || specifier === 'node:crypto') return true;
  if (!specifier.startsWith('.')) return false;
  const target = resolve(dirname(file), specifier.replace(/\.js$/, '.ts'));
  return target === allowedFile || !relative(protocolDir, target).startsWith('..');
}

test('src/protocol imports only node:buffer, node:crypto, src/errors.ts and itself', () => {
  const files = sources(protocolDir);
  assert.ok(files.some((f) => f.endsWith(join('ldap', 'messages.ts'))), `sources not found under ${protocolDir}`);
  const violations: string[] = [];
  for (const file of files) {
    for (const specifier of specifiers(readFileSync(file, 'utf8'))) {
      if (!allowed(file, specifier)) violations.push(`${relative(root, file)}: ${specifier}`);
    }
  }
  assert.deepEqual(violations, []);
});

test('the scan itself catches forbidden imports', () => {
  const file = join(protocolDir, 'ldap', 'x.ts');
  const bad = [
    "import { Socket } from 'node:net';",
    "import fs from 'fs';",
    "export * from '../../config/limits.js';",
    "const m = await import('node:os');",
    'const m = await import(name);',
    "const x = require('node:child_process');",
    "import type { Foo } from '../../core-api/port.js';",
  ];
  for (const line of bad) {
    assert.ok(specifiers(line).some((s) => !allowed(file, s)), line);
  }
  assert.ok(specifiers("import { ProtocolError } from '../../errors.js';").every((s) => allowed(file, s)));
  assert.ok(specifiers("import { Buffer } from 'node:buffer';\nimport { Tag } from '../ber/reader.js';").every((s) => allowed(file, s)));
});
