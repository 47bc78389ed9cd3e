/**
 * A private FreeRADIUS 3.2 for the benchmark: installed from Debian when missing (root only, non-interactive, no
 * service start), configured from scratch in a temp dir (one auth listener on 127.0.0.1, one client, PAP against a
 * users file), run in the foreground as a child process and stopped by its pid. The system service and
 * /etc/freeradius are never touched (only the dictionary is copied from there).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Managed, ProcessGroup } from './procs.js';

const FREERADIUS = '/usr/sbin/freeradius';
const SYSTEM_RADDB = '/etc/freeradius/3.0';
const POLICY_RC_D = '/usr/sbin/policy-rc.d';

/** Installs the Debian `freeradius` package when missing (root only), with service starts blocked. */
export function ensureFreeradius(log: (text: string) => void): void {
  if (existsSync(FREERADIUS) && existsSync(join(SYSTEM_RADDB, 'dictionary'))) return;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot) throw new Error('missing: freeradius; install it (apt-get install freeradius) or run as root');
  log('installing freeradius (apt-get, non-interactive)');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const addedPolicy = !existsSync(POLICY_RC_D);
  if (addedPolicy) writeFileSync(POLICY_RC_D, '#!/bin/sh\n# ak-outpost bench: no service starts during apt-get\nexit 101\n', { mode: 0o755 });
  try {
    const install = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'freeradius'], { stdio: 'inherit', env });
    if (install.status !== 0) throw new Error('apt-get install freeradius failed');
  } finally {
    if (addedPolicy) unlinkSync(POLICY_RC_D);
  }
}

export function freeradiusVersion(): string {
  const out = spawnSync(FREERADIUS, ['-v'], { encoding: 'utf8' });
  const m = /Version ([^\s,]+)/.exec(`${out.stdout ?? ''}${out.stderr ?? ''}`);
  return m?.[1] ?? 'unknown';
}

export interface FreeradiusUser {
  name: string;
  password: string;
}

/** A users-file value: double-quoted, with backslash and quote escaped. */
function quoted(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** Writes a minimal raddb into `dir`: auth on 127.0.0.1:<port>, client 127.0.0.1 with `secret`, PAP from a users file. */
export function prepareFreeradius(dir: string, port: number, secret: string, users: readonly FreeradiusUser[]): string {
  mkdirSync(dir, { recursive: true });
  copyFileSync(join(SYSTEM_RADDB, 'dictionary'), join(dir, 'dictionary'));
  writeFileSync(join(dir, 'users'), users.map((u) => `${u.name} Cleartext-Password := ${quoted(u.password)}\n`).join(''));
  writeFileSync(
    join(dir, 'radiusd.conf'),
    `# ak-outpost bench: private FreeRADIUS, not a system service
prefix = /usr
exec_prefix = /usr
sysconfdir = ${dir}
localstatedir = ${dir}
sbindir = /usr/sbin
logdir = ${dir}
raddbdir = ${dir}
radacctdir = ${dir}
name = freeradius
confdir = ${dir}
modconfdir = ${dir}
run_dir = ${dir}
db_dir = ${dir}
libdir = /usr/lib/freeradius
pidfile = ${join(dir, 'radiusd.pid')}
max_request_time = 30
cleanup_delay = 5
max_requests = 16384
hostname_lookups = no
log {
	destination = stderr
	auth = no
}
security {
	allow_core_dumps = no
	max_attributes = 200
	reject_delay = 0
	status_server = yes
}
client bench {
	ipaddr = 127.0.0.1
	secret = ${quoted(secret)}
}
thread pool {
	start_servers = 5
	max_servers = 32
	min_spare_servers = 3
	max_spare_servers = 10
	max_requests_per_server = 0
}
modules {
	pap {
	}
	files {
		filename = ${join(dir, 'users')}
	}
}
server default {
	listen {
		type = auth
		ipaddr = 127.0.0.1
		port = ${port}
	}
	authorize {
		files
		pap
	}
	authenticate {
		Auth-Type PAP {
			pap
		}
	}
}
`,
  );
  const check = spawnSync(FREERADIUS, ['-C', '-d', dir], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`freeradius -C failed (${check.status}): ${(check.stdout + check.stderr).slice(-2000)}`);
  return dir;
}

/** Runs FreeRADIUS in the foreground (-f) with the private raddb. */
export function startFreeradius(group: ProcessGroup, dir: string): Managed {
  return group.start('freeradius', FREERADIUS, ['-f', '-d', dir]);
}
