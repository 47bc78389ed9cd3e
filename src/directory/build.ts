/**
 * Builds a DirectorySnapshot from the core's pages: groups first (so each user's groups resolve to indexes as
 * the user streams by), then users. Pages are turned into compact entries at once and dropped. The finishing
 * steps (membership graph, indexes, pre-encoding) yield to the event loop regularly so a refresh does not stall
 * the listeners. Nothing here touches a live snapshot: the caller swaps the returned one in.
 */
import { DIRECTORY_LIMITS } from '../config/limits.js';
import type { CoreApi } from '../core-api/port.js';
import type { DirectoryGroup, DirectoryUser, LdapProviderConfig } from '../core-api/model.js';
import { ChunkedArray } from '../lib/chunked.js';
import { epochMicros } from '../lib/time.js';
import {
  baseEntryAttributes,
  containerAttributes,
  DirectoryLayout,
  groupAttributes,
  userEntriesWithGroupDns,
  type LdapAttribute,
  type NumberingConfig,
} from './entries.js';
import type { ValueSlot } from './compile.js';
import { RangeSet } from './id-set.js';
import { builtDnKey, equalityKey } from './matching.js';
import { AttributeTable, Shape, type AttributeDef } from './attribute-table.js';
import { EncodedStore, EntryEncoder } from './encode.js';
import {
  DirectorySnapshot,
  FIRST_OBJECT_ID,
  SHARED_WITH_VIRTUAL_GROUP,
  type Posting,
  type SnapshotParts,
} from './snapshot.js';

export type SnapshotProvider = Pick<LdapProviderConfig, 'baseDn' | 'uidStartNumber' | 'gidStartNumber'>;

export interface BuildProgress {
  phase: 'groups' | 'users' | 'finishing' | 'done';
  users: number;
  groups: number;
}

export interface BuildOptions {
  /** Page size asked of the core (ldap.page_size). */
  pageSize?: number;
  /** Progress callback: after the groups, every `progressEvery` users, and when done. */
  onProgress?: (progress: BuildProgress) => void;
  /** Default 10,000. */
  progressEvery?: number;
  /** Keep entries encoded for `*` searches (default true; direct mode's small snapshots skip it). */
  preEncode?: boolean;
  /**
   * Most bytes of kept encoded entries (default DIRECTORY_LIMITS.preEncodeBytes): at build time in id order (users
   * before groups before virtual groups), on demand in the order searches send them; the rest are encoded per
   * request.
   */
  preEncodeBytes?: number;
  /**
   * Encode an entry for `*` when a search first sends it and keep it (within preEncodeBytes), instead of all
   * at build time: buildSnapshot's default (the build is shorter, memory follows what clients read).
   */
  encodeOnDemand?: boolean;
  /** Abandons the build (rejects with the signal's reason) between pages and steps. */
  signal?: AbortSignal;
  /**
   * The snapshot this build replaces: unchanged DNs and values reuse its strings, so the two snapshots alive
   * during a refresh share most of their memory (and the new copies die young).
   */
  previous?: DirectorySnapshot;
  /** Idle milliseconds after each finishing slice (default: REFRESH_PAUSE_MS with `previous`, else 0). */
  pauseMs?: number;
}

/** Longest stretch the finishing steps run before letting the listeners in (a search waits at most this). */
const SLICE_MS = 4;
/**
 * Idle time after each slice of a refresh (a snapshot is live): on a 2-CPU host the build's main thread plus
 * V8's concurrent GC threads otherwise leave clients and the kernel too little CPU, and searches queue up.
 */
export const REFRESH_PAUSE_MS = 4;

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Time-budgeted cooperative slicing: `if (slicer.due()) await slicer.pause()` inside long loops. */
class Slicer {
  #started = performance.now();
  #count = 0;

  readonly #signal: AbortSignal | undefined;
  readonly #pauseMs: number;

  constructor(
    signal: AbortSignal | undefined,
    pauseMs: number,
  ) {
    this.#signal = signal;
    this.#pauseMs = pauseMs;
  }

