/**
 * Exponential back-off (the event link's steps are in EVENT_LINK_LIMITS) and an abortable delay.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** Default 2. */
  factor?: number;
}

export class Backoff {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly factor: number;
  #nextMs: number;

  constructor(options: BackoffOptions) {
    this.initialMs = options.initialMs;
    this.maxMs = options.maxMs;
    this.factor = options.factor ?? 2;
    if (!(this.initialMs > 0) || !(this.maxMs >= this.initialMs) || !(this.factor >= 1)) {
      throw new RangeError('Backoff: need 0 < initialMs <= maxMs and factor >= 1');
    }
    this.#nextMs = this.initialMs;
  }

  /** The delay to wait now; the following call returns the next step. */
  next(): number {
    const delay = this.#nextMs;
    this.#nextMs = Math.min(this.maxMs, this.#nextMs * this.factor);
    return delay;
  }

  /** What next() would return, without advancing. */
  peek(): number {
    return this.#nextMs;
  }

  reset(): void {
    this.#nextMs = this.initialMs;
  }
}

/** Waits ms; resolves true when the time passed, false when the signal aborted first. Never rejects. */
export async function delay(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return false;
  try {
    await sleep(ms, undefined, signal ? { signal } : undefined);
    return true;
  } catch {
    return false;
  }
}
