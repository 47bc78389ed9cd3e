/**
 * The embedded default mode (`npm start` without AUTHENTIK_HOST): an embedded core on loopback seeded with the
 * demo directory, and one outpost per demo outpost token running against it over HTTP and WebSocket exactly as
 * against a remote core. Prints client commands that work as printed.
 *
 * Environment (ours): AKO_DEMO_DIRECTORY (directory file, default examples/demo-directory.yaml),
 * AKO_EMBEDDED_CORE_LISTEN (host:port of the embedded core as src/lib/listen-address.ts reads it, default
 * 127.0.0.1:9000; port 0 picks one),
 * AKO_CERTS_DIR (default certs/).
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { coreConnectionConfig, type OutpostConfig } from './config/env.js';
import { startEmbeddedCore, type EmbeddedCore } from './embedded-core/core.js';
import { ConfigError } from './errors.js';
import { connectHost, formatListenAddress, parseListenAddress, type ListenAddress } from './lib/listen-address.js';
import type { LogRoot } from './observability/log.js';
import type { MetricsRegistry } from './observability/metrics.js';
import { moduleFactories } from './providers/modules.js';
import { RadiusModule } from './providers/radius/module.js';
import { startOutpost, type RunningOutpost } from './run.js';
import type { CoarseTimers } from './util/coarse-timers.js';

export interface EmbeddedDefaultDeps {
  logRoot: LogRoot;
  registry: MetricsRegistry;
  timers: CoarseTimers;
  /** Where the banner goes (default stdout). */
  print?: (text: string) => void;
}

export interface EmbeddedDefault {
  readonly core: EmbeddedCore;
  readonly outposts: readonly RunningOutpost[];
  refresh(): void;
  stop(): Promise<void>;
}

/** The package root (dist/src/demo.js -> ../../). */
const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

function parseCoreListen(value: string): ListenAddress {
  const address = parseListenAddress(value.trim());
  if (address === undefined) throw new ConfigError('AKO_EMBEDDED_CORE_LISTEN', `${JSON.stringify(value)} is not host:port`);
  return address;
}

/** Outposts of the demo directory: name, type and token (read from the file the core loaded). */
function demoOutposts(core: EmbeddedCore): { name: string; type: string; token: string }[] {
  return [...core.directory().outposts.values()].map((o) => ({ name: o.name, type: o.type, token: o.token }));
}

export async function startEmbeddedDefault(config: OutpostConfig, deps: EmbeddedDefaultDeps): Promise<EmbeddedDefault> {
  const print = deps.print ?? ((text: string) => process.stdout.write(text));
  const directoryPath = resolve(process.env.AKO_DEMO_DIRECTORY ?? join(packageRoot, 'examples', 'demo-directory.yaml'));
  const certsDir = resolve(process.env.AKO_CERTS_DIR ?? join(packageRoot, 'certs'));
  const listen = parseCoreListen(process.env.AKO_EMBEDDED_CORE_LISTEN ?? '127.0.0.1:9000');
  const coreLog = deps.logRoot.child('authentik.embedded-core');
  const core = await startEmbeddedCore({ directoryPath, certsDir, host: listen.host, port: listen.port, logger: coreLog });

  const factories = moduleFactories({ config, logRoot: deps.logRoot, registry: deps.registry, timers: deps.timers });
  const outposts: RunningOutpost[] = [];
  try {
    for (const outpost of demoOutposts(core)) {
      if (!(outpost.type in factories)) {
        coreLog.info({ outpost: outpost.name, type: outpost.type }, 'Demo outpost type not served by this build yet, skipped');
        continue;
      }
      const running = await startOutpost(
        { ...config, core: coreConnectionConfig(core.url, outpost.token, { insecure: false, timeoutMs: config.coreTimeoutMs }) },
        { logRoot: deps.logRoot, registry: deps.registry, timers: deps.timers, moduleFactories: factories },
      );
      outposts.push(running);
    }
  } catch (err) {
    await Promise.allSettled(outposts.map((o) => o.stop()));
    await core.stop();
    throw err;
  }
  print(banner(core, config, outposts, directoryPath));
  return {
    core,
    outposts,
    refresh: () => {
      for (const o of outposts) void o.refresh('signal');
    },
    stop: async () => {
      await Promise.allSettled(outposts.map((o) => o.stop()));
      await core.stop();
    },
  };
}

