/**
 * How a listener module (LDAP, RADIUS) plugs into the outpost controller. The controller owns the core
 * connection, refresh scheduling and the event link; a module owns its providers and its sockets.
 */
import type { CoreApi } from '../core-api/port.js';
import type { OutpostInfo, RootConfigInfo } from '../core-api/model.js';
import type { LogRoot, Logger } from '../observability/log.js';
import type { MetricsRegistry, OutpostMetrics } from '../observability/metrics.js';
import type { CertificateStore } from './cert-store.js';

export type OutpostModuleType = 'ldap' | 'radius';

export type RefreshReason = 'startup' | 'interval' | 'trigger' | 'signal' | 'manual';

export interface RefreshContext {
  api: CoreApi;
  outpost: OutpostInfo;
  rootConfig: RootConfigInfo;
  reason: RefreshReason;
}

export interface OutpostModule {
  readonly type: OutpostModuleType;
  /** Fetch this module's providers and swap them in; throw to keep the previous state. */
  refresh(ctx: RefreshContext): Promise<void>;
  /** Open listeners (after the first refresh). */
  start(): Promise<void>;
  /** Close listeners, drain. Also called without start() when start-up fails after the module was created. */
  stop(): Promise<void>;
  onSessionEnd?(sessionId: string): void;
  onProviderSpecific?(args: Record<string, unknown>): void;
}

/** What the controller hands a factory when it creates the module for its outpost. */
export interface ModuleContext {
  api: CoreApi;
  /** The outpost as first listed (later versions arrive through RefreshContext). */
  outpost: OutpostInfo;
  /** `authentik.outpost.<type>`; name further loggers through logRoot.child(). */
  logger: Logger;
  logRoot: LogRoot;
  registry: MetricsRegistry;
  metrics: OutpostMetrics;
  certificates: CertificateStore;
  /** Random per process (per controller), the `uuid` label of the outpost metrics. */
  instanceUuid: string;
}

export type ModuleFactory = (ctx: ModuleContext) => OutpostModule;
export type ModuleFactories = Partial<Record<OutpostModuleType, ModuleFactory>>;
