import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join, relative } from 'node:path';
import { readFileSync } from 'node:fs';
import { repoRoot as root, sourceFiles as sources, specifiers } from '../helpers/source-imports.js';

const protocolDir = join(root, 'src', 'protocol');

/** Modules of the project are checked by test/architecture.test.ts; here: no I/O module, no package. */
function allowed(specifier: string): boolean {
  return specifier === 'node:buffer' || specifier === 'node:crypto' || specifier.startsWith('.');
}

test('src/protocol imports no node: module but node:buffer and node:crypto, and no package', () => {
  const files = sources(protocolDir);
  assert.ok(files.some((f) => f.endsWith(join('ldap', 'messages.ts'))), `sources not found under ${protocolDir}`);
  const violations: string[] = [];
  for (const file of files) {
    for (const specifier of specifiers(readFileSync(file, 'utf8'))) {
      if (!allowed(specifier)) violations.push(`${relative(root, file)}: ${specifier}`);
    }
  }
  assert.deepEqual(violations, []);
});

test('the scan itself catches forbidden imports', () => {
  const bad = [
    "import { Socket } from 'node:net';",
    "import fs from 'fs';",
    "const m = await import('node:os');",
    'const m = await import(name);',
    "const x = require('node:child_process');",
    "import { pino } from 'pino';",
  ];
  for (const line of bad) {
    assert.ok(specifiers(line).some((s) => !allowed(s)), line);
  }
  assert.ok(specifiers("import { ProtocolError } from '../../errors.js';").every((s) => allowed(s)));
  assert.ok(specifiers("import { Buffer } from 'node:buffer';\nimport { Tag } from '../ber/reader.js';").every((s) => allowed(s)));
});
