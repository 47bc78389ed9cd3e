/**
 * Sharing verified binds between worker processes (AUTHENTIK_WORKERS > 1): each worker has its own bind cache,
 * and a client's next connection may land on another worker. A worker that verified a bind with the core
 * publishes the cache entry under its HMAC digest (never the password); siblings holding the same HMAC key adopt
 * it, unless their own directory already shows the user changed since.
 */
import type { Buffer } from 'node:buffer';
import { LDAP_LIMITS } from '../../config/limits.js';
import type { CachedBind } from './bind-cache.js';

export interface SharedBind {
  providerPk: number;
  digest: string;
  entry: CachedBind;
}

export interface BindShare {
  /** The HMAC key all workers' bind caches use. */
  readonly key: Buffer;
  publish(bind: SharedBind): void;
  /** Returns a function that unsubscribes. */
  subscribe(onBind: (bind: SharedBind) => void): () => void;
}

function text(value: unknown): value is string {
  return typeof value === 'string' && value.length <= LDAP_LIMITS.maxSharedBindText;
}

/** Validates a message from a sibling process; undefined when it is not a SharedBind. */
export function parseSharedBind(value: unknown): SharedBind | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  const e = v['entry'];
  if (!Number.isSafeInteger(v['providerPk']) || !text(v['digest']) || typeof e !== 'object' || e === null) return undefined;
  const entry = e as Record<string, unknown>;
  if (!Number.isSafeInteger(entry['userPk']) || !text(entry['username']) || typeof entry['canSearch'] !== 'boolean') return undefined;
  const sessionHash = entry['sessionHash'];
  const fingerprint = entry['fingerprint'];
  if (sessionHash !== undefined && sessionHash !== null && !text(sessionHash)) return undefined;
  if (fingerprint !== undefined && fingerprint !== null && !(typeof fingerprint === 'string' && fingerprint.length <= LDAP_LIMITS.maxSharedBindFingerprint)) return undefined;
  return {
    providerPk: v['providerPk'] as number,
    digest: v['digest'],
    entry: {
      userPk: entry['userPk'] as number,
      username: entry['username'],
      canSearch: entry['canSearch'],
      sessionHash: typeof sessionHash === 'string' ? sessionHash : undefined,
      fingerprint: typeof fingerprint === 'string' ? fingerprint : undefined,
      // Anything but an explicit true reads as blind: the entry then ends at the next refresh.
      passwordChangesVisible: entry['passwordChangesVisible'] === true,
    },
  };
}
