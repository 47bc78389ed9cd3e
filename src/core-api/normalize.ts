/**
 * Lenient mapping of core JSON (2023.10 and 2026.x) into model.ts types. Unknown fields are ignored, null where
 * the schema promises an object or array reads as empty, optional fields get the core's model defaults; a field
 * we depend on that is missing or of the wrong type rejects with CoreError 'unexpected_response'.
 */
import { CONTROL_LIMITS } from '../config/limits.js';
import { CoreError } from '../errors.js';
import type {
  AccessMode,
  CertificateInfo,
  CoreGeneration,
  DirectoryGroup,
  DirectoryUser,
  GroupRef,
  LdapAccess,
  LdapProviderConfig,
  OutpostInfo,
  RadiusAccess,
  RadiusProviderConfig,
  RootConfigInfo,
  SessionUserInfo,
  UserRef,
} from './model.js';

import type { components as Components2023 } from './schema/v2023.js';
import type { components as Components2026 } from './schema/v2026.js';

type JsonObject = Record<string, unknown>;
type Schemas = Components2026['schemas'];
type Legacy = Components2023['schemas'];

/** What a core of either generation may send for one schema object. */
export type OutpostWire = Schemas['Outpost'] | Legacy['Outpost'];
export type LdapProviderWire = Schemas['LDAPOutpostConfig'] | Legacy['LDAPOutpostConfig'];
export type RadiusProviderWire = Schemas['RadiusOutpostConfig'] | Legacy['RadiusOutpostConfig'];
export type UserWire = Schemas['User'] | Legacy['User'];
export type GroupWire = Schemas['Group'] | Legacy['Group'];
export type RootConfigWire = Schemas['Config'] | Legacy['Config'];
export type CertificateWire = Schemas['CertificateKeyPair'] | Legacy['CertificateKeyPair'];
export type CertificateDataWire = Schemas['CertificateData'] | Legacy['CertificateData'];
type PaginationWire = Schemas['Pagination'] | Legacy['Pagination'];
type GroupRefWire = Schemas['PartialGroup'] | Schemas['RelatedGroup'] | Legacy['UserGroup'] | Schemas['UserSelfGroups'] | Legacy['UserSelfGroups'];
type UserRefWire = Schemas['PartialUser'] | Legacy['GroupMember'];
type SessionUserWire = Schemas['SessionUser'] | Legacy['SessionUser'];
type UserSelfWire = Schemas['UserSelf'] | Legacy['UserSelf'];
type PolicyResultWire = Schemas['PolicyTestResult'] | Legacy['PolicyTestResult'];

/** Field names of any member of a union of schema objects. */
type AnyKey<T> = T extends unknown ? Extract<keyof T, string> : never;
/** The declared type of field K, in whichever member declares it. */
type FieldType<T, K extends string> = T extends unknown ? (K extends keyof T ? T[K] : never) : never;
/** Fields whose declared type admits V in at least one generation. */
type KeyFor<T, V> = { [K in AnyKey<T>]: [Extract<FieldType<T, K>, V>] extends [never] ? never : K }[AnyKey<T>];

const DEFAULT_CACHE_TIMEOUT_FLOWS_S = 300;

function bad(what: string, detail: string): CoreError {
  return new CoreError('unexpected_response', `${what}: ${detail}`);
}

function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function asObject(value: unknown, what: string): JsonObject {
  if (!isJsonObject(value)) throw bad(what, 'not a JSON object');
  return value;
}

/**
 * One JSON object read leniently at run time (absent or null optional fields get defaults, a field we depend on
 * with the wrong type rejects) while the compiler checks each field name, and the kind of value read from it,
 * against the schema type T of both generations.
 */
class Fields<T> {
  readonly #o: JsonObject;

  private constructor(
    o: JsonObject,
    readonly what: string,
  ) {
    this.#o = o;
  }

  static of<T>(value: unknown, what: string): Fields<T> {
    return new Fields<T>(asObject(value, what), what);
  }

  has(key: AnyKey<T>): boolean {
    return key in this.#o;
  }

