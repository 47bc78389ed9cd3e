/**
 * A private OpenLDAP slapd for the benchmark: installed from Debian when missing (root only, non-interactive, never
 * started as a service), configured with a slapd.conf in a temp dir (mdb database there too), loaded with slapadd,
 * run in the foreground on 127.0.0.1 and a free port, stopped by its pid.
 */
import { spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import type { DirectoryFile } from '../../src/embedded-core/directory/types.js';
import { BENCH_BASE_DN, BENCH_SCHEMA, slapdLdif, type LdifOptions } from './ldif.js';
import type { Managed, ProcessGroup } from './procs.js';

const SLAPD = '/usr/sbin/slapd';
const SLAPADD = '/usr/sbin/slapadd';
const MODULE_DIR = '/usr/lib/ldap';
const SCHEMA_DIR = '/etc/ldap/schema';
const POLICY_RC_D = '/usr/sbin/policy-rc.d';

function have(path: string): boolean {
  return existsSync(path);
}

/** Installs what the bench needs (slapd, ldap-utils; cc when missing) through apt-get when root. */
export function ensureSystemPackages(log: (text: string) => void): void {
  const missing: string[] = [];
  if (!have(SLAPD) || !have(SLAPADD) || !have(join(MODULE_DIR, 'memberof.la'))) missing.push('slapd');
  if (spawnSync('ldapsearch', ['-VV'], { stdio: 'ignore' }).error !== undefined) missing.push('ldap-utils');
  if (spawnSync('cc', ['--version'], { stdio: 'ignore' }).error !== undefined) missing.push('gcc', 'libc6-dev');
  // No default database from the package: the bench runs its own slapd.
  if (missing.length > 0) aptGetInstall(missing, log, 'slapd slapd/no_configuration boolean true\n');
}

/**
 * apt-get install as root, non-interactive, with service starts blocked (a temporary policy-rc.d when there is
 * none), so no package starts a system service; `debconf` answers are preseeded first.
 */
export function aptGetInstall(missing: readonly string[], log: (text: string) => void, debconf?: string): void {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot) throw new Error(`missing: ${missing.join(' ')}; install them (apt-get install ${missing.join(' ')}) or run as root`);
  log(`installing ${missing.join(' ')} (apt-get, non-interactive)`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (debconf !== undefined) spawnSync('debconf-set-selections', [], { input: debconf, env });
  const addedPolicy = !existsSync(POLICY_RC_D);
  if (addedPolicy) writeFileSync(POLICY_RC_D, '#!/bin/sh\n# ak-outpost bench: no service starts during apt-get\nexit 101\n', { mode: 0o755 });
  try {
    const update = spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
    if (update.status !== 0) log('apt-get update failed; trying the install anyway');
    const install = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { stdio: 'inherit', env });
    if (install.status !== 0) throw new Error(`apt-get install ${missing.join(' ')} failed`);
  } finally {
    if (addedPolicy) unlinkSync(POLICY_RC_D);
  }
}

export function slapdVersion(): string {
  const out = spawnSync(SLAPD, ['-VV'], { encoding: 'utf8' });
  const m = /slapd ([^\s]+)/.exec(`${out.stdout ?? ''}${out.stderr ?? ''}`);
  return m?.[1] ?? 'unknown';
}

export interface SlapdSetup {
  readonly dir: string;
  readonly confPath: string;
  readonly entries: number;
  readonly loadSeconds: number;
}

/** The search user gets read access to everything; everyone may bind (auth) and read their own entry. */
function slapdConf(dir: string, searchDn: string): string {
  return `# ak-outpost bench: private slapd, not a system service
include ${SCHEMA_DIR}/core.schema
include ${SCHEMA_DIR}/cosine.schema
include ${SCHEMA_DIR}/nis.schema
include ${SCHEMA_DIR}/inetorgperson.schema
include ${join(dir, 'akbench.schema')}
pidfile ${join(dir, 'slapd.pid')}
argsfile ${join(dir, 'slapd.args')}
modulepath ${MODULE_DIR}
moduleload back_mdb
moduleload memberof
loglevel 0
sizelimit unlimited
timelimit unlimited

database mdb
suffix "${BENCH_BASE_DN}"
directory ${join(dir, 'db')}
maxsize 8589934592
index objectClass eq
index cn,uid eq
index member,memberOf eq
access to attrs=userPassword
  by anonymous auth
  by * none
access to *
  by dn.exact="${searchDn}" read
  by self read
  by * none
overlay memberof
memberof-group-oc groupOfNames
memberof-member-ad member
memberof-memberof-ad memberOf
`;
}

/** Writes schema, config and LDIF into `dir` and loads the database with slapadd. */
export async function prepareSlapd(dir: string, directory: DirectoryFile, options: LdifOptions & { searchDn: string }): Promise<SlapdSetup> {
  mkdirSync(join(dir, 'db'), { recursive: true });
  writeFileSync(join(dir, 'akbench.schema'), BENCH_SCHEMA);
  const confPath = join(dir, 'slapd.conf');
  writeFileSync(confPath, slapdConf(dir, options.searchDn));
  const ldifPath = join(dir, 'data.ldif');
  const out = createWriteStream(ldifPath);
  const counts = { entries: 0 };
  for (const chunk of slapdLdif(directory, options, counts)) {
    if (!out.write(chunk)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  const started = performance.now();
  // -q: quick mode (no consistency checks on load); the LDIF is ours and freshly written.
  const add = spawnSync(SLAPADD, ['-q', '-f', confPath, '-l', ldifPath], { encoding: 'utf8', maxBuffer: 4 * 1024 * 1024 });
  if (add.status !== 0) throw new Error(`slapadd failed (${add.status}): ${(add.stderr ?? '').slice(-2000)}`);
  return { dir, confPath, entries: counts.entries, loadSeconds: (performance.now() - started) / 1000 };
}

/** Runs slapd in the foreground (-d 0: no detach, no debug output) on ldap://127.0.0.1:<port>/. */
export function startSlapd(group: ProcessGroup, setup: SlapdSetup, port: number): Managed {
  return group.start('slapd', SLAPD, ['-d', '0', '-f', setup.confPath, '-h', `ldap://127.0.0.1:${port}/`]);
}
