/**
 * Encodes stored entries straight from the snapshot's slots into SearchResultEntry ops with all user
 * attributes (what `*` and an empty list return), without intermediate objects: the attribute type elements
 * are encoded once per snapshot. Used to pre-encode at build time and for entries past the pre-encoding budget.
 * Other selections go through the codec's encodeEntryOp.
 */
import { Buffer } from 'node:buffer';
import type { ChunkedArray } from '../lib/chunked.js';
import { Tag } from '../protocol/ber/reader.js';
import { putLength, tlvSize } from '../protocol/ber/writer.js';
import { OpTag } from '../protocol/ldap/messages.js';
import { encodeLdapString } from '../protocol/ldap/search-response.js';
import type { ValueSlot } from './compile.js';
import type { AttributeTable, Shape } from './attribute-table.js';

export interface StoredEntries {
  readonly table: AttributeTable;
  readonly shapes: readonly Shape[];
  readonly shapeOf: Uint32Array;
  readonly slots: ChunkedArray<ValueSlot>;
  readonly slotStart: Uint32Array;
  readonly dns: readonly string[];
}

/** Byte length of a string in UTF-8, without a native call for ASCII. */
function utf8Length(text: string): number {
  const n = text.length;
  if (n > 64) return Buffer.byteLength(text, 'utf8');
  for (let i = 0; i < n; i++) if (text.charCodeAt(i) >= 0x80) return Buffer.byteLength(text, 'utf8');
  return n;
}

function putText(buf: Buffer, pos: number, text: string, size: number): number {
  buf[pos++] = Tag.octetString;
  pos = putLength(buf, pos, size);
  if (size === 0) return pos;
  if (size === text.length && size <= 64) {
    // ASCII: writing code units directly beats a native call for short values.
    for (let i = 0; i < size; i++) buf[pos + i] = text.charCodeAt(i);
  } else {
    buf.write(text, pos, size, 'utf8');
  }
  return pos + size;
}

export class EntryEncoder {
  /** Encoded type element per attribute id; null for operational and computed attributes. */
  readonly #typeTlvs: (Buffer | null)[] = [];
  /** Sizes from the last measure(): per attribute its value sizes, then two totals; then dn, list, op. */
  #sizes = new Int32Array(256);
  #count = 0;

  readonly #entries: StoredEntries;

  constructor(entries: StoredEntries) {
    this.#entries = entries;
    const table = entries.table;
    for (let id = 0; id < table.size; id++) {
      const def = table.byId(id);
      this.#typeTlvs.push(def.operational || def.virtual !== null ? null : encodeLdapString(def.name));
    }
  }

  /** Measures entry `id`; then `write` must follow for the same id. Returns the op's byte length. */
  measure(id: number): number {
    const { shapes, shapeOf, slots, slotStart, dns } = this.#entries;
    const shape = shapes[shapeOf[id]!]!;
    const start = slotStart[id]!;
    this.#count = 0;
    let listContent = 0;
    for (let i = 0; i < shape.attrs.length; i++) {
      const typeTlv = this.#typeTlvs[shape.attrs[i]!]!;
      const slot = slots.get(start + i);
      if (typeTlv === null) continue;
      let valuesContent: number;
      if (typeof slot === 'string') {
        const size = utf8Length(slot);
        this.#push(size);
        valuesContent = tlvSize(size);
      } else {
        if (slot.length === 0) continue;
        valuesContent = 0;
        for (let v = 0; v < slot.length; v++) {
          const size = utf8Length(slot[v]!);
          this.#push(size);
          valuesContent += tlvSize(size);
        }
      }
      const attributeContent = typeTlv.length + tlvSize(valuesContent);
      this.#push(valuesContent);
      this.#push(attributeContent);
      listContent += tlvSize(attributeContent);
    }
    const dnSize = utf8Length(dns[id]!);
    const opContent = tlvSize(dnSize) + tlvSize(listContent);
    this.#push(dnSize);
    this.#push(listContent);
    this.#push(opContent);
    return tlvSize(opContent);
  }

