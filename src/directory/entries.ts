/**
 * The directory's entries as authentik's LDAP outpost lays them out (reference 3.10), with its bugs fixed:
 *
 *   <base>                          base entry (domain / organization / organizationalUnit by its first RDN)
 *   ou=users,<base>                 container (top, nsContainer, organizationalUnit; ou and cn)
 *   cn=<username>,ou=users,<base>   one per user
 *   ou=groups,<base>                container
 *   cn=<name>,ou=groups,<base>      one per group
 *   ou=virtual-groups,<base>        container
 *   cn=<username>,ou=virtual-groups,<base>   one per user, whose only member is that user
 *
 * Decisions (each differs from the reference on purpose):
 * - The base is the configured base DN normalized (lower-cased, like the reference) and every name is escaped
 *   (RFC 4514), so `a,b+c "d"` yields `cn=a\,b\+c \"d\",ou=users,...`.
 * - Attribute order is fixed: defaults in the order below, then custom attributes sorted by name.
 * - Attributes without values are not sent: no `mail` for a user without email, no `memberOf` without groups.
 *   So `(mail=*)` means "has an email address". A custom attribute set to null hides the default of that name.
 * - Custom attributes override defaults (as in authentik), except `member` and `memberOf`, which carry the
 *   membership graph the filter engine and indexes rely on, and `objectClass`, whose custom values are added to
 *   the defaults instead of replacing them.
 * - A JSON number in custom `uidNumber` / `gidNumber` counts like a string (authentik only honours strings for
 *   the computed defaults).
 * - Booleans of the schema's Boolean syntax are `TRUE` / `FALSE` for groups too (authentik: lower case).
 * - Nested custom objects are flattened into `<key>-<subkey>` attributes (recursively, up to 8 levels, then JSON
 *   text); objects inside lists become JSON text; nested lists are flattened into the same attribute.
 * - `createTimestamp`, `modifyTimestamp`, `pwdChangedTime` are operational (sent for `+` or by name).
 */
import { DIRECTORY_LIMITS } from '../config/limits.js';
import { escapeDnValue, normalizeDn, parseDn } from '../protocol/ldap/dn.js';
import type { DirectoryGroup, DirectoryUser, LdapProviderConfig } from '../core-api/model.js';

export interface LdapAttribute {
  readonly type: string;
  readonly values: readonly string[];
}

/** One entry as sent to a client (attributes in order; values as strings). */
export interface LdapEntry {
  readonly dn: string;
  readonly attributes: readonly LdapAttribute[];
}

export const USER_OBJECT_CLASSES: readonly string[] = Object.freeze([
  'top',
  'person',
  'organizationalPerson',
  'inetOrgPerson',
  'user',
  'posixAccount',
  'goauthentik.io/ldap/user',
]);
export const GROUP_OBJECT_CLASSES: readonly string[] = Object.freeze([
  'group',
  'groupOfUniqueNames',
  'groupOfNames',
  'goauthentik.io/ldap/group',
  'posixGroup',
]);
export const VIRTUAL_GROUP_OBJECT_CLASSES: readonly string[] = Object.freeze([...GROUP_OBJECT_CLASSES, 'goauthentik.io/ldap/virtual-group']);
export const CONTAINER_OBJECT_CLASSES: readonly string[] = Object.freeze(['top', 'nsContainer', 'organizationalUnit']);

/**
 * Concatenates into one flat string. `a + b` makes a rope (V8 ConsString) of ~32 bytes per piece, which the
 * cache would keep for every DN and timestamp of a large directory.
 */
export function flatConcat(...parts: string[]): string {
  return parts.join('');
}

const TRUE: readonly string[] = Object.freeze(['TRUE']);
const FALSE: readonly string[] = Object.freeze(['FALSE']);
const bool = (value: boolean): readonly string[] => (value ? TRUE : FALSE);

/** The DNs of one provider's tree. Throws ProtocolError when the configured base DN is not a DN. */
export class DirectoryLayout {
  /** Normalized (lower-case) base DN; every entry DN ends with it. */
  readonly baseDn: string;
  readonly usersDn: string;
  readonly groupsDn: string;
  readonly virtualGroupsDn: string;

  constructor(configuredBaseDn: string) {
    this.baseDn = normalizeDn(configuredBaseDn);
    const suffix = this.baseDn === '' ? '' : ',' + this.baseDn;
    this.usersDn = 'ou=users' + suffix;
    this.groupsDn = 'ou=groups' + suffix;
    this.virtualGroupsDn = 'ou=virtual-groups' + suffix;
  }

