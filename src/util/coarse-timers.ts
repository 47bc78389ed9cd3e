/**
 * A low-resolution clock and timeout wheel for hot paths: one unref'd interval per instance instead of a
 * native timer per connection or request. Timeouts fire between `ms` and `ms + resolution` late, which is fine
 * for idle and request deadlines. One instance is created at start-up and passed to whoever needs it.
 */
import { performance } from 'node:perf_hooks';

export interface CoarseTimeout {
  /** Stops it; safe to call more than once and after it fired. */
  cancel(): void;
  /** Restarts the countdown from now (e.g. on activity); re-arms a fired or cancelled timeout. */
  refresh(): void;
}

interface Entry {
  deadline: number;
  readonly ms: number;
  readonly onTimeout: () => void;
}

export class CoarseTimers {
  readonly resolutionMs: number;
  #wallMs = Date.now();
  #monoMs = performance.now();
  #ticker: NodeJS.Timeout | undefined;
  #closed = false;
  readonly #entries = new Set<Entry>();

  constructor(options: { resolutionMs?: number } = {}) {
    const resolution = options.resolutionMs ?? 250;
    if (!(resolution >= 10 && resolution <= 1000)) throw new RangeError('CoarseTimers: resolutionMs must be 10..1000');
    this.resolutionMs = resolution;
  }

  /** Wall-clock milliseconds since the epoch, at most one resolution stale. */
  now(): number {
    this.#ensureTicking();
    return this.#wallMs;
  }

  /** Monotonic milliseconds (performance.now() scale), at most one resolution stale. */
  monotonicNow(): number {
    this.#ensureTicking();
    return this.#monoMs;
  }

  /** Calls onTimeout once, roughly ms from now, unless cancelled. */
  setTimeout(onTimeout: () => void, ms: number): CoarseTimeout {
    if (this.#closed) throw new Error('CoarseTimers closed');
    this.#ensureTicking();
    const entry: Entry = { deadline: performance.now() + ms, ms, onTimeout };
    this.#entries.add(entry);
    return {
      cancel: () => {
        this.#entries.delete(entry);
      },
      refresh: () => {
        if (this.#closed) return;
        entry.deadline = performance.now() + entry.ms;
        this.#entries.add(entry);
      },
    };
  }

  /** Number of armed timeouts. */
  get size(): number {
    return this.#entries.size;
  }

  /** Stops the ticker and drops every armed timeout without firing it. */
  close(): void {
    this.#closed = true;
    this.#entries.clear();
    if (this.#ticker !== undefined) clearInterval(this.#ticker);
    this.#ticker = undefined;
  }

  #ensureTicking(): void {
    if (this.#ticker !== undefined || this.#closed) return;
    this.#wallMs = Date.now();
    this.#monoMs = performance.now();
    this.#ticker = setInterval(() => this.#tick(), this.resolutionMs);
    this.#ticker.unref();
  }

  #tick(): void {
    this.#wallMs = Date.now();
    this.#monoMs = performance.now();
    if (this.#entries.size === 0) return;
    const now = this.#monoMs;
    for (const entry of this.#entries) {
      if (entry.deadline > now) continue;
      this.#entries.delete(entry);
      try {
        entry.onTimeout();
      } catch (err) {
        // Same outcome as a throwing native timer callback, without skipping the other entries.
        process.nextTick(() => {
          throw err;
        });
      }
    }
  }
}
