import { Buffer, isUtf8 } from 'node:buffer';
import { ProtocolError } from '../../errors.js';
import { BerReader, Tag, hex2 } from '../ber/reader.js';
import { BerWriter } from '../ber/writer.js';
import { LDAP_DECODE_LIMITS } from '../../config/limits.js';
import type { FilterLimits } from '../limits.js';

/**
 * An assertion value: a string when its bytes are valid UTF-8 (nearly always), otherwise the raw bytes as a
 * Buffer. Either way the value is exact: encoding a string writes its UTF-8 bytes, encoding a Buffer writes it
 * verbatim. Evaluators compare strings; a Buffer value can only match binary attribute values.
 */
export type AssertionValue = string | Buffer;

/**
 * RFC 4511 section 4.5.1.7 Filter. `kind` is the ASN.1 alternative name; `type` is the attribute description.
 * Substrings are flattened into initial / any / final. No evaluation here: the search engine does that.
 */
export type Filter =
  | { kind: 'and'; filters: Filter[] }
  | { kind: 'or'; filters: Filter[] }
  | { kind: 'not'; filter: Filter }
  | { kind: 'equalityMatch'; type: string; value: AssertionValue }
  | { kind: 'substrings'; type: string; initial?: AssertionValue; any: AssertionValue[]; final?: AssertionValue }
  | { kind: 'greaterOrEqual'; type: string; value: AssertionValue }
  | { kind: 'lessOrEqual'; type: string; value: AssertionValue }
  | { kind: 'present'; type: string }
  | { kind: 'approxMatch'; type: string; value: AssertionValue }
  | ExtensibleMatchFilter;

export interface ExtensibleMatchFilter {
  kind: 'extensibleMatch';
  matchingRule?: string;
  type?: string;
  matchValue: AssertionValue;
  dnAttributes: boolean;
}

type AvaKind = 'equalityMatch' | 'greaterOrEqual' | 'lessOrEqual' | 'approxMatch';

const FilterTag = Object.freeze({
  and: 0xa0,
  or: 0xa1,
  not: 0xa2,
  equalityMatch: 0xa3,
  substrings: 0xa4,
  greaterOrEqual: 0xa5,
  lessOrEqual: 0xa6,
  present: 0x87,
  approxMatch: 0xa8,
  extensibleMatch: 0xa9,
});

const avaKindByTag = new Map<number, AvaKind>([
  [FilterTag.equalityMatch, 'equalityMatch'],
  [FilterTag.greaterOrEqual, 'greaterOrEqual'],
  [FilterTag.lessOrEqual, 'lessOrEqual'],
  [FilterTag.approxMatch, 'approxMatch'],
]);

/** Bytes of an assertion value as they go on the wire. */
export function assertionBytes(value: AssertionValue): Buffer {
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
}

/** Text of an assertion value: a string as is, bytes decoded as UTF-8 (lossy only for invalid UTF-8). */
export function assertionText(value: AssertionValue): string {
  return typeof value === 'string' ? value : value.toString('utf8');
}

function toAssertionValue(bytes: Buffer): AssertionValue {
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i]! >= 0x80) return isUtf8(bytes) ? bytes.toString('utf8') : bytes;
  }
  return bytes.toString('latin1');
}

// ---------------------------------------------------------------------------------------------------------
// BER

interface Budget {
  nodes: number;
}

/** Decodes one Filter at the reader's position. Depth counts filter levels (a lone item is 1). */
export function readFilter(r: BerReader, limits: FilterLimits = LDAP_DECODE_LIMITS): Filter {
  return readNode(r, limits, { nodes: 0 }, 1);
}