  #push(size: number): void {
    if (this.#count === this.#sizes.length) {
      const grown = new Int32Array(this.#sizes.length * 2);
      grown.set(this.#sizes);
      this.#sizes = grown;
    }
    this.#sizes[this.#count++] = size;
  }

  /** Writes the entry measured last at `pos`; returns the end position. */
  write(id: number, buf: Buffer, pos: number): number {
    const { shapes, shapeOf, slots, slotStart, dns } = this.#entries;
    const shape = shapes[shapeOf[id]!]!;
    const start = slotStart[id]!;
    const sizes = this.#sizes;
    const n = this.#count;
    buf[pos] = OpTag.SearchResultEntry;
    pos = putLength(buf, pos + 1, sizes[n - 1]!);
    pos = putText(buf, pos, dns[id]!, sizes[n - 3]!);
    buf[pos++] = Tag.sequence;
    pos = putLength(buf, pos, sizes[n - 2]!);
    let k = 0;
    for (let i = 0; i < shape.attrs.length; i++) {
      const typeTlv = this.#typeTlvs[shape.attrs[i]!]!;
      const slot = slots.get(start + i);
      if (typeTlv === null || (typeof slot !== 'string' && slot.length === 0)) continue;
      // Value sizes come first, then the attribute's two totals (see measure).
      const count = typeof slot === 'string' ? 1 : slot.length;
      const valuesContent = sizes[k + count]!;
      const attributeContent = sizes[k + count + 1]!;
      buf[pos++] = Tag.sequence;
      pos = putLength(buf, pos, attributeContent);
      pos += typeTlv.copy(buf, pos);
      buf[pos++] = Tag.set;
      pos = putLength(buf, pos, valuesContent);
      if (typeof slot === 'string') pos = putText(buf, pos, slot, sizes[k]!);
      else for (let v = 0; v < count; v++) pos = putText(buf, pos, slot[v]!, sizes[k + v]!);
      k += count + 2;
    }
    return pos;
  }

  /** The entry's op in a buffer of its own. */
  encode(id: number): Buffer {
    const length = this.measure(id);
    const buf = Buffer.allocUnsafe(length);
    const end = this.write(id, buf, 0);
    if (end !== length) throw new Error(`entry ${this.#entries.dns[id]!}: encoded ${end} bytes, expected ${length}`);
    return buf;
  }
}

const SLAB_BYTES = 4 * 1024 * 1024;

/**
 * Encoded ops of entries by id, in large slabs, up to a byte budget: filled in id order at build time (eager)
 * or as `*` searches first send each entry (on demand). An entry's bytes never change once kept.
 */
export class EncodedStore {
  readonly slabs: Buffer[] = [];
  readonly #slabOf: Uint16Array;
  readonly #offsets: Uint32Array;
  /** 0 while an entry is not kept (no op is empty). */
  readonly #lengths: Uint32Array;
  #slab: Buffer | undefined;
  #pos = 0;
  #spent = 0;
  /** Entries kept. */
  count = 0;

  readonly #budget: number;

  constructor(
    entries: number,
    budget: number,
  ) {
    this.#budget = budget;
    this.#slabOf = new Uint16Array(entries);
    this.#offsets = new Uint32Array(entries);
    this.#lengths = new Uint32Array(entries);
  }

  /** The kept op of entry `id`, if any. */
  get(id: number): Buffer | undefined {
    const length = this.#lengths[id];
    if (length === undefined || length === 0) return undefined;
    const offset = this.#offsets[id]!;
    return this.slabs[this.#slabOf[id]!]!.subarray(offset, offset + length);
  }

  /** Encodes entry `id` and keeps it; undefined (nothing kept) when the budget does not allow. */
  keep(id: number, encoder: EntryEncoder): Buffer | undefined {
    if (id < 0 || id >= this.#lengths.length) return undefined;
    const length = encoder.measure(id);
    if (this.#spent + length > this.#budget) return undefined;
    let slab = this.#slab;
    if (slab === undefined || this.#pos + length > slab.length) {
      if (this.slabs.length > 0xfffe) return undefined;
      if (slab !== undefined) this.slabs[this.slabs.length - 1] = slab.subarray(0, this.#pos);
      slab = Buffer.allocUnsafeSlow(Math.max(Math.min(SLAB_BYTES, this.#budget - this.#spent), length));
      this.#slab = slab;
      this.#pos = 0;
      this.slabs.push(slab);
    }
    const start = this.#pos;
    const end = encoder.write(id, slab, start);
    if (end !== start + length) throw new Error(`entry ${id}: encoded ${end - start} bytes, expected ${length}`);
    this.#slabOf[id] = this.slabs.length - 1;
    this.#offsets[id] = start;
    this.#lengths[id] = length;
    this.#pos = end;
    this.#spent += length;
    this.count++;
    return slab.subarray(start, end);
  }

  /** Bytes of the kept ops. */
  get bytes(): number {
    return this.#spent;
  }
}
