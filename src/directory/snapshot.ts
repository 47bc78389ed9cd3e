/**
 * An immutable, indexed directory: every entry of one provider's tree, built once per refresh (build.ts) and
 * searched without any API call. See index.ts for the API and the design.
 */
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { DIRECTORY_LIMITS } from '../config/limits.js';
import type { ChunkedArray } from '../lib/chunked.js';
import { encodeEntryOp } from '../protocol/ldap/search-response.js';
import { parseDn, normalizedRdns } from '../protocol/ldap/dn.js';
import { ResultCode } from '../protocol/ldap/result-codes.js';
import type { DirectoryLayout, LdapAttribute, LdapEntry } from './entries.js';
import { SUBSCHEMA_DN } from './schema.js';
import {
  ALL_USER_ATTRIBUTES,
  isSelected,
  parseAttributeSelection,
  selectsExactlyUserAttributes,
  type AttributeSelection,
} from './attributes.js';
import { compileFilter, slotValues, TRUE, type AttrRef, type MatchContext, type ValueSlot } from './compile.js';
import { EMPTY_SET, intersect, RangeSet, SortedIds, union, type IdSet } from './id-set.js';
import { normalizeDnValue } from './matching.js';
import type { SearchQuery, SearchResult, Viewer } from './types.js';
import { AttributeTable, type AttributeDef, type Shape } from './attribute-table.js';
import { EncodedStore, EntryEncoder } from './encode.js';

export const EntryKind = Object.freeze({ base: 0, container: 1, user: 2, group: 3, virtualGroup: 4 });
export type EntryKindValue = (typeof EntryKind)[keyof typeof EntryKind];

/** Ids of the fixed entries. */
export const BASE_ID = 0;
export const USERS_CONTAINER_ID = 1;
export const GROUPS_CONTAINER_ID = 2;
export const VIRTUAL_GROUPS_CONTAINER_ID = 3;
export const FIRST_OBJECT_ID = 4;

/** Posting list: one id, ascending ids, or a run of ids. */
export type Posting = number | number[] | RangeSet;

/** Attributes a virtual group shares with its user: their postings list the user only (see equalityIndex). */
export const SHARED_WITH_VIRTUAL_GROUP: ReadonlySet<string> = new Set(['cn', 'uid', 'samaccountname', 'gidnumber']);

/** Everything the builder hands over; the snapshot only reads it. */
export interface SnapshotParts {
  layout: DirectoryLayout;
  table: AttributeTable;
  shapes: Shape[];
  userCount: number;
  groupCount: number;
  dns: string[];
  ndns: string[];
  shapeOf: Uint32Array;
  /** Value slots of all entries; entry `id`'s are contiguous from slotStart[id], in its shape's order. */
  slots: ChunkedArray<ValueSlot>;
  slotStart: Uint32Array;
  /** Normalized DN -> id. */
  dnIndex: Map<string, number>;
  /** Attribute id -> equality key -> posting. */
  indexes: Map<number, Map<string, Posting>>;
  userPks: Int32Array;
  /** Each user's password change date in epoch microseconds (NaN: the core sent none), by user index. */
  passwordChangedAt: Float64Array;
  /** User pk -> user index (entry id minus FIRST_OBJECT_ID); built from userPks when absent. */
  userIndexByPk?: Map<number, number>;
  /** Direct groups of each user (group indexes), CSR. */
  userGroupOffsets: Uint32Array;
  userGroupData: Uint32Array;
  /** Users directly in each group (user indexes), CSR (reverse of the above). */
  groupUserOffsets: Uint32Array;
  groupUserData: Uint32Array;
  groupParents: number[][];
  groupChildren: number[][];
  /** Kept `*` ops of entries (null: encode every time). */
  encoded: EncodedStore | null;
  /** Keep an entry's op in `encoded` when a search first sends it (else `encoded` is filled at build time). */
  encodeOnDemand?: boolean;
  builtAt: number;
}

const SUBSCHEMA_VALUES: readonly string[] = Object.freeze([SUBSCHEMA_DN]);
const TRUE_VALUES: readonly string[] = Object.freeze(['TRUE']);
const FALSE_VALUES: readonly string[] = Object.freeze(['FALSE']);