function readNode(r: BerReader, limits: FilterLimits, budget: Budget, depth: number): Filter {
  if (++budget.nodes > limits.maxFilterNodes) throw new ProtocolError(`LDAP: filter has more than ${limits.maxFilterNodes} nodes`);
  if (depth > limits.maxFilterDepth) throw new ProtocolError(`LDAP: filter nested deeper than ${limits.maxFilterDepth}`);
  const tag = r.peekTag();
  switch (tag) {
    case FilterTag.and:
    case FilterTag.or: {
      r.enter(tag, 'a filter set');
      const filters: Filter[] = [];
      // Empty sets are RFC 4526 absolute true / false.
      while (!r.atEnd()) filters.push(readNode(r, limits, budget, depth + 1));
      r.leave();
      return { kind: tag === FilterTag.and ? 'and' : 'or', filters };
    }
    case FilterTag.not: {
      r.enter(tag, 'a not filter');
      const filter = readNode(r, limits, budget, depth + 1);
      r.leave();
      return { kind: 'not', filter };
    }
    case FilterTag.equalityMatch:
    case FilterTag.greaterOrEqual:
    case FilterTag.lessOrEqual:
    case FilterTag.approxMatch: {
      r.enter(tag, 'an attribute value assertion');
      const type = r.readString(Tag.octetString, limits.maxValueBytes, 'attributeDesc');
      const value = toAssertionValue(r.readOctets(Tag.octetString, limits.maxValueBytes, 'assertionValue'));
      r.leave();
      return { kind: avaKindByTag.get(tag)!, type, value };
    }
    case FilterTag.substrings:
      return readSubstrings(r, limits);
    case FilterTag.present:
      return { kind: 'present', type: r.readString(FilterTag.present, limits.maxValueBytes, 'present') };
    case FilterTag.extensibleMatch:
      return readExtensible(r, limits);
    case -1:
      throw new ProtocolError('LDAP: missing filter');
    default:
      throw new ProtocolError(`LDAP: unknown filter choice 0x${hex2(tag)}`);
  }
}

function readSubstrings(r: BerReader, limits: FilterLimits): Filter {
  r.enter(FilterTag.substrings, 'a substrings filter');
  const type = r.readString(Tag.octetString, limits.maxValueBytes, 'substrings type');
  r.enter(Tag.sequence, 'substrings');
  let initial: AssertionValue | undefined;
  let final: AssertionValue | undefined;
  const any: AssertionValue[] = [];
  let count = 0;
  while (!r.atEnd()) {
    const tag = r.peekTag();
    if (tag !== 0x80 && tag !== 0x81 && tag !== 0x82) throw new ProtocolError(`LDAP: unknown substring choice 0x${hex2(tag)}`);
    const bytes = r.readOctets(tag, limits.maxValueBytes, 'substring');
    if (bytes.length === 0) throw new ProtocolError('LDAP: empty substring');
    if (final !== undefined) throw new ProtocolError('LDAP: substring after final');
    const value = toAssertionValue(bytes);
    if (tag === 0x80) {
      if (count !== 0) throw new ProtocolError('LDAP: initial substring is not first');
      initial = value;
    } else if (tag === 0x81) {
      any.push(value);
    } else {
      final = value;
    }
    count++;
  }
  if (count === 0) throw new ProtocolError('LDAP: substrings filter without substrings');
  r.leave();
  r.leave();
  const filter: Filter = { kind: 'substrings', type, any };
  if (initial !== undefined) filter.initial = initial;
  if (final !== undefined) filter.final = final;
  return filter;
}

function readExtensible(r: BerReader, limits: FilterLimits): Filter {
  r.enter(FilterTag.extensibleMatch, 'an extensible match filter');
  let matchingRule: string | undefined;
  let type: string | undefined;
  if (r.peekTag() === 0x81) matchingRule = r.readString(0x81, limits.maxValueBytes, 'matchingRule');
  if (r.peekTag() === 0x82) type = r.readString(0x82, limits.maxValueBytes, 'type');
  const matchValue = toAssertionValue(r.readOctets(0x83, limits.maxValueBytes, 'matchValue'));
  let dnAttributes = false;
  if (r.peekTag() === 0x84) dnAttributes = r.readBoolean(0x84, 'dnAttributes');
  r.leave();
  if (matchingRule === undefined && type === undefined) {
    throw new ProtocolError('LDAP: extensible match needs a matching rule or a type');
  }
  const filter: ExtensibleMatchFilter = { kind: 'extensibleMatch', matchValue, dnAttributes };
  if (matchingRule !== undefined) filter.matchingRule = matchingRule;
  if (type !== undefined) filter.type = type;
  return filter;
}

/** Decodes a standalone BER-encoded Filter. */
export function decodeFilter(bytes: Buffer, limits: FilterLimits & { maxBerDepth?: number } = LDAP_DECODE_LIMITS): Filter {
  const r = new BerReader(bytes, 0, bytes.length, limits.maxBerDepth ?? LDAP_DECODE_LIMITS.maxBerDepth);
  const filter = readFilter(r, limits);
  if (!r.atEnd()) throw new ProtocolError('LDAP: data after the filter');
  return filter;
}

