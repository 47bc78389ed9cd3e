import { Buffer, isUtf8 } from 'node:buffer';
import { ProtocolError } from '../../errors.js';

/** Universal tags used by LDAP (RFC 4511 section 5.1 restricts BER to these forms). */
export const Tag = Object.freeze({
  boolean: 0x01,
  integer: 0x02,
  octetString: 0x04,
  null: 0x05,
  enumerated: 0x0a,
  sequence: 0x30,
  set: 0x31,
});

/** Most content octets accepted for an INTEGER or ENUMERATED: LDAP only uses 0..2^31-1. */
const MAX_INT_BYTES = 4;
/** Most octets in a long-form length: 4 covers any length the message limit can allow. */
const MAX_LENGTH_BYTES = 4;

/**
 * A cursor over one BER-encoded buffer (definite lengths only). Containers are entered and left explicitly;
 * `end` is always the end of the innermost open container, so a length can never reach past its parent.
 * Octet strings come back as views of the input buffer: callers own the input and must not reuse it while
 * the decoded values are alive.
 */
export class BerReader {
  readonly buf: Buffer;
  /** Next unread octet. */
  pos: number;
  /** End of the innermost open container (exclusive). */
  end: number;
  /** Content length of the element whose header was read last. */
  #contentLength = 0;
  readonly #ends: number[] = [];
  readonly #maxDepth: number;

  constructor(buf: Buffer, start = 0, end = buf.length, maxDepth = 64) {
    if (start < 0 || end > buf.length || start > end) throw new RangeError('BerReader bounds outside the buffer');
    this.buf = buf;
    this.pos = start;
    this.end = end;
    this.#maxDepth = maxDepth;
  }

  /** Current nesting depth (number of open containers). */
  get depth(): number {
    return this.#ends.length;
  }

  atEnd(): boolean {
    return this.pos >= this.end;
  }

  /** Tag of the next element, or -1 at the end of the current container. */
  peekTag(): number {
    return this.pos < this.end ? this.buf[this.pos]! : -1;
  }

  /** Reads a tag and length; leaves `pos` at the first content octet. Returns the tag. */
  readHeader(): number {
    const buf = this.buf;
    const end = this.end;
    let pos = this.pos;
    if (pos >= end) throw new ProtocolError('BER: unexpected end of data, expected a tag');
    const tag = buf[pos++]!;
    // LDAP never uses tag numbers >= 31, which would need the multi-octet tag form.
    if ((tag & 0x1f) === 0x1f) throw new ProtocolError('BER: multi-octet tags are not used in LDAP');
    if (pos >= end) throw new ProtocolError('BER: unexpected end of data, expected a length');
    const first = buf[pos++]!;
    let length: number;
    if (first < 0x80) {
      length = first;
    } else if (first === 0x80) {
      throw new ProtocolError('BER: indefinite length is not allowed in LDAP');
    } else {
      const count = first & 0x7f;
      if (count > MAX_LENGTH_BYTES) throw new ProtocolError(`BER: length of ${count} octets is too long`);
      if (count > end - pos) throw new ProtocolError('BER: length octets run past the enclosing element');
      length = 0;
      for (let i = 0; i < count; i++) length = length * 256 + buf[pos++]!;
    }
    if (length > end - pos) throw new ProtocolError('BER: element length runs past the enclosing element');
    this.pos = pos;
    this.#contentLength = length;
    return tag;
  }

