import { Buffer } from 'node:buffer';

/** Below this many UTF-16 units a JavaScript loop beats a call into native code. */
const NATIVE_THRESHOLD = 48;

/** UTF-8 length of a string, as Buffer.byteLength computes it (a lone surrogate counts 3, for U+FFFD). */
export function utf8Length(text: string): number {
  const length = text.length;
  if (length > NATIVE_THRESHOLD) return Buffer.byteLength(text, 'utf8');
  let size = length;
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) {
      size += 1;
    } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      size += 2; // a surrogate pair: 2 units, 4 octets
      i++;
    } else {
      size += 2;
    }
  }
  return size;
}

/** Writes `text` at `pos`; `size` must be utf8Length(text). Returns the position after it. */
export function writeUtf8(buf: Buffer, pos: number, text: string, size: number): number {
  if (size === text.length && size <= NATIVE_THRESHOLD) {
    // All ASCII (the UTF-8 size equals the unit count only then).
    for (let i = 0; i < size; i++) buf[pos + i] = text.charCodeAt(i);
  } else if (size > 0) {
    buf.write(text, pos, size, 'utf8');
  }
  return pos + size;
}