  value(key: AnyKey<T>): unknown {
    return this.#o[key];
  }

  string(key: KeyFor<T, string>): string {
    const v = this.#o[key];
    if (typeof v !== 'string') throw bad(this.what, `field ${key} missing or not a string`);
    return v;
  }

  /** Absent or null -> fallback; present with another type -> reject. */
  optionalString<F extends string | null | undefined>(key: KeyFor<T, string>, fallback: F): string | F {
    const v = this.#o[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'string') throw bad(this.what, `field ${key} is not a string`);
    return v;
  }

  int(key: KeyFor<T, number>): number {
    const v = this.#o[key];
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw bad(this.what, `field ${key} missing or not an integer`);
    return v;
  }

  optionalInt(key: KeyFor<T, number>, fallback: number): number {
    const v = this.#o[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw bad(this.what, `field ${key} is not an integer`);
    return v;
  }

  optionalBool(key: KeyFor<T, boolean>, fallback: boolean): boolean {
    const v = this.#o[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'boolean') throw bad(this.what, `field ${key} is not a boolean`);
    return v;
  }

  /** Absent or null -> []; anything but an array -> reject. */
  array(key: KeyFor<T, readonly unknown[]>): unknown[] {
    const v = this.#o[key];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) throw bad(this.what, `field ${key} is not an array`);
    return v;
  }

  /** Absent or null -> {}; anything but an object -> reject. */
  record(key: KeyFor<T, object>): JsonObject {
    const v = this.#o[key];
    if (v === undefined || v === null) return {};
    return asObject(v, `${this.what}.${key}`);
  }
}

// ---- pagination ----

export interface Page<T> {
  results: T[];
  /** Next page number; 0 = none. */
  next: number;
}

/** A list answer as openapi-fetch types it. */
export interface PageWire<T> {
  results: T[];
  pagination: PaginationWire;
}

export function normalizePage<T>(body: PageWire<T>, what: string): Page<T> {
  const page = Fields.of<PageWire<T>>(body, what);
  const results = body?.results;
  if (!Array.isArray(results)) throw bad(what, 'field results missing or not an array');
  const pagination = page.value('pagination');
  if (pagination === undefined || pagination === null) return { results, next: 0 };
  const next = Fields.of<PaginationWire>(pagination, `${what}.pagination`).value('next');
  if (next !== undefined && next !== null && (typeof next !== 'number' || !Number.isFinite(next))) {
    throw bad(what, 'pagination.next is not a number');
  }
  return { results, next: typeof next === 'number' && next > 0 ? Math.trunc(next) : 0 };
}

// ---- outpost and root config ----

/** <=0 -> 300 s, <30 -> 30 s (the reference's clamp). */
export function clampRefreshInterval(seconds: number): number {
  if (seconds <= 0) return CONTROL_LIMITS.refreshIntervalDefaultS;
  return Math.max(seconds, CONTROL_LIMITS.refreshIntervalMinS);
}

export interface NormalizedOutpost {
  info: OutpostInfo;
  /** 2023.10 when the core predates refresh_interval_s. */
  generation: CoreGeneration;
}

export function normalizeOutpost(value: OutpostWire): NormalizedOutpost {
  const o = Fields.of<OutpostWire>(value, 'outpost');
  const interval = o.optionalInt('refresh_interval_s', CONTROL_LIMITS.refreshIntervalDefaultS);
  const logLevel = o.record('config')['log_level'];
  return {
    info: {
      pk: o.string('pk'),
      name: o.string('name'),
      type: o.string('type'),
      providers: o.array('providers').map((p) => {
        if (typeof p !== 'number' || !Number.isSafeInteger(p)) throw bad(o.what, 'providers holds a non-integer');
        return p;
      }),
      refreshIntervalS: clampRefreshInterval(interval),
      logLevel: typeof logLevel === 'string' && logLevel !== '' ? logLevel : undefined,
      managed: o.optionalString('managed', null),
    },
    generation: o.has('refresh_interval_s') ? '2026.2' : '2023.10',
  };
}