export function writeFilter(w: BerWriter, filter: Filter): void {
  switch (filter.kind) {
    case 'and':
    case 'or':
      w.startSequence(FilterTag[filter.kind]);
      for (const child of filter.filters) writeFilter(w, child);
      w.endSequence();
      return;
    case 'not':
      w.startSequence(FilterTag.not);
      writeFilter(w, filter.filter);
      w.endSequence();
      return;
    case 'equalityMatch':
    case 'greaterOrEqual':
    case 'lessOrEqual':
    case 'approxMatch':
      w.startSequence(FilterTag[filter.kind]);
      w.writeOctetString(filter.type);
      w.writeOctetString(filter.value);
      w.endSequence();
      return;
    case 'substrings':
      w.startSequence(FilterTag.substrings);
      w.writeOctetString(filter.type);
      w.startSequence(Tag.sequence);
      if (filter.initial !== undefined) w.writeOctetString(filter.initial, 0x80);
      for (const part of filter.any) w.writeOctetString(part, 0x81);
      if (filter.final !== undefined) w.writeOctetString(filter.final, 0x82);
      w.endSequence();
      w.endSequence();
      return;
    case 'present':
      w.writeOctetString(filter.type, FilterTag.present);
      return;
    case 'extensibleMatch':
      w.startSequence(FilterTag.extensibleMatch);
      if (filter.matchingRule !== undefined) w.writeOctetString(filter.matchingRule, 0x81);
      if (filter.type !== undefined) w.writeOctetString(filter.type, 0x82);
      w.writeOctetString(filter.matchValue, 0x83);
      // dnAttributes is BOOLEAN DEFAULT FALSE: omitted when false.
      if (filter.dnAttributes) w.writeBoolean(true, 0x84);
      w.endSequence();
      return;
  }
}

export function encodeFilter(filter: Filter): Buffer {
  const w = new BerWriter(64);
  writeFilter(w, filter);
  return w.toBuffer();
}

// ---------------------------------------------------------------------------------------------------------
// RFC 4515 strings

const HEX = '0123456789abcdef';
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x41 && code <= 0x46) return code - 0x37;
  if (code >= 0x61 && code <= 0x66) return code - 0x57;
  return -1;
}

/** Characters that end an attribute description in a filter item. */
function isAttributeChar(code: number): boolean {
  return (
    code > 0x20 &&
    code !== 0x28 && // (
    code !== 0x29 && // )
    code !== 0x3d && // =
    code !== 0x3c && // <
    code !== 0x3e && // >
    code !== 0x7e && // ~
    code !== 0x3a && // :
    code !== 0x2a && // *
    code !== 0x5c && // \
    code !== 0x7f
  );
}

function isOidChar(code: number): boolean {
  return (
    (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a) || code === 0x2e || code === 0x2d
  );
}

function isSpace(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d;
}

class FilterParser {
  #i = 0;
  #nodes = 0;
  readonly #s: string;
  readonly #limits: FilterLimits;

  constructor(
    s: string,
    limits: FilterLimits,
  ) {
    this.#s = s;
    this.#limits = limits;
  }

  fail(message: string): never {
    throw new ProtocolError(`filter: ${message} at offset ${this.#i}`);
  }

