/**
 * Retransmission detection (RFC 5080 section 2.2.2): a request is the same when its source (address and port),
 * Identifier and Request Authenticator are. While the first is being answered a retransmission joins it; after
 * that it gets the same answer again for a few seconds, so a NAS that lost a reply never makes the core run the
 * flow twice. Bounded: at `maxEntries` the oldest sixteenth of the answers is forgotten at once (pending ones are
 * never evicted, the listener's in-progress cap bounds them). Expired answers are swept once per TTL (a lookup
 * never returns one): walking a Map from the front at every answer costs more than the answer itself.
 */

/** undefined: the request gets no answer (dropped); the same holds for its retransmissions. */
export type Answer = Buffer | undefined;

type Entry = { kind: 'pending'; answer: Promise<Answer> } | { kind: 'done'; answer: Answer; expiresAt: number };

export type Lookup = { kind: 'new' } | { kind: 'pending'; answer: Promise<Answer> } | { kind: 'done'; answer: Answer };

export interface DuplicateCacheOptions {
  ttlMs: number;
  maxEntries: number;
  /** Milliseconds, monotonic (tests pass their own). */
  now?: () => number;
}

export function requestKey(address: string, port: number, identifier: number, authenticator: Buffer): string {
  return `${address}|${port}|${identifier}|${authenticator.toString('base64')}`;
}

export class DuplicateCache {
  readonly #entries = new Map<string, Entry>();
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;
  #sweepAt = 0;

  constructor(options: DuplicateCacheOptions) {
    this.#ttlMs = options.ttlMs;
    this.#maxEntries = options.maxEntries;
    this.#now = options.now ?? (() => performance.now());
  }

  get size(): number {
    return this.#entries.size;
  }

  lookup(key: string): Lookup {
    const entry = this.#entries.get(key);
    if (entry === undefined) return { kind: 'new' };
    if (entry.kind === 'pending') return entry;
    if (entry.expiresAt > this.#now()) return { kind: 'done', answer: entry.answer };
    this.#entries.delete(key);
    return { kind: 'new' };
  }

  /** Records a request being answered; its answer is kept once `answer` settles (a rejection keeps nothing). */
  begin(key: string, answer: Promise<Answer>): void {
    this.#entries.set(key, { kind: 'pending', answer });
    answer.then(
      (value) => this.remember(key, value),
      () => this.#entries.delete(key),
    );
  }

  /** Keeps the answer of a request answered at once (no promise, no pending entry). */
  remember(key: string, answer: Answer): void {
    this.#entries.delete(key); // re-inserted last: the Map's order is then the order of expiry
    const now = this.#now();
    if (this.#entries.size >= this.#maxEntries || now >= this.#sweepAt) this.#evict(now);
    this.#entries.set(key, { kind: 'done', answer, expiresAt: now + this.#ttlMs });
  }

  /** Drops expired answers from the front and, when the cache is full, the oldest ones down to 15/16 of it. */
  #evict(now: number): void {
    this.#sweepAt = now + this.#ttlMs;
    const keep = this.#entries.size >= this.#maxEntries ? this.#maxEntries - Math.max(1, this.#maxEntries >> 4) : Infinity;
    for (const [key, entry] of this.#entries) {
      if (entry.kind === 'pending') continue;
      if (entry.expiresAt > now && this.#entries.size <= keep) break;
      this.#entries.delete(key);
    }
  }
}
