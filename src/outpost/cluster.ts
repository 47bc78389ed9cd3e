/**
 * AUTHENTIK_WORKERS > 1: one primary process and N worker processes (node:cluster). Each worker is a whole
 * outpost, like a replica: its own core link, directory copy and bind cache. The primary owns the listening
 * sockets (cluster hands each new connection to the next worker), the metrics and health server (merging the
 * workers' metric families, each sample labelled `worker` by its worker), signals, and restarts of workers that die.
 *
 * Why processes: one Node thread serves every LDAP connection; a second core needs a second event loop, and
 * worker threads can neither share a listening socket (Node 20) nor the directory's object graph. The price is
 * one directory copy per worker, so the default stays 1.
 *
 * Workers talk to each other through the primary, which only relays: to all (publish) or to one slot (sendTo, used
 * to route a RADIUS datagram to the worker owning it when no direct link between the workers is up), with a cap
 * on messages in flight per hop.
 */
import { Buffer } from 'node:buffer';
import cluster, { type Worker } from 'node:cluster';
import { randomBytes } from 'node:crypto';
import { CONTROL_LIMITS } from '../config/limits.js';
import type { Logger } from '../observability/log.js';
import { mergeMetricFamilies, parseMetricFamilies, type MetricFamily } from '../observability/merge.js';

/** Environment variable carrying a worker's slot (1..N), stable across restarts of that slot. */
export const WORKER_SLOT_ENV = 'AKO_WORKER_SLOT';

/** Environment variable carrying the bind-cache HMAC key (base64) all workers share; read once and removed. */
export const BIND_KEY_ENV = 'AKO_BIND_CACHE_KEY';

/** Environment variable carrying the key of the direct links between workers (base64); read once and removed. */
export const LINK_KEY_ENV = 'AKO_WORKER_LINK_KEY';

/** A message one worker publishes to all its siblings (e.g. a verified bind), relayed by the primary. */
type PeerMessage = { t: 'peer'; topic: string; payload: unknown };
/** A message for one worker slot; the primary hands it over as a PeerMessage. */
type DirectMessage = { t: 'direct'; to: number; topic: string; payload: unknown };
type ToWorker = { t: 'metrics'; id: number } | { t: 'refresh' } | PeerMessage;
type ToPrimary = { t: 'ready' } | { t: 'metrics'; id: number; families: unknown } | PeerMessage | DirectMessage;

const MAX_TOPIC_LENGTH = 64;

function isPeerMessage(m: Record<string, unknown>): boolean {
  return m['t'] === 'peer' && typeof m['topic'] === 'string' && m['topic'].length <= MAX_TOPIC_LENGTH;
}

function isDirectMessage(m: Record<string, unknown>): boolean {
  return m['t'] === 'direct' && Number.isSafeInteger(m['to']) && typeof m['topic'] === 'string' && m['topic'].length <= MAX_TOPIC_LENGTH;
}

function isToPrimary(value: unknown): value is ToPrimary {
  if (typeof value !== 'object' || value === null) return false;
  const m = value as Record<string, unknown>;
  return m['t'] === 'ready' || (m['t'] === 'metrics' && typeof m['id'] === 'number') || isPeerMessage(m) || isDirectMessage(m);
}

function isToWorker(value: unknown): value is ToWorker {
  if (typeof value !== 'object' || value === null) return false;
  const m = value as Record<string, unknown>;
  return m['t'] === 'refresh' || (m['t'] === 'metrics' && typeof m['id'] === 'number') || isPeerMessage(m);
}

/** Publish/subscribe between the workers of one primary. */
export interface PeerBus {
  publish(topic: string, payload: unknown): void;
  /**
   * Delivers to the subscribers of `topic` in worker `slot`, or back in this worker when that slot is not serving
   * (so the message is handled once, somewhere). False when it was dropped here: too many still in flight.
   */
  sendTo(slot: number, topic: string, payload: unknown): boolean;
  /** Returns a function that unsubscribes. */
  subscribe(topic: string, onMessage: (payload: unknown) => void): () => void;
}

