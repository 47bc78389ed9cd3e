/**
 * Builds a DirectorySnapshot from the core's pages: groups first (so each user's groups resolve to indexes as
 * the user streams by), then users. Pages are turned into compact entries at once and dropped. The finishing
 * steps (membership graph, indexes, pre-encoding) yield to the event loop regularly so a refresh does not stall
 * the listeners. Nothing here touches a live snapshot: the caller swaps the returned one in.
 */
import { Buffer } from 'node:buffer';
import type { CoreApi } from '../core-api/port.js';
import type { DirectoryGroup, DirectoryUser, LdapProviderConfig } from '../core-api/model.js';
import {
  baseEntryAttributes,
  containerAttributes,
  DirectoryLayout,
  groupAttributes,
  userEntries,
  type LdapAttribute,
  type NumberingConfig,
} from '../providers/ldap/entries.js';
import type { ValueSlot } from '../providers/ldap/search/compile.js';
import { RangeSet } from '../providers/ldap/search/id-set.js';
import { builtDnKey, equalityKey } from '../providers/ldap/search/matching.js';
import { AttributeTable, Shape } from './attribute-table.js';
import { EntryEncoder } from './encode.js';
import {
  DirectorySnapshot,
  FIRST_OBJECT_ID,
  SHARED_WITH_VIRTUAL_GROUP,
  type EncodedStore,
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
  /** Pre-encode entries for `*` searches (default true; direct mode's small snapshots skip it). */
  preEncode?: boolean;
  /**
   * Most bytes of pre-encoded entries (default DEFAULT_PRE_ENCODE_BYTES). Entries are pre-encoded in id order
   * (users before groups before virtual groups); those past the budget are encoded per request.
   */
  preEncodeBytes?: number;
  /** Abandons the build (rejects with the signal's reason) between pages and steps. */
  signal?: AbortSignal;
}

const SLAB_BYTES = 4 * 1024 * 1024;
export const DEFAULT_PRE_ENCODE_BYTES = 64 * 1024 * 1024;
const YIELD_EVERY = 4096;

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A layout that hands out one string per DN, so memberships share the entry's own DN string. */
class InterningLayout extends DirectoryLayout {
  private readonly users = new Map<string, string>();
  private readonly groups = new Map<string, string>();

  override userDn(username: string): string {
    let dn = this.users.get(username);
    if (dn === undefined) {
      dn = super.userDn(username);
      this.users.set(username, dn);
    }
    return dn;
  }

  override groupDn(name: string): string {
    let dn = this.groups.get(name);
    if (dn === undefined) {
      dn = super.groupDn(name);
      this.groups.set(name, dn);
    }
    return dn;
  }
}

/** Entries of one kind while building. */
class EntryList {
  readonly dns: string[] = [];
  readonly shapes: number[] = [];
  readonly slots: ValueSlot[] = [];
}

interface ShapeNode {
  readonly next: Map<number, ShapeNode>;
  shape: number;
}

export class SnapshotBuilder {
  private readonly layout: InterningLayout;
  private readonly numbering: NumberingConfig;
  private readonly table = new AttributeTable();
  private readonly idByName = new Map<string, number>();
  private readonly shapes: Shape[] = [];
  private readonly shapeTrie: ShapeNode = { next: new Map(), shape: -1 };
  private readonly fixed = new EntryList();
  private readonly users = new EntryList();
  private readonly groups = new EntryList();
  private readonly virtualGroups = new EntryList();
  private readonly userPks: number[] = [];
  private readonly userPkSet = new Set<number>();
  private readonly groupIndexByPk = new Map<string, number>();
  private readonly groupParentPks: string[][] = [];
  private readonly groupChildPks: string[][] = [];
  private readonly userGroupOffsets: number[] = [0];
  private readonly userGroupData: number[] = [];
  private readonly ids: number[] = [];
  private usersStarted = false;

  constructor(provider: SnapshotProvider) {
    this.layout = new InterningLayout(provider.baseDn);
    this.numbering = { uidStartNumber: provider.uidStartNumber, gidStartNumber: provider.gidStartNumber };
    this.add(this.fixed, this.layout.baseDn, baseEntryAttributes(this.layout));
    this.add(this.fixed, this.layout.usersDn, containerAttributes('users'));
    this.add(this.fixed, this.layout.groupsDn, containerAttributes('groups'));
    this.add(this.fixed, this.layout.virtualGroupsDn, containerAttributes('virtual-groups'));
  }

