/**
 * Compiles an LDAP filter (RFC 4511 4.5.1.7) once per request into a closure over a MatchContext, plus a plan:
 * the candidate ids an index can give (or null: scan the scope). Evaluation is three-valued: an attribute the
 * server does not recognise, an assertion value invalid for the attribute's syntax or an unknown matching rule
 * gives Undefined, and NOT Undefined stays Undefined; only entries for which the filter is TRUE are returned.
 *
 * Matching follows the attribute's kind (schema.ts): DNs compare normalized, integers numerically, timestamps as
 * instants, everything else case-insensitively. Substring matching is lenient: it works on any attribute as a
 * case-insensitive string match (DN attributes too, which RFC 4517 gives no substring rule).
 *
 * Extensible match: LDAP_MATCHING_RULE_IN_CHAIN (1.2.840.113556.1.4.1941) on member / memberOf (transitive
 * membership, answered by the context), caseIgnore(IA5)Match, caseExact(IA5)Match, octetStringMatch,
 * distinguishedNameMatch, integerMatch, generalizedTimeMatch, objectIdentifierMatch, booleanMatch and AD's
 * bitwise AND / OR rules (1.2.840.113556.1.4.803 / .804); `:dn:` also matches the entry's RDN values.
 */
import { assertionText, type AssertionValue, type Filter, type ExtensibleMatchFilter } from '../protocol/ldap/filter.js';
import { tryParseDn } from '../protocol/ldap/dn.js';
import type { MatchKind } from './schema.js';
import { EMPTY_SET, intersect, union, type IdSet } from './id-set.js';
import {
  canonicalInteger,
  compareForOrdering,
  equalityKey,
  normalizeDnValue,
  parseGeneralizedTime,
  prepApprox,
  prepCaseExact,
  prepCaseIgnore,
} from './matching.js';

export const FALSE = 0;
export const TRUE = 1;
export const UNDEFINED = 2;
export type Tri = typeof FALSE | typeof TRUE | typeof UNDEFINED;

/** An attribute the context recognises. */
export interface AttrRef {
  readonly id: number;
  /** Lower-case canonical name. */
  readonly key: string;
  readonly match: MatchKind;
  /** Equality key of a stored value, when the context knows a faster way than equalityKey(match, value). */
  readonly valueKey?: (value: string) => string | null;
}

/** An attribute's values: a single value is stored as the string itself (saves an array per value). */
export type ValueSlot = string | readonly string[];

/** The values of a slot as an array. */
export function slotValues(slot: ValueSlot): readonly string[] {
  return typeof slot === 'string' ? [slot] : slot;
}

/** What compiled filters read. Implemented by the directory snapshot and its views, and for single entries. */
export interface MatchContext {
  /** The attribute a description names (name, alias or OID, any case, options ignored); undefined if unknown. */
  attribute(description: string): AttrRef | undefined;
  /** Values of an attribute of an entry; undefined or empty when it has none. */
  values(entry: number, attr: AttrRef): ValueSlot | undefined;
  /** Every attribute that has values in the entry (extensible match without a type). */
  attributesOf(entry: number): Iterable<AttrRef>;
  entryDn(entry: number): string;
  /**
   * Ids that may have a value with this equality key (a superset: candidates are checked against their
   * values); undefined when the attribute is not indexed.
   */
  equalityIndex(attr: AttrRef, key: string): IdSet | undefined;
  /** True when equalityIndex gives exactly the matching ids for this attribute (no re-check needed). */
  indexIsExact?(attr: AttrRef): boolean;
  /** In-chain (transitive) membership for a DN key; undefined when the attribute is not chainable. */
  inChain(attr: AttrRef, dnKey: string): IdSet | undefined;
  /**
   * Optional: the equality key of a DN-valued assertion (as normalizeDnValue), answered without parsing when
   * the text already is a key of the directory (clients send back the DNs they were given).
   */
  dnKeyOf?(dn: string): string | null;
}

export interface CompiledFilter {
  test(entry: number): Tri;
  /** Ids that can match (a superset of the matches), or null when the whole scope must be scanned. */
  readonly plan: IdSet | null;
  /** Set when the outcome does not depend on the entry. */
  readonly constant?: Tri;
}