interface Slot {
  index: number;
  worker: Worker | undefined;
  ready: boolean;
  everReady: boolean;
  startedAt: number;
  restartDelayMs: number;
  restartTimer: NodeJS.Timeout | undefined;
  /** Directed messages handed to this worker's channel and not yet written. */
  relaysInFlight: number;
}

export interface SupervisorOptions {
  workers: number;
  logger: Logger;
  /** Forks one worker; by default cluster.fork with the slot in its environment. */
  fork?: (slot: number) => Worker;
  restartInitialMs?: number;
  restartMaxMs?: number;
  metricsTimeoutMs?: number;
  /** A directed message dropped by the primary (its target's and its sender's channels both full or gone). */
  onRelayDrop?: () => void;
}

/** The primary's side: forks, watches and restarts the workers. */
export class WorkerSupervisor {
  readonly #slots: Slot[];
  readonly #log: Logger;
  readonly #fork: (slot: number) => Worker;
  readonly #restartInitialMs: number;
  readonly #restartMaxMs: number;
  readonly #metricsTimeoutMs: number;
  readonly #onRelayDrop: (() => void) | undefined;
  readonly #pendingMetrics = new Map<number, (families: MetricFamily[] | undefined) => void>();
  #nextMetricsId = 1;
  #stopping = false;
  #failStart: ((err: Error) => void) | undefined;
  #onAllReady: (() => void) | undefined;