  /** Reads a header and checks its tag. Returns the content length. */
  #expect(tag: number, what: string): number {
    const got = this.readHeader();
    if (got !== tag) throw new ProtocolError(`BER: expected ${what} (tag 0x${hex2(tag)}), got tag 0x${hex2(got)}`);
    return this.#contentLength;
  }

  /** Opens a constructed element with the given tag (any tag if omitted); returns the tag read. */
  enter(tag?: number, what = 'a constructed element'): number {
    if (this.#ends.length >= this.#maxDepth) throw new ProtocolError('BER: nesting too deep');
    const got = this.readHeader();
    if (tag !== undefined && got !== tag) {
      throw new ProtocolError(`BER: expected ${what} (tag 0x${hex2(tag)}), got tag 0x${hex2(got)}`);
    }
    if ((got & 0x20) === 0) throw new ProtocolError(`BER: expected a constructed element, got tag 0x${hex2(got)}`);
    this.#ends.push(this.end);
    this.end = this.pos + this.#contentLength;
    return got;
  }

  /** Closes the innermost container; its content must have been consumed completely. */
  leave(): void {
    if (this.pos !== this.end) throw new ProtocolError('BER: unexpected data at the end of a constructed element');
    const outer = this.#ends.pop();
    if (outer === undefined) throw new RangeError('BerReader.leave without enter');
    this.end = outer;
  }

  /** INTEGER (or ENUMERATED / implicitly tagged integer), at most 4 content octets, two's complement. */
  readInt(tag: number = Tag.integer, what = 'an INTEGER'): number {
    const length = this.#expect(tag, what);
    return this.#intContent(length, what);
  }

  readEnumerated(tag: number = Tag.enumerated, what = 'an ENUMERATED'): number {
    return this.readInt(tag, what);
  }

  #intContent(length: number, what: string): number {
    if (length === 0) throw new ProtocolError(`BER: ${what} has no content octets`);
    if (length > MAX_INT_BYTES) throw new ProtocolError(`BER: ${what} is longer than ${MAX_INT_BYTES} octets`);
    const buf = this.buf;
    let pos = this.pos;
    // Sign-extend the first octet; the remaining octets are unsigned.
    let value = (buf[pos++]! << 24) >> 24;
    for (let i = 1; i < length; i++) value = value * 256 + buf[pos++]!;
    this.pos = pos;
    return value;
  }

  /** BOOLEAN: exactly one octet, any non-zero value is TRUE (BER). */
  readBoolean(tag: number = Tag.boolean, what = 'a BOOLEAN'): boolean {
    const length = this.#expect(tag, what);
    if (length !== 1) throw new ProtocolError(`BER: ${what} must have one content octet`);
    return this.buf[this.pos++]! !== 0;
  }

  /** NULL: no content octets. */
  readNull(tag: number = Tag.null, what = 'a NULL'): void {
    const length = this.#expect(tag, what);
    if (length !== 0) throw new ProtocolError(`BER: ${what} must be empty`);
  }

  /** OCTET STRING content as a view of the input; `maxBytes` is checked before anything else. */
  readOctets(tag: number = Tag.octetString, maxBytes = Infinity, what = 'an OCTET STRING'): Buffer {
    const length = this.#expect(tag, what);
    if (length > maxBytes) throw new ProtocolError(`BER: ${what} of ${length} octets exceeds the limit of ${maxBytes}`);
    const start = this.pos;
    this.pos = start + length;
    return this.buf.subarray(start, start + length);
  }

  /** LDAPString: an OCTET STRING that must be valid UTF-8. */
  readString(tag: number = Tag.octetString, maxBytes = Infinity, what = 'an LDAPString'): string {
    const length = this.#expect(tag, what);
    if (length > maxBytes) throw new ProtocolError(`BER: ${what} of ${length} octets exceeds the limit of ${maxBytes}`);
    const start = this.pos;
    const end = start + length;
    this.pos = end;
    const buf = this.buf;
    // Nearly all LDAP strings are ASCII: check in place, decode without UTF-8 work or a view object.
    for (let i = start; i < end; i++) {
      if (buf[i]! >= 0x80) {
        if (!isUtf8(buf.subarray(start, end))) throw new ProtocolError(`BER: ${what} is not valid UTF-8`);
        return buf.toString('utf8', start, end);
      }
    }
    return length === 0 ? '' : buf.toString('latin1', start, end);
  }

  /** Skips one whole element (any tag). */
  skip(): void {
    this.readHeader();
    this.pos += this.#contentLength;
  }

  /** One whole element (header and content) as a view of the input. */
  readRaw(): Buffer {
    const start = this.pos;
    this.readHeader();
    this.pos += this.#contentLength;
    return this.buf.subarray(start, this.pos);
  }
}

export function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}
