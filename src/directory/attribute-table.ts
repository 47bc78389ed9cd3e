/**
 * One interned attribute table per snapshot: every attribute name that occurs (schema attributes first, then
 * custom ones as they appear) gets a small id, its lower-case key, matching kind and flags. Entries store values
 * by position in a shared "shape" (the ordered attribute ids of the entry), so there are no per-entry maps.
 */
import { attributeTypes, schemaAttribute, type MatchKind } from './schema.js';
import { attributeKey } from './attributes.js';
import type { AttrRef } from './compile.js';
import { builtDnKey } from './matching.js';

/** Attributes computed from the entry's position rather than stored. */
export type VirtualAttribute = 'entrydn' | 'subschemasubentry' | 'hassubordinates' | 'entryuuid';
const VIRTUAL = new Set<string>(['entrydn', 'subschemasubentry', 'hassubordinates', 'entryuuid']);

/** Attributes whose values the outpost builds itself (custom attributes cannot replace them). */
const BUILT_DN_ATTRIBUTES = new Set(['member', 'memberof']);

/** Attributes with an equality index (entryDN is served by the DN index). */
export const INDEXED_ATTRIBUTES: ReadonlySet<string> = new Set([
  'cn',
  'uid',
  'samaccountname',
  'mail',
  'objectclass',
  'uidnumber',
  'gidnumber',
  'member',
  'memberof',
]);

export interface AttributeDef extends AttrRef {
  /** Spelling sent to clients. */
  readonly name: string;
  readonly operational: boolean;
  readonly virtual: VirtualAttribute | null;
  readonly indexed: boolean;
}

export class AttributeTable {
  readonly #defs: AttributeDef[] = [];
  readonly #byKey = new Map<string, AttributeDef>();

  constructor() {
    for (const type of attributeTypes) this.intern(type.names[0]!);
  }

  get size(): number {
    return this.#defs.length;
  }

  byId(id: number): AttributeDef {
    return this.#defs[id]!;
  }

  /** The def for an attribute name as emitted (creates it for a new custom name). */
  intern(name: string): AttributeDef {
    const key = attributeKey(name);
    const existing = this.#byKey.get(key);
    if (existing !== undefined) return existing;
    const known = schemaAttribute(key);
    const match: MatchKind = known?.match ?? 'string';
    const def: AttributeDef = Object.freeze({
      id: this.#defs.length,
      key,
      name: known?.name ?? name,
      match,
      operational: known?.operational ?? false,
      virtual: VIRTUAL.has(key) ? (key as VirtualAttribute) : null,
      indexed: INDEXED_ATTRIBUTES.has(key),
      ...(BUILT_DN_ATTRIBUTES.has(key) ? { valueKey: builtDnKey } : {}),
    });
    this.#defs.push(def);
    this.#byKey.set(key, def);
    return def;
  }

  /** The def a filter or selection names, if the attribute is known (schema or present in the directory). */
  resolve(description: string): AttributeDef | undefined {
    return this.#byKey.get(attributeKey(description));
  }

  isOperational(key: string): boolean {
    return this.#byKey.get(key)?.operational ?? false;
  }
}

/** The ordered attribute ids of a group of entries, with a position lookup by id. */
export class Shape {
  readonly attrs: Uint16Array;
  /** Position of each attribute id in `attrs`, -1 when absent; ids past the end are absent. */
  readonly positions: Int16Array;

  constructor(ids: readonly number[], tableSize: number) {
    this.attrs = Uint16Array.from(ids);
    this.positions = new Int16Array(tableSize).fill(-1);
    ids.forEach((id, index) => (this.positions[id] = index));
  }

  positionOf(id: number): number {
    return id < this.positions.length ? this.positions[id]! : -1;
  }
}