  constructor(options: SupervisorOptions) {
    this.#log = options.logger;
    const bindKey = randomBytes(32).toString('base64');
    const linkKey = randomBytes(32).toString('base64');
    this.#fork =
      options.fork ??
      ((slot) => {
        // Structured clone rather than JSON on the channel: metric values may be NaN or infinite.
        cluster.setupPrimary({ serialization: 'advanced' });
        return cluster.fork({ [WORKER_SLOT_ENV]: String(slot), [BIND_KEY_ENV]: bindKey, [LINK_KEY_ENV]: linkKey });
      });
    this.#restartInitialMs = options.restartInitialMs ?? CONTROL_LIMITS.workerRestartInitialMs;
    this.#restartMaxMs = options.restartMaxMs ?? CONTROL_LIMITS.workerRestartMaxMs;
    this.#metricsTimeoutMs = options.metricsTimeoutMs ?? CONTROL_LIMITS.workerMetricsTimeoutMs;
    this.#onRelayDrop = options.onRelayDrop;
    this.#slots = Array.from({ length: options.workers }, (_, i) => ({
      index: i + 1,
      worker: undefined,
      ready: false,
      everReady: false,
      startedAt: 0,
      restartDelayMs: this.#restartInitialMs,
      restartTimer: undefined,
      relaysInFlight: 0,
    }));
  }

  /** Forks every worker; resolves when all are serving, rejects when one exits before it ever served. */
  start(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#onAllReady = resolve;
      this.#failStart = reject;
      for (const slot of this.#slots) this.#spawn(slot);
    });
  }

  /** Every slot has a worker that is serving. */
  get ready(): boolean {
    return this.#slots.every((s) => s.ready);
  }

  /** Asks every worker to refresh (SIGUSR1 on the primary). */
  refresh(): void {
    for (const slot of this.#slots) this.#send(slot, { t: 'refresh' });
  }

  /** The primary's own metric families merged with each live worker's (a worker that does not answer in time is left out). */
  async exposition(own: readonly MetricFamily[]): Promise<string> {
    const answers = await Promise.all(this.#slots.map((slot) => this.#metricsOf(slot)));
    return mergeMetricFamilies([own, ...answers.filter((families) => families !== undefined)]);
  }

  /** Stops every worker (SIGTERM, then SIGKILL after the timeout); resolves when all exited. */
  async stop(timeoutMs: number = CONTROL_LIMITS.stopTimeoutMs): Promise<void> {
    this.#stopping = true;
    // A stop while workers still start (e.g. the core is unreachable) settles start() too.
    const failStart = this.#failStart;
    this.#failStart = undefined;
    this.#onAllReady = undefined;
    failStart?.(new Error('stopped before every worker served'));
    const exits: Promise<void>[] = [];
    for (const slot of this.#slots) {
      if (slot.restartTimer !== undefined) clearTimeout(slot.restartTimer);
      const worker = slot.worker;
      if (worker === undefined || worker.isDead()) continue;
      exits.push(
        new Promise<void>((resolve) => {
          const kill = setTimeout(() => worker.process.kill('SIGKILL'), timeoutMs);
          worker.once('exit', () => {
            clearTimeout(kill);
            resolve();
          });
          worker.process.kill('SIGTERM');
        }),
      );
    }
    await Promise.all(exits);
  }

  #spawn(slot: Slot): void {
    slot.restartTimer = undefined;
    slot.ready = false;
    slot.startedAt = Date.now();
    slot.relaysInFlight = 0;
    const worker = this.#fork(slot.index);
    slot.worker = worker;
    worker.on('message', (message: unknown) => {
      if (!isToPrimary(message)) return;
      if (message.t === 'ready') {
        slot.ready = true;
        slot.everReady = true;
        this.#log.info({ worker: slot.index, pid: worker.process.pid }, 'worker serving');
        if (this.ready) {
          this.#onAllReady?.();
          this.#onAllReady = undefined;
          this.#failStart = undefined;
        }
      } else if (message.t === 'metrics') {
        this.#pendingMetrics.get(message.id)?.(parseMetricFamilies(message.families));
      } else if (message.t === 'direct') {
        const delivered: PeerMessage = { t: 'peer', topic: message.topic, payload: message.payload };
        const target = this.#slots[message.to - 1];
        // A target that is gone or not serving yet: back to the sender, which handles the message itself.
        const relayed = (target !== undefined && target.ready && this.#relay(target, delivered)) || this.#relay(slot, delivered);
        if (!relayed) this.#onRelayDrop?.();
      } else {
        for (const other of this.#slots) if (other !== slot && other.ready) this.#send(other, message);
      }
    });
    worker.on('error', (err) => this.#log.warn({ worker: slot.index, err: err.message }, 'worker channel error'));
    worker.once('exit', (code, signal) => this.#onExit(slot, worker, code, signal));
  }

  #onExit(slot: Slot, worker: Worker, code: number | null, signal: string | null): void {
    if (slot.worker !== worker) return;
    slot.worker = undefined;
    slot.ready = false;
    if (this.#stopping) return;
    if (!slot.everReady) {
      // The same configuration would fail again: give up like a single process that cannot start.
      this.#log.error({ worker: slot.index, code, signal }, 'worker exited before it served');
      this.#failStart?.(new Error(`worker ${slot.index} exited before it served (code ${code ?? signal})`));
      this.#failStart = undefined;
      return;
    }
    if (Date.now() - slot.startedAt >= CONTROL_LIMITS.workerStableAfterMs) slot.restartDelayMs = this.#restartInitialMs;
    const delay = slot.restartDelayMs;
    slot.restartDelayMs = Math.min(this.#restartMaxMs, slot.restartDelayMs * 2);
    this.#log.error({ worker: slot.index, code, signal, 'restart-in-ms': delay }, 'worker exited, restarting it');
    slot.restartTimer = setTimeout(() => this.#spawn(slot), delay);
  }

  #metricsOf(slot: Slot): Promise<MetricFamily[] | undefined> {
    if (slot.worker === undefined || !slot.ready) return Promise.resolve(undefined);
    const id = this.#nextMetricsId++;
    return new Promise<MetricFamily[] | undefined>((resolve) => {
      const timer = setTimeout(() => finish(undefined), this.#metricsTimeoutMs);
      const finish = (families: MetricFamily[] | undefined): void => {
        clearTimeout(timer);
        this.#pendingMetrics.delete(id);
        resolve(families);
      };
      this.#pendingMetrics.set(id, finish);
      if (!this.#send(slot, { t: 'metrics', id })) finish(undefined);
    });
  }

  /** Sends a directed message unless too many to that worker are still unwritten. */
  #relay(slot: Slot, message: PeerMessage): boolean {
    const worker = slot.worker;
    if (worker === undefined || !worker.isConnected() || slot.relaysInFlight >= CONTROL_LIMITS.workerRelaysInFlight) return false;
    slot.relaysInFlight++;
    // A late callback of a worker that was replaced meanwhile counts for nothing.
    const written = (): void => {
      if (slot.worker === worker) slot.relaysInFlight--;
    };
    try {
      worker.send(message, written);
      return true;
    } catch {
      slot.relaysInFlight--;
      return false;
    }
  }

  #send(slot: Slot, message: ToWorker): boolean {
    const worker = slot.worker;
    if (worker === undefined || !worker.isConnected()) return false;
    try {
      worker.send(message);
      return true;
    } catch {
      return false;
    }
  }
}

export interface WorkerChannelHandlers {
  /** This worker's metric families, its `worker` label included. */
  metrics(): Promise<MetricFamily[]>;
  refresh(): void;
  /** The primary is gone: stop serving. */
  orphaned(): void;
}

export interface WorkerChannel {
  /** Tells the primary this worker serves. */
  ready(): void;
  readonly peers: PeerBus;
  detach(): void;
}

/** The worker's side of the channel to the primary. */
export function attachWorkerChannel(handlers: WorkerChannelHandlers): WorkerChannel {
  const subscribers = new Map<string, Set<(payload: unknown) => void>>();
  const send = (message: ToPrimary): void => {
    if (process.connected) process.send?.(message);
  };
  let directInFlight = 0;
  const sendTo = (to: number, topic: string, payload: unknown): boolean => {
    if (!process.connected || process.send === undefined || directInFlight >= CONTROL_LIMITS.workerRelaysInFlight) return false;
    directInFlight++;
    try {
      process.send({ t: 'direct', to, topic, payload } satisfies DirectMessage, undefined, {}, () => directInFlight--);
      return true;
    } catch {
      directInFlight--;
      return false;
    }
  };
  const onMessage = (message: unknown): void => {
    if (!isToWorker(message)) return;
    if (message.t === 'refresh') {
      handlers.refresh();
    } else if (message.t === 'metrics') {
      const id = message.id;
      // A failure answers nothing: the primary leaves this worker out of that scrape when its wait runs out.
      handlers.metrics().then((families) => send({ t: 'metrics', id, families }), () => {});
    } else {
      for (const onPeer of subscribers.get(message.topic) ?? []) onPeer(message.payload);
    }
  };
  const onDisconnect = (): void => handlers.orphaned();
  process.on('message', onMessage);
  process.on('disconnect', onDisconnect);
  return {
    ready: () => send({ t: 'ready' }),
    peers: {
      publish: (topic, payload) => send({ t: 'peer', topic, payload }),
      sendTo,
      subscribe: (topic, onPeer) => {
        let set = subscribers.get(topic);
        if (set === undefined) subscribers.set(topic, (set = new Set()));
        set.add(onPeer);
        return () => set.delete(onPeer);
      },
    },
    detach: () => {
      process.off('message', onMessage);
      process.off('disconnect', onDisconnect);
    },
  };
}

/** The bind-cache key the primary gave this worker (removed from the environment once read). */
export function takeWorkerBindKey(): Buffer | undefined {
  return takeKey(BIND_KEY_ENV);
}

export function takeWorkerLinkKey(): Buffer | undefined {
  return takeKey(LINK_KEY_ENV);
}

/** A 32-octet key from the environment, removed from it so nothing started later inherits it. */
function takeKey(name: string): Buffer | undefined {
  const value = process.env[name];
  delete process.env[name];
  if (value === undefined) return undefined;
  const key = Buffer.from(value, 'base64');
  return key.length === 32 ? key : undefined;
}

/** This process's worker slot, or undefined in the primary or a single-process outpost. */
export function workerSlot(): number | undefined {
  if (!cluster.isWorker) return undefined;
  const n = Number(process.env[WORKER_SLOT_ENV]);
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

export { cluster };
