/**
 * A small DER (X.690) writer: just the universal types X.509 needs. Pure functions from values to bytes, so
 * certificates can be built with node:crypto alone (no openssl at runtime).
 */

function encodeLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** One TLV with an already-built identifier octet. */
export function derTlv(tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), encodeLength(content.length), content]);
}

export function derSequence(...children: Buffer[]): Buffer {
  return derTlv(0x30, Buffer.concat(children));
}

/** SET OF: DER requires the encodings sorted as octet strings. */
export function derSet(...children: Buffer[]): Buffer {
  const sorted = [...children].sort(Buffer.compare);
  return derTlv(0x31, Buffer.concat(sorted));
}

export function derBoolean(value: boolean): Buffer {
  return derTlv(0x01, Buffer.from([value ? 0xff : 0x00]));
}

/** INTEGER from a non-negative number, bigint, or unsigned big-endian bytes. */
export function derInteger(value: number | bigint | Buffer): Buffer {
  let bytes: Buffer;
  if (Buffer.isBuffer(value)) {
    bytes = value;
  } else {
    let n = BigInt(value);
    if (n < 0n) throw new RangeError('derInteger: negative values are not supported');
    const out: number[] = [];
    do {
      out.unshift(Number(n & 0xffn));
      n >>= 8n;
    } while (n > 0n);
    bytes = Buffer.from(out);
  }
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0 && (bytes[start + 1] ?? 0) < 0x80) start++;
  let minimal = bytes.subarray(start);
  if (minimal.length === 0) minimal = Buffer.from([0]);
  // A set high bit would read as negative: prefix a zero octet.
  if ((minimal[0] ?? 0) >= 0x80) minimal = Buffer.concat([Buffer.from([0]), minimal]);
  return derTlv(0x02, minimal);
}

export function derOid(dotted: string): Buffer {
  const parts = dotted.split('.').map((p) => {
    if (!/^\d+$/.test(p)) throw new RangeError(`derOid: bad arc in ${dotted}`);
    return BigInt(p);
  });
  const [first, second, ...rest] = parts;
  if (first === undefined || second === undefined || first > 2n) throw new RangeError(`derOid: bad OID ${dotted}`);
  const arcs = [first * 40n + second, ...rest];
  const out: number[] = [];
  for (const arc of arcs) {
    const chunk: number[] = [];
    let n = arc;
    do {
      chunk.unshift(Number(n & 0x7fn));
      n >>= 7n;
    } while (n > 0n);
    for (let i = 0; i < chunk.length - 1; i++) chunk[i] = (chunk[i] ?? 0) | 0x80;
    out.push(...chunk);
  }
  return derTlv(0x06, Buffer.from(out));
}

export function derNull(): Buffer {
  return Buffer.from([0x05, 0x00]);
}

export function derOctetString(content: Buffer): Buffer {
  return derTlv(0x04, content);
}

/** BIT STRING of whole octets (unused bits = 0), as used for keys and signatures. */
export function derBitString(content: Buffer, unusedBits = 0): Buffer {
  return derTlv(0x03, Buffer.concat([Buffer.from([unusedBits]), content]));
}

export function derUtf8String(text: string): Buffer {
  return derTlv(0x0c, Buffer.from(text, 'utf8'));
}

const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;

export function derPrintableString(text: string): Buffer {
  if (!PRINTABLE.test(text)) throw new RangeError('derPrintableString: character outside PrintableString');
  return derTlv(0x13, Buffer.from(text, 'latin1'));
}

export function derIa5String(text: string): Buffer {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) throw new RangeError('derIa5String: non-ASCII character');
  return derTlv(0x16, Buffer.from(text, 'latin1'));
}

function pad2(n: number): string {
  return n.toString().padStart(2, '0');
}

function timeDigits(date: Date): string {
  return (
    pad2(date.getUTCMonth() + 1) +
    pad2(date.getUTCDate()) +
    pad2(date.getUTCHours()) +
    pad2(date.getUTCMinutes()) +
    pad2(date.getUTCSeconds())
  );
}

export function derUtcTime(date: Date): Buffer {
  const year = date.getUTCFullYear();
  if (year < 1950 || year > 2049) throw new RangeError('derUtcTime: year outside 1950..2049');
  return derTlv(0x17, Buffer.from(`${pad2(year % 100)}${timeDigits(date)}Z`, 'latin1'));
}

export function derGeneralizedTime(date: Date): Buffer {
  return derTlv(0x18, Buffer.from(`${date.getUTCFullYear().toString().padStart(4, '0')}${timeDigits(date)}Z`, 'latin1'));
}

/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050. */
export function derX509Time(date: Date): Buffer {
  const year = date.getUTCFullYear();
  return year >= 1950 && year <= 2049 ? derUtcTime(date) : derGeneralizedTime(date);
}

/** [n] EXPLICIT: constructed context tag wrapping one complete encoding. */
export function derExplicit(tagNumber: number, inner: Buffer): Buffer {
  if (tagNumber > 30) throw new RangeError('derExplicit: tag number too large');
  return derTlv(0xa0 | tagNumber, inner);
}

/** [n] IMPLICIT primitive: context tag replacing the universal tag of a primitive value. */
export function derImplicitPrimitive(tagNumber: number, content: Buffer): Buffer {
  if (tagNumber > 30) throw new RangeError('derImplicitPrimitive: tag number too large');
  return derTlv(0x80 | tagNumber, content);
}

export function toPem(label: string, der: Buffer): string {
  const base64 = der.toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < base64.length; i += 64) lines.push(base64.slice(i, i + 64));
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** One TLV read from DER: `contentStart..end` is the value, `offset..end` the whole encoding. */
export interface DerElement {
  tag: number;
  offset: number;
  contentStart: number;
  end: number;
}

/** Reads the TLV at `offset` (single-octet tags, definite lengths only). Throws RangeError on malformed input. */
export function derRead(buf: Buffer, offset: number): DerElement {
  const tag = buf[offset];
  const first = buf[offset + 1];
  if (tag === undefined || first === undefined) throw new RangeError('derRead: truncated header');
  if ((tag & 0x1f) === 0x1f) throw new RangeError('derRead: multi-octet tags are not supported');
  let length: number;
  let contentStart: number;
  if (first < 0x80) {
    length = first;
    contentStart = offset + 2;
  } else {
    const count = first & 0x7f;
    if (count === 0 || count > 4) throw new RangeError('derRead: unsupported length form');
    length = 0;
    for (let i = 0; i < count; i++) {
      const b = buf[offset + 2 + i];
      if (b === undefined) throw new RangeError('derRead: truncated length');
      length = length * 256 + b;
    }
    contentStart = offset + 2 + count;
  }
  const end = contentStart + length;
  if (end > buf.length) throw new RangeError('derRead: content runs past the end');
  return { tag, offset, contentStart, end };
}

/** The direct children of a constructed element. */
export function derChildren(buf: Buffer, parent: DerElement): DerElement[] {
  const out: DerElement[] = [];
  for (let at = parent.contentStart; at < parent.end; ) {
    const child = derRead(buf, at);
    out.push(child);
    at = child.end;
  }
  return out;
}