export const IN_CHAIN_RULE = '1.2.840.113556.1.4.1941';
const BIT_AND_RULE = '1.2.840.113556.1.4.803';
const BIT_OR_RULE = '1.2.840.113556.1.4.804';

const always = (value: Tri): CompiledFilter => ({
  test: () => value,
  plan: value === TRUE ? null : EMPTY_SET,
  constant: value,
});
const ALWAYS_TRUE = always(TRUE);
const ALWAYS_FALSE = always(FALSE);
const ALWAYS_UNDEFINED = always(UNDEFINED);

export function compileFilter(filter: Filter, ctx: MatchContext): CompiledFilter {
  switch (filter.kind) {
    case 'and':
      return compileAnd(filter.filters.map((f) => compileFilter(f, ctx)));
    case 'or':
      return compileOr(filter.filters.map((f) => compileFilter(f, ctx)));
    case 'not':
      return compileNot(compileFilter(filter.filter, ctx));
    case 'equalityMatch':
      return compileEquality(ctx, filter.type, filter.value);
    case 'substrings':
      return compileSubstrings(ctx, filter.type, filter.initial, filter.any, filter.final);
    case 'greaterOrEqual':
    case 'lessOrEqual':
      return compileOrdering(ctx, filter.type, filter.value, filter.kind === 'greaterOrEqual');
    case 'present':
      return compilePresent(ctx, filter.type);
    case 'approxMatch':
      return compileApprox(ctx, filter.type, filter.value);
    case 'extensibleMatch':
      return compileExtensible(ctx, filter);
  }
}

function compileAnd(children: CompiledFilter[]): CompiledFilter {
  if (children.some((c) => c.constant === FALSE)) return ALWAYS_FALSE;
  const live = children.filter((c) => c.constant !== TRUE);
  if (live.length === 0) return ALWAYS_TRUE; // also the RFC 4526 absolute true (&)
  if (live.length === 1) return live[0]!;
  const plans = live.map((c) => c.plan).filter((p): p is IdSet => p !== null);
  const tests = live.map((c) => c.test);
  return {
    plan: plans.length === 0 ? null : intersect(plans),
    test(entry) {
      let result: Tri = TRUE;
      for (let i = 0; i < tests.length; i++) {
        const r = tests[i]!(entry);
        if (r === FALSE) return FALSE;
        if (r === UNDEFINED) result = UNDEFINED;
      }
      return result;
    },
  };
}

function compileOr(children: CompiledFilter[]): CompiledFilter {
  if (children.some((c) => c.constant === TRUE)) return ALWAYS_TRUE;
  const live = children.filter((c) => c.constant !== FALSE);
  if (live.length === 0) return ALWAYS_FALSE; // also the RFC 4526 absolute false (|)
  const undefinedConstant = live.some((c) => c.constant === UNDEFINED);
  const varying = live.filter((c) => c.constant === undefined);
  if (varying.length === 0) return ALWAYS_UNDEFINED;
  if (varying.length === 1 && !undefinedConstant) return varying[0]!;
  const plans = varying.map((c) => c.plan);
  const tests = varying.map((c) => c.test);
  return {
    plan: plans.every((p): p is IdSet => p !== null) ? union(plans) : null,
    test(entry) {
      let result: Tri = undefinedConstant ? UNDEFINED : FALSE;
      for (let i = 0; i < tests.length; i++) {
        const r = tests[i]!(entry);
        if (r === TRUE) return TRUE;
        if (r === UNDEFINED) result = UNDEFINED;
      }
      return result;
    },
  };
}

function compileNot(child: CompiledFilter): CompiledFilter {
  if (child.constant === TRUE) return ALWAYS_FALSE;
  if (child.constant === FALSE) return ALWAYS_TRUE;
  if (child.constant === UNDEFINED) return ALWAYS_UNDEFINED;
  const test = child.test;
  return {
    plan: null,
    test(entry) {
      const r = test(entry);
      return r === TRUE ? FALSE : r === FALSE ? TRUE : UNDEFINED;
    },
  };
}

function slotMatches(slot: ValueSlot | undefined, predicate: (value: string) => boolean): boolean {
  if (slot === undefined) return false;
  if (typeof slot === 'string') return predicate(slot);
  for (let i = 0; i < slot.length; i++) if (predicate(slot[i]!)) return true;
  return false;
}

