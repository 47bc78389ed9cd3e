#!/usr/bin/env node
/**
 * Entry point, and the only place that calls process.exit.
 *   ak-outpost               run (AUTHENTIK_HOST set: outpost; unset: embedded default mode)
 *   ak-outpost healthcheck   exit 0 when the local ping answers below 400, else 1
 *   ak-outpost --version     print the full version
 */
import { once } from 'node:events';
import { loadConfig, type OutpostConfig } from './config/env.js';
import { CONTROL_LIMITS, METRICS_LIMITS } from './config/limits.js';
import { startEmbeddedDefault } from './demo.js';
import { ConfigError } from './errors.js';
import { runHealthcheck } from './observability/healthcheck.js';
import { LogRoot } from './observability/log.js';
import { MetricsRegistry, registerProcessMetrics } from './observability/metrics.js';
import { startMetricsServer } from './observability/server.js';
import { startOutpost } from './outpost/run.js';
import { CoarseTimers } from './util/coarse-timers.js';
import { fullVersion } from './version.js';

const HELP = `ak-outpost: authentik-compatible LDAP and RADIUS outpost

Usage: ak-outpost [healthcheck | --version | --help]

Environment:
  AUTHENTIK_HOST       URL to connect to (format "http://authentik.company"); unset: embedded default mode
  AUTHENTIK_TOKEN      Token to authenticate with
  AUTHENTIK_INSECURE   Skip SSL Certificate verification
`;

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === '--version' || command === '-v') {
    process.stdout.write(`${fullVersion()}\n`);
    return 0;
  }
  if (command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  if ((command !== undefined && command !== 'healthcheck') || rest.length > 0) {
    process.stderr.write(`unknown arguments: ${argv.join(' ')}\n\n${HELP}`);
    return 2;
  }
  let config: OutpostConfig;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 1;
    }
    throw err;
  }
  if (command === 'healthcheck') return runHealthcheck(config);
  return run(config);
}

async function run(config: OutpostConfig): Promise<number> {
  const logRoot = new LogRoot({ level: config.logLevel });
  const log = logRoot.child('authentik.outpost');
  process.on('unhandledRejection', (reason) => {
    log.fatal({ err: reason instanceof Error ? reason.message : String(reason) }, 'unhandled rejection');
    void logRoot.flush().then(() => process.exit(1));
  });

  const registry = new MetricsRegistry();
  const stopProcessMetrics = registerProcessMetrics(registry);
  const timers = new CoarseTimers({ resolutionMs: METRICS_LIMITS.coarseClockResolutionMs });
  let ready = false;
  const metricsServer = await startMetricsServer({
    addresses: config.listen.metrics,
    socketPath: config.metricsSocketPath,
    registry,
    logger: logRoot.child('authentik.outpost.metrics'),
    isReady: () => ready,
  });

  const shutdown = new AbortController();
  let refresh: (() => void) | undefined;
  const onStopSignal = (signal: NodeJS.Signals): void => {
    if (shutdown.signal.aborted) {
      log.warn({ signal }, 'second stop signal, exiting immediately');
      void logRoot.flush().then(() => process.exit(1));
      return;
    }
    log.info({ signal }, 'shutting down');
    shutdown.abort();
  };
  process.on('SIGTERM', onStopSignal);
  process.on('SIGINT', onStopSignal);
  // Installing a listener also keeps SIGUSR1 from opening the inspector.
  process.on('SIGUSR1', () => {
    log.info('SIGUSR1 received, refreshing');
    refresh?.();
  });

  const cleanup = async (): Promise<void> => {
    await metricsServer.close();
    stopProcessMetrics();
    timers.close();
    await logRoot.flush();
  };

  let running: { stop(): Promise<void>; refresh?(): unknown };
  try {
    if (config.core !== undefined) {
      const outpost = await startOutpost(config, { logRoot, registry, timers, signal: shutdown.signal });
      refresh = () => void outpost.refresh('signal');
      running = outpost;
    } else {
      const embedded: { stop(): Promise<void>; refresh?(): unknown } = await startEmbeddedDefault(config, { logRoot, registry, timers });
      refresh = () => void embedded.refresh?.();
      running = embedded;
    }
  } catch (err) {
    if (shutdown.signal.aborted) {
      await cleanup();
      return 0;
    }
    log.error({ err: err instanceof Error ? err.message : String(err) }, 'failed to start');
    await cleanup();
    return 1;
  }
  ready = true;

  if (!shutdown.signal.aborted) await once(shutdown.signal, 'abort');
  ready = false;
  // The controller bounds each part of its stop; this is the backstop for everything together.
  const stopped = await Promise.race([
    running.stop().then(() => true, () => false),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), CONTROL_LIMITS.stopTimeoutMs * 2).unref()),
  ]);
  if (!stopped) log.warn('stop did not finish cleanly');
  await cleanup();
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