  parse(): Filter {
    this.#skipSpaces();
    const filter = this.#filter(1);
    this.#skipSpaces();
    if (this.#i !== this.#s.length) this.fail('unexpected characters after the filter');
    return filter;
  }

  #skipSpaces(): void {
    while (this.#i < this.#s.length && isSpace(this.#s.charCodeAt(this.#i))) this.#i++;
  }

  #expect(char: string): void {
    if (this.#s[this.#i] !== char) this.fail(`expected '${char}'`);
    this.#i++;
  }

  #filter(depth: number): Filter {
    this.#expect('(');
    if (++this.#nodes > this.#limits.maxFilterNodes) this.fail(`more than ${this.#limits.maxFilterNodes} nodes`);
    if (depth > this.#limits.maxFilterDepth) this.fail(`nested deeper than ${this.#limits.maxFilterDepth}`);
    const c = this.#s[this.#i];
    let result: Filter;
    if (c === '&' || c === '|') {
      this.#i++;
      const filters: Filter[] = [];
      this.#skipSpaces();
      while (this.#s[this.#i] === '(') {
        filters.push(this.#filter(depth + 1));
        this.#skipSpaces();
      }
      result = { kind: c === '&' ? 'and' : 'or', filters };
    } else if (c === '!') {
      this.#i++;
      this.#skipSpaces();
      result = { kind: 'not', filter: this.#filter(depth + 1) };
      this.#skipSpaces();
    } else {
      result = this.#item();
    }
    this.#expect(')');
    return result;
  }

  #item(): Filter {
    const s = this.#s;
    const start = this.#i;
    while (this.#i < s.length && isAttributeChar(s.charCodeAt(this.#i))) this.#i++;
    const type = s.slice(start, this.#i);
    const c = s[this.#i];
    if (c === ':') return this.#extensible(type);
    if (type === '') this.fail('missing attribute description');
    if (c === '=') {
      this.#i++;
      return this.#equalityOrSubstrings(type);
    }
    let kind: AvaKind;
    if (c === '>' && s[this.#i + 1] === '=') kind = 'greaterOrEqual';
    else if (c === '<' && s[this.#i + 1] === '=') kind = 'lessOrEqual';
    else if (c === '~' && s[this.#i + 1] === '=') kind = 'approxMatch';
    else this.fail('expected a filter type (=, >=, <=, ~=, :=)');
    this.#i += 2;
    return { kind, type, value: this.#singleValue() };
  }

  #extensible(type: string): Filter {
    const s = this.#s;
    this.#i++; // the first ':'
    let dnAttributes = false;
    let matchingRule: string | undefined;
    if (s[this.#i] !== '=') {
      let token = this.#oidToken();
      this.#expect(':');
      if (token.toLowerCase() === 'dn') {
        dnAttributes = true;
        if (s[this.#i] !== '=') {
          token = this.#oidToken();
          this.#expect(':');
          matchingRule = token;
        }
      } else {
        matchingRule = token;
      }
    }
    this.#expect('=');
    if (type === '' && matchingRule === undefined) this.fail('extensible match needs an attribute or a matching rule');
    const filter: ExtensibleMatchFilter = { kind: 'extensibleMatch', matchValue: this.#singleValue(), dnAttributes };
    if (matchingRule !== undefined) filter.matchingRule = matchingRule;
    if (type !== '') filter.type = type;
    return filter;
  }

  #oidToken(): string {
    const start = this.#i;
    while (this.#i < this.#s.length && isOidChar(this.#s.charCodeAt(this.#i))) this.#i++;
    if (this.#i === start) this.fail('expected a matching rule or dn');
    return this.#s.slice(start, this.#i);
  }

  #singleValue(): AssertionValue {
    const parts = this.#values(false);
    return parts[0]!;
  }

  #equalityOrSubstrings(type: string): Filter {
    const parts = this.#values(true);
    if (parts.length === 1) return { kind: 'equalityMatch', type, value: parts[0]! };
    const isEmpty = (v: AssertionValue): boolean => v.length === 0;
    const first = parts[0]!;
    const last = parts[parts.length - 1]!;
    const any = parts.slice(1, -1).filter((p) => !isEmpty(p));
    // "attr=*" (and the degenerate "attr=**") assert presence.
    if (isEmpty(first) && isEmpty(last) && any.length === 0) return { kind: 'present', type };
    const filter: Filter = { kind: 'substrings', type, any };
    if (!isEmpty(first)) filter.initial = first;
    if (!isEmpty(last)) filter.final = last;
    return filter;
  }

  /** Reads an assertion value up to the closing ')', split at unescaped '*' when allowed. */
  #values(allowStars: boolean): AssertionValue[] {
    const s = this.#s;
    const parts: AssertionValue[] = [];
    let chunks: Buffer[] | null = null; // set once the current part has an escape
    let runStart = this.#i;
    let bytes = 0;
    const finishPart = (): void => {
      let part: AssertionValue;
      if (chunks === null) {
        part = s.slice(runStart, this.#i);
        bytes += Buffer.byteLength(part, 'utf8');
      } else {
        if (this.#i > runStart) chunks.push(Buffer.from(s.slice(runStart, this.#i), 'utf8'));
        const joined = Buffer.concat(chunks);
        bytes += joined.length;
        part = isUtf8(joined) ? joined.toString('utf8') : joined;
      }
      if (bytes > this.#limits.maxValueBytes) this.fail(`value longer than ${this.#limits.maxValueBytes} bytes`);
      parts.push(part);
      chunks = null;
    };
    for (;;) {
      if (this.#i >= s.length) this.fail("unterminated value, expected ')'");
      const code = s.charCodeAt(this.#i);
      if (code === 0x29) break; // )
      if (code === 0x2a) {
        if (!allowStars) this.fail("unescaped '*' in a value");
        finishPart();
        this.#i++;
        runStart = this.#i;
        continue;
      }
      if (code === 0x28) this.fail("unescaped '(' in a value");
      if (code === 0) this.fail('NUL in a value');
      if (code !== 0x5c) {
        this.#i++;
        continue;
      }
      // Backslash: RFC 4515 "\XX", or the RFC 2254 form "\*" "\(" "\)" "\\" some clients still send.
      chunks ??= [];
      if (this.#i > runStart) chunks.push(Buffer.from(s.slice(runStart, this.#i), 'utf8'));
      const hi = hexValue(s.charCodeAt(this.#i + 1));
      const lo = hexValue(s.charCodeAt(this.#i + 2));
      if (hi >= 0 && lo >= 0) {
        chunks.push(Buffer.of(hi * 16 + lo));
        this.#i += 3;
      } else {
        const next = s[this.#i + 1];
        if (next !== '*' && next !== '(' && next !== ')' && next !== '\\') this.fail('bad escape, expected two hex digits');
        chunks.push(Buffer.of(next.charCodeAt(0)));
        this.#i += 2;
      }
      if (chunks.length > this.#limits.maxValueBytes) this.fail(`value longer than ${this.#limits.maxValueBytes} bytes`);
      runStart = this.#i;
    }
    finishPart();
    return parts;
  }
}

/**
 * Parses an RFC 4515 filter string. Tolerates whitespace between the components of a list, a missing pair of
 * outer parentheses (as ldapsearch does), and RFC 2254 escapes. Throws ProtocolError on a syntax error.
 */
export function parseFilter(text: string, limits: FilterLimits = LDAP_DECODE_LIMITS): Filter {
  // A lone surrogate has no UTF-8 form, so the value could not go on the wire unchanged.
  if (LONE_SURROGATE.test(text)) throw new ProtocolError('filter: invalid Unicode (lone surrogate)');
  const trimmed = text.trim();
  const source = trimmed.startsWith('(') ? trimmed : `(${trimmed})`;
  return new FilterParser(source, limits).parse();
}

/** Escapes an assertion value for a filter string: `*()\` and NUL always; non-UTF-8 bytes and controls too. */
export function escapeFilterValue(value: AssertionValue): string {
  if (typeof value === 'string') {
    let out = '';
    let last = 0;
    for (let i = 0; i < value.length; i++) {
      const code = value.charCodeAt(i);
      if (code === 0x2a || code === 0x28 || code === 0x29 || code === 0x5c || code === 0) {
        out += value.slice(last, i) + '\\' + hex2(code);
        last = i + 1;
      }
    }
    return last === 0 ? value : out + value.slice(last);
  }
  let out = '';
  for (const byte of value) {
    const plain = byte >= 0x20 && byte < 0x7f && byte !== 0x2a && byte !== 0x28 && byte !== 0x29 && byte !== 0x5c;
    out += plain ? String.fromCharCode(byte) : '\\' + HEX[byte >> 4]! + HEX[byte & 15]!;
  }
  return out;
}

/** Formats a filter as an RFC 4515 string; `parseFilter(formatFilter(f))` gives `f` back. */
export function formatFilter(filter: Filter): string {
  switch (filter.kind) {
    case 'and':
      return `(&${filter.filters.map(formatFilter).join('')})`;
    case 'or':
      return `(|${filter.filters.map(formatFilter).join('')})`;
    case 'not':
      return `(!${formatFilter(filter.filter)})`;
    case 'equalityMatch':
      return `(${filter.type}=${escapeFilterValue(filter.value)})`;
    case 'greaterOrEqual':
      return `(${filter.type}>=${escapeFilterValue(filter.value)})`;
    case 'lessOrEqual':
      return `(${filter.type}<=${escapeFilterValue(filter.value)})`;
    case 'approxMatch':
      return `(${filter.type}~=${escapeFilterValue(filter.value)})`;
    case 'present':
      return `(${filter.type}=*)`;
    case 'substrings': {
      let out = `(${filter.type}=`;
      if (filter.initial !== undefined) out += escapeFilterValue(filter.initial);
      out += '*';
      for (const part of filter.any) out += escapeFilterValue(part) + '*';
      if (filter.final !== undefined) out += escapeFilterValue(filter.final);
      return out + ')';
    }
    case 'extensibleMatch': {
      let out = '(' + (filter.type ?? '');
      if (filter.dnAttributes) out += ':dn';
      if (filter.matchingRule !== undefined) out += ':' + filter.matchingRule;
      return out + ':=' + escapeFilterValue(filter.matchValue) + ')';
    }
  }
}