/** Any value of the attribute satisfies the predicate. */
function anyValue(ctx: MatchContext, attr: AttrRef, predicate: (value: string) => boolean, plan: IdSet | null = null): CompiledFilter {
  if (plan !== null && plan.size === 0) return ALWAYS_FALSE;
  return {
    plan,
    test: (entry) => (slotMatches(ctx.values(entry, attr), predicate) ? TRUE : FALSE),
  };
}

function fromSet(set: IdSet): CompiledFilter {
  if (set.size === 0) return ALWAYS_FALSE;
  return { plan: set, test: (entry) => (set.has(entry) ? TRUE : FALSE) };
}

function compileEquality(ctx: MatchContext, type: string, value: AssertionValue): CompiledFilter {
  const attr = ctx.attribute(type);
  if (attr === undefined) return ALWAYS_UNDEFINED;
  const text = assertionText(value);
  const key = attr.match === 'dn' && ctx.dnKeyOf !== undefined ? ctx.dnKeyOf(text) : equalityKey(attr.match, text);
  if (key === null) return ALWAYS_UNDEFINED;
  const match = attr.match;
  const valueKey = attr.valueKey ?? ((v: string) => equalityKey(match, v));
  const indexed = ctx.equalityIndex(attr, key);
  if (indexed !== undefined && ctx.indexIsExact?.(attr) === true) return fromSet(indexed);
  // The index narrows the candidates; each is still checked against its values.
  return anyValue(ctx, attr, (v) => valueKey(v) === key, indexed ?? null);
}

function compileSubstrings(
  ctx: MatchContext,
  type: string,
  initial: AssertionValue | undefined,
  any: readonly AssertionValue[],
  final: AssertionValue | undefined,
): CompiledFilter {
  const attr = ctx.attribute(type);
  if (attr === undefined) return ALWAYS_UNDEFINED;
  const head = initial === undefined ? '' : assertionText(initial).toLowerCase();
  const middle = any.map((a) => assertionText(a).toLowerCase());
  const tail = final === undefined ? '' : assertionText(final).toLowerCase();
  return anyValue(ctx, attr, (v) => {
    const s = v.toLowerCase();
    if (!s.startsWith(head)) return false;
    let pos = head.length;
    for (const part of middle) {
      const at = s.indexOf(part, pos);
      if (at < 0) return false;
      pos = at + part.length;
    }
    return s.length - tail.length >= pos && s.endsWith(tail);
  });
}

function compileOrdering(ctx: MatchContext, type: string, value: AssertionValue, greater: boolean): CompiledFilter {
  const attr = ctx.attribute(type);
  if (attr === undefined || attr.match === 'dn') return ALWAYS_UNDEFINED;
  const key = equalityKey(attr.match, assertionText(value));
  if (key === null) return ALWAYS_UNDEFINED;
  const match = attr.match;
  return anyValue(ctx, attr, (v) => {
    const c = compareForOrdering(match, v, key);
    return greater ? c >= 0 : c <= 0; // NaN compares false
  });
}

function compilePresent(ctx: MatchContext, type: string): CompiledFilter {
  const attr = ctx.attribute(type);
  if (attr === undefined) return ALWAYS_FALSE;
  if (attr.key === 'objectclass') return ALWAYS_TRUE;
  return {
    plan: null,
    test(entry) {
      const slot = ctx.values(entry, attr);
      return slot !== undefined && (typeof slot === 'string' || slot.length > 0) ? TRUE : FALSE;
    },
  };
}

function compileApprox(ctx: MatchContext, type: string, value: AssertionValue): CompiledFilter {
  const attr = ctx.attribute(type);
  if (attr === undefined) return ALWAYS_UNDEFINED;
  if (attr.match === 'dn' || attr.match === 'integer' || attr.match === 'time') return compileEquality(ctx, type, value);
  const key = prepApprox(assertionText(value));
  return anyValue(ctx, attr, (v) => prepApprox(v) === key);
}

type ValueMatcher = (value: string) => boolean;