  /** Cheap: looks at the clock every 256 calls. */
  due(): boolean {
    if ((++this.#count & 255) !== 0) return false;
    return performance.now() - this.#started >= SLICE_MS;
  }

  async pause(): Promise<void> {
    await (this.#pauseMs > 0 ? new Promise<void>((resolve) => setTimeout(resolve, this.#pauseMs)) : tick());
    this.#signal?.throwIfAborted();
    this.#started = performance.now();
  }
}

/**
 * A layout that hands out one string per DN, so memberships share the entry's own DN string (and the previous
 * snapshot's, when it has the entry).
 */
class InterningLayout extends DirectoryLayout {
  readonly #users = new Map<string, string>();
  readonly #groups = new Map<string, string>();

  readonly #previous: PreviousEntries | undefined;

  constructor(
    baseDn: string,
    previous: PreviousEntries | undefined,
  ) {
    super(baseDn);
    this.#previous = previous;
  }

  override userDn(username: string): string {
    let dn = this.#users.get(username);
    if (dn === undefined) {
      dn = super.userDn(username);
      dn = this.#previous?.dn(dn) ?? dn;
      this.#users.set(username, dn);
    }
    return dn;
  }

  override groupDn(name: string): string {
    let dn = this.#groups.get(name);
    if (dn === undefined) {
      dn = super.groupDn(name);
      dn = this.#previous?.dn(dn) ?? dn;
      this.#groups.set(name, dn);
    }
    return dn;
  }

  override virtualGroupDn(username: string): string {
    const dn = super.virtualGroupDn(username);
    return this.#previous?.dn(dn) ?? dn;
  }
}

/** The replaced snapshot's entries, to reuse equal strings and value arrays from. */
class PreviousEntries {
  readonly #parts: Readonly<SnapshotParts>;
  /** Attribute id of the new table -> id in the previous table (-1: absent there), filled lazily. */
  readonly #idMap: number[] = [];

  constructor(previous: DirectorySnapshot) {
    this.#parts = previous.storedParts;
  }

  /** The previous snapshot's id of an entry DN (same normalized DN; its values are compared before reuse). */
  idOf(dn: string): number | undefined {
    return this.#parts.dnIndex.get(dn) ?? this.#parts.dnIndex.get(builtDnKey(dn));
  }

  /** The previous snapshot's string of exactly this DN, if it has one. */
  dn(dn: string): string | undefined {
    const id = this.idOf(dn);
    const old = id === undefined ? undefined : this.#parts.dns[id];
    return old === dn ? old : undefined;
  }

  /** The previous entry's slot of the same attribute when equal to `slot`, else `slot`. */
  share(previousId: number, newAttributeId: number, table: AttributeTable, slot: ValueSlot): ValueSlot {
    const p = this.#parts;
    let oldId = this.#idMap[newAttributeId];
    if (oldId === undefined) {
      oldId = p.table.resolve(table.byId(newAttributeId).name)?.id ?? -1;
      this.#idMap[newAttributeId] = oldId;
    }
    if (oldId < 0) return slot;
    const position = p.shapes[p.shapeOf[previousId]!]!.positionOf(oldId);
    if (position < 0) return slot;
    const old = p.slots.get(p.slotStart[previousId]! + position);
    if (old === slot) return slot;
    if (typeof slot === 'string') return old === slot ? old : slot;
    if (typeof old === 'string' || old.length !== slot.length) return slot;
    for (let i = 0; i < slot.length; i++) if (old[i] !== slot[i]) return slot;
    return old;
  }
}

/** Entries of one kind while building. */
class EntryList {
  readonly dns: string[] = [];
  readonly shapes: number[] = [];
  /** Where each entry's values start in the builder's slots. */
  readonly starts: number[] = [];
  /** The attribute types of the last entry added, its attribute ids (-1: skipped alias) and shape. */
  lastTypes: string[] = [];
  lastIds: number[] = [];
  lastShape = -1;
}

interface ShapeNode {
  readonly next: Map<number, ShapeNode>;
  shape: number;
}

export class SnapshotBuilder {
  readonly #layout: InterningLayout;
  readonly #numbering: NumberingConfig;
  readonly #table = new AttributeTable();
  readonly #idByName = new Map<string, number>();
  readonly #shapes: Shape[] = [];
  readonly #shapeTrie: ShapeNode = { next: new Map(), shape: -1 };
  readonly #fixed = new EntryList();
  readonly #users = new EntryList();
  readonly #groups = new EntryList();
  readonly #virtualGroups = new EntryList();
  /** Value slots of every entry, in the order added (each entry's slots contiguous): handed to the snapshot as is. */
  readonly #slots = new ChunkedArray<ValueSlot>();
  readonly #userPks: number[] = [];
  readonly #passwordChangedAt: number[] = [];
  readonly #userIndexByPk = new Map<number, number>();
  readonly #groupIndexByPk = new Map<string, number>();
  /**
   * Group members known by pk only (the core sent `users` without users_obj): the slot of the group's member
   * values, how many leading values are users, and their pks (flat). Resolved to user DNs in finish().
   */
  readonly #pendingMemberSlots: number[] = [];
  readonly #pendingMemberCounts: number[] = [];
  readonly #pendingMemberPks: number[] = [];
  readonly #unresolvedDn: string;
  readonly #groupParentPks: string[][] = [];
  readonly #groupChildPks: string[][] = [];
  readonly #userGroupOffsets: number[] = [0];
  readonly #userGroupData: number[] = [];
  readonly #ids: number[] = [];
  #usersStarted = false;

  readonly #previous: PreviousEntries | undefined;

  constructor(provider: SnapshotProvider, previous?: DirectorySnapshot) {
    this.#previous = previous === undefined ? undefined : new PreviousEntries(previous);
    this.#layout = new InterningLayout(provider.baseDn, this.#previous);
    this.#numbering = { uidStartNumber: provider.uidStartNumber, gidStartNumber: provider.gidStartNumber };
    this.#add(this.#fixed, this.#layout.baseDn, baseEntryAttributes(this.#layout));
    this.#add(this.#fixed, this.#layout.usersDn, containerAttributes('users'));
    this.#add(this.#fixed, this.#layout.groupsDn, containerAttributes('groups'));
    this.#add(this.#fixed, this.#layout.virtualGroupsDn, containerAttributes('virtual-groups'));
    this.#unresolvedDn = this.#layout.userDn('');
  }

  get userCount(): number {
    return this.#users.dns.length;
  }

  get groupCount(): number {
    return this.#groups.dns.length;
  }

  #attributeId(name: string): number {
    let id = this.#idByName.get(name);
    if (id === undefined) {
      id = this.#table.intern(name).id;
      this.#idByName.set(name, id);
    }
    return id;
  }

  /** Adds an entry. Returns the index of its first slot. */
  #add(list: EntryList, dn: string, attributes: readonly LdapAttribute[]): number {
    const base = this.#slots.length;
    const previousId = this.#previous?.idOf(dn);
    const n = attributes.length;
    // Entries of a kind mostly list the same attribute types as the one before: reuse its ids and shape.
    let same = list.lastShape >= 0 && n === list.lastTypes.length;
    for (let i = 0; same && i < n; i++) same = attributes[i]!.type === list.lastTypes[i];
    if (!same) {
      const lastTypes: string[] = [];
      const lastIds: number[] = [];
      const ids = this.#ids;
      ids.length = 0;
      let node = this.#shapeTrie;
      for (const attribute of attributes) {
        let id = this.#attributeId(attribute.type);
        lastTypes.push(attribute.type);
        // Two names of one attribute (an alias among custom attributes): keep the first.
        if (ids.includes(id)) id = -1;
        lastIds.push(id);
        if (id < 0) continue;
        ids.push(id);
        let next = node.next.get(id);
        if (next === undefined) {
          next = { next: new Map(), shape: -1 };
          node.next.set(id, next);
        }
        node = next;
      }
      if (node.shape < 0) {
        node.shape = this.#shapes.length;
        this.#shapes.push(new Shape(ids, this.#table.size));
      }
      list.lastTypes = lastTypes;
      list.lastIds = lastIds;
      list.lastShape = node.shape;
    }
    const lastIds = list.lastIds;
    const slots = this.#slots;
    for (let i = 0; i < n; i++) {
      const id = lastIds[i]!;
      if (id < 0) continue;
      const values = attributes[i]!.values;
      const slot = values.length === 1 ? values[0]! : values;
      slots.push(previousId === undefined ? slot : this.#previous!.share(previousId, id, this.#table, slot));
    }
    list.dns.push(dn);
    list.shapes.push(list.lastShape);
    list.starts.push(base);
    return base;
  }

  /** Adds groups; all groups must come before the first user. Duplicate pks are ignored. */
  addGroups(groups: readonly DirectoryGroup[]): void {
    if (this.#usersStarted) throw new Error('SnapshotBuilder: groups must be added before users');
    const memberId = this.#attributeId('member');
    for (const group of groups) {
      if (this.#groupIndexByPk.has(group.pk)) continue;
      this.#groupIndexByPk.set(group.pk, this.#groups.dns.length);
      this.#groupParentPks.push(group.parents.map((g) => g.pk));
      this.#groupChildPks.push(group.children.map((g) => g.pk));
      // Members known by pk only get a placeholder DN (userDn('')) here, replaced once the users are known.
      const base = this.#add(this.#groups, this.#layout.groupDn(group.name), groupAttributes(group, this.#layout, this.#numbering));
      if (group.users.some((u) => u.username === '')) {
        const position = this.#shapes[this.#groups.lastShape]!.positionOf(memberId);
        if (position < 0) continue;
        this.#pendingMemberSlots.push(base + position);
        this.#pendingMemberCounts.push(group.users.length);
        for (const u of group.users) this.#pendingMemberPks.push(u.pk);
      }
    }
  }

  /** Adds users (and their virtual groups). Duplicate pks are ignored. */
  addUsers(users: readonly DirectoryUser[]): void {
    this.#usersStarted = true;
    for (const user of users) {
      if (this.#userIndexByPk.has(user.pk)) continue;
      this.#userIndexByPk.set(user.pk, this.#userPks.length);
      this.#userPks.push(user.pk);
      this.#passwordChangedAt.push(epochMicros(user.passwordChangeDate));
      // memberOf in the core's order; groups known by pk only are named from the group listing (unknown
      // ones dropped), named ones keep their name even when the listing lacks them.
      const memberOf: string[] = [];
      for (const ref of user.groups) {
        const index = this.#groupIndexByPk.get(ref.pk);
        if (index !== undefined) {
          this.#userGroupData.push(index);
          memberOf.push(ref.name === '' ? this.#groups.dns[index]! : this.#layout.groupDn(ref.name));
        } else if (ref.name !== '') memberOf.push(this.#layout.groupDn(ref.name));
      }
      this.#userGroupOffsets.push(this.#userGroupData.length);
      const entries = userEntriesWithGroupDns(user, memberOf, this.#layout, this.#numbering);
      this.#add(this.#users, this.#layout.userDn(user.username), entries.user);
      this.#add(this.#virtualGroups, this.#layout.virtualGroupDn(user.username), entries.virtualGroup);
    }
  }

  /** Replaces the placeholder DNs of members known by pk with the users' DNs (members not listed are dropped). */
  async #resolvePendingMembers(slicer: Slicer): Promise<void> {
    const slots = this.#slots;
    const userDns = this.#users.dns;
    let k = 0;
    for (let i = 0; i < this.#pendingMemberSlots.length; i++) {
      const slotIndex = this.#pendingMemberSlots[i]!;
      const count = this.#pendingMemberCounts[i]!;
      const current = slots.get(slotIndex);
      const values = typeof current === 'string' ? [current] : current;
      const resolved: string[] = [];
      for (let v = 0; v < values.length; v++) {
        const value = values[v]!;
        if (v < count && value === this.#unresolvedDn) {
          const index = this.#userIndexByPk.get(this.#pendingMemberPks[k + v]!);
          if (index !== undefined) resolved.push(userDns[index]!);
        } else {
          resolved.push(value);
        }
      }
      k += count;
      slots.set(slotIndex, resolved.length === 1 ? resolved[0]! : resolved);
      if (slicer.due()) await slicer.pause();
    }
    this.#pendingMemberSlots.length = 0;
    this.#pendingMemberCounts.length = 0;
    this.#pendingMemberPks.length = 0;
  }

  /** Builds the snapshot: graph, indexes and (unless disabled) pre-encoded entries. */
  async finish(options: Pick<BuildOptions, 'preEncode' | 'preEncodeBytes' | 'encodeOnDemand' | 'signal' | 'pauseMs'> = {}): Promise<DirectorySnapshot> {
    const signal = options.signal;
    const slicer = new Slicer(signal, Math.max(0, options.pauseMs ?? 0));
    await this.#resolvePendingMembers(slicer);
    const userCount = this.#users.dns.length;
    const groupCount = this.#groups.dns.length;
    const lists = [this.#fixed, this.#users, this.#groups, this.#virtualGroups];
    const total = lists.reduce((n, l) => n + l.dns.length, 0);
    const dns = new Array<string>(total);
    const shapeOf = new Uint32Array(total);
    // The slots stay where add() put them (users and virtual groups interleaved): only their starts move to id order.
    const slotStart = new Uint32Array(total);
    let filledEntries = 0;
    for (const list of lists) {
      for (let i = 0; i < list.dns.length; i++) {
        dns[filledEntries] = list.dns[i]!;
        shapeOf[filledEntries] = list.shapes[i]!;
        slotStart[filledEntries++] = list.starts[i]!;
        if (slicer.due()) await slicer.pause();
      }
      list.dns.length = 0;
      list.shapes.length = 0;
      list.starts.length = 0;
    }
    const slots = this.#slots;

    const { ndns, dnIndex } = await dnIndexOf(dns, slicer);
    const graph = await membershipGraph(this.#userGroupOffsets, this.#userGroupData, userCount, groupCount, this.#groupIndexByPk, this.#groupParentPks, this.#groupChildPks, slicer);
    this.#userGroupData.length = 0;
    this.#userGroupOffsets.length = 0;
    await slicer.pause();

    const parts: SnapshotParts = {
      layout: new DirectoryLayout(this.#layout.baseDn),
      table: this.#table,
      shapes: this.#shapes,
      userCount,
      groupCount,
      dns,
      ndns,
      shapeOf,
      slots,
      slotStart,
      dnIndex,
      indexes: await buildIndexes(this.#table, this.#shapes, shapeOf, slots, slotStart, userCount, groupCount, slicer),
      userPks: Int32Array.from(this.#userPks),
      passwordChangedAt: Float64Array.from(this.#passwordChangedAt),
      userIndexByPk: this.#userIndexByPk,
      ...graph,
      encoded: null,
      builtAt: Date.now(),
    };
    const budget = options.preEncode === false ? 0 : options.preEncodeBytes ?? DIRECTORY_LIMITS.preEncodeBytes;
    if (budget > 0) {
      parts.encoded = new EncodedStore(total, budget);
      if (options.encodeOnDemand === true) parts.encodeOnDemand = true;
      else await preEncode(parts, parts.encoded, slicer);
    }
    return new DirectorySnapshot(parts);
  }
}

async function dnIndexOf(dns: readonly string[], slicer: Slicer): Promise<{ ndns: string[]; dnIndex: Map<string, number> }> {
  const ndns = new Array<string>(dns.length);
  const dnIndex = new Map<string, number>();
  // Backwards, so that of equal DNs the first entry's id is the one left (one map operation per entry).
  for (let id = dns.length - 1; id >= 0; id--) {
    const dn = dns[id]!;
    const key = builtDnKey(dn);
    const ndn = key === dn ? dn : key;
    ndns[id] = ndn;
    dnIndex.set(ndn, id);
    if (slicer.due()) await slicer.pause();
  }
  return { ndns, dnIndex };
}

type Graph = Pick<SnapshotParts, 'userGroupOffsets' | 'userGroupData' | 'groupUserOffsets' | 'groupUserData' | 'groupParents' | 'groupChildren'>;

/** User -> direct groups (CSR), its reverse, and the group hierarchy (parents and children, both ways merged). */
async function membershipGraph(
  offsets: readonly number[],
  data: readonly number[],
  userCount: number,
  groupCount: number,
  groupIndexByPk: ReadonlyMap<string, number>,
  parentPks: readonly string[][],
  childPks: readonly string[][],
  slicer: Slicer,
): Promise<Graph> {
  const userGroupOffsets = Uint32Array.from(offsets);
  const userGroupData = Uint32Array.from(data);
  const groupUserOffsets = new Uint32Array(groupCount + 1);
  for (const g of userGroupData) groupUserOffsets[g + 1]!++;
  for (let g = 0; g < groupCount; g++) groupUserOffsets[g + 1]! += groupUserOffsets[g]!;
  const groupUserData = new Uint32Array(userGroupData.length);
  const fill = groupUserOffsets.slice(0, groupCount);
  for (let u = 0; u < userCount; u++) {
    for (let i = userGroupOffsets[u]!; i < userGroupOffsets[u + 1]!; i++) groupUserData[fill[userGroupData[i]!]!++] = u;
    if (slicer.due()) await slicer.pause();
  }
  const parents: Set<number>[] = Array.from({ length: groupCount }, () => new Set<number>());
  for (let g = 0; g < groupCount; g++) {
    for (const pk of parentPks[g]!) {
      const p = groupIndexByPk.get(pk);
      if (p !== undefined) parents[g]!.add(p);
    }
    for (const pk of childPks[g]!) {
      const c = groupIndexByPk.get(pk);
      if (c !== undefined) parents[c]!.add(g);
    }
    if (slicer.due()) await slicer.pause();
  }
  const groupParents = parents.map((set) => [...set].sort((a, b) => a - b));
  const groupChildren: number[][] = Array.from({ length: groupCount }, () => []);
  groupParents.forEach((ps, g) => ps.forEach((p) => groupChildren[p]!.push(g)));
  return { userGroupOffsets, userGroupData, groupUserOffsets, groupUserData, groupParents, groupChildren };
}

function sameSlot(a: ValueSlot | undefined, b: ValueSlot | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined || typeof a === 'string' || typeof b === 'string') return false;
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** Equality indexes over the indexed attributes (postings ascending; long contiguous runs become ranges). */
async function buildIndexes(
  table: AttributeTable,
  shapes: readonly Shape[],
  shapeOf: Uint32Array,
  slots: ChunkedArray<ValueSlot>,
  slotStart: Uint32Array,
  userCount: number,
  groupCount: number,
  slicer: Slicer,
): Promise<Map<number, Map<string, Posting>>> {
  const indexes = new Map<number, Map<string, Posting>>();
  const states = new Map<number, IndexState>();
  const stateOf = (def: AttributeDef): IndexState => {
    let state = states.get(def.id);
    if (state === undefined) {
      // member and memberOf values are the entries' own (interned) DN strings, each repeated many times: they are
      // collected under those strings and keyed once per distinct DN at the end.
      const dnKey = def.valueKey;
      state = {
        def,
        index: new Map<string, BuildPosting>(),
        valueKey: dnKey !== undefined ? (v: string) => v : (v: string) => equalityKey(def.match, v),
        dnKey,
        arrays: [],
        arrayKeys: [],
        isMember: def.key === 'member',
        sharedWithVirtualGroup: SHARED_WITH_VIRTUAL_GROUP.has(def.key),
        lastSlot: undefined,
        lastKeys: [],
        sharedPostings: undefined,
        registered: false,
      };
      states.set(def.id, state);
    }
    return state;
  };
  // Per shape: the positions of its indexed attributes and their index states.
  const plans = shapes.map((shape) => {
    const positions: number[] = [];
    const planStates: IndexState[] = [];
    shape.attrs.forEach((id, position) => {
      const def = table.byId(id);
      if (!def.indexed) return;
      positions.push(position);
      planStates.push(stateOf(def));
    });
    return { positions, states: planStates };
  });
  const registered: IndexState[] = [];
  const virtualGroupStart = FIRST_OBJECT_ID + userCount + groupCount;
  const total = shapeOf.length;
  for (let id = 0; id < total; id++) {
    if (slicer.due()) await slicer.pause();
    const plan = plans[shapeOf[id]!]!;
    const start = slotStart[id]!;
    const isVirtualGroup = id >= virtualGroupStart;
    for (let k = 0; k < plan.positions.length; k++) {
      const state = plan.states[k]!;
      const slot = slots.get(start + plan.positions[k]!);
      if (isVirtualGroup) {
        // Served through the user's postings (see DirectorySnapshot.equalityIndex) unless they differ.
        if (state.isMember) continue;
        if (state.sharedWithVirtualGroup) {
          const userId = FIRST_OBJECT_ID + (id - virtualGroupStart);
          const userPosition = shapes[shapeOf[userId]!]!.positionOf(state.def.id);
          if (userPosition >= 0 && sameSlot(slots.get(slotStart[userId]! + userPosition), slot)) continue;
        }
      }
      // Registered at its first indexed value, so an attribute only virtual groups carry stays unindexed.
      if (!state.registered) {
        state.registered = true;
        registered.push(state);
      }
      if (typeof slot === 'string') addPosting(state, state.valueKey(slot), id);
      else if (state.lastSlot !== slot) {
        // Entries of a kind share arrays such as the objectClass defaults: their keys are computed once.
        state.lastSlot = slot;
        state.lastKeys = slot.map(state.valueKey);
        state.sharedPostings = undefined;
        for (const key of state.lastKeys) addPosting(state, key, id);
      } else if (state.sharedPostings === undefined) {
        // Seen twice in a row: keep its posting arrays to push to directly.
        const postings: number[][] = [];
        for (const key of state.lastKeys) {
          if (key === null) continue;
          addPosting(state, key, id);
          let posting = state.index.get(key)!;
          if (typeof posting === 'number') {
            posting = [posting];
            state.index.set(key, posting);
            state.arrays.push(posting);
            state.arrayKeys.push(key);
          }
          if (!postings.includes(posting)) postings.push(posting);
        }
        state.sharedPostings = postings;
      } else {
        for (const posting of state.sharedPostings) if (posting[posting.length - 1] !== id) posting.push(id);
      }
    }
  }
  for (const state of registered) {
    const index: Map<string, Posting> = state.index;
    // Long runs (users, virtual groups of one objectClass) as ranges; the rest exactly sized.
    if (state.dnKey === undefined) {
      for (let i = 0; i < state.arrays.length; i++) {
        if (slicer.due()) await slicer.pause();
        index.set(state.arrayKeys[i]!, finalPosting(state.arrays[i]!));
      }
      indexes.set(state.def.id, index);
      continue;
    }
    const keyed = new Map<string, Posting>();
    for (const [dn, posting] of state.index) {
      if (slicer.due()) await slicer.pause();
      const key = state.dnKey(dn);
      if (key === null) continue;
      const earlier = keyed.get(key);
      // Two spellings of one DN (rare): one posting of both.
      keyed.set(key, earlier === undefined ? finalPosting(posting) : finalPosting(mergedIds(earlier, posting)));
    }
    indexes.set(state.def.id, keyed);
  }
  return indexes;
}

/** A posting while the indexes are built: ranges come at the end. */
type BuildPosting = number | number[];

/** Index-building state of one indexed attribute. */
interface IndexState {
  readonly def: AttributeDef;
  /** Keyed by valueKey: the equality key, or for DN attributes the value itself (keyed by dnKey at the end). */
  readonly index: Map<string, BuildPosting>;
  readonly valueKey: (value: string) => string | null;
  readonly dnKey: ((dn: string) => string | null) | undefined;
  /** The postings that became arrays, and their keys (only these change at the end). */
  readonly arrays: number[][];
  readonly arrayKeys: string[];
  readonly isMember: boolean;
  readonly sharedWithVirtualGroup: boolean;
  lastSlot: readonly string[] | undefined;
  lastKeys: (string | null)[];
  sharedPostings: number[][] | undefined;
  registered: boolean;
}

const MAX_POSTING_RUNS = 4;

/** A built posting as kept: long contiguous runs as a RangeSet, other arrays copied to their exact size. */
function finalPosting(posting: BuildPosting): Posting {
  if (typeof posting === 'number') return posting;
  const runs = posting.length >= 16 ? runsOf(posting, MAX_POSTING_RUNS) : null;
  return runs !== null ? new RangeSet(runs) : posting.slice();
}

/** The ascending union of two postings' ids. */
function mergedIds(a: Posting, b: BuildPosting): BuildPosting {
  const ids = new Set<number>(typeof a === 'number' ? [a] : a);
  if (typeof b === 'number') ids.add(b);
  else for (const id of b) ids.add(id);
  return [...ids].sort((x, y) => x - y);
}

/** [start, end) bounds of ascending ids when they form at most `max` runs covering 16+ ids each on average. */
function runsOf(ids: readonly number[], max: number): number[] | null {
  const bounds = [ids[0]!];
  for (let i = 1; i < ids.length; i++) {
    if (ids[i] === ids[i - 1]! + 1) continue;
    if (bounds.length >= max * 2 - 1) return null;
    bounds.push(ids[i - 1]! + 1, ids[i]!);
  }
  bounds.push(ids[ids.length - 1]! + 1);
  return ids.length >= 16 * (bounds.length / 2) ? bounds : null;
}

function addPosting(state: IndexState, key: string | null, id: number): void {
  if (key === null) return;
  const index = state.index;
  const posting = index.get(key);
  if (posting === undefined) index.set(key, id);
  else if (typeof posting === 'number') {
    if (posting === id) return;
    const ids = [posting, id];
    index.set(key, ids);
    state.arrays.push(ids);
    state.arrayKeys.push(key);
  } else if (posting[posting.length - 1] !== id) posting.push(id);
}

/** Encodes entries in id order (base, containers, users, groups, virtual groups) until the budget is spent. */
async function preEncode(parts: SnapshotParts, store: EncodedStore, slicer: Slicer): Promise<void> {
  const encoder = new EntryEncoder(parts);
  for (let id = 0; id < parts.dns.length; id++) {
    if (slicer.due()) await slicer.pause();
    if (store.keep(id, encoder) === undefined) return;
  }
}

/**
 * Fetches the whole directory of a provider from the core and builds a snapshot. Rejects (CoreError, or the
 * abort reason) on any failure; the caller keeps serving its previous snapshot then.
 */
export async function buildSnapshot(
  core: Pick<CoreApi, 'forEachUserPage' | 'forEachGroupPage'>,
  provider: SnapshotProvider,
  options: BuildOptions = {},
): Promise<DirectorySnapshot> {
  const { signal, onProgress } = options;
  const every = Math.max(1, options.progressEvery ?? 10_000);
  signal?.throwIfAborted();
  const builder = new SnapshotBuilder(provider, options.previous);
  const pageSize = options.pageSize === undefined ? {} : { pageSize: options.pageSize };
  // The first load serves nobody yet: the core prepares the next page while this one is built. A refresh keeps
  // to one request at a time, leaving CPU to the listeners.
  const readAhead = options.previous === undefined;
  // Memberships as pks on both sides: the builder names them from the two listings, and the pages shrink to
  // about a third (users_obj repeats a whole user object per membership).
  await core.forEachGroupPage({ ...pageSize, includeUsers: false, readAhead }, (groups) => {
    signal?.throwIfAborted();
    builder.addGroups(groups);
  });
  onProgress?.({ phase: 'groups', users: 0, groups: builder.groupCount });
  let nextReport = every;
  await core.forEachUserPage({ ...pageSize, includeGroups: false, readAhead }, (users) => {
    signal?.throwIfAborted();
    builder.addUsers(users);
    if (builder.userCount >= nextReport) {
      onProgress?.({ phase: 'users', users: builder.userCount, groups: builder.groupCount });
      nextReport = (Math.floor(builder.userCount / every) + 1) * every;
    }
  });
  onProgress?.({ phase: 'finishing', users: builder.userCount, groups: builder.groupCount });
  const snapshot = await builder.finish({
    ...options,
    encodeOnDemand: options.encodeOnDemand ?? true,
    pauseMs: options.pauseMs ?? (options.previous === undefined ? 0 : REFRESH_PAUSE_MS),
  });
  onProgress?.({ phase: 'done', users: snapshot.userCount, groups: snapshot.groupCount });
  return snapshot;
}

/** A snapshot from data already in memory (direct search, tests, the embedded core). */
export function buildSnapshotFromData(
  provider: SnapshotProvider,
  users: readonly DirectoryUser[],
  groups: readonly DirectoryGroup[],
  options: Pick<BuildOptions, 'preEncode' | 'preEncodeBytes' | 'signal'> = {},
): Promise<DirectorySnapshot> {
  const builder = new SnapshotBuilder(provider);
  builder.addGroups(groups);
  builder.addUsers(users);
  return builder.finish(options);
}

