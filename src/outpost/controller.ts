/**
 * The outpost controller (reference §1.5, §1.7, §1.8): finds its outpost, opens the event link, runs the
 * module's first refresh, then keeps the configuration current (interval, TRIGGER_UPDATE, SIGUSR1). A failed
 * refresh logs and keeps the last good state; only the start-up sequence may fail the process.
 */
import { randomInt, randomUUID } from 'node:crypto';
import type { CoreConnectionConfig } from '../config/env.js';
import { CONTROL_LIMITS } from '../config/limits.js';
import type { OutpostInfo, RootConfigInfo } from '../core-api/model.js';
import type { CoreApi } from '../core-api/port.js';
import { CoreError, OutpostError } from '../errors.js';
import { configLogLevel } from '../lib/log-level.js';
import type { LogRoot, Logger } from '../observability/log.js';
import { outpostMetrics, type MetricsRegistry, type OutpostMetrics } from '../observability/metrics.js';
import { delay } from '../util/backoff.js';
import { CertificateStore } from './cert-store.js';
import { buildHelloArgs, EventLink, type EventLinkTiming } from './events.js';
import type { ModuleFactories, OutpostModule, OutpostModuleType, RefreshReason } from './module.js';

export const NO_OUTPOST_MESSAGE =
  'No outposts found with given token, ensure the given token corresponds to an authentik Outpost';
export const EMBEDDED_OUTPOST_MANAGED = 'goauthentik.io/outposts/embedded';

export interface ControllerOptions {
  api: CoreApi;
  /** Where the event link connects (same host and token as the API client). */
  core: Pick<CoreConnectionConfig, 'baseUrl' | 'query' | 'socketPath' | 'token' | 'insecure' | 'proxy'>;
  logRoot: LogRoot;
  registry: MetricsRegistry;
  moduleFactories: ModuleFactories;
  /** Plain VERSION for HELLO and metrics. */
  version: string;
  /** GIT_BUILD_HASH, '' when none. */
  buildHash: string;
  /** goauthentik.io/outpost/<full version> */
  userAgent: string;

  // Injectable for tests; production uses the defaults.
  instanceUuid?: string;
  /** Delay before a TRIGGER_UPDATE refresh; default random whole seconds 0-9. */
  reloadOffsetMs?: number;
  startupRetryMs?: number;
  /** Replaces the outpost's refresh_interval_s (tests). */
  refreshIntervalMs?: number;
  stopTimeoutMs?: number;
  eventLinkTiming?: Partial<EventLinkTiming>;
}

export interface ControllerState {
  readonly started: boolean;
  readonly connected: boolean;
  readonly lastUpdate: Date | undefined;
  readonly outpost: OutpostInfo | undefined;
  readonly rootConfig: RootConfigInfo | undefined;
  readonly instanceUuid: string;
}

export class OutpostController {
  readonly instanceUuid: string;
  readonly reloadOffsetMs: number;
  readonly #o: ControllerOptions;
  readonly #log: Logger;
  readonly #metrics: OutpostMetrics;
  readonly #stop = new AbortController();
  #outpost: OutpostInfo | undefined;
  #rootConfig: RootConfigInfo | undefined;
  #module: OutpostModule | undefined;
  #link: EventLink | undefined;
  #certificates: CertificateStore | undefined;
  #started = false;
  #stopped = false;
  #connected = false;
  #hadConnection = false;
  #lastUpdate: Date | undefined;
  #loggedStart = false;
  #intervalTimer: NodeJS.Timeout | undefined;
  #triggerTimer: NodeJS.Timeout | undefined;
  #running: Promise<boolean> | undefined;
  #queued: Promise<boolean> | undefined;
  #teardownDone: Promise<void> | undefined;

  constructor(options: ControllerOptions) {
    this.#o = options;
    this.instanceUuid = options.instanceUuid ?? randomUUID();
    this.reloadOffsetMs = options.reloadOffsetMs ?? randomInt(0, CONTROL_LIMITS.reloadOffsetMaxS + 1) * 1000;
    this.#log = options.logRoot.child('authentik.outpost.ak-api-controller');
    this.#metrics = outpostMetrics(options.registry);
  }