export function normalizeRootConfig(value: RootConfigWire): RootConfigInfo {
  const o = Fields.of<RootConfigWire>(value, 'root config');
  // Every generation sends it; a missing value is tolerated with the core's default rather than failing start-up.
  return { cacheTimeoutFlows: o.optionalInt('cache_timeout_flows', DEFAULT_CACHE_TIMEOUT_FLOWS_S) };
}

// ---- providers ----

function accessMode(o: Fields<LdapProviderWire>, key: 'search_mode' | 'bind_mode'): AccessMode {
  const v = o.optionalString(key, 'direct');
  if (v !== 'direct' && v !== 'cached') throw bad(o.what, `field ${key} is neither "direct" nor "cached"`);
  return v;
}

/** `<kind> <pk>` for messages, before the pk is known to be valid. */
function label(kind: string, value: unknown): string {
  const pk = isJsonObject(value) ? value['pk'] : undefined;
  return `${kind} ${typeof pk === 'number' || typeof pk === 'string' ? pk : '?'}`;
}

export interface NormalizedLdapProvider {
  config: LdapProviderConfig;
  /** 2023.10 when the config carries the `search_group` key (removed in 2024.8). */
  generation: CoreGeneration;
}

export function normalizeLdapProvider(value: LdapProviderWire): NormalizedLdapProvider {
  const o = Fields.of<LdapProviderWire>(value, label('ldap provider', value));
  return {
    config: {
      pk: o.int('pk'),
      name: o.string('name'),
      baseDn: o.string('base_dn'),
      bindFlowSlug: o.string('bind_flow_slug'),
      unbindFlowSlug: o.optionalString('unbind_flow_slug', null),
      applicationSlug: o.string('application_slug'),
      certificate: o.optionalString('certificate', null),
      tlsServerName: o.optionalString('tls_server_name', ''),
      uidStartNumber: o.optionalInt('uid_start_number', 2000),
      gidStartNumber: o.optionalInt('gid_start_number', 4000),
      searchMode: accessMode(o, 'search_mode'),
      bindMode: accessMode(o, 'bind_mode'),
      mfaSupport: o.optionalBool('mfa_support', true),
      searchGroup: o.optionalString('search_group', null),
    },
    generation: o.has('search_group') ? '2023.10' : '2026.2',
  };
}

export function normalizeRadiusProvider(value: RadiusProviderWire): RadiusProviderConfig {
  const o = Fields.of<RadiusProviderWire>(value, label('radius provider', value));
  return {
    pk: o.int('pk'),
    name: o.string('name'),
    applicationSlug: o.string('application_slug'),
    authFlowSlug: o.string('auth_flow_slug'),
    clientNetworks: o.optionalString('client_networks', '0.0.0.0/0, ::/0'),
    // Not defaulted: an empty secret would silently make the provider unusable.
    sharedSecret: o.string('shared_secret'),
    mfaSupport: o.optionalBool('mfa_support', true),
    certificate: o.optionalString('certificate', null),
  };
}

// ---- directory ----

function groupRef(value: unknown, what: string): GroupRef {
  const o = Fields.of<GroupRefWire>(value, what);
  return { pk: o.string('pk'), name: o.string('name') };
}

function userRef(value: unknown, what: string): UserRef {
  const o = Fields.of<UserRefWire>(value, what);
  return { pk: o.int('pk'), username: o.string('username') };
}

/** Membership references as pks only: `groups` (uuids) of a user, `users` (ints) of a group. */
export interface MembershipShape {
  pksOnly: boolean;
}

function groupPkRefs(o: Fields<UserWire>): GroupRef[] {
  return o.array('groups').map((pk) => {
    if (typeof pk !== 'string') throw bad(o.what, 'groups holds a non-string');
    return { pk, name: '' };
  });
}

function userPkRefs(o: Fields<GroupWire>): UserRef[] {
  return o.array('users').map((pk) => {
    if (typeof pk !== 'number' || !Number.isSafeInteger(pk)) throw bad(o.what, 'users holds a non-integer');
    return { pk, username: '' };
  });
}

