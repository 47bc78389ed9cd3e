#!/usr/bin/env node
/**
 * Entry point, and the only place that calls process.exit.
 *   ak-outpost               run (AUTHENTIK_HOST set: outpost; unset: embedded default mode)
 *   ak-outpost healthcheck   exit 0 when the local ping answers below 400, else 1
 *   ak-outpost --version     print the full version
 *   ak-outpost --help        usage; an unknown option or command is one line on stderr and exit 2
 */
import { once } from 'node:events';
import { isIP } from 'node:net';
import { loadConfig, type OutpostConfig } from './config/env.js';
import { CONTROL_LIMITS, METRICS_LIMITS } from './config/limits.js';
import { startEmbeddedDefault } from './demo.js';
import { ConfigError } from './errors.js';
import { parseCommandLine, USAGE_EXIT_CODE, UsageError, usageErrorLine } from './lib/cli.js';
import { runHealthcheck } from './observability/healthcheck.js';
import { LogRoot, type Logger } from './observability/log.js';
import { MetricsRegistry } from './observability/metrics.js';
import { startMetricsServer } from './observability/server.js';
import { attachWorkerChannel, cluster, takeWorkerBindKey, takeWorkerLinkKey, WorkerSupervisor, workerSlot, type WorkerChannel } from './outpost/cluster.js';
import { parseSharedBind, type BindShare } from './providers/ldap/bind-share.js';
import { parseForwardedDatagram, type ForwardedDatagram, type RadiusRouting } from './listeners/radius/routing.js';
import { RadiusWorkerLink } from './listeners/radius/worker-link.js';
import { startOutpost } from './run.js';
import { CoarseTimers } from './util/coarse-timers.js';
import { fullVersion } from './version.js';

const PROGRAM = 'ak-outpost';

const HELP = `ak-outpost: authentik-compatible LDAP and RADIUS outpost

Usage: ak-outpost [healthcheck] [--version] [--help]

  healthcheck     exit 0 when the local metrics listener answers the ping, else 1
  -v, --version   print the full version
  -h, --help      print this help

Environment:
  AUTHENTIK_HOST       URL to connect to (format "http://authentik.company"); unset: embedded default mode
  AUTHENTIK_TOKEN      Token to authenticate with
  AUTHENTIK_INSECURE   Skip SSL Certificate verification
`;

type Command = 'run' | 'healthcheck' | 'version' | 'help';

