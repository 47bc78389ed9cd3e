import { Buffer, isUtf8 } from 'node:buffer';
import { ProtocolError } from '../../errors.js';
import { BerReader } from '../ber/reader.js';

/**
 * One attribute type and value of an RDN (RFC 4514). `value` is the unescaped string. A value written in the
 * `#hex` form keeps its BER bytes in `ber` (formatting writes them back the same way); `value` is then the
 * decoded content when it is a string type, otherwise the `#hex` text itself.
 */
export interface Ava {
  type: string;
  value: string;
  ber?: Buffer;
}
/** A relative DN: one or more AVAs joined by `+`. */
export type Rdn = Ava[];
/** A DN: RDNs from the entry itself (first) up to the root (last). The root DSE is `[]`. */
export type Dn = Rdn[];

/** Universal string tags whose content is taken as the value of a `#hex` AVA. */
const STRING_TAGS = new Set([0x04, 0x0c, 0x13, 0x14, 0x16, 0x1a]);

function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x41 && code <= 0x46) return code - 0x37;
  if (code >= 0x61 && code <= 0x66) return code - 0x57;
  return -1;
}

/** Characters a `\` may escape literally (RFC 4514 "special", plus space and `=`). */
function isEscapable(code: number): boolean {
  return (
    code === 0x20 || // space
    code === 0x22 || // "
    code === 0x23 || // #
    code === 0x2b || // +
    code === 0x2c || // ,
    code === 0x3b || // ;
    code === 0x3c || // <
    code === 0x3d || // =
    code === 0x3e || // >
    code === 0x5c // \
  );
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const DESCR = /^[A-Za-z][A-Za-z0-9-]*$/;
const NUMERIC_OID = /^[0-9]+(?:\.[0-9]+)*$/;

class DnParser {
  #i = 0;
  readonly #s: string;

  constructor(s: string) {
    this.#s = s;
  }

  #fail(message: string): never {
    throw new ProtocolError(`DN: ${message} at offset ${this.#i}`);
  }

  #skipSpaces(): void {
    while (this.#s.charCodeAt(this.#i) === 0x20) this.#i++;
  }

  parse(): Dn {
    const s = this.#s;
    this.#skipSpaces();
    if (this.#i >= s.length) return [];
    const dn: Dn = [];
    for (;;) {
      const rdn: Rdn = [];
      for (;;) {
        rdn.push(this.#ava());
        if (s[this.#i] !== '+') break;
        this.#i++;
      }
      dn.push(rdn);
      if (this.#i >= s.length) return dn;
      const sep = s[this.#i];
      // ';' is the RFC 2253 alternative separator, still accepted by RFC 4514 parsers.
      if (sep !== ',' && sep !== ';') this.#fail(`unexpected '${sep}'`);
      this.#i++;
    }
  }

  #ava(): Ava {
    const s = this.#s;
    this.#skipSpaces();
    const start = this.#i;
    while (this.#i < s.length) {
      const c = s.charCodeAt(this.#i);
      const ok = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x2d || c === 0x2e;
      if (!ok) break;
      this.#i++;
    }
    const type = s.slice(start, this.#i);
    if (type === '') this.#fail('missing attribute type');
    if (!DESCR.test(type) && !NUMERIC_OID.test(type)) this.#fail(`invalid attribute type '${type}'`);
    this.#skipSpaces();
    if (s[this.#i] !== '=') this.#fail("expected '='");
    this.#i++;
    this.#skipSpaces();
    if (s[this.#i] === '#') return this.#hexValue(type);
    return { type, value: this.#stringValue() };
  }

  #hexValue(type: string): Ava {
    const s = this.#s;
    this.#i++;
    const start = this.#i;
    while (this.#i < s.length && hexValue(s.charCodeAt(this.#i)) >= 0) this.#i++;
    const digits = s.slice(start, this.#i);
    if (digits.length === 0 || digits.length % 2 !== 0) this.#fail('a #hex value needs an even, non-zero number of hex digits');
    this.#skipSpaces();
    if (this.#i < s.length && s[this.#i] !== ',' && s[this.#i] !== '+' && s[this.#i] !== ';') this.#fail('unexpected character after a #hex value');
    const ber = Buffer.from(digits, 'hex');
    return { type, value: berStringValue(ber) ?? `#${digits.toLowerCase()}`, ber };
  }

  /** A string value up to an unescaped separator; unescaped trailing spaces are not part of it. */
  #stringValue(): string {
    const s = this.#s;
    let chunks: Buffer[] | null = null;
    let runStart = this.#i;
    // End of the value once unescaped trailing spaces are dropped (index into s for the current run).
    let significantEnd = this.#i;
    while (this.#i < s.length) {
      const c = s.charCodeAt(this.#i);
      if (c === 0x2c || c === 0x2b || c === 0x3b) break; // , + ;
      if (c !== 0x5c) {
        this.#i++;
        if (c !== 0x20) significantEnd = this.#i;
        continue;
      }
      chunks ??= [];
      if (this.#i > runStart) chunks.push(Buffer.from(s.slice(runStart, this.#i), 'utf8'));
      const next = s.charCodeAt(this.#i + 1);
      const hi = hexValue(next);
      const lo = hexValue(s.charCodeAt(this.#i + 2));
      if (hi >= 0 && lo >= 0) {
        chunks.push(Buffer.of(hi * 16 + lo));
        this.#i += 3;
      } else if (isEscapable(next)) {
        chunks.push(Buffer.of(next));
        this.#i += 2;
      } else {
        this.#fail('bad escape');
      }
      runStart = this.#i;
      significantEnd = this.#i;
    }
    if (chunks === null) return s.slice(runStart, significantEnd);
    // Trailing unescaped spaces can only sit in the final literal run.
    if (significantEnd > runStart) chunks.push(Buffer.from(s.slice(runStart, significantEnd), 'utf8'));
    const bytes = Buffer.concat(chunks);
    if (!isUtf8(bytes)) this.#fail('escaped value is not valid UTF-8');
    return bytes.toString('utf8');
  }
}

/** Content of a single primitive string-typed BER element, or undefined. */
function berStringValue(ber: Buffer): string | undefined {
  try {
    const r = new BerReader(ber, 0, ber.length, 1);
    const tag = r.peekTag();
    if (!STRING_TAGS.has(tag)) return undefined;
    const content = r.readOctets(tag);
    if (!r.atEnd() || !isUtf8(content)) return undefined;
    return content.toString('utf8');
  } catch (error) {
    if (error instanceof ProtocolError) return undefined;
    throw error;
  }
}

/** Parses an RFC 4514 DN string. Spaces around separators and `=` are tolerated. Throws ProtocolError. */
export function parseDn(text: string): Dn {
  // A lone surrogate has no UTF-8 form, so the DN could not go on the wire unchanged.
  if (LONE_SURROGATE.test(text)) throw new ProtocolError('DN: invalid Unicode (lone surrogate)');
  return new DnParser(text).parse();
}

/** Like parseDn, but null instead of an exception for an invalid DN. */
export function tryParseDn(text: string): Dn | null {
  try {
    return parseDn(text);
  } catch (error) {
    if (error instanceof ProtocolError) return null;
    throw error;
  }
}

/**
 * Escapes an attribute value for a DN string (RFC 4514 section 2.4): `"+,;<>\` everywhere, NUL as `\00`, a
 * leading `#` or space and a trailing space. Any username or group name then yields a valid DN.
 */
export function escapeDnValue(value: string): string {
  let out = '';
  let last = 0;
  const lastIndex = value.length - 1;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    let escaped: string | undefined;
    if (c === 0x22 || c === 0x2b || c === 0x2c || c === 0x3b || c === 0x3c || c === 0x3e || c === 0x5c) {
      escaped = '\\' + value[i];
    } else if (c === 0) {
      escaped = '\\00';
    } else if ((i === 0 && (c === 0x20 || c === 0x23)) || (i === lastIndex && c === 0x20)) {
      escaped = '\\' + value[i];
    }
    if (escaped !== undefined) {
      out += value.slice(last, i) + escaped;
      last = i + 1;
    }
  }
  return last === 0 ? value : out + value.slice(last);
}

function formatAva(ava: Ava): string {
  return ava.type + '=' + (ava.ber !== undefined ? '#' + ava.ber.toString('hex') : escapeDnValue(ava.value));
}

/** Formats a parsed DN as a string (types as given, values minimally escaped). */
export function formatDn(dn: readonly (readonly Ava[])[]): string {
  return dn.map((rdn) => rdn.map(formatAva).join('+')).join(',');
}

/** Canonical text of each RDN: lower-cased types and values, AVAs of a multi-valued RDN sorted. */
export function normalizedRdns(dn: readonly (readonly Ava[])[]): string[] {
  return dn.map((rdn) => {
    const parts = rdn.map((ava) => ava.type.toLowerCase() + '=' + escapeDnValue(ava.value.toLowerCase()));
    if (parts.length > 1) parts.sort();
    return parts.join('+');
  });
}

/**
 * A DN's canonical form for equality and map keys: `CN = Alice , OU=Users` and `cn=alice,ou=users` both give
 * `cn=alice,ou=users`. Throws ProtocolError for an invalid DN string.
 */
export function normalizeDn(dn: string | Dn): string {
  return normalizedRdns(typeof dn === 'string' ? parseDn(dn) : dn).join(',');
}

function parsedOrNull(dn: string | Dn): Dn | null {
  return typeof dn === 'string' ? tryParseDn(dn) : dn;
}

function hasSuffix(rdns: string[], base: string[]): boolean {
  const offset = rdns.length - base.length;
  if (offset < 0) return false;
  for (let i = 0; i < base.length; i++) if (rdns[offset + i] !== base[i]) return false;
  return true;
}

/**
 * True when `dn` is `base` or lies below it, comparing normalized RDNs (so escaped commas and spacing cannot
 * confuse it). An invalid DN string is never a descendant. For many checks against one base, parse once.
 */
export function isDescendantOrSelf(dn: string | Dn, base: string | Dn): boolean {
  const entry = parsedOrNull(dn);
  const root = parsedOrNull(base);
  if (entry === null || root === null) return false;
  return hasSuffix(normalizedRdns(entry), normalizedRdns(root));
}

/** True when `dn` is exactly one level below `base` (single-level scope). */
export function isDirectChild(dn: string | Dn, base: string | Dn): boolean {
  const entry = parsedOrNull(dn);
  const root = parsedOrNull(base);
  if (entry === null || root === null || entry.length !== root.length + 1) return false;
  return hasSuffix(normalizedRdns(entry), normalizedRdns(root));
}

/** The parent DN as a string (`""` below a one-RDN DN), or null for the root DSE. Throws for an invalid DN. */
export function parentDn(dn: string | Dn): string | null {
  const parsed = typeof dn === 'string' ? parseDn(dn) : dn;
  if (parsed.length === 0) return null;
  return formatDn(parsed.slice(1));
}

/**
 * Without `type`: the value of the first AVA of the first RDN. With `type`: the value of the first AVA of that
 * type (case-insensitive) in any RDN, scanning from the left, as authentik reads the username from a bind DN.
 * Undefined when there is none. Throws ProtocolError for an invalid DN string.
 */
export function firstRdnValue(dn: string | Dn, type?: string): string | undefined {
  const parsed = typeof dn === 'string' ? parseDn(dn) : dn;
  if (type === undefined) return parsed[0]?.[0]?.value;
  const wanted = type.toLowerCase();
  for (const rdn of parsed) {
    for (const ava of rdn) if (ava.type.toLowerCase() === wanted) return ava.value;
  }
  return undefined;
}
