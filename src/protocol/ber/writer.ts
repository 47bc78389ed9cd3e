import { Buffer } from 'node:buffer';
import { Tag } from './reader.js';
import { utf8Length, writeUtf8 } from './utf8.js';

const INT32_MIN = -0x80000000;
const INT32_MAX = 0x7fffffff;
const EMPTY = Buffer.alloc(0);

/** Octets needed to encode a definite length (the header octet after the tag included). */
export function lengthSize(length: number): number {
  if (length < 0x80) return 1;
  if (length < 0x100) return 2;
  if (length < 0x10000) return 3;
  if (length < 0x1000000) return 4;
  return 5;
}

/** Size of a whole single-octet-tag element whose content is `contentLength` octets. */
export function tlvSize(contentLength: number): number {
  return 1 + lengthSize(contentLength) + contentLength;
}

/** Content octets of the minimal two's-complement encoding of a 32-bit integer. */
export function intSize(value: number): number {
  if (value >= -0x80 && value <= 0x7f) return 1;
  if (value >= -0x8000 && value <= 0x7fff) return 2;
  if (value >= -0x800000 && value <= 0x7fffff) return 3;
  return 4;
}

function checkInt32(value: number): void {
  if (!Number.isInteger(value) || value < INT32_MIN || value > INT32_MAX) {
    throw new RangeError(`BER: integer ${value} is outside the 32-bit range`);
  }
}

/** Writes a definite length at `pos`; returns the position after it. `buf` must have room. */
export function putLength(buf: Buffer, pos: number, length: number): number {
  if (length < 0x80) {
    buf[pos++] = length;
  } else if (length < 0x100) {
    buf[pos++] = 0x81;
    buf[pos++] = length;
  } else if (length < 0x10000) {
    buf[pos++] = 0x82;
    buf[pos++] = length >>> 8;
    buf[pos++] = length & 0xff;
  } else if (length < 0x1000000) {
    buf[pos++] = 0x83;
    buf[pos++] = length >>> 16;
    buf[pos++] = (length >>> 8) & 0xff;
    buf[pos++] = length & 0xff;
  } else {
    buf[pos++] = 0x84;
    buf[pos++] = length >>> 24;
    buf[pos++] = (length >>> 16) & 0xff;
    buf[pos++] = (length >>> 8) & 0xff;
    buf[pos++] = length & 0xff;
  }
  return pos;
}

/** Writes a whole INTEGER-like element (tag, length, minimal content) at `pos`; returns the end position. */
export function putInt(buf: Buffer, pos: number, tag: number, value: number): number {
  checkInt32(value);
  const size = intSize(value);
  buf[pos++] = tag;
  buf[pos++] = size;
  for (let shift = (size - 1) * 8; shift >= 0; shift -= 8) buf[pos++] = (value >> shift) & 0xff;
  return pos;
}

/**
 * Builds one BER encoding into a growing buffer. Constructed elements reserve one length octet and are
 * back-patched when closed; only content longer than 127 octets is moved (once, by the few octets the long
 * length form needs). `toBuffer()` hands the bytes over and leaves the writer empty for reuse.
 */
export class BerWriter {
  #buf: Buffer;
  #pos = 0;
  /** Position of the reserved length octet of each open constructed element. */
  readonly #open: number[] = [];
  readonly #initialSize: number;

  constructor(initialSize = 256) {
    this.#initialSize = Math.max(16, initialSize);
    this.#buf = EMPTY;
  }

  get length(): number {
    return this.#pos;
  }

  #ensure(extra: number): void {
    const needed = this.#pos + extra;
    if (needed <= this.#buf.length) return;
    let size = Math.max(this.#buf.length * 2, this.#initialSize);
    while (size < needed) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.#buf.copy(next, 0, 0, this.#pos);
    this.#buf = next;
  }

  /** Opens a constructed element (SEQUENCE by default). */
  startSequence(tag: number = Tag.sequence): void {
    this.#ensure(2);
    this.#buf[this.#pos++] = tag;
    this.#open.push(this.#pos);
    this.#buf[this.#pos++] = 0;
  }

  /** Closes the innermost open element and fills in its length. */
  endSequence(): void {
    const lengthAt = this.#open.pop();
    if (lengthAt === undefined) throw new RangeError('BerWriter.endSequence without startSequence');
    const contentStart = lengthAt + 1;
    const length = this.#pos - contentStart;
    if (length < 0x80) {
      this.#buf[lengthAt] = length;
      return;
    }
    const extra = lengthSize(length) - 1;
    this.#ensure(extra);
    this.#buf.copyWithin(contentStart + extra, contentStart, this.#pos);
    putLength(this.#buf, lengthAt, length);
    this.#pos += extra;
  }

  writeInt(value: number, tag: number = Tag.integer): void {
    this.#ensure(6);
    this.#pos = putInt(this.#buf, this.#pos, tag, value);
  }

  writeEnumerated(value: number, tag: number = Tag.enumerated): void {
    this.writeInt(value, tag);
  }

  writeBoolean(value: boolean, tag: number = Tag.boolean): void {
    this.#ensure(3);
    const buf = this.#buf;
    buf[this.#pos++] = tag;
    buf[this.#pos++] = 1;
    buf[this.#pos++] = value ? 0xff : 0x00;
  }

  writeNull(tag: number = Tag.null): void {
    this.#ensure(2);
    this.#buf[this.#pos++] = tag;
    this.#buf[this.#pos++] = 0;
  }

  /** OCTET STRING from bytes, or from a string written as UTF-8 without an intermediate Buffer. */
  writeOctetString(value: string | Uint8Array, tag: number = Tag.octetString): void {
    if (typeof value !== 'string') {
      this.#ensure(6 + value.length);
      this.#buf[this.#pos++] = tag;
      this.#pos = putLength(this.#buf, this.#pos, value.length);
      this.#buf.set(value, this.#pos);
      this.#pos += value.length;
      return;
    }
    const length = utf8Length(value);
    this.#ensure(6 + length);
    this.#buf[this.#pos++] = tag;
    this.#pos = writeUtf8(this.#buf, putLength(this.#buf, this.#pos, length), value, length);
  }

  /** Copies an already encoded element (or several) verbatim. */
  writeRaw(bytes: Uint8Array): void {
    this.#ensure(bytes.length);
    this.#buf.set(bytes, this.#pos);
    this.#pos += bytes.length;
  }

  /** Returns the encoded bytes (a view, owned by the caller from now on) and empties the writer. */
  toBuffer(): Buffer {
    if (this.#open.length !== 0) throw new RangeError('BerWriter.toBuffer with unclosed elements');
    const out = this.#buf.subarray(0, this.#pos);
    this.#buf = EMPTY;
    this.#pos = 0;
    return out;
  }
}
