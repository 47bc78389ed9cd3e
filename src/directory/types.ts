/** Request, viewer and result shapes shared by the cached directory, direct search and single entries. */
import type { Buffer } from 'node:buffer';
import type { Filter } from '../protocol/ldap/filter.js';
import type { Scope } from '../protocol/ldap/messages.js';
import type { LdapEntry } from './entries.js';

/** The parts of a SearchRequest the engine needs (a decoded SearchRequest fits). */
export interface SearchQuery {
  readonly baseObject: string;
  readonly scope: Scope;
  readonly filter: Filter;
  /** As requested: may be empty, hold `*`, `+`, `1.1`, names, or comma-separated lists. */
  readonly attributes: readonly string[];
  readonly typesOnly: boolean;
  /** 0: no limit. */
  readonly sizeLimit: number;
}

/** Who searches: the bound user and whether it may see the whole directory (search_full_directory). */
export interface Viewer {
  readonly userPk: number;
  readonly canSearch: boolean;
}

export interface SearchResult {
  /** 0 success, 4 sizeLimitExceeded (entries up to the limit are still sent), 32 noSuchObject, 34 invalidDNSyntax. */
  readonly resultCode: number;
  readonly matchedDn: string;
  readonly diagnosticMessage: string;
  /** Number of entries to send. */
  readonly count: number;
  /** The i-th entry's SearchResultEntry protocolOp (for frameOp / MessageBatch.append). Do not modify it. */
  encoded(index: number): Buffer;
  /** The i-th entry as a typed value, with only the selected attributes. */
  entry(index: number): LdapEntry;
  /** Encoded entries in order. */
  [Symbol.iterator](): Iterator<Buffer>;
}
