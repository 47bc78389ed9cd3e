/**
 * Per-provider state of the LDAP module. A refresh builds new LdapProvider objects from the core's configs and
 * carries over, by provider pk, what must survive it: the bind cache and the directory snapshot.
 */
import type { LdapProviderConfig } from '../../core-api/model.js';
import { normalizedRdns, parseDn, type Dn } from '../../protocol/ldap/dn.js';
import type { DirectorySnapshot } from '../../directory/snapshot.js';
import { BindCache, type BindCacheOptions } from './bind-cache.js';
import { DirectoryLayout } from '../../directory/entries.js';

export class LdapProvider {
  readonly config: LdapProviderConfig;
  /** Parsed base DN, for DN-aware routing. */
  readonly base: Dn;
  /** Normalized RDN strings of the base, most significant last (as parsed). */
  readonly baseRdns: readonly string[];
  readonly bindCache: BindCache | undefined;
  /** The base DN as the tree spells it (normalized), for namingContexts. */
  readonly namingContext: string;
  /** Cached search mode: the live snapshot (swapped whole on refresh); undefined before the first load. */
  snapshot: DirectorySnapshot | undefined;

  constructor(config: LdapProviderConfig, previous: LdapProvider | undefined, bindCacheOptions: BindCacheOptions) {
    this.config = config;
    this.base = parseDn(config.baseDn);
    this.baseRdns = normalizedRdns(this.base);
    this.namingContext = new DirectoryLayout(config.baseDn).baseDn;
    const keepCache = previous !== undefined && sameBindSemantics(previous.config, config);
    this.bindCache = config.bindMode === 'cached' ? (keepCache && previous.bindCache) || new BindCache(bindCacheOptions) : undefined;
    this.snapshot = config.searchMode === 'cached' && previous?.config.baseDn === config.baseDn ? previous.snapshot : undefined;
  }

  get name(): string {
    return this.config.name;
  }

  get app(): string {
    return this.config.applicationSlug;
  }
}

/** A cached bind stays valid only while everything that decided it is unchanged. */
function sameBindSemantics(a: LdapProviderConfig, b: LdapProviderConfig): boolean {
  return (
    a.baseDn === b.baseDn &&
    a.bindFlowSlug === b.bindFlowSlug &&
    a.applicationSlug === b.applicationSlug &&
    a.mfaSupport === b.mfaSupport &&
    a.searchGroup === b.searchGroup &&
    a.bindMode === b.bindMode
  );
}

/** RDN count of `dn` below the provider base, or -1 when `dn` is not at or under it. */
export function depthBelow(provider: LdapProvider, rdns: readonly string[]): number {
  const base = provider.baseRdns;
  if (rdns.length < base.length) return -1;
  const offset = rdns.length - base.length;
  for (let i = 0; i < base.length; i++) if (rdns[offset + i] !== base[i]) return -1;
  return offset;
}

/** The provider with the longest base DN at or above `rdns` (most specific wins; ties: lowest pk). */
export function routeByDn(providers: readonly LdapProvider[], rdns: readonly string[]): LdapProvider | undefined {
  let best: LdapProvider | undefined;
  for (const p of providers) {
    if (depthBelow(p, rdns) < 0) continue;
    if (
      best === undefined ||
      p.baseRdns.length > best.baseRdns.length ||
      (p.baseRdns.length === best.baseRdns.length && p.config.pk < best.config.pk)
    ) {
      best = p;
    }
  }
  return best;
}
