/**
 * A private FreeRADIUS 3.2 for the benchmark: installed from Debian when missing (root only, non-interactive, no
 * service start), configured from scratch in a temp dir (one auth listener on 127.0.0.1, one client, PAP against a
 * users file, and EAP-TTLS with inner PAP against the same file when given a certificate), run in the foreground
 * as a child process and stopped by its pid. The system service and
 * /etc/freeradius are never touched (only the dictionary is copied from there).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Managed, ProcessGroup } from './procs.js';
import { aptGetInstall } from './slapd.js';

const FREERADIUS = '/usr/sbin/freeradius';
const SYSTEM_RADDB = '/etc/freeradius/3.0';

/** Installs the Debian `freeradius` package when missing (root only), with service starts blocked. */
export function ensureFreeradius(log: (text: string) => void): void {
  if (!existsSync(FREERADIUS) || !existsSync(join(SYSTEM_RADDB, 'dictionary'))) aptGetInstall(['freeradius'], log);
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

/** PEM files of the EAP server certificate (the outpost's provider uses the same ones). */
export interface FreeradiusTls {
  certificateFile: string;
  keyFile: string;
  caFile: string;
}

/** The eap module: TTLS (TLS 1.2 and 1.3) with the tunnelled PAP handled by the inner-tunnel server. */
function eapModule(tls: FreeradiusTls): string {
  return `	eap {
		default_eap_type = ttls
		timer_expire = 60
		max_sessions = 16384
		tls-config tls-common {
			private_key_file = ${tls.keyFile}
			certificate_file = ${tls.certificateFile}
			ca_file = ${tls.caFile}
			cipher_list = "DEFAULT"
			tls_min_version = "1.2"
			tls_max_version = "1.3"
			ecdh_curve = "prime256v1"
		}
		md5 {
		}
		ttls {
			tls = tls-common
			default_eap_type = md5
			copy_request_to_tunnel = yes
			use_tunneled_reply = yes
			virtual_server = "inner-tunnel"
		}
	}
`;
}

/**
 * Writes a minimal raddb into `dir`: auth on 127.0.0.1:<port>, client 127.0.0.1 with `secret`, PAP from a users file,
 * and with `tls` EAP-TTLS/PAP against the same users.
 */
export function prepareFreeradius(dir: string, port: number, secret: string, users: readonly FreeradiusUser[], tls?: FreeradiusTls): string {
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
${tls === undefined ? '' : eapModule(tls)}}
server default {
	listen {
		type = auth
		ipaddr = 127.0.0.1
		port = ${port}
	}
	authorize {
${tls === undefined ? '' : '\t\teap {\n\t\t\tok = return\n\t\t}\n'}		files
		pap
	}
	authenticate {
		Auth-Type PAP {
			pap
		}
${tls === undefined ? '' : '\t\tAuth-Type EAP {\n\t\t\teap\n\t\t}\n'}	}
}
${
  tls === undefined
    ? ''
    : `server inner-tunnel {
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
`
}`,
  );
  const check = spawnSync(FREERADIUS, ['-C', '-d', dir], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`freeradius -C failed (${check.status}): ${(check.stdout + check.stderr).slice(-2000)}`);
  return dir;
}

/** Runs FreeRADIUS in the foreground (-f) with the private raddb. */
export function startFreeradius(group: ProcessGroup, dir: string): Managed {
  return group.start('freeradius', FREERADIUS, ['-f', '-d', dir]);
}