  get userCount(): number {
    return this.users.dns.length;
  }

  get groupCount(): number {
    return this.groups.dns.length;
  }

  private attributeId(name: string): number {
    let id = this.idByName.get(name);
    if (id === undefined) {
      id = this.table.intern(name).id;
      this.idByName.set(name, id);
    }
    return id;
  }

  private add(list: EntryList, dn: string, attributes: readonly LdapAttribute[]): void {
    const ids = this.ids;
    ids.length = 0;
    let node = this.shapeTrie;
    for (const attribute of attributes) {
      const id = this.attributeId(attribute.type);
      // Two names of one attribute (an alias among custom attributes): keep the first.
      if (ids.includes(id)) continue;
      ids.push(id);
      const values = attribute.values;
      list.slots.push(values.length === 1 ? values[0]! : values);
      let next = node.next.get(id);
      if (next === undefined) {
        next = { next: new Map(), shape: -1 };
        node.next.set(id, next);
      }
      node = next;
    }
    if (node.shape < 0) {
      node.shape = this.shapes.length;
      this.shapes.push(new Shape(ids, this.table.size));
    }
    list.dns.push(dn);
    list.shapes.push(node.shape);
  }

  /** Adds groups; all groups must come before the first user. Duplicate pks are ignored. */
  addGroups(groups: readonly DirectoryGroup[]): void {
    if (this.usersStarted) throw new Error('SnapshotBuilder: groups must be added before users');
    for (const group of groups) {
      if (this.groupIndexByPk.has(group.pk)) continue;
      this.groupIndexByPk.set(group.pk, this.groups.dns.length);
      this.groupParentPks.push(group.parents.map((g) => g.pk));
      this.groupChildPks.push(group.children.map((g) => g.pk));
      this.add(this.groups, this.layout.groupDn(group.name), groupAttributes(group, this.layout, this.numbering));
    }
  }

  /** Adds users (and their virtual groups). Duplicate pks are ignored. */
  addUsers(users: readonly DirectoryUser[]): void {
    this.usersStarted = true;
    for (const user of users) {
      if (this.userPkSet.has(user.pk)) continue;
      this.userPkSet.add(user.pk);
      this.userPks.push(user.pk);
      const entries = userEntries(user, this.layout, this.numbering);
      this.add(this.users, this.layout.userDn(user.username), entries.user);
      this.add(this.virtualGroups, this.layout.virtualGroupDn(user.username), entries.virtualGroup);
      for (const ref of user.groups) {
        const index = this.groupIndexByPk.get(ref.pk);
        if (index !== undefined) this.userGroupData.push(index);
      }
      this.userGroupOffsets.push(this.userGroupData.length);
    }
  }

  /** Builds the snapshot: graph, indexes and (unless disabled) pre-encoded entries. */
  async finish(options: Pick<BuildOptions, 'preEncode' | 'preEncodeBytes' | 'signal'> = {}): Promise<DirectorySnapshot> {
    const signal = options.signal;
    const userCount = this.users.dns.length;
    const groupCount = this.groups.dns.length;
    const lists = [this.fixed, this.users, this.groups, this.virtualGroups];
    const dns = lists.flatMap((l) => l.dns);
    const shapeOf = Uint32Array.from(lists.flatMap((l) => l.shapes));
    // Exactly sized (arrays grown by push keep up to half again as much spare room).
    const slots = new Array<ValueSlot>(lists.reduce((n, l) => n + l.slots.length, 0));
    let filled = 0;
    for (const list of lists) {
      for (const slot of list.slots) slots[filled++] = slot;
      list.slots.length = 0;
    }
    const total = dns.length;
    const slotStart = new Uint32Array(total + 1);
    for (let id = 0; id < total; id++) slotStart[id + 1] = slotStart[id]! + this.shapes[shapeOf[id]!]!.attrs.length;

    const { ndns, dnIndex } = dnIndexOf(dns);
    const graph = membershipGraph(this.userGroupOffsets, this.userGroupData, userCount, groupCount, this.groupIndexByPk, this.groupParentPks, this.groupChildPks);
    await tick();
    signal?.throwIfAborted();

    const parts: SnapshotParts = {
      layout: new DirectoryLayout(this.layout.baseDn),
      table: this.table,
      shapes: this.shapes,
      userCount,
      groupCount,
      dns,
      ndns,
      shapeOf,
      slots,
      slotStart,
      dnIndex,
      indexes: await buildIndexes(this.table, this.shapes, shapeOf, slots, slotStart, userCount, groupCount, signal),
      userPks: Int32Array.from(this.userPks),
      ...graph,
      encoded: null,
      builtAt: Date.now(),
    };
    const budget = options.preEncode === false ? 0 : options.preEncodeBytes ?? DEFAULT_PRE_ENCODE_BYTES;
    if (budget > 0) parts.encoded = await encodeAll(parts, budget, signal);
    return new DirectorySnapshot(parts);
  }
}