/** A URI clients on this machine use for a listener (a wildcard address is reached over loopback). */
function uri(scheme: string, a: ListenAddress, host?: string): string {
  return `${scheme}://${formatListenAddress({ host: host ?? connectHost(a.host), port: a.port })}`;
}

function banner(core: EmbeddedCore, config: OutpostConfig, outposts: readonly RunningOutpost[], directoryPath: string): string {
  const lines: string[] = [
    '',
    'ak-outpost demo: embedded authentik-compatible core and outposts on this machine',
    `  core API: ${core.url}api/v3/   (admin token: see ${directoryPath}, core.admin_token)`,
    `  demo users and passwords: ${directoryPath} (header)`,
    `  metrics: ${config.listen.metrics.map((a) => uri('http', a)).join(' ')}/metrics`,
    '',
  ];
  const types = new Set(outposts.map((o) => o.controller.state.outpost?.type));
  if (types.has('ldap')) {
    const ldap = config.listen.ldap[0];
    const ldaps = config.listen.ldaps[0];
    const base = 'DC=ldap,DC=goauthentik,DC=io';
    const bind = `-D 'cn=akadmin,ou=users,${base}' -w akadmin-demo`;
    const ca = join(core.pki.certsDir, 'ca.pem');
    lines.push('Try LDAP:');
    if (ldap !== undefined) {
      lines.push(`  ldapsearch -x -H ${uri('ldap', ldap)} ${bind} -b '${base}' '(objectClass=user)' cn mail memberOf`);
      lines.push(`  ldapwhoami -x -H ${uri('ldap', ldap)} -D 'cn=alice,ou=users,${base}' -w alice-demo`);
      lines.push(`  LDAPTLS_CACERT=${ca} ldapsearch -ZZ -x -H ${uri('ldap', ldap, 'localhost')} ${bind} -b '${base}' '(memberOf=cn=staff,ou=groups,dc=ldap,dc=goauthentik,dc=io)' cn`);
    }
    if (ldaps !== undefined) {
      lines.push(`  LDAPTLS_CACERT=${ca} ldapwhoami -x -H ${uri('ldaps', ldaps, 'localhost')} -D 'cn=bob,ou=users,${base}' -w bob-demo`);
    }
    lines.push('');
  }
  for (const outpost of outposts) {
    const radius = outpost.controller.module;
    if (!(radius instanceof RadiusModule)) continue;
    const auth = radius.boundSockets.find((b) => b.service === 'authentication');
    const provider = radius.providers[0];
    if (auth === undefined || provider === undefined) continue;
    const target = formatListenAddress({ host: connectHost(auth.address === '::' ? '' : auth.address), port: auth.port });
    lines.push('Try RADIUS (PAP; carol appends ";<TOTP code>" to her password):');
    lines.push(`  radtest alice alice-demo ${target} 0 ${provider.secret}`);
    if (provider.eapContext !== undefined) {
      // eapol_test reads its peer settings from a file: the recipe writes one, then runs EAP-TTLS/PAP as Wi-Fi would.
      const conf = `network={\\n key_mgmt=WPA-EAP\\n eap=TTLS\\n identity="alice"\\n password="alice-demo"\\n phase2="auth=PAP"\\n ca_cert="${join(core.pki.certsDir, 'ca.pem')}"\\n}\\n`;
      const host = connectHost(auth.address === '::' ? '' : auth.address);
      lines.push('Try EAP-TTLS/PAP (WPA-Enterprise) with eapol_test:');
      lines.push(`  printf '${conf}' > /tmp/ak-outpost-ttls.conf && eapol_test -c /tmp/ak-outpost-ttls.conf -a ${host} -p ${auth.port} -s ${provider.secret}`);
    }
    lines.push('');
  }
  lines.push('Stop with Ctrl-C.', '');
  return lines.join('\n');
}
