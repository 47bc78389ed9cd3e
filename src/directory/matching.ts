/**
 * Value normalization per matching kind (RFC 4517 rules, simplified): the same function builds index keys and
 * normalizes assertion values, so an index lookup and a scan always agree.
 *
 * - string / oid / boolean: caseIgnoreMatch: lower case, leading and trailing spaces dropped, inner runs of
 *   spaces collapsed to one.
 * - dn: distinguishedNameMatch: the canonical DN (dn.ts normalizeDn); invalid DN -> null.
 * - integer: integerMatch: canonical decimal; not an integer -> null.
 * - time: generalizedTimeMatch: milliseconds since the epoch as decimal text; invalid -> null.
 */
import { tryParseDn, normalizedRdns } from '../protocol/ldap/dn.js';
import type { MatchKind } from './schema.js';

function hasSpaceRun(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x20 && (i === 0 || i === s.length - 1 || s.charCodeAt(i + 1) === 0x20)) return true;
    if (c === 0x09 || c === 0x0a || c === 0x0d) return true;
  }
  return false;
}

/** caseIgnoreMatch preparation (lower case, insignificant spaces removed). */
export function prepCaseIgnore(value: string): string {
  const lower = value.toLowerCase();
  if (!hasSpaceRun(lower)) return lower;
  return lower.replace(/[\t\n\r ]+/g, ' ').trim();
}

/** caseExactMatch preparation (spaces only). */
export function prepCaseExact(value: string): string {
  if (!hasSpaceRun(value)) return value;
  return value.replace(/[\t\n\r ]+/g, ' ').trim();
}

/** For approximate matching: lower case without any white space. */
export function prepApprox(value: string): string {
  return value.toLowerCase().replace(/\s+/g, '');
}

/** Canonical DN for comparisons, or null when the text is not a DN. */
export function normalizeDnValue(value: string): string | null {
  const parsed = tryParseDn(value);
  return parsed === null ? null : normalizedRdns(parsed).join(',');
}

/**
 * Equality key of a DN the outpost built itself (escaped canonically, lower-case types): its lower case, unless
 * it holds escapes, which are re-normalized. Not for DNs from elsewhere (spacing, OIDs as types, `#hex`).
 */
export function builtDnKey(dn: string): string {
  if (dn.indexOf('\\') < 0) return dn.toLowerCase();
  return normalizeDnValue(dn) ?? dn.toLowerCase();
}

const INTEGER = /^[+-]?[0-9]+$/;

/** Canonical decimal of an integer string (`+007` -> `7`, `-0` -> `0`), or null. */
export function canonicalInteger(value: string): string | null {
  const text = value.trim();
  if (!INTEGER.test(text)) return null;
  const first = text.charCodeAt(0);
  // Already canonical: keep the very string (index keys then share it with the value).
  if (first !== 0x2b && first !== 0x2d && (first !== 0x30 || text.length === 1)) return text;
  if (first === 0x2d && text.charCodeAt(1) !== 0x30) return text;
  let negative = text.charCodeAt(0) === 0x2d;
  let i = text.charCodeAt(0) === 0x2d || text.charCodeAt(0) === 0x2b ? 1 : 0;
  while (i < text.length - 1 && text.charCodeAt(i) === 0x30) i++;
  const digits = text.slice(i);
  if (digits === '0') negative = false;
  return negative ? '-' + digits : digits;
}

/** Compares two canonical integers: negative, zero or positive. */
export function compareIntegers(a: string, b: string): number {
  const negA = a.startsWith('-');
  const negB = b.startsWith('-');
  if (negA !== negB) return negA ? -1 : 1;
  const da = negA ? a.slice(1) : a;
  const db = negB ? b.slice(1) : b;
  const magnitude = da.length !== db.length ? da.length - db.length : da < db ? -1 : da > db ? 1 : 0;
  return negA ? -magnitude : magnitude;
}

const GENERALIZED_TIME = /^([0-9]{4})([0-9]{2})([0-9]{2})([0-9]{2})(?:([0-9]{2})(?:([0-9]{2}))?)?(?:[.,]([0-9]+))?(Z|[+-][0-9]{2}(?:[0-9]{2})?)$/;

/** Milliseconds since the epoch of an RFC 4517 GeneralizedTime, or null. */
export function parseGeneralizedTime(value: string): number | null {
  const m = GENERALIZED_TIME.exec(value.trim());
  if (m === null) return null;
  const [, y, mo, d, h, mi, s, fraction, zone] = m;
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = mi === undefined ? 0 : Number(mi);
  const second = s === undefined ? 0 : Number(s);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return null;
  let ms = Date.UTC(Number(y), month - 1, day, hour, minute, second);
  if (fraction !== undefined) {
    // The fraction applies to the last unit given (RFC 4517 3.3.13).
    const unit = s !== undefined ? 1000 : mi !== undefined ? 60_000 : 3_600_000;
    ms += Math.floor(Number('0.' + fraction) * unit);
  }
  if (zone !== undefined && zone !== 'Z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const offset = Number(zone.slice(1, 3)) * 60 + (zone.length > 3 ? Number(zone.slice(3, 5)) : 0);
    ms -= sign * offset * 60_000;
  }
  return Number.isFinite(ms) ? ms : null;
}

/** Equality key of a value (or assertion) under a matching kind; null when it is invalid for the syntax. */
export function equalityKey(kind: MatchKind, value: string): string | null {
  switch (kind) {
    case 'dn':
      return normalizeDnValue(value);
    case 'integer':
      return canonicalInteger(value);
    case 'time': {
      const ms = parseGeneralizedTime(value);
      return ms === null ? null : String(ms);
    }
    default:
      return prepCaseIgnore(value);
  }
}

/**
 * Ordering comparison of an attribute value with a (valid) assertion under a kind: negative, zero, positive;
 * NaN when the value is not comparable (invalid for the syntax) or the kind has no ordering (dn).
 */
export function compareForOrdering(kind: MatchKind, value: string, assertionKey: string): number {
  switch (kind) {
    case 'integer': {
      const v = canonicalInteger(value);
      return v === null ? NaN : compareIntegers(v, assertionKey);
    }
    case 'time': {
      const v = parseGeneralizedTime(value);
      return v === null ? NaN : v - Number(assertionKey);
    }
    case 'dn':
      return NaN;
    default: {
      const v = prepCaseIgnore(value);
      return v < assertionKey ? -1 : v > assertionKey ? 1 : 0;
    }
  }
}
