/**
 * What the outpost reads from the core, normalised across core generations (2023.10 and 2026.x).
 * The core client maps the schema types (schema/v2023.d.ts, schema/v2026.d.ts) into these, reading
 * leniently (unknown fields ignored, null where an object was promised tolerated) and strictly only the
 * fields listed here. Providers and listeners depend on these types, never on the raw schema.
 */

export type CoreGeneration = '2023.10' | '2026.2';

export interface OutpostInfo {
  pk: string;
  name: string;
  type: string;
  providers: number[];
  /** Seconds; the core's value, or 300 when the core predates refresh_interval_s. */
  refreshIntervalS: number;
  /** config.log_level, when set. */
  logLevel: string | undefined;
  managed: string | null;
}

export interface RootConfigInfo {
  /** Seconds between flow warm-ups (cache_timeout_flows). */
  cacheTimeoutFlows: number;
}

export type AccessMode = 'direct' | 'cached';

export interface LdapProviderConfig {
  pk: number;
  name: string;
  /** As configured (original case). */
  baseDn: string;
  bindFlowSlug: string;
  unbindFlowSlug: string | null;
  applicationSlug: string;
  certificate: string | null;
  tlsServerName: string;
  uidStartNumber: number;
  gidStartNumber: number;
  searchMode: AccessMode;
  bindMode: AccessMode;
  mfaSupport: boolean;
  /** 2023.10 only: members of this group (direct membership) may search the whole directory. */
  searchGroup: string | null;
}

export interface RadiusProviderConfig {
  pk: number;
  name: string;
  applicationSlug: string;
  authFlowSlug: string;
  clientNetworks: string;
  sharedSecret: string;
  mfaSupport: boolean;
  certificate: string | null;
}

export interface GroupRef {
  pk: string;
  name: string;
}

export interface UserRef {
  pk: number;
  username: string;
}

export interface DirectoryUser {
  pk: number;
  username: string;
  name: string;
  isActive: boolean;
  isSuperuser: boolean;
  email: string;
  uid: string;
  attributes: Record<string, unknown>;
  /** Direct groups. */
  groups: GroupRef[];
  /** ISO 8601, when the core sends them. */
  dateJoined: string | undefined;
  lastUpdated: string | undefined;
  passwordChangeDate: string | undefined;
}

export interface DirectoryGroup {
  pk: string;
  numPk: number;
  name: string;
  isSuperuser: boolean;
  attributes: Record<string, unknown>;
  /** Direct user members. */
  users: UserRef[];
  parents: GroupRef[];
  children: GroupRef[];
}

/** Query parameters of /core/users/ the outpost uses (direct search translates filters into these). */
export interface UserQuery {
  username?: string;
  name?: string;
  email?: string;
  groupsByName?: string[];
  pageSize?: number;
  /**
   * Default true. false: groups_obj is not asked for and `groups` carries the direct groups' pks only (name '');
   * the caller resolves them (the cached directory does, from the group listing).
   */
  includeGroups?: boolean;
  /**
   * Ask for the next page while `onPage` works on this one (two requests in flight instead of one): the first
   * directory load, when nothing is served yet and the core's and the outpost's work may overlap.
   */
  readAhead?: boolean;
}

export interface GroupQuery {
  name?: string;
  membersByUsername?: string[];
  membersByPk?: number[];
  pageSize?: number;
  /**
   * Default true. false: users_obj is not asked for and `users` carries the direct members' pks only
   * (username ''); the caller resolves them (the cached directory does, from the user listing).
   */
  includeUsers?: boolean;
  /**
   * Ask for the next page while `onPage` works on this one (two requests in flight instead of one): the first
   * directory load, when nothing is served yet and the core's and the outpost's work may overlap.
   */
  readAhead?: boolean;
}

export interface CertificateInfo {
  fingerprintSha256: string | null;
}

export interface CertificatePair {
  fingerprintSha256: string | null;
  certificatePem: string;
  /** Empty when the core has no key for it (unusable for serving). */
  privateKeyPem: string;
}

/** Result of the post-flow access check, the same for both core generations. */
export interface LdapAccess {
  passing: boolean;
  hasSearchPermission: boolean;
}

export interface RadiusAccess {
  passing: boolean;
  /** base64 of a RADIUS packet whose attributes go into the Access-Accept; null when none. */
  attributes: string | null;
}

export interface SessionUserInfo {
  pk: number;
  username: string;
  groups: GroupRef[];
}
