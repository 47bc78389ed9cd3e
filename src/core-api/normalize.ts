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

type JsonObject = Record<string, unknown>;

const DEFAULT_CACHE_TIMEOUT_FLOWS_S = 300;

function bad(what: string, detail: string): CoreError {
  return new CoreError('unexpected_response', `${what}: ${detail}`);
}

export function asObject(value: unknown, what: string): JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad(what, 'not a JSON object');
  return value as JsonObject;
}

function requiredString(o: JsonObject, key: string, what: string): string {
  const v = o[key];
  if (typeof v !== 'string') throw bad(what, `field ${key} missing or not a string`);
  return v;
}

function requiredInt(o: JsonObject, key: string, what: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw bad(what, `field ${key} missing or not an integer`);
  return v;
}

/** Absent or null -> fallback; present with another type -> reject. */
function optionalString<T extends string | null | undefined>(o: JsonObject, key: string, what: string, fallback: T): string | T {
  const v = o[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'string') throw bad(what, `field ${key} is not a string`);
  return v;
}

function optionalInt(o: JsonObject, key: string, what: string, fallback: number): number {
  const v = o[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw bad(what, `field ${key} is not an integer`);
  return v;
}

function optionalBool(o: JsonObject, key: string, what: string, fallback: boolean): boolean {
  const v = o[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'boolean') throw bad(what, `field ${key} is not a boolean`);
  return v;
}

/** Absent or null -> []; anything but an array -> reject. */
function optionalArray(o: JsonObject, key: string, what: string): unknown[] {
  const v = o[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw bad(what, `field ${key} is not an array`);
  return v;
}

function optionalRecord(o: JsonObject, key: string, what: string): Record<string, unknown> {
  const v = o[key];
  if (v === undefined || v === null) return {};
  return asObject(v, `${what}.${key}`);
}

// ---- pagination ----

export interface Page {
  results: unknown[];
  /** Next page number; 0 = none. */
  next: number;
}

export function normalizePage(body: unknown, what: string): Page {
  const o = asObject(body, what);
  if (!Array.isArray(o['results'])) throw bad(what, 'field results missing or not an array');
  const pagination = o['pagination'];
  if (pagination === undefined || pagination === null) return { results: o['results'], next: 0 };
  const next = asObject(pagination, `${what}.pagination`)['next'];
  if (next !== undefined && next !== null && (typeof next !== 'number' || !Number.isFinite(next))) {
    throw bad(what, 'pagination.next is not a number');
  }
  return { results: o['results'], next: typeof next === 'number' && next > 0 ? Math.trunc(next) : 0 };
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

export function normalizeOutpost(value: unknown): NormalizedOutpost {
  const what = 'outpost';
  const o = asObject(value, what);
  const hasInterval = 'refresh_interval_s' in o;
  const interval = optionalInt(o, 'refresh_interval_s', what, CONTROL_LIMITS.refreshIntervalDefaultS);
  const config = optionalRecord(o, 'config', what);
  const logLevel = config['log_level'];
  return {
    info: {
      pk: requiredString(o, 'pk', what),
      name: requiredString(o, 'name', what),
      type: requiredString(o, 'type', what),
      providers: optionalArray(o, 'providers', what).map((p) => {
        if (typeof p !== 'number' || !Number.isSafeInteger(p)) throw bad(what, 'providers holds a non-integer');
        return p;
      }),
      refreshIntervalS: clampRefreshInterval(interval),
      logLevel: typeof logLevel === 'string' && logLevel !== '' ? logLevel : undefined,
      managed: optionalString(o, 'managed', what, null),
    },
    generation: hasInterval ? '2026.2' : '2023.10',
  };
}

export function normalizeRootConfig(value: unknown): RootConfigInfo {
  const o = asObject(value, 'root config');
  // Every generation sends it; a missing value is tolerated with the core's default rather than failing start-up.
  return { cacheTimeoutFlows: optionalInt(o, 'cache_timeout_flows', 'root config', DEFAULT_CACHE_TIMEOUT_FLOWS_S) };
}

// ---- providers ----

function accessMode(o: JsonObject, key: string, what: string): AccessMode {
  const v = optionalString(o, key, what, 'direct');
  if (v !== 'direct' && v !== 'cached') throw bad(what, `field ${key} is neither "direct" nor "cached"`);
  return v;
}

export interface NormalizedLdapProvider {
  config: LdapProviderConfig;
  /** 2023.10 when the config carries the `search_group` key (removed in 2024.8). */
  generation: CoreGeneration;
}

export function normalizeLdapProvider(value: unknown): NormalizedLdapProvider {
  const o = asObject(value, 'ldap provider');
  const what = `ldap provider ${typeof o['pk'] === 'number' ? o['pk'] : '?'}`;
  return {
    config: {
      pk: requiredInt(o, 'pk', what),
      name: requiredString(o, 'name', what),
      baseDn: requiredString(o, 'base_dn', what),
      bindFlowSlug: requiredString(o, 'bind_flow_slug', what),
      unbindFlowSlug: optionalString(o, 'unbind_flow_slug', what, null),
      applicationSlug: requiredString(o, 'application_slug', what),
      certificate: optionalString(o, 'certificate', what, null),
      tlsServerName: optionalString(o, 'tls_server_name', what, ''),
      uidStartNumber: optionalInt(o, 'uid_start_number', what, 2000),
      gidStartNumber: optionalInt(o, 'gid_start_number', what, 4000),
      searchMode: accessMode(o, 'search_mode', what),
      bindMode: accessMode(o, 'bind_mode', what),
      mfaSupport: optionalBool(o, 'mfa_support', what, true),
      searchGroup: optionalString(o, 'search_group', what, null),
    },
    generation: 'search_group' in o ? '2023.10' : '2026.2',
  };
}

export function normalizeRadiusProvider(value: unknown): RadiusProviderConfig {
  const o = asObject(value, 'radius provider');
  const what = `radius provider ${typeof o['pk'] === 'number' ? o['pk'] : '?'}`;
  return {
    pk: requiredInt(o, 'pk', what),
    name: requiredString(o, 'name', what),
    applicationSlug: requiredString(o, 'application_slug', what),
    authFlowSlug: requiredString(o, 'auth_flow_slug', what),
    clientNetworks: optionalString(o, 'client_networks', what, '0.0.0.0/0, ::/0'),
    // Not defaulted: an empty secret would silently make the provider unusable.
    sharedSecret: requiredString(o, 'shared_secret', what),
    mfaSupport: optionalBool(o, 'mfa_support', what, true),
    certificate: optionalString(o, 'certificate', what, null),
  };
}

// ---- directory ----

function groupRef(value: unknown, what: string): GroupRef {
  const o = asObject(value, what);
  return { pk: requiredString(o, 'pk', what), name: requiredString(o, 'name', what) };
}

function userRef(value: unknown, what: string): UserRef {
  const o = asObject(value, what);
  return { pk: requiredInt(o, 'pk', what), username: requiredString(o, 'username', what) };
}

/** Membership references as pks only: `groups` (uuids) of a user, `users` (ints) of a group. */
export interface MembershipShape {
  pksOnly: boolean;
}

function groupPkRefs(o: JsonObject, what: string): GroupRef[] {
  return optionalArray(o, 'groups', what).map((pk) => {
    if (typeof pk !== 'string') throw bad(what, 'groups holds a non-string');
    return { pk, name: '' };
  });
}

function userPkRefs(o: JsonObject, what: string): UserRef[] {
  return optionalArray(o, 'users', what).map((pk) => {
    if (typeof pk !== 'number' || !Number.isSafeInteger(pk)) throw bad(what, 'users holds a non-integer');
    return { pk, username: '' };
  });
}

/** `groups` with pksOnly: the pks of `groups` (every generation sends them) with name '', groups_obj ignored. */
export function normalizeUser(value: unknown, membership?: MembershipShape): DirectoryUser {
  const o = asObject(value, 'user');
  const what = `user ${typeof o['pk'] === 'number' ? o['pk'] : '?'}`;
  return {
    pk: requiredInt(o, 'pk', what),
    username: requiredString(o, 'username', what),
    name: optionalString(o, 'name', what, ''),
    isActive: optionalBool(o, 'is_active', what, true),
    isSuperuser: optionalBool(o, 'is_superuser', what, false),
    email: optionalString(o, 'email', what, ''),
    uid: optionalString(o, 'uid', what, ''),
    attributes: optionalRecord(o, 'attributes', what),
    groups: membership?.pksOnly === true ? groupPkRefs(o, what) : optionalArray(o, 'groups_obj', what).map((g) => groupRef(g, `${what} groups_obj`)),
    dateJoined: optionalString(o, 'date_joined', what, undefined),
    lastUpdated: optionalString(o, 'last_updated', what, undefined),
    passwordChangeDate: optionalString(o, 'password_change_date', what, undefined),
  };
}

/** `users` with pksOnly: the pks of `users` (every generation sends them) with username '', users_obj ignored. */
export function normalizeGroup(value: unknown, membership?: MembershipShape): DirectoryGroup {
  const o = asObject(value, 'group');
  const what = `group ${typeof o['pk'] === 'string' ? o['pk'] : '?'}`;
  let parents = optionalArray(o, 'parents_obj', what).map((g) => groupRef(g, `${what} parents_obj`));
  // 2023.10 had a single parent (uuid + parent_name) instead of parents_obj.
  if (!('parents_obj' in o)) {
    const parent = optionalString(o, 'parent', what, null);
    if (parent !== null) parents = [{ pk: parent, name: optionalString(o, 'parent_name', what, '') }];
  }
  return {
    pk: requiredString(o, 'pk', what),
    numPk: requiredInt(o, 'num_pk', what),
    name: requiredString(o, 'name', what),
    isSuperuser: optionalBool(o, 'is_superuser', what, false),
    attributes: optionalRecord(o, 'attributes', what),
    users: membership?.pksOnly === true ? userPkRefs(o, what) : optionalArray(o, 'users_obj', what).map((u) => userRef(u, `${what} users_obj`)),
    parents,
    children: optionalArray(o, 'children_obj', what).map((g) => groupRef(g, `${what} children_obj`)),
  };
}

// ---- certificates ----

export function normalizeCertificate(value: unknown): CertificateInfo {
  const o = asObject(value, 'certificate');
  return { fingerprintSha256: optionalString(o, 'fingerprint_sha256', 'certificate', null) };
}

/** view_certificate / view_private_key: {"data": PEM}; null reads as ''. */
export function normalizeCertificateData(value: unknown, what: string): string {
  return optionalString(asObject(value, what), 'data', what, '');
}

// ---- session checks ----

export function normalizeSessionUser(value: unknown): SessionUserInfo {
  const o = asObject(value, 'users/me');
  const user = asObject(o['user'], 'users/me user');
  const what = 'users/me user';
  return {
    pk: requiredInt(user, 'pk', what),
    username: requiredString(user, 'username', what),
    groups: optionalArray(user, 'groups', what).map((g) => groupRef(g, `${what} groups`)),
  };
}

/** PolicyTestResult: only `passing` is read (messages are empty upstream). */
export function normalizePolicyResult(value: unknown, what: string): boolean {
  const o = asObject(value, what);
  if (typeof o['passing'] !== 'boolean') throw bad(what, 'field passing missing or not a boolean');
  return o['passing'];
}

export function normalizeLdapAccess(value: unknown): LdapAccess {
  const o = asObject(value, 'ldap check_access');
  return {
    passing: normalizePolicyResult(o['access'], 'ldap check_access.access'),
    hasSearchPermission: optionalBool(o, 'has_search_permission', 'ldap check_access', false),
  };
}

export function normalizeRadiusAccess(value: unknown): RadiusAccess {
  const o = asObject(value, 'radius check_access');
  const attributes = optionalString(o, 'attributes', 'radius check_access', null);
  return {
    passing: normalizePolicyResult(o['access'], 'radius check_access.access'),
    attributes: attributes === '' ? null : attributes,
  };
}
