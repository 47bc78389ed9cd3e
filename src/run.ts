/**
 * One outpost, started: core client, controller, module. main.ts starts one for AUTHENTIK_HOST; the embedded
 * demo starts one per demo token in the same process, all sharing one log root, metrics registry and metrics
 * server (the shared metrics carry `outpost_name`).
 */
import type { CoreConnectionConfig, OutpostConfig } from './config/env.js';
import { createCoreClient } from './core-api/client.js';
import type { CoreApi } from './core-api/port.js';
import { ConfigError } from './errors.js';
import type { LogRoot } from './observability/log.js';
import { outpostMetrics, type MetricsRegistry } from './observability/metrics.js';
import type { CoarseTimers } from './util/coarse-timers.js';
import { AUTHENTIK_VERSION, USER_AGENT } from './version.js';
import { OutpostController, type ControllerOptions } from './outpost/controller.js';
import type { ModuleFactories, RefreshReason } from './outpost/module.js';
import { moduleFactories } from './providers/modules.js';
import type { BindShare } from './providers/ldap/bind-share.js';
import type { RadiusRouting } from './listeners/radius/routing.js';

export interface OutpostRunDeps {
  logRoot: LogRoot;
  registry: MetricsRegistry;
  timers: CoarseTimers;
  /** The core API; by default an HTTP client for config.core (closed again on stop). */
  api?: CoreApi;
  /** By default the registry in providers/modules.ts. */
  moduleFactories?: ModuleFactories;
  /** Cluster workers only: verified LDAP binds shared with the sibling workers. */
  bindShare?: BindShare;
  /** Cluster workers only: RADIUS requests routed to the worker holding their conversation. */
  radiusRouting?: RadiusRouting;
  /** Aborting it stops the outpost, also while start-up still retries the core. */
  signal?: AbortSignal;
  /** Controller tuning (tests, demo). */
  controller?: Partial<
    Pick<ControllerOptions, 'instanceUuid' | 'reloadOffsetMs' | 'startupRetryMs' | 'refreshIntervalMs' | 'stopTimeoutMs' | 'eventLinkTiming'>
  >;
}

export interface RunningOutpost {
  readonly controller: OutpostController;
  readonly api: CoreApi;
  refresh(reason?: RefreshReason): Promise<boolean>;
  stop(): Promise<void>;
}

/** Runs the start-up sequence; rejects when the outpost cannot run (everything it opened is closed again). */
export async function startOutpost(config: OutpostConfig, deps: OutpostRunDeps): Promise<RunningOutpost> {
  const core: CoreConnectionConfig | undefined = config.core;
  if (core === undefined) throw new ConfigError('AUTHENTIK_HOST', 'not set');
  const { logRoot, registry } = deps;
  const flowTiming = outpostMetrics(registry);
  let closeApi: (() => void) | undefined;
  let api = deps.api;
  if (api === undefined) {
    const client = createCoreClient({
      host: core.host,
      token: core.token,
      insecure: core.insecure,
      ...(core.proxy !== undefined ? { proxy: core.proxy } : {}),
      timeoutMs: core.timeoutMs,
      logger: logRoot.child('authentik.outpost.ak-api-client'),
      metrics: {
        flowGet: (stage, flow, seconds) => flowTiming.flowTimingGet.observe({ stage, flow }, seconds),
        flowPost: (stage, flow, seconds) => flowTiming.flowTimingPost.observe({ stage, flow }, seconds),
      },
    });
    api = client;
    closeApi = () => void client.close();
  }
  const controller = new OutpostController({
    api,
    core,
    logRoot,
    registry,
    moduleFactories:
      deps.moduleFactories ??
      moduleFactories({
        config,
        logRoot,
        registry,
        timers: deps.timers,
        ...(deps.bindShare !== undefined ? { bindShare: deps.bindShare } : {}),
        ...(deps.radiusRouting !== undefined ? { radiusRouting: deps.radiusRouting } : {}),
      }),
    version: AUTHENTIK_VERSION,
    buildHash: config.buildHash,
    userAgent: USER_AGENT,
    ...deps.controller,
  });
  const stop = async (): Promise<void> => {
    await controller.stop();
    closeApi?.();
  };
  const onAbort = () => void stop();
  deps.signal?.addEventListener('abort', onAbort, { once: true });
  if (deps.signal?.aborted) onAbort();
  try {
    await controller.start();
  } catch (err) {
    deps.signal?.removeEventListener('abort', onAbort);
    closeApi?.();
    throw err;
  }
  const startedApi = api;
  return {
    controller,
    api: startedApi,
    refresh: (reason = 'manual') => controller.refresh(reason),
    stop: async () => {
      deps.signal?.removeEventListener('abort', onAbort);
      await stop();
    },
  };
}