  /** The listener module serving this outpost (after start). */
  get module(): OutpostModule | undefined {
    return this.#module;
  }

  get state(): ControllerState {
    return {
      started: this.#started,
      connected: this.#connected,
      lastUpdate: this.#lastUpdate,
      outpost: this.#outpost,
      rootConfig: this.#rootConfig,
      instanceUuid: this.instanceUuid,
    };
  }

  /**
   * The start-up sequence. Resolves once the module serves; rejects when the outpost cannot run (no outpost,
   * unsupported type, root config or first refresh failing, stop() called meanwhile).
   */
  async start(): Promise<void> {
    if (this.#started || this.#stopped) throw new OutpostError('AKO_CONTROLLER_STATE', 'controller already started or stopped');
    try {
      await this.#startup();
    } catch (err) {
      await this.#teardown();
      throw err;
    }
  }

  async #startup(): Promise<void> {
    const signal = this.#stop.signal;
    const outpost = await this.#fetchOutpostWithRetry(signal);
    const type = outpost.type;
    const factory = isModuleType(type) ? this.#o.moduleFactories[type] : undefined;
    if (factory === undefined) {
      const supported = Object.keys(this.#o.moduleFactories).join(', ') || 'none';
      throw new OutpostError('AKO_OUTPOST_TYPE', `outpost "${outpost.name}" has type "${type}", which this outpost does not run (supported: ${supported})`);
    }
    let rootConfig: RootConfigInfo;
    try {
      rootConfig = await this.#o.api.rootConfig();
    } catch (err) {
      this.#log.error({ err: describe(err) }, 'failed to fetch global configuration');
      throw err;
    }
    this.#checkStopped();
    this.#outpost = outpost;
    this.#rootConfig = rootConfig;
    this.#applyGlobalSetup(outpost);

    this.#link = new EventLink({
      core: this.#o.core,
      outpostPk: outpost.pk,
      instanceUuid: this.instanceUuid,
      userAgent: this.#o.userAgent,
      helloArgs: () => buildHelloArgs({ version: this.#o.version, buildHash: this.#o.buildHash, instanceUuid: this.instanceUuid }),
      logger: this.#o.logRoot.child('authentik.outpost.events'),
      handlers: {
        triggerUpdate: () => this.#onTrigger(),
        providerSpecific: (args) => this.#module?.onProviderSpecific?.(args),
        sessionEnd: (sessionId) => this.#module?.onSessionEnd?.(sessionId),
      },
      onConnectionChange: (up) => this.#onConnectionChange(up),
      ...(this.#o.eventLinkTiming !== undefined ? { timing: this.#o.eventLinkTiming } : {}),
    });
    this.#onConnectionChange(false);
    this.#link.start();

    this.#certificates = new CertificateStore(this.#o.api, this.#o.logRoot.child('authentik.outpost.cryptostore'));
    this.#module = factory({
      api: this.#o.api,
      outpost,
      logger: this.#o.logRoot.child(`authentik.outpost.${type}`),
      logRoot: this.#o.logRoot,
      registry: this.#o.registry,
      metrics: this.#metrics,
      certificates: this.#certificates,
      instanceUuid: this.instanceUuid,
    });
    const first = this.#module.refresh({ api: this.#o.api, outpost, rootConfig, reason: 'startup' });
    // Triggers arriving during the first refresh queue behind it instead of running beside it.
    const firstDone: Promise<boolean> = first
      .then(() => true, () => false)
      .finally(() => {
        if (this.#running === firstDone) this.#running = undefined;
      });
    this.#running = firstDone;
    try {
      await first;
    } catch (err) {
      this.#log.error({ err: describe(err) }, 'failed to load providers');
      throw err;
    }
    this.#checkStopped();
    this.#markUpdated();
    this.#metrics.info.set(this.#infoLabels(), 1);
    await this.#module.start();
    this.#checkStopped();
    this.#started = true;
    this.#scheduleInterval();
  }

  /**
   * Re-reads the outpost and refreshes the module. Never rejects; resolves true when the refresh succeeded.
   * At most one refresh runs and one waits: callers arriving meanwhile share the waiting one.
   */
  refresh(reason: RefreshReason = 'manual'): Promise<boolean> {
    if (this.#stopped || this.#module === undefined) return Promise.resolve(false);
    const running = this.#running;
    if (running === undefined) return this.#launch(reason);
    this.#queued ??= running.then(() => {
      this.#queued = undefined;
      return this.#running ?? this.#launch(reason);
    });
    return this.#queued;
  }

