/**
 * Sets of entry ids (small non-negative integers) for query planning: a contiguous range, a list of ranges, or
 * a sorted list. Iteration is always ascending, so results come out in directory order.
 */
export interface IdSet {
  /** Exact number of ids. */
  readonly size: number;
  has(id: number): boolean;
  /** Ascending ids. */
  [Symbol.iterator](): Iterator<number>;
}

export class RangeSet implements IdSet {
  readonly size: number;
  /** [start, end) pairs, ascending and disjoint. */
  readonly #bounds: readonly number[];

  constructor(bounds: readonly number[]) {
    this.#bounds = bounds;
    let size = 0;
    for (let i = 0; i < bounds.length; i += 2) size += bounds[i + 1]! - bounds[i]!;
    this.size = size;
  }

  static of(start: number, end: number): RangeSet {
    return new RangeSet(end > start ? [start, end] : []);
  }

  has(id: number): boolean {
    const b = this.#bounds;
    for (let i = 0; i < b.length; i += 2) if (id >= b[i]! && id < b[i + 1]!) return true;
    return false;
  }

  *[Symbol.iterator](): Iterator<number> {
    const b = this.#bounds;
    for (let i = 0; i < b.length; i += 2) for (let id = b[i]!; id < b[i + 1]!; id++) yield id;
  }
}

/** Sorted, duplicate-free ids. */
export class SortedIds implements IdSet {
  constructor(readonly ids: ArrayLike<number>) {}

  get size(): number {
    return this.ids.length;
  }

  has(id: number): boolean {
    const ids = this.ids;
    let lo = 0;
    let hi = ids.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const value = ids[mid]!;
      if (value === id) return true;
      if (value < id) lo = mid + 1;
      else hi = mid - 1;
    }
    return false;
  }

  *[Symbol.iterator](): Iterator<number> {
    const ids = this.ids;
    for (let i = 0; i < ids.length; i++) yield ids[i]!;
  }
}

export const EMPTY_SET: IdSet = new SortedIds([]);

/** Ids in every set (iterates the smallest). */
export function intersect(sets: readonly IdSet[]): IdSet {
  if (sets.length === 0) throw new RangeError('intersect of nothing');
  if (sets.length === 1) return sets[0]!;
  const ordered = [...sets].sort((a, b) => a.size - b.size);
  const smallest = ordered[0]!;
  const out: number[] = [];
  outer: for (const id of smallest) {
    for (let i = 1; i < ordered.length; i++) if (!ordered[i]!.has(id)) continue outer;
    out.push(id);
  }
  return new SortedIds(out);
}

/** Ids in any set. */
export function union(sets: readonly IdSet[]): IdSet {
  const nonEmpty = sets.filter((s) => s.size > 0);
  if (nonEmpty.length === 0) return EMPTY_SET;
  if (nonEmpty.length === 1) return nonEmpty[0]!;
  const all: number[] = [];
  for (const set of nonEmpty) for (const id of set) all.push(id);
  all.sort((a, b) => a - b);
  let n = 0;
  for (let i = 0; i < all.length; i++) if (i === 0 || all[i] !== all[n - 1]) all[n++] = all[i]!;
  all.length = n;
  return new SortedIds(all);
}
