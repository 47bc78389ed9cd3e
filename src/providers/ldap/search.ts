/**
 * Search and Compare: RootDSE, cn=subschema, the access gate, then the provider's directory, cached (snapshot)
 * or direct (a small snapshot built from API answers). Paged results (RFC 2696) keep the result of the first
 * page and hand out the rest by cookie; the snapshot behind it is immutable, so pages stay consistent.
 */
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import type { CoreApi } from '../../core-api/port.js';
import type { LdapConnectionView, LdapLogger, ResponseSink } from '../../listeners/ldap/handler.js';
import { decodePagedResults, findControl, pagedResultsControl, type Control } from '../../protocol/ldap/controls.js';
import { normalizedRdns, tryParseDn } from '../../protocol/ldap/dn.js';
import { formatFilter } from '../../protocol/ldap/filter.js';
import type { OpOf } from '../../protocol/ldap/messages.js';
import { Oid } from '../../protocol/ldap/oids.js';
import { framedSize, MessageBatch } from '../../protocol/ldap/search-response.js';
import { ResultCode } from '../../protocol/ldap/result-codes.js';
import { ProtocolError } from '../../errors.js';
import { authStateOf, type LdapAuthState } from './auth-state.js';
import { searchDirect } from './search/direct.js';
import { routeByDn, type LdapProvider } from './provider.js';
import { rootDseEntry } from './rootdse.js';
import { subschemaEntry, SUBSCHEMA_DN } from '../../directory/schema.js';
import { searchEntries } from './search/single.js';
import type { SearchQuery, SearchResult } from '../../directory/types.js';

export interface SearchDeps {
  api: CoreApi;
  providers: readonly LdapProvider[];
  pageSize: number;
  vendorVersion: string;
  paged: PagedSearches;
  logger: LdapLogger;
  reject(reason: string, app: string): void;
}

/** Bytes of framed entries collected before a socket write. */
const BATCH_BYTES = 64 * 1024;

interface PagedState {
  key: string;
  result: SearchResult;
  next: number;
}

/** Per-connection paged-results state, bounded (oldest dropped). */
export class PagedSearches {
  readonly #max: number;
  readonly #states = new Map<string, PagedState>();

  constructor(max: number) {
    this.#max = max;
  }

  take(cookie: Buffer): PagedState | undefined {
    const id = cookie.toString('base64url');
    const state = this.#states.get(id);
    this.#states.delete(id);
    return state;
  }

