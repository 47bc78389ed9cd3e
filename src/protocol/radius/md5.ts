/**
 * MD5 (RFC 1321) and HMAC-MD5 (RFC 2104) over a list of segments, for the packet authenticators. RADIUS hashes
 * packets of a few dozen octets, where node:crypto's per-call set-up (a Hash or Hmac object, one native call per
 * update) costs several times the hashing itself; the results are checked against node:crypto in the tests.
 */
import { Buffer } from 'node:buffer';

const BLOCK_BYTES = 64;

/** Per-step left rotations, by round and step modulo 4. */
const SHIFTS = Int32Array.from([7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21]);
/** floor(|sin(i + 1)| × 2^32), as RFC 1321 section 3.4 defines them. */
const SINES = Int32Array.from({ length: 64 }, (_, i) => Math.floor(Math.abs(Math.sin(i + 1)) * 2 ** 32) | 0);
/** The message word each step adds: i, 5i + 1, 3i + 5 and 7i (mod 16) in rounds 1 to 4. */
const WORD_ORDER = Uint8Array.from({ length: 64 }, (_, i) => [i, 5 * i + 1, 3 * i + 5, 7 * i][i >> 4]! & 15);

function compress(state: Int32Array, data: Uint8Array, offset: number, words: Int32Array): void {
  for (let i = 0; i < 16; i++) {
    const p = offset + i * 4;
    words[i] = data[p]! | (data[p + 1]! << 8) | (data[p + 2]! << 16) | (data[p + 3]! << 24);
  }
  let a = state[0]!;
  let b = state[1]!;
  let c = state[2]!;
  let d = state[3]!;
  for (let i = 0; i < 64; i++) {
    // The four rounds of RFC 1321 section 3.4, sixteen steps each.
    const round = i >> 4;
    const f = round === 0 ? (b & c) | (~b & d) : round === 1 ? (d & b) | (~d & c) : round === 2 ? b ^ c ^ d : c ^ (b | ~d);
    const x = (a + f + SINES[i]! + words[WORD_ORDER[i]!]!) | 0;
    const s = SHIFTS[(round << 2) | (i & 3)]!;
    a = d;
    d = c;
    c = b;
    b = (b + ((x << s) | (x >>> (32 - s)))) | 0;
  }
  state[0] = (state[0]! + a) | 0;
  state[1] = (state[1]! + b) | 0;
  state[2] = (state[2]! + c) | 0;
  state[3] = (state[3]! + d) | 0;
}

/** MD5 of the concatenation of `segments`. */
export function md5(segments: readonly Uint8Array[]): Buffer {
  // Small typed arrays live on V8's heap: streaming through one block allocates far less than a padded copy.
  const state = Int32Array.from([0x67452301, 0xefcdab89 | 0, 0x98badcfe | 0, 0x10325476]);
  const block = new Uint8Array(BLOCK_BYTES);
  const words = new Int32Array(16);
  let fill = 0;
  let length = 0;
  for (const segment of segments) {
    length += segment.length;
    for (let i = 0; i < segment.length; i++) {
      block[fill++] = segment[i]!;
      if (fill === BLOCK_BYTES) {
        compress(state, block, 0, words);
        fill = 0;
      }
    }
  }
  // 0x80, zeros, then the length in bits as 64-bit little-endian.
  block[fill++] = 0x80;
  if (fill > BLOCK_BYTES - 8) {
    block.fill(0, fill);
    compress(state, block, 0, words);
    fill = 0;
  }
  block.fill(0, fill, BLOCK_BYTES - 8);
  const bits = [(length * 8) >>> 0, Math.floor(length / 0x20000000)];
  for (let i = 0; i < 8; i++) block[BLOCK_BYTES - 8 + i] = (bits[i >> 2]! >>> ((i & 3) * 8)) & 0xff;
  compress(state, block, 0, words);
  const digest = Buffer.allocUnsafe(16);
  for (let i = 0; i < 16; i++) digest[i] = (state[i >> 2]! >>> ((i & 3) * 8)) & 0xff;
  return digest;
}

/** HMAC-MD5 with `key` of the concatenation of `segments`. */
export function hmacMd5(key: Uint8Array, segments: readonly Uint8Array[]): Buffer {
  const padded = key.length > BLOCK_BYTES ? md5([key]) : key;
  const inner = new Uint8Array(BLOCK_BYTES).fill(0x36);
  const outer = new Uint8Array(BLOCK_BYTES).fill(0x5c);
  for (let i = 0; i < padded.length; i++) {
    inner[i] = padded[i]! ^ 0x36;
    outer[i] = padded[i]! ^ 0x5c;
  }
  return md5([outer, md5([inner, ...segments])]);
}