/** Throws UsageError for an unknown option or command. */
function parseCommand(argv: string[]): Command {
  const { values, positionals } = parseCommandLine({
    args: argv,
    allowPositionals: true,
    options: {
      version: { type: 'boolean', short: 'v', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return 'help';
  if (values.version) return 'version';
  const [command, extra] = positionals;
  if (extra !== undefined) throw new UsageError(`Unexpected argument '${extra}'`);
  if (command === undefined) return 'run';
  if (command === 'healthcheck' || command === 'help') return command;
  throw new UsageError(`Unknown command '${command}'`);
}

async function main(argv: string[]): Promise<number> {
  let command: Command;
  try {
    command = parseCommand(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(usageErrorLine(PROGRAM, err));
    return USAGE_EXIT_CODE;
  }
  if (command === 'version') {
    process.stdout.write(`${fullVersion()}\n`);
    return 0;
  }
  if (command === 'help') {
    process.stdout.write(HELP);
    return 0;
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
  if (config.workers > 1 && config.core !== undefined && cluster.isPrimary) return runPrimary(config);
  // A cluster worker: the primary serves metrics and health and sends the stop signal.
  const slot = workerSlot();
  const logRoot = new LogRoot({ level: config.logLevel, ...(slot !== undefined ? { fields: { worker: slot } } : {}) });
  const log = logRoot.child('authentik.outpost');
  process.on('unhandledRejection', (reason) => {
    log.fatal({ err: reason instanceof Error ? reason.message : String(reason) }, 'unhandled rejection');
    void logRoot.flush().then(() => process.exit(1));
  });

  // A worker's samples carry its slot, so the primary's merged /metrics keeps one series per worker.
  const registry = new MetricsRegistry({ processMetrics: true, ...(slot !== undefined ? { defaultLabels: { worker: String(slot) } } : {}) });
  const timers = new CoarseTimers({ resolutionMs: METRICS_LIMITS.coarseClockResolutionMs });
  let ready = false;
  const metricsServer =
    slot !== undefined
      ? undefined
      : await startMetricsServer({
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
  // A worker leaves Ctrl-C (sent to the whole process group) to the primary, which stops it with SIGTERM.
  process.on('SIGINT', slot !== undefined ? () => {} : onStopSignal);
  // Installing a listener also keeps SIGUSR1 from opening the inspector.
  process.on('SIGUSR1', () => {
    log.info('SIGUSR1 received, refreshing');
    refresh?.();
  });
  const channel =
    slot === undefined
      ? undefined
      : attachWorkerChannel({
          metrics: () => registry.families(),
          refresh: () => refresh?.(),
          orphaned: () => {
            if (shutdown.signal.aborted) return;
            log.warn('the primary process is gone, stopping');
            shutdown.abort();
          },
        });

  let radiusLink: RadiusWorkerLink | undefined;
  const cleanup = async (): Promise<void> => {
    radiusLink?.close();
    channel?.detach();
    await metricsServer?.close();
    timers.close();
    await logRoot.flush();
  };

  let running: { stop(): Promise<void>; refresh?(): unknown };
  try {
    if (config.core !== undefined) {
      const bindShare = channel === undefined ? undefined : workerBindShare(channel);
      let radiusRouting: RadiusRouting | undefined;
      if (channel !== undefined && slot !== undefined) {
        const routing = await workerRadiusRouting(channel, slot, config.workers, logRoot.child('authentik.outpost.radius'));
        radiusRouting = routing.routing;
        radiusLink = routing.link;
      }
      const outpost = await startOutpost(config, {
        logRoot,
        registry,
        timers,
        signal: shutdown.signal,
        ...(bindShare !== undefined ? { bindShare } : {}),
        ...(radiusRouting !== undefined ? { radiusRouting } : {}),
      });
      refresh = () => void outpost.refresh('signal');
      running = outpost;
    } else {
      if (config.workers > 1) log.warn({ workers: config.workers }, 'AUTHENTIK_WORKERS is ignored in the embedded demo mode');
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
  channel?.ready();

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

/** The sibling workers' verified binds, over the channel to the primary, with the key the primary handed out. */
function workerBindShare(channel: WorkerChannel): BindShare | undefined {
  const key = takeWorkerBindKey();
  if (key === undefined) return undefined;
  const topic = 'ldap.bind';
  return {
    key,
    publish: (bind) => channel.peers.publish(topic, bind),
    subscribe: (onBind) =>
      channel.peers.subscribe(topic, (payload) => {
        const bind = parseSharedBind(payload);
        if (bind !== undefined) onBind(bind);
      }),
  };
}

/**
 * RADIUS datagrams routed to the worker owning them (over the direct link when it is up, else the channel to the
 * primary), and Message-Authenticator clients (over the channel).
 */
async function workerRadiusRouting(
  channel: WorkerChannel,
  slot: number,
  workers: number,
  logger: Logger,
): Promise<{ routing: RadiusRouting; link: RadiusWorkerLink | undefined }> {
  const topic = 'radius.datagram';
  const maTopic = 'radius.ma-client';
  const receivers = new Set<(datagram: ForwardedDatagram) => void>();
  const key = takeWorkerLinkKey();
  const link =
    key === undefined
      ? undefined
      : await RadiusWorkerLink.open({ slot, key, logger, onDatagram: (datagram) => receivers.forEach((receive) => receive(datagram)) });
  const routing: RadiusRouting = {
    slot,
    workers,
    forward: (owner, datagram) => {
      if (link?.send(owner, datagram) === true) return 'link';
      return channel.peers.sendTo(owner, topic, datagram) ? 'channel' : undefined;
    },
    subscribe: (onDatagram) => {
      receivers.add(onDatagram);
      const unsubscribe = channel.peers.subscribe(topic, (payload) => {
        const datagram = parseForwardedDatagram(payload);
        if (datagram !== undefined) onDatagram(datagram);
      });
      return () => {
        receivers.delete(onDatagram);
        unsubscribe();
      };
    },
    announceMaClient: (address) => channel.peers.publish(maTopic, address),
    subscribeMaClients: (onAddress) =>
      channel.peers.subscribe(maTopic, (payload) => {
        if (typeof payload === 'string' && isIP(payload) !== 0) onAddress(payload);
      }),
  };
  return { routing, link };
}

/** AUTHENTIK_WORKERS > 1: the primary forks the workers and serves metrics and health for all of them. */
async function runPrimary(config: OutpostConfig): Promise<number> {
  const logRoot = new LogRoot({ level: config.logLevel });
  const log = logRoot.child('authentik.outpost');
  const registry = new MetricsRegistry({ processMetrics: true });
  const relayDrops = registry.counter({
    name: 'ak_outpost_worker_messages_dropped_total',
    help: 'Messages for one worker (RADIUS datagrams routed by State) the supervisor dropped: too many in flight',
  });
  const supervisor = new WorkerSupervisor({
    workers: config.workers,
    logger: logRoot.child('authentik.outpost.cluster'),
    onRelayDrop: () => relayDrops.inc({}),
  });
  const metricsServer = await startMetricsServer({
    addresses: config.listen.metrics,
    socketPath: config.metricsSocketPath,
    registry,
    exposition: async () => supervisor.exposition(await registry.families()),
    logger: logRoot.child('authentik.outpost.metrics'),
    isReady: () => supervisor.ready,
  });
  const shutdown = new AbortController();
  const onStopSignal = (signal: NodeJS.Signals): void => {
    if (shutdown.signal.aborted) return;
    log.info({ signal }, 'shutting down');
    shutdown.abort();
  };
  process.on('SIGTERM', onStopSignal);
  process.on('SIGINT', onStopSignal);
  process.on('SIGUSR1', () => {
    log.info('SIGUSR1 received, refreshing every worker');
    supervisor.refresh();
  });
  log.info({ workers: config.workers }, 'starting worker processes');
  let code = 0;
  const started = supervisor.start().then(
    () => log.info({ workers: config.workers }, 'all workers serving'),
    (err: unknown) => {
      if (shutdown.signal.aborted) return; // stopped while starting: not a failure
      log.error({ err: err instanceof Error ? err.message : String(err) }, 'failed to start');
      code = 1;
      shutdown.abort();
    },
  );
  if (!shutdown.signal.aborted) await once(shutdown.signal, 'abort');
  await supervisor.stop();
  await started;
  await metricsServer.close();
  await logRoot.flush();
  return code;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