/** `groups` with pksOnly: the pks of `groups` (every generation sends them) with name '', groups_obj ignored. */
export function normalizeUser(value: UserWire, membership?: MembershipShape): DirectoryUser {
  const o = Fields.of<UserWire>(value, label('user', value));
  const what = o.what;
  return {
    pk: o.int('pk'),
    username: o.string('username'),
    name: o.optionalString('name', ''),
    isActive: o.optionalBool('is_active', true),
    isSuperuser: o.optionalBool('is_superuser', false),
    email: o.optionalString('email', ''),
    uid: o.optionalString('uid', ''),
    attributes: o.record('attributes'),
    groups: membership?.pksOnly === true ? groupPkRefs(o) : o.array('groups_obj').map((g) => groupRef(g, `${what} groups_obj`)),
    dateJoined: o.optionalString('date_joined', undefined),
    lastUpdated: o.optionalString('last_updated', undefined),
    passwordChangeDate: o.optionalString('password_change_date', undefined),
  };
}

/** `users` with pksOnly: the pks of `users` (every generation sends them) with username '', users_obj ignored. */
export function normalizeGroup(value: GroupWire, membership?: MembershipShape): DirectoryGroup {
  const o = Fields.of<GroupWire>(value, label('group', value));
  const what = o.what;
  let parents = o.array('parents_obj').map((g) => groupRef(g, `${what} parents_obj`));
  // 2023.10 had a single parent (uuid + parent_name) instead of parents_obj.
  if (!o.has('parents_obj')) {
    const parent = o.optionalString('parent', null);
    if (parent !== null) parents = [{ pk: parent, name: o.optionalString('parent_name', '') }];
  }
  return {
    pk: o.string('pk'),
    numPk: o.int('num_pk'),
    name: o.string('name'),
    isSuperuser: o.optionalBool('is_superuser', false),
    attributes: o.record('attributes'),
    users: membership?.pksOnly === true ? userPkRefs(o) : o.array('users_obj').map((u) => userRef(u, `${what} users_obj`)),
    parents,
    children: o.array('children_obj').map((g) => groupRef(g, `${what} children_obj`)),
  };
}

// ---- certificates ----

export function normalizeCertificate(value: CertificateWire): CertificateInfo {
  return { fingerprintSha256: Fields.of<CertificateWire>(value, 'certificate').optionalString('fingerprint_sha256', null) };
}

/** view_certificate / view_private_key: {"data": PEM}; null reads as ''. */
export function normalizeCertificateData(value: CertificateDataWire, what: string): string {
  return Fields.of<CertificateDataWire>(value, what).optionalString('data', '');
}

// ---- session checks (bodies the flow client parses itself) ----

export function normalizeSessionUser(value: unknown): SessionUserInfo {
  const user = Fields.of<UserSelfWire>(Fields.of<SessionUserWire>(value, 'users/me').value('user'), 'users/me user');
  return {
    pk: user.int('pk'),
    username: user.string('username'),
    groups: user.array('groups').map((g) => groupRef(g, `${user.what} groups`)),
  };
}

/** PolicyTestResult: only `passing` is read (messages are empty upstream). */
export function normalizePolicyResult(value: unknown, what: string): boolean {
  const passing = Fields.of<PolicyResultWire>(value, what).value('passing');
  if (typeof passing !== 'boolean') throw bad(what, 'field passing missing or not a boolean');
  return passing;
}

export function normalizeLdapAccess(value: unknown): LdapAccess {
  const o = Fields.of<Schemas['LDAPCheckAccess']>(value, 'ldap check_access');
  return {
    passing: normalizePolicyResult(o.value('access'), 'ldap check_access.access'),
    hasSearchPermission: o.optionalBool('has_search_permission', false),
  };
}

export function normalizeRadiusAccess(value: unknown): RadiusAccess {
  const o = Fields.of<Schemas['RadiusCheckAccess']>(value, 'radius check_access');
  const attributes = o.optionalString('attributes', null);
  return {
    passing: normalizePolicyResult(o.value('access'), 'radius check_access.access'),
    attributes: attributes === '' ? null : attributes,
  };
}
