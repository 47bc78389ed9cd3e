/**
 * An array that grows without one big copy. V8 grows an array by copying all of it: a push at 1.6 million
 * elements stalled the event loop for 64-91 ms here. A directory refresh builds arrays that large (the value
 * slots of every entry) while the listeners keep serving, so it builds this instead: each growth step allocates
 * one chunk.
 */

const CHUNK_BITS = 13;
/** 8,192 elements: 64 KiB of pointers, well below the size V8 moves to its large-object space. */
const CHUNK_SIZE = 1 << CHUNK_BITS;
const CHUNK_MASK = CHUNK_SIZE - 1;

/** An append-only array in fixed-size chunks; get/set by index like an array. */
export class ChunkedArray<T> {
  readonly #chunks: T[][] = [];
  #length = 0;

  get length(): number {
    return this.#length;
  }

  push(value: T): void {
    const offset = this.#length & CHUNK_MASK;
    if (offset === 0) this.#chunks.push(new Array<T>(CHUNK_SIZE));
    this.#chunks[this.#chunks.length - 1]![offset] = value;
    this.#length++;
  }

  /** The element at `index` (0 <= index < length; not checked on this hot path beyond the chunk's own bounds). */
  get(index: number): T {
    return this.#chunks[index >>> CHUNK_BITS]![index & CHUNK_MASK]!;
  }

  set(index: number, value: T): void {
    if (!(index >= 0 && index < this.#length)) throw new RangeError(`ChunkedArray: index ${index} out of range`);
    this.#chunks[index >>> CHUNK_BITS]![index & CHUNK_MASK] = value;
  }
}