  #launch(reason: RefreshReason): Promise<boolean> {
    const p: Promise<boolean> = this.#runRefresh(reason).finally(() => {
      if (this.#running === p) this.#running = undefined;
    });
    this.#running = p;
    return p;
  }

  /** Stops timers, closes the event link and stops the module, each bounded by the stop timeout. */
  async stop(): Promise<void> {
    const first = this.#teardownDone === undefined;
    await this.#teardown();
    if (first && this.#outpost !== undefined) this.#log.info('outpost stopped');
  }

  /** Idempotent: stop() racing a failing start() stops the module once. */
  #teardown(): Promise<void> {
    this.#teardownDone ??= this.#doTeardown();
    return this.#teardownDone;
  }

  async #doTeardown(): Promise<void> {
    this.#stopped = true;
    this.#stop.abort();
    if (this.#intervalTimer !== undefined) clearTimeout(this.#intervalTimer);
    if (this.#triggerTimer !== undefined) clearTimeout(this.#triggerTimer);
    this.#intervalTimer = undefined;
    this.#triggerTimer = undefined;
    const timeoutMs = this.#o.stopTimeoutMs ?? CONTROL_LIMITS.stopTimeoutMs;
    const link = this.#link;
    const module = this.#module;
    await Promise.all([
      link === undefined ? undefined : withTimeout(link.close(), timeoutMs, () => this.#log.warn('event link did not close in time')),
      module === undefined
        ? undefined
        : withTimeout(
            Promise.resolve()
              .then(() => module.stop())
              .catch((err: unknown) => this.#log.warn({ err: describe(err) }, 'module failed to stop cleanly')),
            timeoutMs,
            () => this.#log.warn({ timeoutMs }, 'module did not stop in time'),
          ),
    ]);
    this.#started = false;
  }

  async #fetchOutpostWithRetry(signal: AbortSignal): Promise<OutpostInfo> {
    const retryMs = this.#o.startupRetryMs ?? CONTROL_LIMITS.startupRetryMs;
    for (;;) {
      this.#checkStopped();
      let outposts: OutpostInfo[];
      try {
        outposts = await this.#o.api.listOutposts();
      } catch (err) {
        if (!(err instanceof CoreError)) throw err;
        this.#log.warn({ err: describe(err), kind: err.kind, status: err.status }, 'Failed to fetch outpost configuration, retrying in 3 seconds');
        if (!(await delay(retryMs, signal))) this.#checkStopped();
        continue;
      }
      const first = outposts[0];
      if (first === undefined) {
        this.#log.error(NO_OUTPOST_MESSAGE);
        throw new OutpostError('AKO_NO_OUTPOST', NO_OUTPOST_MESSAGE);
      }
      return first;
    }
  }

  async #runRefresh(reason: RefreshReason): Promise<boolean> {
    const module = this.#module;
    const previous = this.#outpost;
    if (this.#stopped || module === undefined || previous === undefined) return false;
    const log = this.#log.child({ reason });
    try {
      const outposts = await this.#o.api.listOutposts();
      const outpost = outposts[0];
      if (outpost === undefined) {
        log.warn(NO_OUTPOST_MESSAGE);
        return false;
      }
      if (outpost.pk !== previous.pk || outpost.type !== previous.type) {
        log.error({ pk: outpost.pk, type: outpost.type }, 'token now lists another outpost; keeping the current one');
        return false;
      }
      let rootConfig = this.#rootConfig;
      try {
        rootConfig = await this.#o.api.rootConfig();
      } catch (err) {
        log.debug({ err: describe(err) }, 'failed to refresh global configuration, keeping previous');
      }
      if (this.#stopped || rootConfig === undefined) return false;
      this.#outpost = outpost;
      this.#rootConfig = rootConfig;
      this.#applyGlobalSetup(outpost);
      await module.refresh({ api: this.#o.api, outpost, rootConfig, reason });
      if (this.#stopped) return false;
      this.#markUpdated();
      log.debug('refreshed outpost configuration');
      return true;
    } catch (err) {
      log.warn({ err: describe(err) }, 'failed to refresh outpost configuration, keeping previous');
      return false;
    }
  }

  #applyGlobalSetup(outpost: OutpostInfo): void {
    if (outpost.managed === null || outpost.managed === '') {
      const level = configLogLevel(outpost.logLevel);
      if (level !== undefined && level !== this.#o.logRoot.level) {
        this.#o.logRoot.setLevel(level);
        this.#log.debug({ level }, 'log level set from outpost configuration');
      }
    }
    if (!this.#loggedStart) {
      this.#loggedStart = true;
      this.#log.info(
        { hash: this.#o.buildHash, version: this.#o.version, outpost: outpost.name, type: outpost.type },
        'Starting authentik outpost',
      );
    }
  }

  #markUpdated(): void {
    this.#lastUpdate = new Date();
    this.#metrics.lastUpdate.set(this.#infoLabels(), Math.floor(this.#lastUpdate.getTime() / 1000));
  }

  #onConnectionChange(up: boolean): void {
    this.#connected = up;
    // Triggers sent while the link was down are lost: a reconnect refreshes (after the offset, like a trigger).
    if (up && this.#hadConnection) this.#onTrigger();
    if (up) this.#hadConnection = true;
    const outpost = this.#outpost;
    if (outpost === undefined) return;
    this.#metrics.connection.set({ outpost_name: outpost.name, outpost_type: outpost.type, uuid: this.instanceUuid }, up ? 1 : 0);
  }

  /** TRIGGER_UPDATE: refresh after the reload offset; triggers arriving while one waits join it. */
  #onTrigger(): void {
    if (this.#stopped || this.#triggerTimer !== undefined) return;
    this.#triggerTimer = setTimeout(() => {
      this.#triggerTimer = undefined;
      void this.refresh('trigger');
    }, this.reloadOffsetMs);
  }

  #scheduleInterval(): void {
    if (this.#stopped) return;
    const ms = this.#o.refreshIntervalMs ?? refreshIntervalMs(this.#outpost?.refreshIntervalS);
    this.#intervalTimer = setTimeout(() => {
      this.#intervalTimer = undefined;
      void this.refresh('interval').finally(() => this.#scheduleInterval());
    }, ms);
  }

  #infoLabels() {
    const outpost = this.#outpost;
    return {
      outpost_name: outpost?.name ?? '',
      outpost_type: outpost?.type ?? '',
      uuid: this.instanceUuid,
      version: this.#o.version,
      build: this.#o.buildHash,
    };
  }

  #checkStopped(): void {
    if (this.#stopped) throw new OutpostError('AKO_STOPPED', 'outpost stopped during start-up');
  }
}

/** refresh_interval_s to milliseconds: <= 0 (or missing) means 300 s, below 30 s is raised to 30 s. */
export function refreshIntervalMs(seconds: number | undefined): number {
  let s = seconds ?? CONTROL_LIMITS.refreshIntervalDefaultS;
  if (!Number.isFinite(s) || s <= 0) s = CONTROL_LIMITS.refreshIntervalDefaultS;
  s = Math.min(Math.max(s, CONTROL_LIMITS.refreshIntervalMinS), CONTROL_LIMITS.refreshIntervalMaxS);
  return s * 1000;
}

function isModuleType(type: string): type is OutpostModuleType {
  return type === 'ldap' || type === 'radius';
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function withTimeout(p: Promise<unknown>, ms: number, onTimeout: () => void): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    p,
    new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        onTimeout();
        resolve();
      }, ms);
    }),
  ]);
  if (timer !== undefined) clearTimeout(timer);
}