/** What a search runs against: the whole snapshot, or a non-privileged user's view of it. */
interface SearchView extends MatchContext {
  /** Entries the viewer may see, or null for all. */
  readonly visible: IdSet | null;
  /** Whether the snapshot's pre-encoded bytes are exactly what this view sends for `*`. */
  canUsePreEncoded(id: number): boolean;
  /** Stored attributes of the entry, in order, as this view sees them. */
  storedAttributes(id: number): Iterable<[AttributeDef, ValueSlot]>;
}

export class DirectorySnapshot implements SearchView {
  readonly layout: DirectoryLayout;
  readonly userCount: number;
  readonly groupCount: number;
  /** Epoch ms when the build finished. */
  readonly builtAt: number;
  readonly visible = null;
  readonly #p: SnapshotParts;
  readonly #groupStart: number;
  readonly #virtualGroupStart: number;
  readonly #entryCount: number;
  // Bounded by entry count and by total ids held, so a few huge groups cannot pin much memory.
  readonly #inChainMemo = new LRUCache<string, IdSet>({ max: DIRECTORY_LIMITS.inChainMemoEntries, maxSize: DIRECTORY_LIMITS.inChainMemoIds, sizeCalculation: (set) => set.size + 1 });
  readonly #restrictedViews = new LRUCache<number, RestrictedView>({ max: DIRECTORY_LIMITS.restrictedViewMemoEntries });
  readonly #userIndexByPk: Map<number, number>;
  readonly #baseKeys = new Map<string, string | null>();
  readonly #encoder: EntryEncoder;
  readonly #encodeOnDemand: boolean;

  constructor(parts: SnapshotParts) {
    this.#p = parts;
    this.layout = parts.layout;
    this.userCount = parts.userCount;
    this.groupCount = parts.groupCount;
    this.builtAt = parts.builtAt;
    this.#groupStart = FIRST_OBJECT_ID + parts.userCount;
    this.#virtualGroupStart = this.#groupStart + parts.groupCount;
    this.#entryCount = this.#virtualGroupStart + parts.userCount;
    let byPk = parts.userIndexByPk;
    if (byPk === undefined) {
      byPk = new Map();
      for (let i = 0; i < parts.userCount; i++) if (!byPk.has(parts.userPks[i]!)) byPk.set(parts.userPks[i]!, i);
    }
    this.#userIndexByPk = byPk;
    this.#encoder = new EntryEncoder(parts);
    this.#encodeOnDemand = parts.encodeOnDemand === true;
  }

  /** The stored parts, read by the next build to share unchanged strings with this snapshot. */
  get storedParts(): Readonly<SnapshotParts> {
    return this.#p;
  }

  /** Number of entries (base, 3 containers, users, groups, virtual groups). */
  get size(): number {
    return this.#entryCount;
  }

