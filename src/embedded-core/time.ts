/**
 * Instants with microsecond resolution, like Django's datetime: authentik writes `2026-11-23T18:13:20.891234Z`,
 * and a JavaScript Date stops at milliseconds.
 */
import { epochMicros } from '../lib/time.js';

/** Epoch milliseconds with a microsecond fraction: the high-resolution clock anchored at the process's start. */
export function preciseNowMs(): number {
  return performance.timeOrigin + performance.now();
}

export class Instant {
  private constructor(
    /** Integer microseconds since the epoch. */
    readonly epochMicros: number,
  ) {}

  /** Fractional milliseconds keep their microseconds. */
  static fromEpochMs(ms: number): Instant {
    return new Instant(Math.round(ms * 1000));
  }

  static fromDate(date: Date): Instant {
    return new Instant(date.getTime() * 1000);
  }

  /** ISO 8601 (what the directory file's schema accepts); up to six fraction digits are kept, more are cut. */
  static parseIso(text: string): Instant | undefined {
    const micros = epochMicros(text);
    return Number.isNaN(micros) ? undefined : new Instant(micros);
  }

  get epochMs(): number {
    return Math.floor(this.epochMicros / 1000);
  }

  toDate(): Date {
    return new Date(this.epochMs);
  }

  /** DRF's DateTimeField output: isoformat() with "+00:00" as "Z"; the microseconds only when non-zero. */
  toDrf(): string {
    const seconds = Math.floor(this.epochMicros / 1_000_000);
    const micros = this.epochMicros - seconds * 1_000_000;
    const head = new Date(seconds * 1000).toISOString().slice(0, 19);
    return micros === 0 ? `${head}Z` : `${head}.${String(micros).padStart(6, '0')}Z`;
  }
}
