import { Buffer } from 'node:buffer';
import { ProtocolError } from '../../errors.js';
import type { DecodeLimits } from '../limits.js';
import { Tag, hex2 } from './reader.js';

export type FrameLimits = Pick<DecodeLimits, 'maxMessageBytes'>;

/**
 * Finds the end of the LDAPMessage starting at `offset`. Returns null when more bytes are needed. Throws
 * ProtocolError when the first octet is not a SEQUENCE tag, the length form is not allowed, or the declared
 * message size exceeds `limits.maxMessageBytes`: all decided from the header alone, before anything is buffered.
 */
export function nextFrame(buf: Uint8Array, offset: number, limits: FrameLimits): { end: number } | null {
  const available = buf.length - offset;
  if (available < 2) {
    if (available === 1 && buf[offset] !== Tag.sequence) throw notASequence(buf[offset]!);
    return null;
  }
  if (buf[offset] !== Tag.sequence) throw notASequence(buf[offset]!);
  const first = buf[offset + 1]!;
  let headerSize: number;
  let length: number;
  if (first < 0x80) {
    headerSize = 2;
    length = first;
  } else {
    if (first === 0x80) throw new ProtocolError('LDAP: indefinite length is not allowed');
    const count = first & 0x7f;
    if (count > 4) throw new ProtocolError(`LDAP: message length of ${count} octets is too long`);
    headerSize = 2 + count;
    if (available < headerSize) return null;
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + buf[offset + 2 + i]!;
  }
  if (headerSize + length > limits.maxMessageBytes) {
    throw new ProtocolError(`LDAP: message of ${headerSize + length} octets exceeds the limit of ${limits.maxMessageBytes}`);
  }
  if (available < headerSize + length) return null;
  return { end: offset + headerSize + length };
}

function notASequence(tag: number): ProtocolError {
  return new ProtocolError(`LDAP: expected an LDAPMessage SEQUENCE (0x30), got tag 0x${hex2(tag)}`);
}

/**
 * Turns a byte stream into whole LDAPMessage frames. Call `next()` until it returns null after every `push()`;
 * then it holds at most one partial message (bounded by maxMessageBytes, checked from its header) plus the
 * chunk being pushed. Frames returned by `next()` are views of buffers this object never writes to again, so
 * they stay valid after later pushes. After a ProtocolError the stream is unusable: close the connection.
 */
export class FrameReader {
  readonly #limits: FrameLimits;
  /** Unconsumed bytes start at `offset` in `pending`. */
  #pending: Buffer = Buffer.alloc(0);
  #offset = 0;
  /** Chunks that arrived while a message of known size was incomplete; joined once it is complete. */
  #parked: Buffer[] = [];
  #parkedBytes = 0;
  /** Total size of the incomplete message at `pending[offset]`, once its header is known. */
  #wanted = 0;

  constructor(limits: FrameLimits) {
    this.#limits = limits;
  }

  /** Bytes received but not yet returned as frames. */
  get buffered(): number {
    return this.#pending.length - this.#offset + this.#parkedBytes;
  }

  /** Adds received bytes. The chunk is referenced, not copied: the caller must not reuse it. */
  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this.#wanted > 0) {
      // Park until the known-size message is complete, so a large message is copied once, not per chunk.
      this.#parked.push(chunk);
      this.#parkedBytes += chunk.length;
      if (this.#pending.length - this.#offset + this.#parkedBytes < this.#wanted) return;
      this.#join();
      return;
    }
    if (this.#offset >= this.#pending.length) {
      this.#pending = chunk;
    } else {
      this.#pending = Buffer.concat([this.#pending.subarray(this.#offset), chunk]);
    }
    this.#offset = 0;
  }

  #join(): void {
    this.#pending = Buffer.concat([this.#pending.subarray(this.#offset), ...this.#parked]);
    this.#offset = 0;
    this.#parked = [];
    this.#parkedBytes = 0;
    this.#wanted = 0;
  }

  /** The next complete frame, or null when more bytes are needed. Throws ProtocolError on a bad header. */
  next(): Buffer | null {
    if (this.#wanted > 0) return null;
    const found = nextFrame(this.#pending, this.#offset, this.#limits);
    if (found === null) {
      this.#wanted = this.#declaredSize();
      return null;
    }
    const frame = this.#pending.subarray(this.#offset, found.end);
    this.#offset = found.end;
    if (this.#offset >= this.#pending.length) {
      this.#pending = Buffer.alloc(0);
      this.#offset = 0;
    }
    return frame;
  }

  /** Size of the incomplete message at `offset` when its header is complete, else 0. */
  #declaredSize(): number {
    const buf = this.#pending;
    const at = this.#offset;
    if (buf.length - at < 2) return 0;
    const first = buf[at + 1]!;
    if (first < 0x80) return 2 + first;
    const count = first & 0x7f;
    if (buf.length - at < 2 + count) return 0;
    let length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + buf[at + 2 + i]!;
    return 2 + count + length;
  }
}