  userDn(username: string): string {
    return flatConcat('cn=', escapeDnValue(username), ',', this.usersDn);
  }

  groupDn(name: string): string {
    return flatConcat('cn=', escapeDnValue(name), ',', this.groupsDn);
  }

  virtualGroupDn(username: string): string {
    return flatConcat('cn=', escapeDnValue(username), ',', this.virtualGroupsDn);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Value formatting

/** Shortest decimal without exponent (`6`, `1.5`, `1e21` -> `1000000000000000000000`), like Go's 'f', -1. */
export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (n === 0) return '0';
  const text = String(n);
  const e = text.indexOf('e');
  if (e < 0) return text;
  let mantissa = text.slice(0, e);
  const exponent = Number(text.slice(e + 1));
  let sign = '';
  if (mantissa.startsWith('-')) {
    sign = '-';
    mantissa = mantissa.slice(1);
  }
  const dot = mantissa.indexOf('.');
  const intPart = dot < 0 ? mantissa : mantissa.slice(0, dot);
  const digits = dot < 0 ? mantissa : intPart + mantissa.slice(dot + 1);
  const point = intPart.length + exponent;
  if (point <= 0) return sign + '0.' + '0'.repeat(-point) + digits;
  if (point >= digits.length) return sign + digits + '0'.repeat(point - digits.length);
  return sign + digits.slice(0, point) + '.' + digits.slice(point);
}

const pad2 = (n: number): string => (n < 10 ? '0' : '') + String(n);

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Two ASCII digits at `i` as a number, or -1. */
function twoDigits(text: string, i: number): number {
  const a = text.charCodeAt(i) - 0x30;
  const b = text.charCodeAt(i + 1) - 0x30;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

/**
 * The core's usual form (`YYYY-MM-DDTHH:MM:SS[.fraction](Z|+00:00)`, a valid UTC date) converted by copying
 * digits, without a Date; undefined for anything else (the caller then parses it in full).
 */
function utcGeneralizedTime(iso: string): string | undefined {
  const n = iso.length;
  if (n < 20 || iso.charCodeAt(4) !== 0x2d || iso.charCodeAt(7) !== 0x2d || iso.charCodeAt(10) !== 0x54) return undefined;
  if (iso.charCodeAt(13) !== 0x3a || iso.charCodeAt(16) !== 0x3a) return undefined;
  let end = 19;
  if (iso.charCodeAt(19) === 0x2e) {
    end = 20;
    while (end < n && iso.charCodeAt(end) >= 0x30 && iso.charCodeAt(end) <= 0x39) end++;
    if (end === 20) return undefined;
  }
  const rest = n - end;
  if (!((rest === 1 && iso.charCodeAt(end) === 0x5a) || (rest === 6 && iso.endsWith('+00:00')))) return undefined;
  const century = twoDigits(iso, 0);
  const yy = twoDigits(iso, 2);
  const month = twoDigits(iso, 5);
  const day = twoDigits(iso, 8);
  const hour = twoDigits(iso, 11);
  const minute = twoDigits(iso, 14);
  const second = twoDigits(iso, 17);
  if (century < 0 || yy < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return undefined;
  const year = century * 100 + yy;
  const leap = month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (day > DAYS_IN_MONTH[month - 1]! + (leap ? 1 : 0)) return undefined;
  const c = (i: number): number => iso.charCodeAt(i);
  // One flat string (no rope), digits copied as they are.
  return String.fromCharCode(c(0), c(1), c(2), c(3), c(5), c(6), c(8), c(9), c(11), c(12), c(14), c(15), c(17), c(18), 0x5a);
}

/** ISO 8601 from the core to LDAP GeneralizedTime `YYYYMMDDHHMMSSZ` (UTC, whole seconds); undefined if invalid. */
export function generalizedTime(iso: string | undefined): string | undefined {
  if (iso === undefined || iso === '') return undefined;
  const fast = utcGeneralizedTime(iso);
  if (fast !== undefined) return fast;
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) return undefined;
  const d = new Date(ms);
  const year = d.getUTCFullYear();
  if (year < 0 || year > 9999) return undefined;
  return flatConcat(
    String(year).padStart(4, '0'),
    pad2(d.getUTCMonth() + 1),
    pad2(d.getUTCDate()),
    pad2(d.getUTCHours()),
    pad2(d.getUTCMinutes()),
    pad2(d.getUTCSeconds()),
    'Z',
  );
}

// ---------------------------------------------------------------------------------------------------------
// Custom attributes (reference 3.11, with nested objects flattened)

/** One flattened custom attribute; `values: null` means "set to null": no values, hides a default. */
export interface CustomAttribute {
  readonly name: string;
  readonly values: string[] | null;
}

/** authentik's key sanitising: `/` becomes `-`, `.` is dropped (`goauthentik.io/user/sources` -> `goauthentikio-user-sources`). */
export function sanitizeAttributeName(key: string): string {
  if (key.indexOf('/') < 0 && key.indexOf('.') < 0) return key;
  return key.replaceAll('/', '-').replaceAll('.', '');
}

function scalarText(value: unknown, substitute: string | undefined): string | undefined {
  switch (typeof value) {
    case 'string':
      return substitute === undefined || value.indexOf('%s') < 0 ? value : value.replaceAll('%s', substitute);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      return Number.isFinite(value) ? formatNumber(value) : undefined;
    case 'bigint':
      return value.toString();
    default:
      return undefined;
  }
}

function jsonText(value: unknown): string {
  try {
    return JSON.stringify(value) ?? '';
  } catch {
    return '';
  }
}

function pushListValues(values: string[], list: readonly unknown[], substitute: string | undefined, depth: number): void {
  for (const element of list) {
    if (element === null || element === undefined) continue;
    if (Array.isArray(element)) {
      if (depth < DIRECTORY_LIMITS.maxAttributeNesting) pushListValues(values, element, substitute, depth + 1);
      else values.push(jsonText(element));
    } else if (typeof element === 'object') {
      values.push(jsonText(element));
    } else {
      const text = scalarText(element, substitute);
      if (text !== undefined) values.push(text);
    }
  }
}

/**
 * Flattens the core's `attributes` JSON into LDAP attributes, sorted by name (code-unit order). Keys are
 * sanitised; a nested object `{"a":{"b":1}}` gives `a-b: 1`; names colliding case-insensitively merge their
 * values (first spelling wins). `substitute` replaces every `%s` in string values (users: the username, as
 * authentik's Sprintf does for the first one).
 */
export function flattenCustomAttributes(attributes: Readonly<Record<string, unknown>>, substitute?: string): CustomAttribute[] {
  return flatStringAttributes(attributes, substitute) ?? flattenNested(attributes, substitute);
}

const byName = (a: CustomAttribute, b: CustomAttribute): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** The common case, a few string values under distinct names, without the general walk; undefined otherwise. */
function flatStringAttributes(attributes: Readonly<Record<string, unknown>>, substitute: string | undefined): CustomAttribute[] | undefined {
  const keys = Object.keys(attributes);
  if (keys.length > 8) return undefined;
  const out: CustomAttribute[] = [];
  const lowerNames: string[] = [];
  for (const key of keys) {
    const value = attributes[key];
    if (typeof value !== 'string') return undefined;
    const name = sanitizeAttributeName(key);
    if (name === '') return undefined;
    const lower = name.toLowerCase();
    if (lowerNames.includes(lower)) return undefined;
    lowerNames.push(lower);
    out.push({ name, values: [scalarText(value, substitute) as string] });
  }
  if (out.length > 1) out.sort(byName);
  return out;
}

function flattenNested(attributes: Readonly<Record<string, unknown>>, substitute: string | undefined): CustomAttribute[] {
  const byKey = new Map<string, { name: string; values: string[] | null }>();
  const visit = (name: string, value: unknown, depth: number): void => {
    if (name === '') return;
    const key = name.toLowerCase();
    let slot = byKey.get(key);
    if (value === null || value === undefined) {
      if (slot === undefined) byKey.set(key, { name, values: null });
      return;
    }
    if (typeof value === 'object' && !Array.isArray(value)) {
      if (depth < DIRECTORY_LIMITS.maxAttributeNesting) {
        for (const sub of Object.keys(value)) visit(name + '-' + sanitizeAttributeName(sub), (value as Record<string, unknown>)[sub], depth + 1);
        return;
      }
    }
    if (slot === undefined) {
      slot = { name, values: [] };
      byKey.set(key, slot);
    }
    slot.values ??= [];
    if (Array.isArray(value)) pushListValues(slot.values, value, substitute, depth);
    else if (typeof value === 'object') slot.values.push(jsonText(value));
    else {
      const text = scalarText(value, substitute);
      if (text !== undefined) slot.values.push(text);
    }
  };
  for (const key of Object.keys(attributes)) visit(sanitizeAttributeName(key), attributes[key], 0);
  const out = [...byKey.values()];
  out.sort(byName);
  return out;
}

/** A custom scalar (string, or finite number) for computed defaults such as uidNumber. */
function customScalar(attributes: Readonly<Record<string, unknown>>, key: string): string | undefined {
  const value = attributes[key];
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return formatNumber(value);
  return undefined;
}

/** Attributes custom values may not replace (they carry the membership graph). */
const PROTECTED = new Set(['member', 'memberof']);

/**
 * Applies custom attributes over defaults: same name (case-insensitive) replaces the default's values in place
 * (keeping the default's spelling); objectClass values are appended; null hides the default; the rest of the
 * custom attributes follow in name order. Attributes without values are dropped.
 */
export function mergeAttributes(defaults: readonly LdapAttribute[], custom: readonly CustomAttribute[]): LdapAttribute[] {
  const out: LdapAttribute[] = [];
  if (custom.length === 0) {
    for (const attribute of defaults) if (attribute.values.length > 0) out.push(attribute);
    return out;
  }
  // Few custom attributes per entry: match them to defaults by a scan (no maps or sets per entry). The last of
  // equal keys wins, as in a map.
  const customKeys: string[] = [];
  for (const attribute of custom) customKeys.push(attribute.name.toLowerCase());
  const usedCustom: boolean[] = new Array<boolean>(custom.length).fill(false);
  for (const attribute of defaults) {
    const key = attribute.type.toLowerCase();
    let override: CustomAttribute | undefined;
    for (let c = 0; c < custom.length; c++) {
      if (customKeys[c] !== key) continue;
      usedCustom[c] = true;
      override = custom[c];
    }
    if (override === undefined || PROTECTED.has(key)) {
      if (attribute.values.length > 0) out.push(attribute);
    } else if (key === 'objectclass') {
      const seen = new Set(attribute.values.map((v) => v.toLowerCase()));
      const extra = (override.values ?? []).filter((v) => {
        const lower = v.toLowerCase();
        if (seen.has(lower) || v === '') return false;
        seen.add(lower);
        return true;
      });
      out.push(extra.length === 0 ? attribute : { type: attribute.type, values: [...attribute.values, ...extra] });
    } else if (override.values !== null && override.values.length > 0) {
      out.push({ type: attribute.type, values: override.values });
    }
  }
  for (let c = 0; c < custom.length; c++) {
    const attribute = custom[c]!;
    if (usedCustom[c] === true || PROTECTED.has(customKeys[c]!) || attribute.values === null || attribute.values.length === 0) continue;
    out.push({ type: attribute.name, values: attribute.values });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Entries

export type NumberingConfig = Pick<LdapProviderConfig, 'uidStartNumber' | 'gidStartNumber'>;

/** uidNumber and gidNumber of a user (custom values win; gid defaults to the uid number). */
export function userNumbers(user: DirectoryUser, config: NumberingConfig): { uidNumber: string; gidNumber: string } {
  const uidNumber = customScalar(user.attributes, 'uidNumber') ?? String(config.uidStartNumber + user.pk);
  const gidNumber = customScalar(user.attributes, 'gidNumber') ?? uidNumber;
  return { uidNumber, gidNumber };
}

/**
 * A user's attributes. `memberOf` lists the DNs of the user's direct groups (in the core's order).
 */
export function userAttributes(user: DirectoryUser, layout: DirectoryLayout, config: NumberingConfig): LdapAttribute[] {
  return userEntries(user, layout, config).user;
}

/** A user's attributes and its virtual group's, sharing value strings (the cache keeps both). */
export function userEntries(user: DirectoryUser, layout: DirectoryLayout, config: NumberingConfig): { user: LdapAttribute[]; virtualGroup: LdapAttribute[] } {
  return userEntriesWithGroupDns(user, user.groups.map((g) => layout.groupDn(g.name)), layout, config);
}

/**
 * userEntries with `memberOf` given as DNs (in the core's order) instead of derived from user.groups: the cache
 * builder knows its groups' DNs by index.
 */
export function userEntriesWithGroupDns(
  user: DirectoryUser,
  memberOf: readonly string[],
  layout: DirectoryLayout,
  config: NumberingConfig,
): { user: LdapAttribute[]; virtualGroup: LdapAttribute[] } {
  const username = [user.username];
  const name = [user.name];
  const numbers = userNumbers(user, config);
  const uidNumber = [numbers.uidNumber];
  const gidNumber = numbers.gidNumber === numbers.uidNumber ? uidNumber : [numbers.gidNumber];
  const uid = [user.uid];
  const defaults: LdapAttribute[] = [
    { type: 'objectClass', values: USER_OBJECT_CLASSES },
    { type: 'cn', values: username },
    { type: 'sAMAccountName', values: username },
    { type: 'uid', values: uid },
    { type: 'name', values: name },
    { type: 'displayName', values: name },
    { type: 'sn', values: name },
    { type: 'mail', values: user.email === '' ? [] : [user.email] },
    { type: 'memberOf', values: memberOf },
    { type: 'uidNumber', values: uidNumber },
    { type: 'gidNumber', values: gidNumber },
    { type: 'homeDirectory', values: [flatConcat('/home/', user.username)] },
    { type: 'ak-active', values: bool(user.isActive) },
    { type: 'ak-superuser', values: bool(user.isSuperuser) },
    { type: 'pwdChangedTime', values: optional(generalizedTime(user.passwordChangeDate)) },
    { type: 'createTimestamp', values: optional(generalizedTime(user.dateJoined)) },
    { type: 'modifyTimestamp', values: optional(generalizedTime(user.lastUpdated)) },
  ];
  return {
    user: mergeAttributes(defaults, flattenCustomAttributes(user.attributes, user.username)),
    virtualGroup: [
      { type: 'objectClass', values: VIRTUAL_GROUP_OBJECT_CLASSES },
      { type: 'cn', values: username },
      { type: 'sAMAccountName', values: username },
      { type: 'uid', values: uid },
      { type: 'gidNumber', values: gidNumber },
      { type: 'member', values: [layout.userDn(user.username)] },
      { type: 'ak-superuser', values: FALSE },
    ],
  };
}

const EMPTY: readonly string[] = Object.freeze([]);
const optional = (value: string | undefined): readonly string[] => (value === undefined ? EMPTY : [value]);

/** Group gidNumber: custom value, else gid_start_number + num_pk. */
export function groupGidNumber(group: DirectoryGroup, config: NumberingConfig): string {
  return customScalar(group.attributes, 'gidNumber') ?? String(config.gidStartNumber + group.numPk);
}

/**
 * A group's attributes. `member`: direct user members, then child groups; `memberOf`: parent groups.
 */
export function groupAttributes(group: DirectoryGroup, layout: DirectoryLayout, config: NumberingConfig): LdapAttribute[] {
  const name = [group.name];
  const members = group.users.map((u) => layout.userDn(u.username)).concat(group.children.map((c) => layout.groupDn(c.name)));
  const defaults: LdapAttribute[] = [
    { type: 'objectClass', values: GROUP_OBJECT_CLASSES },
    { type: 'cn', values: name },
    { type: 'sAMAccountName', values: name },
    { type: 'uid', values: [group.pk] },
    { type: 'gidNumber', values: [groupGidNumber(group, config)] },
    { type: 'member', values: members },
    { type: 'memberOf', values: group.parents.map((p) => layout.groupDn(p.name)) },
    { type: 'ak-superuser', values: bool(group.isSuperuser) },
  ];
  return mergeAttributes(defaults, flattenCustomAttributes(group.attributes));
}

/** The virtual group of a user: its only member is the user; gidNumber is the user's; no custom attributes. */
export function virtualGroupAttributes(user: DirectoryUser, layout: DirectoryLayout, config: NumberingConfig): LdapAttribute[] {
  return userEntries(user, layout, config).virtualGroup;
}

/** Container attributes (`ou=users` etc.). authentik sends `commonName` and no `ou`; an RDN value must be present. */
export function containerAttributes(name: 'users' | 'groups' | 'virtual-groups'): LdapAttribute[] {
  const value = [name];
  return [
    { type: 'objectClass', values: CONTAINER_OBJECT_CLASSES },
    { type: 'ou', values: value },
    { type: 'cn', values: value },
  ];
}

const baseClassesByRdnType: Readonly<Record<string, readonly string[]>> = {
  dc: ['top', 'domain', 'dcObject'],
  o: ['top', 'organization'],
  ou: ['top', 'organizationalUnit'],
};

/**
 * The base entry: a structural class matching its first RDN and the RDN's values as attributes (authentik
 * sends the RootDSE attributes here instead, with entryDN "").
 */
export function baseEntryAttributes(layout: DirectoryLayout): LdapAttribute[] {
  const rdn = parseDn(layout.baseDn)[0] ?? [];
  const first = rdn[0]?.type.toLowerCase() ?? '';
  const attributes: LdapAttribute[] = [{ type: 'objectClass', values: baseClassesByRdnType[first] ?? ['top'] }];
  for (const ava of rdn) {
    const type = ava.type.toLowerCase();
    const existing = attributes.find((a) => a.type === type);
    if (existing === undefined) attributes.push({ type, values: [ava.value] });
    else (existing.values as string[]).push(ava.value);
  }
  return attributes;
}
