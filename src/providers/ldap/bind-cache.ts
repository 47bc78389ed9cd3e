/**
 * Cached bind mode: successful binds only, keyed by a keyed hash of (normalized DN, password), so the password
 * itself is never stored. Entries expire after a finite TTL (also when the core's session cookie has none: the
 * reference kept those forever, authentik issue #12294), and are dropped when a refresh shows the user changed
 * (password date, deactivation, group membership), at every refresh when the core does not show password
 * changes (2023.10), when the user's session ends, or when the provider's bind settings change.
 */
import { createHmac, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { LRUCache } from 'lru-cache';

export interface CachedBind {
  userPk: number;
  username: string;
  canSearch: boolean;
  /** sha256 hex of the core session key (what SESSION_END carries), if the core gave a session. */
  sessionHash: string | undefined;
  /** What the user's directory entry looked like at bind time (see fingerprint.ts); undefined: unknown. */
  fingerprint: string | undefined;
  /** False: the core cannot show this user's password changes, so any refresh ends the entry. */
  passwordChangesVisible: boolean;
}

export interface BindCacheOptions {
  maxEntries: number;
  ttlMs: number;
  /** HMAC key (32 bytes); random by default. Worker processes that share binds share the key. */
  key?: Buffer;
  /** Called with the digest of each bind this process verified (to share it with sibling workers). */
  onStore?: (digest: string, entry: CachedBind) => void;
}

export class BindCache {
  // A KeyObject: createHmac skips preparing raw key bytes on every bind.
  readonly #key: KeyObject;
  readonly #entries: LRUCache<string, CachedBind>;
  readonly #onStore: ((digest: string, entry: CachedBind) => void) | undefined;

  constructor(options: BindCacheOptions) {
    this.#key = createSecretKey(options.key ?? randomBytes(32));
    this.#onStore = options.onStore;
    this.#entries = new LRUCache<string, CachedBind>({ max: options.maxEntries, ttl: options.ttlMs, ttlAutopurge: false });
  }

  #keyOf(normalizedDn: string, password: Buffer): string {
    return createHmac('sha256', this.#key).update(normalizedDn).update('\0').update(password).digest('base64url');
  }

  get(normalizedDn: string, password: Buffer): CachedBind | undefined {
    return this.#entries.get(this.#keyOf(normalizedDn, password));
  }

  set(normalizedDn: string, password: Buffer, entry: CachedBind): void {
    const digest = this.#keyOf(normalizedDn, password);
    this.#entries.set(digest, entry);
    this.#onStore?.(digest, entry);
  }

  /** Takes a bind a sibling worker verified (same key); it gets this cache's full TTL from now. */
  adopt(digest: string, entry: CachedBind): void {
    this.#entries.set(digest, entry);
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Drops every entry the predicate selects; returns how many. */
  dropWhere(predicate: (entry: CachedBind) => boolean): number {
    let dropped = 0;
    for (const [key, entry] of this.#entries.entries()) {
      if (predicate(entry)) {
        this.#entries.delete(key);
        dropped++;
      }
    }
    return dropped;
  }

  /** Distinct users with live entries. */
  users(): Set<number> {
    const pks = new Set<number>();
    for (const entry of this.#entries.values()) pks.add(entry.userPk);
    return pks;
  }

  clear(): void {
    this.#entries.clear();
  }
}
