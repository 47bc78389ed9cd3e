/**
 * Search over one fixed entry: the RootDSE and `cn=subschema`. Same filter engine and attribute selection as
 * the directory, over a MatchContext made from the entry itself.
 */
import type { Buffer } from 'node:buffer';
import { encodeEntryOp } from '../../../protocol/ldap/search-response.js';
import { ResultCode } from '../../../protocol/ldap/result-codes.js';
import type { LdapAttribute, LdapEntry } from '../../../directory/entries.js';
import { schemaAttribute } from '../../../directory/schema.js';
import { attributeKey, isSelected, parseAttributeSelection } from '../../../directory/attributes.js';
import { compileFilter, TRUE, type AttrRef, type MatchContext, type ValueSlot } from '../../../directory/compile.js';
import type { IdSet } from '../../../directory/id-set.js';
import { normalizeDnValue } from '../../../directory/matching.js';
import type { SearchQuery, SearchResult } from '../../../directory/types.js';

export interface SingleEntryOptions {
  /** Only a base-scope search returns the entry (the RootDSE, RFC 4512 5.1); else any scope that includes it. */
  baseScopeOnly: boolean;
  /** `*` and an empty list also return operational attributes (the RootDSE: clients rarely ask for `+`). */
  allForUserSelection: boolean;
}

class EntryContext implements MatchContext {
  readonly #refs = new Map<string, AttrRef & { index: number }>();

  readonly #entry: LdapEntry;

  constructor(entry: LdapEntry) {
    this.#entry = entry;
    entry.attributes.forEach((attribute, index) => {
      const key = attributeKey(attribute.type);
      if (this.#refs.has(key)) return;
      this.#refs.set(key, { id: this.#refs.size, key, match: schemaAttribute(key)?.match ?? 'string', index });
    });
  }

  attribute(description: string): AttrRef | undefined {
    const key = attributeKey(description);
    const ref = this.#refs.get(key);
    if (ref !== undefined) return ref;
    const known = schemaAttribute(key);
    // Known to the schema but absent here: recognised, without values.
    return known === undefined ? undefined : { id: -1, key, match: known.match };
  }

  values(_entry: number, attr: AttrRef): ValueSlot | undefined {
    const ref = this.#refs.get(attr.key);
    return ref === undefined ? undefined : this.#entry.attributes[ref.index]!.values;
  }

  attributesOf(): Iterable<AttrRef> {
    return this.#refs.values();
  }

  entryDn(): string {
    return this.#entry.dn;
  }

  equalityIndex(): IdSet | undefined {
    return undefined;
  }

  inChain(): IdSet | undefined {
    return undefined;
  }
}

function result(resultCode: number, matchedDn: string, diagnosticMessage: string, entry: LdapEntry | null): SearchResult {
  let encoded: Buffer | undefined;
  const count = entry === null ? 0 : 1;
  const at = (index: number): LdapEntry => {
    if (entry === null || index !== 0) throw new RangeError(`search result has no entry ${index}`);
    return entry;
  };
  return {
    resultCode,
    matchedDn,
    diagnosticMessage,
    count,
    entry: at,
    encoded(index) {
      const e = at(index);
      encoded ??= encodeEntryOp(e.dn, e.attributes);
      return encoded;
    },
    *[Symbol.iterator]() {
      if (entry !== null) yield this.encoded(0);
    },
  };
}

/** Searches a single entry: scope, filter, attribute selection, typesOnly. */
export function searchSingleEntry(entry: LdapEntry, query: SearchQuery, options: SingleEntryOptions): SearchResult {
  const baseKey = normalizeDnValue(query.baseObject);
  if (baseKey === null) return result(ResultCode.invalidDNSyntax, '', 'invalid base DN', null);
  if (baseKey !== normalizeDnValue(entry.dn)) return result(ResultCode.noSuchObject, '', 'no such object', null);
  const inScope = query.scope === 0 || (query.scope === 2 && !options.baseScopeOnly);
  if (!inScope) return result(ResultCode.success, '', '', null);
  const compiled = compileFilter(query.filter, new EntryContext(entry));
  if (compiled.test(0) !== TRUE) return result(ResultCode.success, '', '', null);
  const selection = parseAttributeSelection(query.attributes);
  const attributes: LdapAttribute[] = [];
  if (!selection.none) {
    for (const attribute of entry.attributes) {
      if (attribute.values.length === 0) continue;
      const key = attributeKey(attribute.type);
      const operational = schemaAttribute(key)?.operational ?? false;
      const selected = (options.allForUserSelection && selection.allUser) || isSelected(selection, key, operational);
      if (selected) attributes.push(query.typesOnly ? { type: attribute.type, values: [] } : attribute);
    }
  }
  return result(ResultCode.success, '', '', { dn: entry.dn, attributes });
}

export interface EntriesSearchOptions {
  /** The entries are the RootDSE: base scope only, and `*` returns its operational attributes too. */
  rootDse?: boolean;
}

/**
 * Search over a few fixed entries (RootDSE, cn=subschema): each is tried as in searchSingleEntry and the
 * matches are returned in order. noSuchObject when no entry has the base DN.
 */
export function searchEntries(entries: readonly LdapEntry[], query: SearchQuery, options: EntriesSearchOptions = {}): SearchResult {
  const rootDse = options.rootDse === true;
  const found: LdapEntry[] = [];
  let baseExists = false;
  for (const entry of entries) {
    const one = searchSingleEntry(entry, query, { baseScopeOnly: rootDse, allForUserSelection: rootDse });
    if (one.resultCode === ResultCode.invalidDNSyntax) return one;
    if (one.resultCode !== ResultCode.noSuchObject) baseExists = true;
    if (one.count === 1) found.push(one.entry(0));
  }
  if (!baseExists) return result(ResultCode.noSuchObject, '', 'no such object', null);
  if (found.length <= 1) return result(ResultCode.success, '', '', found[0] ?? null);
  const encoded: (Buffer | undefined)[] = [];
  const at = (index: number): LdapEntry => {
    const entry = found[index];
    if (entry === undefined) throw new RangeError(`search result has no entry ${index}`);
    return entry;
  };
  return {
    resultCode: ResultCode.success,
    matchedDn: '',
    diagnosticMessage: '',
    count: found.length,
    entry: at,
    encoded(index) {
      const entry = at(index);
      return (encoded[index] ??= encodeEntryOp(entry.dn, entry.attributes));
    },
    *[Symbol.iterator]() {
      for (let i = 0; i < found.length; i++) yield this.encoded(i);
    },
  };
}
