/**
 * Holds the live snapshot of one provider and refreshes it: one build at a time (a refresh asked for while one
 * runs waits for it and returns its outcome), built off to the side and swapped in with one assignment, the
 * previous snapshot kept when a build fails. A snapshot never changes after it is published, so searches that
 * started on the old one finish on it.
 */
import type { DirectorySnapshot } from './snapshot.js';

export type SnapshotBuild = (signal: AbortSignal) => Promise<DirectorySnapshot>;

export interface RefreshOutcome {
  ok: boolean;
  /** Set when the build failed (the previous snapshot, if any, stays live). */
  error?: unknown;
  durationMs: number;
}

export class SnapshotHolder {
  #current: DirectorySnapshot | undefined;
  #running: Promise<RefreshOutcome> | undefined;
  #abort: AbortController | undefined;
  #closed = false;

  readonly #build: SnapshotBuild;

  constructor(build: SnapshotBuild) {
    this.#build = build;
  }

  /** The live snapshot; undefined until the first successful build. */
  get current(): DirectorySnapshot | undefined {
    return this.#current;
  }

  /** Builds a new snapshot and swaps it in. Never rejects. */
  refresh(): Promise<RefreshOutcome> {
    if (this.#closed) return Promise.resolve({ ok: false, error: new Error('snapshot holder closed'), durationMs: 0 });
    this.#running ??= this.#run().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #run(): Promise<RefreshOutcome> {
    const started = performance.now();
    const abort = new AbortController();
    this.#abort = abort;
    try {
      const next = await this.#build(abort.signal);
      if (this.#closed) return { ok: false, error: new Error('snapshot holder closed'), durationMs: performance.now() - started };
      this.#current = next;
      return { ok: true, durationMs: performance.now() - started };
    } catch (error) {
      return { ok: false, error, durationMs: performance.now() - started };
    } finally {
      this.#abort = undefined;
    }
  }

  /** Stops a running build and drops the snapshot. */
  close(): void {
    this.#closed = true;
    this.#abort?.abort(new Error('snapshot holder closed'));
    this.#current = undefined;
  }
}