  kindOf(id: number): EntryKindValue {
    if (id === BASE_ID) return EntryKind.base;
    if (id < FIRST_OBJECT_ID) return EntryKind.container;
    if (id < this.#groupStart) return EntryKind.user;
    if (id < this.#virtualGroupStart) return EntryKind.group;
    return EntryKind.virtualGroup;
  }

  /** The entry id of a DN (any spelling), or undefined. */
  idOf(dn: string): number | undefined {
    const key = this.dnKeyOf(dn);
    return key === null ? undefined : this.#p.dnIndex.get(key);
  }

  /** Normalized DN, remembering the few base DNs clients use over and over (bounded). */
  dnKeyOf(dn: string): string | null {
    const known = this.#p.dnIndex.has(dn) ? dn : this.#baseKeys.get(dn);
    if (known !== undefined) return known;
    const key = normalizeDnValue(dn);
    if (this.#baseKeys.size >= DIRECTORY_LIMITS.baseKeyMemoEntries) this.#baseKeys.clear();
    this.#baseKeys.set(dn, key);
    return key;
  }

  /** Entry id of a user by pk, or undefined when the user is not in the snapshot. */
  userIdByPkOf(pk: number): number | undefined {
    const index = this.#userIndexByPk.get(pk);
    return index === undefined ? undefined : FIRST_OBJECT_ID + index;
  }

  /** The user's password change date in epoch µs; NaN when the core did not send one (or no such user). */
  passwordChangedAtOf(userId: number): number {
    return this.#p.passwordChangedAt[userId - FIRST_OBJECT_ID] ?? Number.NaN;
  }

  /** The whole entry (all attributes, operational ones included): for tests and diagnostics. */
  entryById(id: number, selection: AttributeSelection = parseAttributeSelection(['*', '+'])): LdapEntry {
    return { dn: this.#p.dns[id]!, attributes: selectedAttributes(this, id, selection, false) };
  }

  /** Approximate bytes held by the pre-encoded entries. */
  get encodedBytes(): number {
    return this.#p.encoded?.bytes ?? 0;
  }

  // -------------------------------------------------------------------------------------------------------
  // MatchContext

  attribute(description: string): AttrRef | undefined {
    return this.#p.table.resolve(description);
  }

  values(entry: number, attr: AttrRef): ValueSlot | undefined {
    const def = attr as AttributeDef;
    if (def.virtual !== null) return this.#virtualValues(entry, def);
    const p = this.#p;
    const position = p.shapes[p.shapeOf[entry]!]!.positionOf(attr.id);
    return position < 0 ? undefined : p.slots.get(p.slotStart[entry]! + position);
  }

  *attributesOf(entry: number): Iterable<AttrRef> {
    const p = this.#p;
    for (const id of p.shapes[p.shapeOf[entry]!]!.attrs) yield p.table.byId(id);
  }

  entryDn(entry: number): string {
    return this.#p.dns[entry]!;
  }

  equalityIndex(attr: AttrRef, key: string): IdSet | undefined {
    if (attr.key === 'entrydn') {
      const id = this.#p.dnIndex.get(key);
      return id === undefined ? EMPTY_SET : new SortedIds([id]);
    }
    const index = this.#p.indexes.get(attr.id);
    if (index === undefined) return undefined;
    const posting = index.get(key);
    const set: IdSet = posting === undefined ? EMPTY_SET : typeof posting === 'number' ? new SortedIds([posting]) : Array.isArray(posting) ? new SortedIds(posting) : posting;
    // Virtual groups are indexed only where they differ from their user: add those of the users found.
    if (SHARED_WITH_VIRTUAL_GROUP.has(attr.key)) {
      const extra: number[] = [];
      for (const id of set) if (id >= FIRST_OBJECT_ID && id < this.#groupStart) extra.push(this.virtualGroupIdOf(id));
      return extra.length === 0 ? set : union([set, new SortedIds(extra)]);
    }
    // A virtual group's only member is its user; those values are not indexed.
    if (attr.key === 'member') {
      const target = this.#p.dnIndex.get(key);
      if (target !== undefined && this.kindOf(target) === EntryKind.user) return union([set, new SortedIds([this.virtualGroupIdOf(target)])]);
    }
    return set;
  }

  /**
   * Whether equalityIndex() is the exact answer. Attributes shared with virtual groups are not: a user found by
   * one of several values brings its virtual group along, which may lack that value. `member` is: a virtual
   * group's only member is its own user, which is exactly the entry the union adds.
   */
  indexIsExact(attr: AttrRef): boolean {
    return !SHARED_WITH_VIRTUAL_GROUP.has(attr.key);
  }

  inChain(attr: AttrRef, dnKey: string): IdSet | undefined {
    if (attr.key !== 'memberof' && attr.key !== 'member') return undefined;
    const memoKey = attr.key + '\n' + dnKey;
    const cached = this.#inChainMemo.get(memoKey);
    if (cached !== undefined) return cached;
    const target = this.#p.dnIndex.get(dnKey);
    const result = target === undefined ? EMPTY_SET : attr.key === 'memberof' ? this.#membersInChain(target) : this.#groupsInChain(target);
    this.#inChainMemo.set(memoKey, result);
    return result;
  }

  // -------------------------------------------------------------------------------------------------------
  // SearchView

  canUsePreEncoded(): boolean {
    return true;
  }

  *storedAttributes(id: number): Iterable<[AttributeDef, ValueSlot]> {
    const p = this.#p;
    const shape = p.shapes[p.shapeOf[id]!]!;
    const start = p.slotStart[id]!;
    for (let i = 0; i < shape.attrs.length; i++) yield [p.table.byId(shape.attrs[i]!), p.slots.get(start + i)];
  }

  /**
   * The selected stored attributes of an entry (as selectedAttributes' first loop), with the selection applied
   * once per entry shape: `memo` maps a shape to its selected positions. Walking every stored attribute of
   * every entry was most of the cost of a `cn`-only search returning many entries.
   */
  selectedStored(id: number, selection: AttributeSelection, typesOnly: boolean, memo: Map<number, readonly number[]>, out: LdapAttribute[]): void {
    const p = this.#p;
    const shapeIndex = p.shapeOf[id]!;
    const shape = p.shapes[shapeIndex]!;
    let positions = memo.get(shapeIndex);
    if (positions === undefined) {
      const selected: number[] = [];
      for (let i = 0; i < shape.attrs.length; i++) {
        const def = p.table.byId(shape.attrs[i]!);
        if (def.virtual === null && isSelected(selection, def.key, def.operational)) selected.push(i);
      }
      memo.set(shapeIndex, (positions = selected));
    }
    const start = p.slotStart[id]!;
    for (const i of positions) {
      const slot = p.slots.get(start + i);
      if (typeof slot !== 'string' && slot.length === 0) continue;
      out.push({ type: p.table.byId(shape.attrs[i]!).name, values: typesOnly ? [] : slotValues(slot) });
    }
  }

  /**
   * Op of an entry with all its user attributes: the kept bytes, else encoded now (and kept, on demand, while
   * the budget lasts).
   */
  preEncoded(id: number): Buffer {
    const encoded = this.#p.encoded;
    if (encoded === null) return this.#encoder.encode(id);
    return encoded.get(id) ?? (this.#encodeOnDemand ? encoded.keep(id, this.#encoder) : undefined) ?? this.#encoder.encode(id);
  }

  /** Entries with kept encoded bytes (grows as searches send entries, when encoding on demand). */
  get preEncodedCount(): number {
    return this.#p.encoded?.count ?? 0;
  }

  // -------------------------------------------------------------------------------------------------------
  // Search

  /**
   * Runs a search. Never throws for client input: an invalid base DN gives 34, a base outside the tree (or
   * not visible to the viewer) 32 with the nearest visible ancestor as matchedDN, a full size limit 4.
   */
  search(query: SearchQuery, viewer: Viewer): SearchResult {
    const view: SearchView = viewer.canSearch ? this : this.#restrictedView(viewer.userPk);
    return runSearch(this, view, query);
  }

  /**
   * LDAP Compare (RFC 4511 4.10) against the entry as the viewer sees it: 6 compareTrue, 5 compareFalse,
   * 16 noSuchAttribute (the entry has no such value set), 17 undefinedAttributeType, 32 noSuchObject, 34
   * invalidDNSyntax. An assertion invalid for the attribute's syntax compares false.
   */
  compare(dn: string, attribute: string, value: string, viewer: Viewer): { resultCode: number; matchedDn: string } {
    const view: SearchView = viewer.canSearch ? this : this.#restrictedView(viewer.userPk);
    const key = this.dnKeyOf(dn);
    if (key === null) return { resultCode: ResultCode.invalidDNSyntax, matchedDn: '' };
    const id = this.#p.dnIndex.get(key);
    if (id === undefined || (view.visible !== null && !view.visible.has(id))) {
      return { resultCode: ResultCode.noSuchObject, matchedDn: matchedAncestor(this, view, key) };
    }
    const attr = view.attribute(attribute);
    if (attr === undefined) return { resultCode: ResultCode.undefinedAttributeType, matchedDn: '' };
    const slot = view.values(id, attr);
    if (slot === undefined || (typeof slot !== 'string' && slot.length === 0)) return { resultCode: ResultCode.noSuchAttribute, matchedDn: '' };
    const compiled = compileFilter({ kind: 'equalityMatch', type: attribute, value }, view);
    return { resultCode: compiled.test(id) === TRUE ? ResultCode.compareTrue : ResultCode.compareFalse, matchedDn: '' };
  }

  /** Scope of a base entry as ids. */
  scopeSet(baseId: number, scope: number): IdSet {
    if (scope === 0) return RangeSet.of(baseId, baseId + 1);
    let start: number;
    let end: number;
    if (baseId === BASE_ID) {
      if (scope === 1) return RangeSet.of(USERS_CONTAINER_ID, FIRST_OBJECT_ID);
      start = USERS_CONTAINER_ID;
      end = this.#entryCount;
    } else if (baseId < FIRST_OBJECT_ID) {
      [start, end] = this.#childRange(baseId);
    } else {
      start = end = 0;
    }
    if (scope === 2) return new RangeSet(end > start ? [baseId, baseId + 1, start, end] : [baseId, baseId + 1]);
    return RangeSet.of(start, end); // one level and subordinates coincide below the base entry
  }

  #childRange(containerId: number): [number, number] {
    if (containerId === USERS_CONTAINER_ID) return [FIRST_OBJECT_ID, this.#groupStart];
    if (containerId === GROUPS_CONTAINER_ID) return [this.#groupStart, this.#virtualGroupStart];
    return [this.#virtualGroupStart, this.#entryCount];
  }

  #virtualValues(entry: number, def: AttributeDef): ValueSlot | undefined {
    switch (def.virtual) {
      case 'entrydn':
        return [this.#p.dns[entry]!];
      case 'subschemasubentry':
        return SUBSCHEMA_VALUES;
      case 'hassubordinates': {
        if (entry === BASE_ID) return TRUE_VALUES;
        if (entry >= FIRST_OBJECT_ID) return FALSE_VALUES;
        const [start, end] = this.#childRange(entry);
        return end > start ? TRUE_VALUES : FALSE_VALUES;
      }
      case 'entryuuid':
        return [this.#entryUuid(entry)];
      default:
        return undefined;
    }
  }

  /**
   * A stable entryUUID: a group's pk (a UUID) as is; otherwise a name-based UUID from the entry kind and the
   * user's uid (which authentik derives from pk and install id), so it survives renames.
   */
  #entryUuid(entry: number): string {
    const kind = this.kindOf(entry);
    const uidDef = this.#p.table.resolve('uid')!;
    const slot = kind === EntryKind.base || kind === EntryKind.container ? undefined : this.values(entry, uidDef);
    const uid = slot === undefined ? undefined : slotValues(slot)[0];
    if (kind === EntryKind.group && uid !== undefined && UUID.test(uid)) return uid.toLowerCase();
    const seed = uid === undefined ? 'dn:' + this.#p.ndns[entry]! : kind + ':' + uid;
    return nameBasedUuid(seed);
  }

  // -------------------------------------------------------------------------------------------------------
  // Membership

  #userIndexOf(id: number): number {
    return id - FIRST_OBJECT_ID;
  }

  #directGroupsOfUser(userIndex: number): Uint32Array {
    return this.#p.userGroupData.subarray(this.#p.userGroupOffsets[userIndex], this.#p.userGroupOffsets[userIndex + 1]);
  }

  /** Group indexes reachable from `start` along `edges` (start itself only when a cycle leads back). */
  #reachable(start: readonly number[] | Uint32Array, edges: number[][], includeStart: boolean): number[] {
    const seen = new Uint8Array(this.groupCount);
    const out: number[] = [];
    const stack: number[] = [];
    for (const g of start) {
      if (includeStart) {
        if (seen[g] === 0) {
          seen[g] = 1;
          out.push(g);
          stack.push(g);
        }
      } else {
        stack.push(g);
      }
    }
    while (stack.length > 0) {
      const g = stack.pop()!;
      for (const next of edges[g] ?? []) {
        if (seen[next] === 1) continue;
        seen[next] = 1;
        out.push(next);
        stack.push(next);
      }
    }
    return out;
  }

  /** `memberOf:1.2.840.113556.1.4.1941:=<target>`: users and groups transitively in the target group. */
  #membersInChain(target: number): IdSet {
    const kind = this.kindOf(target);
    if (kind === EntryKind.virtualGroup) return new SortedIds([FIRST_OBJECT_ID + (target - this.#virtualGroupStart)]);
    if (kind !== EntryKind.group) return EMPTY_SET;
    const g = target - this.#groupStart;
    const descendants = this.#reachable([g], this.#p.groupChildren, false);
    const ids: number[] = [];
    const addUsers = (group: number): void => {
      const { groupUserOffsets: offsets, groupUserData: data } = this.#p;
      for (let i = offsets[group]!; i < offsets[group + 1]!; i++) ids.push(FIRST_OBJECT_ID + data[i]!);
    };
    addUsers(g);
    for (const d of descendants) {
      if (d !== g) addUsers(d);
      ids.push(this.#groupStart + d);
    }
    return sortedUnique(ids);
  }

  /** `member:1.2.840.113556.1.4.1941:=<target>`: groups that transitively contain the target. */
  #groupsInChain(target: number): IdSet {
    const kind = this.kindOf(target);
    const ids: number[] = [];
    if (kind === EntryKind.user) {
      const userIndex = this.#userIndexOf(target);
      for (const g of this.#reachable(this.#directGroupsOfUser(userIndex), this.#p.groupParents, true)) ids.push(this.#groupStart + g);
      ids.push(this.#virtualGroupStart + userIndex);
    } else if (kind === EntryKind.group) {
      for (const g of this.#reachable([target - this.#groupStart], this.#p.groupParents, false)) ids.push(this.#groupStart + g);
    }
    return sortedUnique(ids);
  }

  // -------------------------------------------------------------------------------------------------------
  // Non-privileged view (reference 3.7)

  #restrictedView(userPk: number): RestrictedView {
    let view = this.#restrictedViews.get(userPk);
    if (view === undefined) {
      const userId = this.userIdByPkOf(userPk);
      const groupIds: number[] = [];
      if (userId !== undefined) for (const g of this.#directGroupsOfUser(this.#userIndexOf(userId))) groupIds.push(this.#groupStart + g);
      view = new RestrictedView(this, userId, groupIds);
      this.#restrictedViews.set(userPk, view);
    }
    return view;
  }

  /** For views: entry id of the virtual group of a user entry. */
  virtualGroupIdOf(userId: number): number {
    return this.#virtualGroupStart + this.#userIndexOf(userId);
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A UUID (version 8, RFC 9562 "custom") from the SHA-256 of a seed. */
function nameBasedUuid(seed: string): string {
  const bytes = createHash('sha256').update(seed).digest();
  bytes[6] = (bytes[6]! & 0x0f) | 0x80;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

function sortedUnique(ids: number[]): IdSet {
  if (ids.length === 0) return EMPTY_SET;
  ids.sort((a, b) => a - b);
  let n = 0;
  for (let i = 0; i < ids.length; i++) if (n === 0 || ids[i] !== ids[n - 1]) ids[n++] = ids[i]!;
  ids.length = n;
  return new SortedIds(ids);
}

/**
 * What a user without search permission sees: the base and containers, their own entry and virtual group, and
 * their direct groups, each listing only them as member and no parent groups. Membership rules then only see
 * this flat view, so in-chain queries cannot reveal the hidden hierarchy.
 */
class RestrictedView implements SearchView {
  readonly visible: IdSet;
  readonly #groups: ReadonlySet<number>;
  readonly #memberValues: readonly string[];
  readonly #memberDef: AttributeDef;
  readonly #memberOfDef: AttributeDef;

  readonly #snapshot: DirectorySnapshot;

  constructor(
    snapshot: DirectorySnapshot,
    userId: number | undefined,
    groupIds: number[],
  ) {
    this.#snapshot = snapshot;
    const ids = [BASE_ID, USERS_CONTAINER_ID, GROUPS_CONTAINER_ID, VIRTUAL_GROUPS_CONTAINER_ID];
    if (userId !== undefined) ids.push(userId, ...groupIds, snapshot.virtualGroupIdOf(userId));
    ids.sort((a, b) => a - b);
    this.visible = new SortedIds(ids);
    this.#groups = new Set(groupIds);
    this.#memberValues = userId === undefined ? [] : [snapshot.entryDn(userId)];
    this.#memberDef = snapshot.attribute('member') as AttributeDef;
    this.#memberOfDef = snapshot.attribute('memberOf') as AttributeDef;
  }

  attribute(description: string): AttrRef | undefined {
    return this.#snapshot.attribute(description);
  }

  values(entry: number, attr: AttrRef): ValueSlot | undefined {
    if (this.#groups.has(entry)) {
      if (attr.id === this.#memberDef.id) return this.#memberValues;
      if (attr.id === this.#memberOfDef.id) return undefined;
    }
    return this.#snapshot.values(entry, attr);
  }

  *attributesOf(entry: number): Iterable<AttrRef> {
    for (const attr of this.#snapshot.attributesOf(entry)) {
      const values = this.values(entry, attr);
      if (values !== undefined && values.length > 0) yield attr;
    }
  }

  entryDn(entry: number): string {
    return this.#snapshot.entryDn(entry);
  }

  equalityIndex(attr: AttrRef, key: string): IdSet | undefined {
    // The group overlay changes member / memberOf: evaluate those on the (few) visible entries instead.
    if (attr.id === this.#memberDef.id || attr.id === this.#memberOfDef.id) return undefined;
    return this.#snapshot.equalityIndex(attr, key);
  }

  indexIsExact(attr: AttrRef): boolean {
    return this.#snapshot.indexIsExact(attr);
  }

  inChain(): IdSet | undefined {
    // Without visible nesting, transitive membership is direct membership (plain DN equality).
    return undefined;
  }

  canUsePreEncoded(id: number): boolean {
    return !this.#groups.has(id) && this.#snapshot.canUsePreEncoded();
  }

  *storedAttributes(id: number): Iterable<[AttributeDef, ValueSlot]> {
    for (const [def, values] of this.#snapshot.storedAttributes(id)) {
      if (this.#groups.has(id)) {
        if (def.id === this.#memberOfDef.id) continue;
        if (def.id === this.#memberDef.id) {
          if (this.#memberValues.length > 0) yield [def, this.#memberValues];
          continue;
        }
      }
      yield [def, values];
    }
  }
}

const VIRTUAL_ORDER = ['entrydn', 'entryuuid', 'hassubordinates', 'subschemasubentry'] as const;

/** The selected attributes of an entry, stored ones in order, then the computed operational ones. */
function selectedAttributes(view: SearchView, id: number, selection: AttributeSelection, typesOnly: boolean): LdapAttribute[] {
  const out: LdapAttribute[] = [];
  if (selection.none) return out;
  for (const [def, slot] of view.storedAttributes(id)) {
    if (def.virtual !== null || (typeof slot !== 'string' && slot.length === 0) || !isSelected(selection, def.key, def.operational)) continue;
    out.push({ type: def.name, values: typesOnly ? [] : slotValues(slot) });
  }
  for (const key of VIRTUAL_ORDER) {
    if (!isSelected(selection, key, true)) continue;
    const def = view.attribute(key) as AttributeDef;
    const slot = view.values(id, def);
    if (slot !== undefined) out.push({ type: def.name, values: typesOnly ? [] : slotValues(slot) });
  }
  return out;
}

class SnapshotSearchResult implements SearchResult {
  readonly resultCode: number;
  readonly matchedDn: string;
  readonly diagnosticMessage: string;
  readonly #usePreEncoded: boolean;

  readonly #snapshot: DirectorySnapshot;
  readonly #view: SearchView;
  readonly #ids: readonly number[];
  readonly #selection: AttributeSelection;
  readonly #typesOnly: boolean;

  constructor(
    snapshot: DirectorySnapshot,
    view: SearchView,
    ids: readonly number[],
    selection: AttributeSelection,
    typesOnly: boolean,
    outcome: { resultCode: number; matchedDn?: string; diagnosticMessage?: string },
  ) {
    this.#snapshot = snapshot;
    this.#view = view;
    this.#ids = ids;
    this.#selection = selection;
    this.#typesOnly = typesOnly;
    this.resultCode = outcome.resultCode;
    this.matchedDn = outcome.matchedDn ?? '';
    this.diagnosticMessage = outcome.diagnosticMessage ?? '';
    this.#usePreEncoded = !typesOnly && selectsExactlyUserAttributes(selection, (key) => snapshot.attribute(key) !== undefined && (snapshot.attribute(key) as AttributeDef).operational);
  }

  get count(): number {
    return this.#ids.length;
  }

  encoded(index: number): Buffer {
    const id = this.#at(index);
    if (this.#usePreEncoded && this.#view.canUsePreEncoded(id)) return this.#snapshot.preEncoded(id);
    const entry = this.entry(index);
    return encodeEntryOp(entry.dn, entry.attributes);
  }

  entry(index: number): LdapEntry {
    const id = this.#at(index);
    if (this.#view !== this.#snapshot) {
      return { dn: this.#view.entryDn(id), attributes: selectedAttributes(this.#view, id, this.#selection, this.#typesOnly) };
    }
    // The unrestricted view: stored attributes through the per-shape memo, then the computed ones.
    const attributes: LdapAttribute[] = [];
    if (!this.#selection.none) {
      this.#snapshot.selectedStored(id, this.#selection, this.#typesOnly, this.#shapeMemo, attributes);
      for (const def of this.#selectedVirtual()) {
        const slot = this.#snapshot.values(id, def);
        if (slot !== undefined) attributes.push({ type: def.name, values: this.#typesOnly ? [] : slotValues(slot) });
      }
    }
    return { dn: this.#snapshot.entryDn(id), attributes };
  }

  readonly #shapeMemo = new Map<number, readonly number[]>();
  #virtualDefs: readonly AttributeDef[] | undefined;

  #selectedVirtual(): readonly AttributeDef[] {
    this.#virtualDefs ??= VIRTUAL_ORDER.filter((key) => isSelected(this.#selection, key, true)).map((key) => this.#snapshot.attribute(key) as AttributeDef);
    return this.#virtualDefs;
  }

  #at(index: number): number {
    const id = this.#ids[index];
    if (id === undefined) throw new RangeError(`search result has no entry ${index}`);
    return id;
  }

  *[Symbol.iterator](): Iterator<Buffer> {
    for (let i = 0; i < this.#ids.length; i++) yield this.encoded(i);
  }
}

function failure(snapshot: DirectorySnapshot, view: SearchView, resultCode: number, matchedDn: string, message: string): SearchResult {
  return new SnapshotSearchResult(snapshot, view, [], ALL_USER_ATTRIBUTES, false, { resultCode, matchedDn, diagnosticMessage: message });
}

/** Nearest existing (and visible) ancestor of a DN, for matchedDN. */
function matchedAncestor(snapshot: DirectorySnapshot, view: SearchView, baseKey: string): string {
  const rdns = normalizedRdns(parseDn(baseKey));
  for (let i = 1; i < rdns.length; i++) {
    const id = snapshot.idOf(rdns.slice(i).join(','));
    if (id !== undefined && (view.visible === null || view.visible.has(id))) return snapshot.entryDn(id);
  }
  return '';
}

function runSearch(snapshot: DirectorySnapshot, view: SearchView, query: SearchQuery): SearchResult {
  const baseKey = snapshot.dnKeyOf(query.baseObject);
  if (baseKey === null) return failure(snapshot, view, ResultCode.invalidDNSyntax, '', 'invalid base DN');
  const baseId = snapshot.idOf(baseKey);
  if (baseId === undefined || (view.visible !== null && !view.visible.has(baseId))) {
    return failure(snapshot, view, ResultCode.noSuchObject, matchedAncestor(snapshot, view, baseKey), 'no such object');
  }
  const compiled = compileFilter(query.filter, view);
  const sets: IdSet[] = [snapshot.scopeSet(baseId, query.scope)];
  if (view.visible !== null) sets.push(view.visible);
  if (compiled.plan !== null) sets.push(compiled.plan);
  const candidates = compiled.constant !== undefined && compiled.constant !== TRUE ? EMPTY_SET : intersect(sets);
  const limit = query.sizeLimit > 0 ? query.sizeLimit : Infinity;
  const ids: number[] = [];
  let resultCode: number = ResultCode.success;
  const test = compiled.test;
  for (const id of candidates) {
    if (test(id) !== TRUE) continue;
    if (ids.length >= limit) {
      resultCode = ResultCode.sizeLimitExceeded;
      break;
    }
    ids.push(id);
  }
  const selection = parseAttributeSelection(query.attributes);
  return new SnapshotSearchResult(snapshot, view, ids, selection, query.typesOnly, { resultCode });
}
