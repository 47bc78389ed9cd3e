/**
 * A whole system on loopback for end-to-end tests: the embedded core on an ephemeral port and an outpost
 * started against it over HTTP and WebSocket (exactly like against a remote core), its LDAP and LDAPS listeners
 * (or, with the RADIUS outpost's token, its RADIUS sockets) on ephemeral ports. Logs are captured for assertions and secret scans.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type OutpostConfig } from '../../src/config/env.js';
import { startEmbeddedCore, type EmbeddedCore } from '../../src/embedded-core/core.js';
import type { DirectoryFile } from '../../src/embedded-core/directory/types.js';
import { MetricsRegistry } from '../../src/observability/metrics.js';
import { moduleFactories } from '../../src/providers/modules.js';
import { startOutpost, type RunningOutpost } from '../../src/run.js';
import { LdapModule } from '../../src/providers/ldap/module.js';
import { RadiusModule } from '../../src/providers/radius/module.js';
import { CoarseTimers } from '../../src/util/coarse-timers.js';
import { LDAP_OUTPOST_TOKEN, testDirectory, type TestDirectoryOptions } from './directories.js';
import { FaultProxy } from './fault-proxy.js';
import { LogCapture } from './log-capture.js';

export interface StackOptions extends TestDirectoryOptions {
  /** A whole directory instead of testDirectory(options). */
  directory?: DirectoryFile;
  /** Outpost token (default: the test LDAP outpost's). */
  token?: string;
  /** Extra outpost environment (AUTHENTIK_LDAP__REQUIRE_TLS, ...). */
  env?: Record<string, string>;
  /** Fast event link for tests (HELLO every 200 ms, reconnect from 100 ms). */
  fastLink?: boolean;
  /** AUTHENTIK_HOST from the core's URL, e.g. a fault-injecting proxy in front of it (default: the URL itself). */
  hostFor?: (coreUrl: string) => Promise<string>;
  /** Level of the captured log (default debug). */
  logLevel?: 'trace' | 'debug' | 'info';
}

export interface Stack {
  core: EmbeddedCore;
  outpost: RunningOutpost;
  config: OutpostConfig;
  registry: MetricsRegistry;
  logs: LogCapture;
  certsDir: string;
  /** ldap://127.0.0.1:<port> */
  ldapUrl: string;
  /** ldaps://localhost:<port> (the certificates name localhost) */
  ldapsUrl: string;
  ldapPort: number;
  ldapsPort: number;
  /** CA of the embedded core (LDAPTLS_CACERT). */
  caPath: string;
  ldapModule(): LdapModule;
  /** RADIUS outpost only: the module, and its authentication and accounting ports. */
  radiusModule(): RadiusModule;
  radiusPort: number;
  radiusAccountingPort: number;
  stop(): Promise<void>;
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const logs = new LogCapture(options.logLevel ?? 'debug');
  const certsDir = mkdtempSync(join(tmpdir(), 'ako-stack-'));
  const core = await startEmbeddedCore({
    directory: options.directory ?? (await testDirectory(options)),
    certsDir,
    logger: logs.root.child('authentik.embedded-core'),
  });
  const config = loadConfig({
    AUTHENTIK_HOST: options.hostFor === undefined ? core.url : await options.hostFor(core.url),
    AUTHENTIK_TOKEN: options.token ?? LDAP_OUTPOST_TOKEN,
    AUTHENTIK_LISTEN__LDAP: '127.0.0.1:0',
    AUTHENTIK_LISTEN__LDAPS: '127.0.0.1:0',
    AUTHENTIK_LISTEN__RADIUS: '127.0.0.1:0',
    AUTHENTIK_LISTEN__RADIUS_ACCOUNTING: '127.0.0.1:0',
    AUTHENTIK_LISTEN__METRICS: '127.0.0.1:0',
    AUTHENTIK_CORE_TIMEOUT_MS: '5000',
    ...options.env,
  });
  const registry = new MetricsRegistry();
  const timers = new CoarseTimers({ resolutionMs: 50 });
  let outpost: RunningOutpost;
  try {
    outpost = await startOutpost(config, {
      logRoot: logs.root,
      registry,
      timers,
      moduleFactories: moduleFactories({ config, logRoot: logs.root, registry, timers }),
      controller: {
        reloadOffsetMs: 0,
        ...(options.fastLink === true
          ? { eventLinkTiming: { helloIntervalMs: 200, backoffInitialMs: 100, backoffMaxMs: 400, stableAfterMs: 1000 } }
          : {}),
      },
    });
  } catch (err) {
    timers.close();
    await core.stop();
    rmSync(certsDir, { recursive: true, force: true });
    throw err;
  }
  const ldapModule = (): LdapModule => {
    const m = outpost.controller.module;
    if (!(m instanceof LdapModule)) throw new Error('the outpost does not run the LDAP module');
    return m;
  };
  const radiusModule = (): RadiusModule => {
    const m = outpost.controller.module;
    if (!(m instanceof RadiusModule)) throw new Error('the outpost does not run the RADIUS module');
    return m;
  };
  const ldap = outpost.controller.module instanceof LdapModule ? ldapModule().boundAddresses : [];
  const ldapPort = ldap.find((b) => b.mode === 'ldap')?.port ?? 0;
  const ldapsPort = ldap.find((b) => b.mode === 'ldaps')?.port ?? 0;
  const radius = outpost.controller.module instanceof RadiusModule ? radiusModule().boundSockets : [];
  const radiusPort = radius.find((b) => b.service === 'authentication')?.port ?? 0;
  const radiusAccountingPort = radius.find((b) => b.service === 'accounting')?.port ?? 0;
  return {
    core,
    outpost,
    config,
    registry,
    logs,
    certsDir,
    ldapUrl: `ldap://127.0.0.1:${ldapPort}`,
    ldapsUrl: `ldaps://localhost:${ldapsPort}`,
    ldapPort,
    ldapsPort,
    caPath: join(certsDir, 'ca.pem'),
    ldapModule,
    radiusModule,
    radiusPort,
    radiusAccountingPort,
    stop: async () => {
      await outpost.stop();
      timers.close();
      await core.stop();
      rmSync(certsDir, { recursive: true, force: true });
    },
  };
}

/** A stack whose outpost reaches the core through a fault proxy (test/helpers/fault-proxy.ts); stop() ends both. */
export async function startStackBehindProxy(options: Omit<StackOptions, 'hostFor'> = {}): Promise<{ stack: Stack; proxy: FaultProxy; stop: () => Promise<void> }> {
  let proxy: FaultProxy | undefined;
  const stack = await startStack({
    ...options,
    hostFor: async (url) => {
      proxy = await FaultProxy.start(url);
      return proxy.url;
    },
  });
  if (proxy === undefined) throw new Error('the proxy did not start');
  const started = proxy;
  return {
    stack,
    proxy: started,
    stop: async () => {
      await stack.stop();
      await started.close();
    },
  };
}
