#!/usr/bin/env node
// Runs the test suite from dist/ (built by `npm run build` in pretest). First makes sure the real clients the
// end-to-end tests drive are installed (Debian packages), so a fresh machine passes without manual steps.
// The full run also lints (`npm run lint`); a filtered run, for iterating, does not.
// Usage: npm test [-- <path filter> ...]   e.g. npm test -- test/protocol
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(fileURLToPath(new URL('.', import.meta.url)), '..');

/** Debian packages and a probe that tells whether each is usable. */
const systemDeps = [
  { pkg: 'ldap-utils', probe: ['ldapsearch', ['-VV']] },
  { pkg: 'python3-ldap3', probe: ['/usr/bin/python3', ['-c', 'import ldap3']] },
  { pkg: 'openssl', probe: ['openssl', ['version']] },
  { pkg: 'freeradius-utils', probe: ['radclient', ['-v']] },
  { pkg: 'eapoltest', probe: ['eapol_test', ['-v']] },
  // The README's client recipes (test/recipes): httpd with mod_authnz_ldap, Dovecot's LDAP passdb, curl.
  { pkg: 'curl', probe: ['curl', ['--version']] },
  { pkg: 'apache2', probe: ['/usr/sbin/apache2', ['-v']] },
  { pkg: 'dovecot-core', probe: ['dovecot', ['--version']] },
  { pkg: 'dovecot-ldap', probe: ['test', ['-e', '/usr/lib/dovecot/modules/auth/libauthdb_ldap.so']] },
];

function works([cmd, args]) {
  const r = spawnSync(cmd, args, { stdio: 'ignore' });
  return r.error === undefined && r.status === 0;
}

function ensureSystemDeps() {
  if (process.env.AKO_SKIP_SYSTEM_DEPS === '1') return;
  const missing = systemDeps.filter((d) => !works(d.probe)).map((d) => d.pkg);
  if (missing.length === 0) return;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot) {
    console.error(`missing test tools: ${missing.join(' ')}; install them (apt-get install ${missing.join(' ')}) or run as root`);
    process.exit(1);
  }
  console.log(`installing test tools: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const update = spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  if (update.status !== 0) console.error('apt-get update failed; trying the install anyway');
  const install = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { stdio: 'inherit', env });
  if (install.status !== 0) {
    console.error(`apt-get install ${missing.join(' ')} failed`);
    process.exit(1);
  }
}

/** Compiled test files whose TypeScript source still exists (dist/ may hold stale ones locally). */
function testFiles(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) testFiles(full, out);
    else if (name.endsWith('.test.js')) {
      const source = join(root, relative(join(root, 'dist'), full)).replace(/\.js$/, '.ts');
      if (existsSync(source)) out.push(full);
    }
  }
  return out;
}

/** Runs eslint over the whole tree; true when it found nothing. */
function lint() {
  const started = performance.now();
  const r = spawnSync(process.execPath, [join(root, 'node_modules', 'eslint', 'bin', 'eslint.js'), '.'], { stdio: 'inherit', cwd: root });
  const ok = r.status === 0;
  console.log(`lint: ${ok ? 'clean' : 'FAILED'} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
  return ok;
}

ensureSystemDeps();
const filters = process.argv.slice(2).map((f) => f.replace(/\.ts$/, ''));
const lintOk = filters.length > 0 || lint();
let files = testFiles(join(root, 'dist', 'test')).sort();
if (filters.length > 0) {
  files = files.filter((f) => filters.some((flt) => relative(join(root, 'dist'), f).startsWith(flt.replace(/^dist\//, ''))));
}
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
// Tests append what they measured (test/helpers/figures.ts); printed once at the end, grouped by suite.
const figuresDir = mkdtempSync(join(tmpdir(), 'ako-figures-'));
const figuresFile = join(figuresDir, 'figures.jsonl');
const result = spawnSync(
  process.execPath,
  ['--test', '--test-reporter=spec', '--test-timeout=180000', '--test-concurrency=2', ...files],
  { stdio: 'inherit', cwd: root, env: { ...process.env, NODE_ENV: 'test', AKO_FIGURES_FILE: figuresFile } },
);
printFigures(figuresFile);
rmSync(figuresDir, { recursive: true, force: true });
if (!lintOk) console.error('lint failed (see above); run `npm run lint`');
process.exit(lintOk ? (result.status ?? 1) : 1);

function printFigures(file) {
  if (!existsSync(file)) return;
  const bySuite = new Map();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line === '') continue;
    const { suite, name, value } = JSON.parse(line);
    if (!bySuite.has(suite)) bySuite.set(suite, []);
    bySuite.get(suite).push(`${name}: ${value}`);
  }
  console.log('\nfigures measured by the tests');
  for (const [suite, lines] of [...bySuite].sort(([a], [b]) => a.localeCompare(b))) {
    console.log(`  ${suite}`);
    for (const line of lines) console.log(`    ${line}`);
  }
}
