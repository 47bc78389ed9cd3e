/**
 * Flow runs paused at an MFA Access-Challenge, keyed by the challenge's State: bounded, expiring, and each usable
 * once (taking a run removes it), so a State can never continue a flow twice.
 */
import { RADIUS_LIMITS } from '../../config/limits.js';
import type { FlowAttempt } from '../../core-api/port.js';

export interface PausedRun {
  /** The attempt waiting for the code: its cookie jar holds the core's flow session. */
  readonly attempt: FlowAttempt;
  /** The provider and User-Name the challenge was sent for; the answer must come with the same. */
  readonly provider: number;
  readonly username: string;
}

interface Entry {
  readonly run: PausedRun;
  readonly expiresAt: number;
}

export interface PausedRunsOptions {
  maxRuns?: number;
  ttlMs?: number;
  /** Milliseconds, monotonic (tests pass their own). */
  now?: () => number;
}

export class PausedRuns {
  /** In order of insertion, which is the order of expiry. */
  readonly #entries = new Map<string, Entry>();
  readonly #maxRuns: number;
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor(options: PausedRunsOptions = {}) {
    this.#maxRuns = options.maxRuns ?? RADIUS_LIMITS.mfaPausedRuns;
    this.#ttlMs = options.ttlMs ?? RADIUS_LIMITS.mfaPausedRunMs;
    this.#now = options.now ?? (() => performance.now());
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Keeps the run under this State; false (nothing kept) when the store is full of live runs. */
  add(state: Buffer, run: PausedRun): boolean {
    this.#sweep();
    if (this.#entries.size >= this.#maxRuns) return false;
    this.#entries.set(state.toString('hex'), { run, expiresAt: this.#now() + this.#ttlMs });
    return true;
  }

  /** The run paused under this State, removed; undefined when unknown, already taken or expired. */
  take(state: Buffer): PausedRun | undefined {
    this.#sweep();
    const key = state.toString('hex');
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    this.#entries.delete(key);
    return entry.run;
  }

  clear(): void {
    this.#entries.clear();
  }

  /** Drops expired runs from the front. */
  #sweep(): void {
    const now = this.#now();
    for (const [key, entry] of this.#entries) {
      if (entry.expiresAt > now) break;
      this.#entries.delete(key);
    }
  }
}
