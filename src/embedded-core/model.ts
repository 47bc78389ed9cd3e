/**
 * The embedded core's in-memory model: what the directory file becomes after loading (directory/loader.ts).
 * Shared by the flow engine (flows/) and the HTTP API (api/). A directory reload builds a new Directory and
 * swaps it in whole; outposts are the only records the admin API mutates in place.
 */
import type { RadiusPropertyMappingSpec, StageBindingKey, StageParsed } from './directory/types.js';
import type { Instant } from './time.js';

export type Generation = '2023.10' | '2026.2';

export interface CoreSettingsResolved {
  generation: Generation;
  version: string;
  installId: string;
  cacheTimeoutFlows: number;
  adminToken: string;
  defaultAppAccess: boolean;
  flowInvalidation: string | null;
}

export interface TotpDevice { pk: number; name: string; secret: Buffer; digits: 6 | 8; lastUsedStep: number; lastUsed: Instant | null }
export interface StaticDevice { pk: number; name: string; tokens: Set<string>; lastUsed: Instant | null }
export interface DuoDevice { pk: number; name: string; autoApprove: boolean; lastUsed: Instant | null }

export interface CoreUser {
  pk: number;
  uuid: string;
  /** hex sha256("<pk>-<install id>") */
  uid: string;
  username: string;
  name: string;
  email: string;
  /** Django hash string, or null for "no usable password". */
  passwordHash: string | null;
  passwordChangeDate: Instant;
  dateJoined: Instant;
  lastUpdated: Instant;
  isActive: boolean;
  isSuperuser: boolean;
  type: 'internal' | 'external' | 'service_account' | 'internal_service_account';
  path: string;
  attributes: Record<string, unknown>;
  /** Direct group pks. */
  groups: string[];
  totp: TotpDevice[];
  staticTokens: StaticDevice[];
  duo: DuoDevice[];
  /** Global search_full_directory permission. */
  searchFullDirectory: boolean;
}

export interface CoreGroup {
  pk: string;
  /** authentik: int32 from the first digits of the UUID's integer. */
  numPk: number;
  name: string;
  isSuperuser: boolean;
  parents: string[];
  attributes: Record<string, unknown>;
  searchFullDirectory: boolean;
}

export interface CoreApplication {
  pk: string;
  slug: string;
  name: string;
  providerPk: number | null;
  allowedGroups: string[];
  allowedUsers: number[];
}

interface CoreProviderCommon {
  pk: number;
  name: string;
  authorizationFlow: string;
  invalidationFlow: string | null;
  certificate: string | null;
  mfaSupport: boolean;
}

export interface CoreLdapProvider extends CoreProviderCommon {
  type: 'ldap';
  baseDn: string;
  tlsServerName: string;
  uidStartNumber: number;
  gidStartNumber: number;
  searchMode: 'direct' | 'cached';
  bindMode: 'direct' | 'cached';
  searchGroup: string | null;
  searchFullDirectoryUsers: number[];
  searchFullDirectoryGroups: string[];
}

export interface CoreRadiusProvider extends CoreProviderCommon {
  type: 'radius';
  sharedSecret: string;
  clientNetworks: string;
  propertyMappings: RadiusPropertyMappingSpec[];
}

export type CoreProvider = CoreLdapProvider | CoreRadiusProvider;

export interface CoreOutpost {
  uuid: string;
  name: string;
  type: 'ldap' | 'radius' | 'proxy' | 'rac';
  providers: number[];
  token: string;
  config: Record<string, unknown>;
  managed: string | null;
}

/**
 * authentik's PolicyBinding of a group (passes for its members, direct or through a child group) or of a user
 * (passes for that user). Only enabled bindings are kept, sorted by order.
 */
export type CorePolicyBinding = { negate: boolean; order: number } & ({ group: string } | { user: number });

/** The bindings of one target (a flow, a stage binding) and how their results combine. */
export interface CorePolicies {
  mode: 'any' | 'all';
  bindings: CorePolicyBinding[];
}

/** authentik's FlowStageBinding: when its policies are checked. */
export interface CoreStageBinding {
  evaluateOnPlan: boolean;
  reEvaluatePolicies: boolean;
  policies: CorePolicies;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** A flow's stage as the schema returns it (defaults filled), named, with its binding resolved. */
export type CoreStage = DistributiveOmit<StageParsed, StageBindingKey> & { name: string; binding: CoreStageBinding };

export interface CoreFlow {
  pk: string;
  slug: string;
  name: string;
  title: string;
  designation: 'authentication' | 'invalidation' | 'authorization';
  authentication: 'none' | 'require_authenticated' | 'require_unauthenticated' | 'require_superuser' | 'require_outpost';
  /** Checked when the flow is planned. */
  policies: CorePolicies;
  stages: CoreStage[];
}

export interface CoreCertificate {
  uuid: string;
  name: string;
  certificatePem: string;
  privateKeyPem: string;
  fingerprintSha256: string;
  fingerprintSha1: string;
  notAfter: Date;
  subject: string;
}

/** Read-mostly view of the directory; one instance per load. */
export interface Directory {
  readonly settings: CoreSettingsResolved;
  readonly users: ReadonlyMap<number, CoreUser>;
  readonly groups: ReadonlyMap<string, CoreGroup>;
  readonly applications: ReadonlyMap<string, CoreApplication>;
  readonly providers: ReadonlyMap<number, CoreProvider>;
  readonly flows: ReadonlyMap<string, CoreFlow>;
  readonly certificates: ReadonlyMap<string, CoreCertificate>;
  /** Changed through putOutpost/removeOutpost (admin API); a reload keeps instances created there. */
  readonly outposts: ReadonlyMap<string, CoreOutpost>;
  /** Bumped whenever users or outposts change after the load (lookup tables built on them are rebuilt). */
  readonly revision: number;
  /** Adds an outpost or takes note of changes to one, creating or renaming its service account. */
  putOutpost(outpost: CoreOutpost): void;
  /** Removes an outpost and its service account (authentik deletes the user, and the token with it). */
  removeOutpost(uuid: string): void;
  /** The outpost's service account (`ak-outpost-<uuid hex>`), owner of its token. */
  outpostUser(outpostUuid: string): CoreUser | undefined;
  userByUsername(username: string): CoreUser | undefined;
  userByEmail(email: string): CoreUser | undefined;
  groupByName(name: string): CoreGroup | undefined;
  /** Direct members of a group. */
  groupUsers(groupPk: string): readonly number[];
  groupChildren(groupPk: string): readonly string[];
  /** Direct groups plus every ancestor (authentik's effective membership for policies). */
  effectiveGroups(userPk: number): ReadonlySet<string>;
  applicationOfProvider(providerPk: number): CoreApplication | undefined;
}