/** A matcher for a matching rule and assertion; null: invalid assertion; undefined: unknown rule. */
function ruleMatcher(rule: string, assertion: string): ValueMatcher | null | undefined {
  switch (rule) {
    case '2.5.13.2':
    case 'caseignorematch':
    case '1.3.6.1.4.1.1466.109.114.2':
    case 'caseignoreia5match':
    case '2.5.13.0':
    case 'objectidentifiermatch':
    case '2.5.13.13':
    case 'booleanmatch': {
      const key = prepCaseIgnore(assertion);
      return (v) => prepCaseIgnore(v) === key;
    }
    case '2.5.13.5':
    case 'caseexactmatch':
    case '1.3.6.1.4.1.1466.109.114.1':
    case 'caseexactia5match': {
      const key = prepCaseExact(assertion);
      return (v) => prepCaseExact(v) === key;
    }
    case '2.5.13.17':
    case 'octetstringmatch':
      return (v) => v === assertion;
    case '2.5.13.1':
    case 'distinguishednamematch': {
      const key = normalizeDnValue(assertion);
      return key === null ? null : (v) => normalizeDnValue(v) === key;
    }
    case '2.5.13.14':
    case 'integermatch': {
      const key = canonicalInteger(assertion);
      return key === null ? null : (v) => canonicalInteger(v) === key;
    }
    case '2.5.13.27':
    case 'generalizedtimematch': {
      const key = parseGeneralizedTime(assertion);
      return key === null ? null : (v) => parseGeneralizedTime(v) === key;
    }
    case BIT_AND_RULE:
    case BIT_OR_RULE: {
      const mask = canonicalInteger(assertion);
      if (mask === null) return null;
      const bits = BigInt(mask);
      const and = rule === BIT_AND_RULE;
      return (v) => {
        const n = canonicalInteger(v);
        if (n === null) return false;
        const masked = BigInt.asUintN(64, BigInt(n)) & BigInt.asUintN(64, bits);
        return and ? masked === BigInt.asUintN(64, bits) : masked !== 0n;
      };
    }
    default:
      return undefined;
  }
}

function equalityMatcher(kind: MatchKind, assertion: string): ValueMatcher | null {
  const key = equalityKey(kind, assertion);
  return key === null ? null : (v) => equalityKey(kind, v) === key;
}

function compileExtensible(ctx: MatchContext, filter: ExtensibleMatchFilter): CompiledFilter {
  const assertion = assertionText(filter.matchValue);
  const rule = filter.matchingRule?.toLowerCase();
  const attr = filter.type === undefined ? undefined : ctx.attribute(filter.type);
  if (filter.type !== undefined && attr === undefined) return ALWAYS_UNDEFINED;

  if (rule === IN_CHAIN_RULE) {
    if (attr === undefined || attr.match !== 'dn') return ALWAYS_UNDEFINED;
    const key = normalizeDnValue(assertion);
    if (key === null) return ALWAYS_UNDEFINED;
    const chained = ctx.inChain(attr, key);
    if (chained !== undefined) return fromSet(chained);
    // Not a membership attribute: in-chain over a plain DN attribute is its equality.
    return compileEquality(ctx, filter.type!, assertion);
  }

  let matcher: ValueMatcher | null | undefined;
  if (rule === undefined) {
    // `(attr:=v)` and `(attr:dn:=v)`: the attribute's own equality rule.
    if (!filter.dnAttributes) return compileEquality(ctx, filter.type!, filter.matchValue);
    matcher = equalityMatcher(attr!.match, assertion);
  } else {
    matcher = ruleMatcher(rule, assertion);
  }
  if (matcher === undefined || matcher === null) return ALWAYS_UNDEFINED;
  const matches = matcher;
  const dnAttributes = filter.dnAttributes;
  return {
    plan: null,
    test(entry) {
      if (attr !== undefined) {
        if (slotMatches(ctx.values(entry, attr), matches)) return TRUE;
      } else {
        for (const a of ctx.attributesOf(entry)) if (slotMatches(ctx.values(entry, a), matches)) return TRUE;
      }
      if (dnAttributes) {
        const dn = tryParseDn(ctx.entryDn(entry));
        if (dn !== null) {
          for (const rdn of dn) {
            for (const ava of rdn) {
              if (attr !== undefined && ctx.attribute(ava.type)?.id !== attr.id) continue;
              if (matches(ava.value)) return TRUE;
            }
          }
        }
      }
      return FALSE;
    },
  };
}