function dnIndexOf(dns: readonly string[]): { ndns: string[]; dnIndex: Map<string, number> } {
  const ndns: string[] = [];
  const dnIndex = new Map<string, number>();
  for (let id = 0; id < dns.length; id++) {
    const dn = dns[id]!;
    const key = builtDnKey(dn);
    const ndn = key === dn ? dn : key;
    ndns.push(ndn);
    if (!dnIndex.has(ndn)) dnIndex.set(ndn, id);
  }
  return { ndns, dnIndex };
}

type Graph = Pick<SnapshotParts, 'userGroupOffsets' | 'userGroupData' | 'groupUserOffsets' | 'groupUserData' | 'groupParents' | 'groupChildren'>;

/** User -> direct groups (CSR), its reverse, and the group hierarchy (parents and children, both ways merged). */
function membershipGraph(
  offsets: readonly number[],
  data: readonly number[],
  userCount: number,
  groupCount: number,
  groupIndexByPk: ReadonlyMap<string, number>,
  parentPks: readonly string[][],
  childPks: readonly string[][],
): Graph {
  const userGroupOffsets = Uint32Array.from(offsets);
  const userGroupData = Uint32Array.from(data);
  const groupUserOffsets = new Uint32Array(groupCount + 1);
  for (const g of userGroupData) groupUserOffsets[g + 1]!++;
  for (let g = 0; g < groupCount; g++) groupUserOffsets[g + 1]! += groupUserOffsets[g]!;
  const groupUserData = new Uint32Array(userGroupData.length);
  const fill = groupUserOffsets.slice(0, groupCount);
  for (let u = 0; u < userCount; u++) {
    for (let i = userGroupOffsets[u]!; i < userGroupOffsets[u + 1]!; i++) groupUserData[fill[userGroupData[i]!]!++] = u;
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
  slots: readonly ValueSlot[],
  slotStart: Uint32Array,
  userCount: number,
  groupCount: number,
  signal: AbortSignal | undefined,
): Promise<Map<number, Map<string, Posting>>> {
  const indexes = new Map<number, Map<string, Posting>>();
  const indexedSlots = shapes.map((shape) => {
    const out: number[] = [];
    shape.attrs.forEach((id, position) => {
      if (table.byId(id).indexed) out.push(position);
    });
    return out;
  });
  const virtualGroupStart = FIRST_OBJECT_ID + userCount + groupCount;
  const total = shapeOf.length;
  for (let id = 0; id < total; id++) {
    if ((id & (YIELD_EVERY - 1)) === 0) {
      await tick();
      signal?.throwIfAborted();
    }
    const shape = shapes[shapeOf[id]!]!;
    const start = slotStart[id]!;
    const isVirtualGroup = id >= virtualGroupStart;
    for (const position of indexedSlots[shapeOf[id]!]!) {
      const def = table.byId(shape.attrs[position]!);
      const slot = slots[start + position]!;
      if (isVirtualGroup) {
        // Served through the user's postings (see DirectorySnapshot.equalityIndex) unless they differ.
        if (def.key === 'member') continue;
        if (SHARED_WITH_VIRTUAL_GROUP.has(def.key)) {
          const userId = FIRST_OBJECT_ID + (id - virtualGroupStart);
          const userShape = shapes[shapeOf[userId]!]!;
          const userPosition = userShape.positionOf(def.id);
          if (userPosition >= 0 && sameSlot(slots[slotStart[userId]! + userPosition], slot)) continue;
        }
      }
      let index = indexes.get(def.id);
      if (index === undefined) {
        index = new Map();
        indexes.set(def.id, index);
      }
      const valueKey = def.valueKey ?? ((v: string) => equalityKey(def.match, v));
      if (typeof slot === 'string') addPosting(index, valueKey(slot), id);
      else for (const value of slot) addPosting(index, valueKey(value), id);
    }
  }
  for (const index of indexes.values()) {
    for (const [key, posting] of index) {
      if (!Array.isArray(posting)) continue;
      if (posting.length >= 16 && posting[posting.length - 1]! - posting[0]! === posting.length - 1) {
        index.set(key, RangeSet.of(posting[0]!, posting[posting.length - 1]! + 1));
      } else {
        index.set(key, posting.slice()); // drops the spare capacity of push
      }
    }
  }
  return indexes;
}

function addPosting(index: Map<string, Posting>, key: string | null, id: number): void {
  if (key === null) return;
  const posting = index.get(key);
  if (posting === undefined) index.set(key, id);
  else if (typeof posting === 'number') {
    if (posting !== id) index.set(key, [posting, id]);
  } else if (Array.isArray(posting) && posting[posting.length - 1] !== id) posting.push(id);
}

/**
 * Encodes entries in id order (base, containers, users, groups, virtual groups) into slabs until the byte
 * budget is spent; the rest are encoded when asked for.
 */
async function encodeAll(parts: SnapshotParts, budget: number, signal: AbortSignal | undefined): Promise<EncodedStore> {
  const total = parts.dns.length;
  const encoder = new EntryEncoder(parts);
  const slabs: Buffer[] = [];
  const slabOf = new Uint16Array(total);
  const offsets = new Uint32Array(total);
  const lengths = new Uint32Array(total);
  let slab = Buffer.allocUnsafeSlow(Math.min(SLAB_BYTES, Math.max(1024, budget)));
  let pos = 0;
  let spent = 0;
  let count = 0;
  for (let id = 0; id < total; id++) {
    if ((id & (YIELD_EVERY - 1)) === 0 && id > 0) {
      await tick();
      signal?.throwIfAborted();
    }
    const length = encoder.measure(id);
    if (spent + length > budget) break;
    if (pos + length > slab.length) {
      slabs.push(slab.subarray(0, pos));
      if (slabs.length > 0xfffe) break;
      slab = Buffer.allocUnsafeSlow(Math.max(Math.min(SLAB_BYTES, budget - spent), length));
      pos = 0;
    }
    const end = encoder.write(id, slab, pos);
    if (end !== pos + length) throw new Error(`entry ${parts.dns[id]!}: encoded ${end - pos} bytes, expected ${length}`);
    slabOf[id] = slabs.length;
    offsets[id] = pos;
    lengths[id] = length;
    pos = end;
    spent += length;
    count = id + 1;
  }
  slabs.push(slab.subarray(0, pos));
  return { count, slabs, slabOf, offsets, lengths };
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
  const builder = new SnapshotBuilder(provider);
  const query = options.pageSize === undefined ? {} : { pageSize: options.pageSize };
  await core.forEachGroupPage(query, (groups) => {
    signal?.throwIfAborted();
    builder.addGroups(groups);
  });
  onProgress?.({ phase: 'groups', users: 0, groups: builder.groupCount });
  let nextReport = every;
  await core.forEachUserPage(query, (users) => {
    signal?.throwIfAborted();
    builder.addUsers(users);
    if (builder.userCount >= nextReport) {
      onProgress?.({ phase: 'users', users: builder.userCount, groups: builder.groupCount });
      nextReport = (Math.floor(builder.userCount / every) + 1) * every;
    }
  });
  onProgress?.({ phase: 'finishing', users: builder.userCount, groups: builder.groupCount });
  const snapshot = await builder.finish(options);
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