  put(state: PagedState): Buffer {
    const cookie = randomBytes(12);
    this.#states.set(cookie.toString('base64url'), state);
    while (this.#states.size > this.#max) this.#states.delete(this.#states.keys().next().value!);
    return cookie;
  }
}

function requestKey(op: OpOf<'SearchRequest'>): string {
  return JSON.stringify([op.baseObject, op.scope, formatFilter(op.filter), op.attributes, op.typesOnly, op.sizeLimit]);
}

/**
 * Sends entries [from, to) of a result in writes of about BATCH_BYTES, each buffer allocated at its exact size
 * (a fixed large buffer per one-entry answer cost more than the answer), honouring backpressure; false when
 * aborted.
 */
async function sendEntries(out: ResponseSink, result: SearchResult, from: number, to: number): Promise<boolean> {
  const chunk: Buffer[] = [];
  let i = from;
  while (i < to) {
    chunk.length = 0;
    let bytes = 0;
    while (i < to && bytes < BATCH_BYTES) {
      const op = result.encoded(i++);
      chunk.push(op);
      bytes += framedSize(out.messageID, op.length);
    }
    const batch = new MessageBatch(bytes);
    for (const op of chunk) batch.append(out.messageID, op);
    const wait = out.sendRaw(batch.take());
    if (wait !== undefined) await wait;
    if (out.aborted) return false;
  }
  return !out.aborted;
}

/** Returns the `app` label for metrics. */
export async function searchOperation(
  op: OpOf<'SearchRequest'>,
  controls: readonly Control[],
  conn: LdapConnectionView,
  out: ResponseSink,
  deps: SearchDeps,
): Promise<string> {
  const started = performance.now();
  const state = authStateOf(conn.authState);
  // Debug, not info as in the reference: one JSON line per search costs more than the search itself.
  const debug = deps.logger.isLevelEnabled?.('debug') ?? true;
  const log = (provider: LdapProvider | undefined, resultCode: number, entries: number): void => {
    if (!debug) return; // formatting the filter per search would cost more than the search
    deps.logger.debug(
      {
        bindDN: conn.boundDn.toLowerCase(),
        baseDN: op.baseObject,
        scope: ['Base Object', 'Single Level', 'Whole Subtree', 'Subordinates'][op.scope],
        client: conn.peer.address,
        filter: formatFilter(op.filter),
        attributes: op.attributes,
        provider: provider?.name,
        resultCode,
        entries,
        'took-ms': Math.round(performance.now() - started),
      },
      'Search request',
    );
  };

  let paging: { size: number; cookie: Buffer } | undefined;
  const pagedControl = findControl(controls, Oid.pagedResults);
  if (pagedControl !== undefined) {
    try {
      paging = decodePagedResults(pagedControl.value);
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      out.done(ResultCode.protocolError, { diagnosticMessage: 'malformed paged results control' });
      return '';
    }
  }

  // Continuation of a paged search: the stored result, not a new search.
  if (paging !== undefined && paging.cookie.length > 0) {
    const stored = deps.paged.take(paging.cookie);
    if (stored === undefined || stored.key !== requestKey(op)) {
      out.done(ResultCode.unwillingToPerform, { diagnosticMessage: 'paged results cookie is invalid' });
      return '';
    }
    return finishPaged(op, out, deps, stored, paging.size, (code, n) => log(undefined, code, n));
  }

  const query: SearchQuery = op;
  const baseRdns = op.baseObject === '' ? [] : (() => {
    const parsed = tryParseDn(op.baseObject);
    return parsed === null ? null : normalizedRdns(parsed);
  })();
  if (baseRdns === null) {
    out.done(ResultCode.invalidDNSyntax, { diagnosticMessage: 'invalid base DN' });
    log(undefined, ResultCode.invalidDNSyntax, 0);
    return '';
  }

  // RootDSE: readable without a bind (clients discover naming contexts and StartTLS before binding).
  if (baseRdns.length === 0) {
    if (op.scope !== 0) {
      out.done(ResultCode.success); // RFC 4512 5.1: the root DSE is not part of any subtree
      log(undefined, 0, 0);
      return '';
    }
    const bound = state === undefined ? undefined : deps.providers.find((p) => p.config.pk === state.providerPk);
    const contexts = bound !== undefined ? [bound.namingContext] : deps.providers.map((p) => p.namingContext);
    const result = searchEntries([rootDseEntry({ namingContexts: contexts, vendorVersion: deps.vendorVersion })], query, { rootDse: true });
    await sendEntries(out, result, 0, result.count);
    out.done(ResultCode.success);
    log(bound, 0, result.count);
    return bound?.app ?? '';
  }

  if (state === undefined) {
    deps.reject('empty_bind_dn', '');
    out.done(ResultCode.insufficientAccessRights, { diagnosticMessage: 'bind first: anonymous clients may read only the root DSE' });
    log(undefined, ResultCode.insufficientAccessRights, 0);
    return '';
  }
  const provider = deps.providers.find((p) => p.config.pk === state.providerPk);
  if (provider === undefined) {
    deps.reject('invalid_bind_dn', '');
    out.done(ResultCode.insufficientAccessRights, { diagnosticMessage: 'the provider of this bind is gone; bind again' });
    log(undefined, ResultCode.insufficientAccessRights, 0);
    return '';
  }

  if (baseRdns.length === 1 && baseRdns[0] === SUBSCHEMA_DN) {
    const result = searchEntries([subschemaEntry], query);
    await sendEntries(out, result, 0, result.count);
    out.done(result.resultCode, { diagnosticMessage: result.diagnosticMessage });
    log(provider, result.resultCode, result.count);
    return provider.app;
  }

  const target = routeByDn(deps.providers, baseRdns);
  if (target !== provider) {
    const code = target === undefined ? ResultCode.noSuchObject : ResultCode.insufficientAccessRights;
    if (target !== undefined) deps.reject('invalid_bind_dn', target.app);
    out.done(code, { diagnosticMessage: target === undefined ? 'no such object' : 'bound to another provider' });
    log(provider, code, 0);
    return provider.app;
  }

  let result: SearchResult;
  if (provider.config.searchMode === 'cached') {
    if (provider.snapshot === undefined) {
      out.done(ResultCode.unavailable, { diagnosticMessage: 'the directory is still loading' });
      log(provider, ResultCode.unavailable, 0);
      return provider.app;
    }
    result = provider.snapshot.search(query, viewerOf(state));
  } else {
    try {
      result = await searchDirect(directDeps(deps, provider), query, viewerOf(state));
    } catch (err) {
      deps.reject('api_error', provider.app);
      deps.logger.warn({ provider: provider.name, error: err instanceof Error ? err.message : String(err) }, 'Direct search failed');
      out.done(ResultCode.operationsError, { diagnosticMessage: 'directory query failed' });
      log(provider, ResultCode.operationsError, 0);
      return provider.app;
    }
  }

  if (paging !== undefined) {
    return finishPaged(op, out, deps, { key: requestKey(op), result, next: 0 }, paging.size, (code, n) => log(provider, code, n), provider.app);
  }
  const sent = await sendEntries(out, result, 0, result.count);
  if (!sent) return provider.app;
  out.done(result.resultCode, { matchedDN: result.matchedDn, diagnosticMessage: result.diagnosticMessage });
  log(provider, result.resultCode, result.count);
  return provider.app;
}

async function finishPaged(
  op: OpOf<'SearchRequest'>,
  out: ResponseSink,
  deps: SearchDeps,
  state: PagedState,
  size: number,
  log: (code: number, entries: number) => void,
  app = '',
): Promise<string> {
  void op;
  // size 0 abandons the paged search (RFC 2696 3).
  const end = size === 0 ? state.next : Math.min(state.result.count, state.next + size);
  const sent = await sendEntries(out, state.result, state.next, end);
  if (!sent) return app;
  let cookie: Buffer = Buffer.alloc(0);
  if (size !== 0 && end < state.result.count) cookie = deps.paged.put({ ...state, next: end });
  const last = cookie.length === 0;
  const code = last ? state.result.resultCode : ResultCode.success;
  out.done(code, {
    ...(last ? { matchedDN: state.result.matchedDn, diagnosticMessage: state.result.diagnosticMessage } : {}),
    controls: [pagedResultsControl(0, cookie)],
  });
  log(code, end - state.next);
  return app;
}

function directDeps(deps: SearchDeps, provider: LdapProvider): { core: CoreApi; provider: LdapProvider['config']; pageSize: number } {
  return { core: deps.api, provider: provider.config, pageSize: deps.pageSize };
}

function viewerOf(state: LdapAuthState): { userPk: number; canSearch: boolean } {
  return { userPk: state.userPk, canSearch: state.canSearch };
}

/** Compare (RFC 4511 4.10) against the bound provider's directory, with the viewer's visibility. */
export async function compareOperation(op: OpOf<'CompareRequest'>, conn: LdapConnectionView, out: ResponseSink, deps: SearchDeps): Promise<string> {
  const state = authStateOf(conn.authState);
  if (state === undefined) {
    out.done(ResultCode.insufficientAccessRights, { diagnosticMessage: 'bind first' });
    return '';
  }
  const provider = deps.providers.find((p) => p.config.pk === state.providerPk);
  if (provider === undefined) {
    out.done(ResultCode.insufficientAccessRights, { diagnosticMessage: 'the provider of this bind is gone; bind again' });
    return '';
  }
  const value = op.ava.assertionValue.toString('utf8');
  if (provider.config.searchMode === 'cached') {
    if (provider.snapshot === undefined) {
      out.done(ResultCode.unavailable, { diagnosticMessage: 'the directory is still loading' });
      return provider.app;
    }
    const outcome = provider.snapshot.compare(op.entry, op.ava.attributeDesc, value, viewerOf(state));
    out.done(outcome.resultCode, { matchedDN: outcome.matchedDn });
    return provider.app;
  }
  // Direct mode: the entry with that attribute, and whether the assertion matches it.
  const query: SearchQuery = {
    baseObject: op.entry,
    scope: 0,
    filter: { kind: 'present', type: 'objectClass' },
    attributes: [op.ava.attributeDesc],
    typesOnly: false,
    sizeLimit: 1,
  };
  const probe = { ...query, filter: { kind: 'equalityMatch' as const, type: op.ava.attributeDesc, value } };
  let found: SearchResult;
  let matched: SearchResult;
  try {
    found = await searchDirect(directDeps(deps, provider), query, viewerOf(state));
    matched = await searchDirect(directDeps(deps, provider), probe, viewerOf(state));
  } catch {
    out.done(ResultCode.operationsError, { diagnosticMessage: 'directory query failed' });
    return provider.app;
  }
  if (found.count === 0) {
    out.done(found.resultCode === ResultCode.success ? ResultCode.noSuchObject : found.resultCode, { matchedDN: found.matchedDn });
    return provider.app;
  }
  if (matched.count > 0) out.done(ResultCode.compareTrue);
  else if (found.entry(0).attributes.length === 0) out.done(ResultCode.noSuchAttribute);
  else out.done(ResultCode.compareFalse);
  return provider.app;
}
