/**
 * The in-memory Directory (model.ts) with its indexes. Built once per load by loader.ts and then read-only,
 * except outposts with their service accounts (admin API) and device state (TOTP last step, consumed static
 * tokens) that the flow engine updates in place.
 *
 * Every outpost owns a service account, as in authentik (Outpost.user): username `ak-outpost-<uuid hex>`, type
 * internal_service_account, name "Outpost <name> Service-Account", path goauthentik.io/outposts, no usable
 * password. It is a user like any other (listed by /core/users/, so an LDAP outpost shows it in ou=users) and
 * the owner of the outpost's token. A user of that name already in the file becomes the account, as authentik
 * takes over an existing user of that name.
 */
import type {
  CoreApplication,
  CoreCertificate,
  CoreFlow,
  CoreGroup,
  CoreOutpost,
  CoreProvider,
  CoreSettingsResolved,
  CoreUser,
  Directory,
} from '../model.js';
import { Instant, preciseNowMs } from '../time.js';
import { nameUuid, userUid } from './ids.js';

export interface DirectoryParts {
  settings: CoreSettingsResolved;
  /** Sorted by pk. */
  users: CoreUser[];
  groups: CoreGroup[];
  applications: CoreApplication[];
  providers: CoreProvider[];
  flows: CoreFlow[];
  certificates: CoreCertificate[];
  outposts: CoreOutpost[];
  /** UUIDs of outposts defined by the file (the rest were created through the admin API). */
  fileOutpostUuids: ReadonlySet<string>;
  /** True when admin_token was not in the file and was generated. */
  adminTokenGenerated: boolean;
  /** Static tokens as listed in the file, per user pk (to keep consumed tokens consumed across reloads). */
  staticTokenSource: ReadonlyMap<number, readonly string[]>;
  /** Load time: date_joined of new service accounts. */
  now: Instant;
  /** The directory being replaced: service accounts keep their pk (when free) and dates. */
  previous?: Directory;
}

/** authentik's USER_PATH_OUTPOSTS. */
export const OUTPOST_USER_PATH = 'goauthentik.io/outposts';

/** authentik's Outpost.user_identifier. */
export function outpostUsername(outpostUuid: string): string {
  return `ak-outpost-${outpostUuid.replace(/-/g, '')}`;
}

/** Case folding for authentik's `__iexact` lookups (PostgreSQL UPPER() = UPPER(); lower-casing is equivalent here). */
export function foldCase(value: string): string {
  return value.toLowerCase();
}

const EMPTY_NUMBERS: readonly number[] = Object.freeze([]);
const EMPTY_STRINGS: readonly string[] = Object.freeze([]);

export class EmbeddedDirectory implements Directory {
  readonly settings: CoreSettingsResolved;
  readonly users: ReadonlyMap<number, CoreUser>;
  readonly groups: ReadonlyMap<string, CoreGroup>;
  /** Keyed by slug. */
  readonly applications: ReadonlyMap<string, CoreApplication>;
  readonly providers: ReadonlyMap<number, CoreProvider>;
  /** Keyed by slug (providers and the executor refer to flows by slug). */
  readonly flows: ReadonlyMap<string, CoreFlow>;
  /** Keyed by UUID (providers refer to certificates by UUID). */
  readonly certificates: ReadonlyMap<string, CoreCertificate>;
  /** Keyed by UUID. */
  readonly outposts: ReadonlyMap<string, CoreOutpost>;
  readonly fileOutpostUuids: ReadonlySet<string>;
  readonly adminTokenGenerated: boolean;
  readonly staticTokenSource: ReadonlyMap<number, readonly string[]>;

  readonly #byUsername = new Map<string, CoreUser>();
  readonly #byUsernameFolded = new Map<string, CoreUser>();
  readonly #byEmailFolded = new Map<string, CoreUser>();
  readonly #byUpnFolded = new Map<string, CoreUser>();
  readonly #byGroupName = new Map<string, CoreGroup>();
  readonly #members = new Map<string, number[]>();
  readonly #children = new Map<string, string[]>();
  readonly #appByProvider = new Map<number, CoreApplication>();
  /** Lazily computed ancestor lists per group (cycle-safe BFS), reused by effectiveGroups(). */
  readonly #ancestorCache = new Map<string, readonly string[]>();
  readonly #userMap: Map<number, CoreUser>;
  readonly #outpostMap: Map<string, CoreOutpost>;
  /** Outpost UUID -> pk of its service account. */
  readonly #outpostUsers = new Map<string, number>();
  #maxUserPk = 0;
  #revisionCounter = 0;

  constructor(parts: DirectoryParts) {
    this.settings = parts.settings;
    this.fileOutpostUuids = parts.fileOutpostUuids;
    this.adminTokenGenerated = parts.adminTokenGenerated;
    this.staticTokenSource = parts.staticTokenSource;
    this.#userMap = new Map(parts.users.map((u) => [u.pk, u]));
    this.users = this.#userMap;
    this.groups = new Map(parts.groups.map((g) => [g.pk, g]));
    this.applications = new Map(parts.applications.map((a) => [a.slug, a]));
    this.providers = new Map(parts.providers.map((p) => [p.pk, p]));
    this.flows = new Map(parts.flows.map((f) => [f.slug, f]));
    this.certificates = new Map(parts.certificates.map((c) => [c.uuid, c]));
    this.#outpostMap = new Map(parts.outposts.map((o) => [o.uuid, o]));
    this.outposts = this.#outpostMap;

    for (const group of parts.groups) {
      this.#byGroupName.set(group.name, group);
      for (const parent of group.parents) {
        const list = this.#children.get(parent);
        if (list === undefined) this.#children.set(parent, [group.pk]);
        else list.push(group.pk);
      }
    }
    // Users arrive sorted by pk, so "first match wins" below is authentik's `.first()` (lowest pk).
    for (const user of parts.users) {
      this.#byUsername.set(user.username, user);
      setIfAbsent(this.#byUsernameFolded, foldCase(user.username), user);
      if (user.email !== '') setIfAbsent(this.#byEmailFolded, foldCase(user.email), user);
      const upn = upnOf(user);
      if (upn !== '') setIfAbsent(this.#byUpnFolded, foldCase(upn), user);
      for (const groupPk of user.groups) {
        const list = this.#members.get(groupPk);
        if (list === undefined) this.#members.set(groupPk, [user.pk]);
        else list.push(user.pk);
      }
      this.#maxUserPk = Math.max(this.#maxUserPk, user.pk);
    }
    for (const app of parts.applications) {
      if (app.providerPk !== null) this.#appByProvider.set(app.providerPk, app);
    }
    // Accounts of the previous load keep their dates, and their pk while it is free, so a reload does not renumber them.
    const previousAccounts = new Map<string, CoreUser>();
    for (const outpost of parts.outposts) {
      const previousUser = parts.previous?.outpostUser(outpost.uuid);
      if (previousUser === undefined) continue;
      previousAccounts.set(outpost.uuid, previousUser);
      if (!this.#userMap.has(previousUser.pk)) this.#maxUserPk = Math.max(this.#maxUserPk, previousUser.pk);
    }
    for (const outpost of parts.outposts) this.#addServiceAccount(outpost, parts.now, previousAccounts.get(outpost.uuid));
  }

  get revision(): number {
    return this.#revisionCounter;
  }

  putOutpost(outpost: CoreOutpost): void {
    this.#outpostMap.set(outpost.uuid, outpost);
    const user = this.outpostUser(outpost.uuid);
    if (user === undefined) this.#addServiceAccount(outpost, Instant.fromEpochMs(preciseNowMs()), undefined);
    else user.name = serviceAccountName(outpost);
    this.#revisionCounter++;
  }

  removeOutpost(uuid: string): void {
    if (!this.#outpostMap.delete(uuid)) return;
    const user = this.outpostUser(uuid);
    this.#outpostUsers.delete(uuid);
    if (user !== undefined) this.#removeUser(user);
    this.#revisionCounter++;
  }

  outpostUser(outpostUuid: string): CoreUser | undefined {
    const pk = this.#outpostUsers.get(outpostUuid);
    return pk === undefined ? undefined : this.#userMap.get(pk);
  }

  /** Outpost.user: creates the account, or takes over a user of that name (authentik's get-or-create). */
  #addServiceAccount(outpost: CoreOutpost, now: Instant, previous: CoreUser | undefined): void {
    const username = outpostUsername(outpost.uuid);
    const existing = this.#byUsername.get(username);
    if (existing !== undefined) {
      existing.type = 'internal_service_account';
      existing.name = serviceAccountName(outpost);
      existing.path = OUTPOST_USER_PATH;
      existing.passwordHash = null;
      this.#outpostUsers.set(outpost.uuid, existing.pk);
      return;
    }
    const pk = previous !== undefined && !this.#userMap.has(previous.pk) ? previous.pk : ++this.#maxUserPk;
    const user: CoreUser = {
      pk,
      uuid: nameUuid('user', username),
      uid: userUid(pk, this.settings.installId),
      username,
      name: serviceAccountName(outpost),
      email: '',
      passwordHash: null,
      passwordChangeDate: previous?.passwordChangeDate ?? now,
      dateJoined: previous?.dateJoined ?? now,
      lastUpdated: previous?.lastUpdated ?? now,
      isActive: true,
      isSuperuser: false,
      type: 'internal_service_account',
      path: OUTPOST_USER_PATH,
      attributes: {},
      groups: [],
      totp: [],
      staticTokens: [],
      duo: [],
      searchFullDirectory: false,
    };
    this.#userMap.set(pk, user);
    this.#byUsername.set(username, user);
    const folded = foldCase(username);
    const holder = this.#byUsernameFolded.get(folded);
    if (holder === undefined || holder.pk > pk) this.#byUsernameFolded.set(folded, user);
    this.#outpostUsers.set(outpost.uuid, pk);
  }

  #removeUser(user: CoreUser): void {
    this.#userMap.delete(user.pk);
    this.#byUsername.delete(user.username);
    this.#unindexFolded(this.#byUsernameFolded, user, (u) => u.username);
    this.#unindexFolded(this.#byEmailFolded, user, (u) => u.email);
    this.#unindexFolded(this.#byUpnFolded, user, upnOf);
    for (const groupPk of user.groups) {
      const list = this.#members.get(groupPk);
      const at = list?.indexOf(user.pk) ?? -1;
      if (list !== undefined && at >= 0) list.splice(at, 1);
    }
  }

  /** Drops a user from a case-folded index; the next lowest pk with the same key takes its place. */
  #unindexFolded(index: Map<string, CoreUser>, user: CoreUser, keyOf: (u: CoreUser) => string): void {
    const folded = foldCase(keyOf(user));
    if (folded === '' || index.get(folded) !== user) return;
    index.delete(folded);
    let next: CoreUser | undefined;
    for (const other of this.#userMap.values()) {
      if (foldCase(keyOf(other)) === folded && (next === undefined || other.pk < next.pk)) next = other;
    }
    if (next !== undefined) index.set(folded, next);
  }

  /** Exact, case-sensitive (the API's `?username=` filter). */
  userByUsername(username: string): CoreUser | undefined {
    return this.#byUsername.get(username);
  }

  /** Case-insensitive; the lowest pk wins when several users share an address (authentik allows that). */
  userByEmail(email: string): CoreUser | undefined {
    if (email === '') return undefined;
    return this.#byEmailFolded.get(foldCase(email));
  }

  /** Case-insensitive username lookup (identification stage with case_insensitive_matching, authentik's default). */
  userByUsernameFolded(username: string): CoreUser | undefined {
    return this.#byUsernameFolded.get(foldCase(username));
  }

  /** Case-insensitive match on `attributes.upn` (identification stage field "upn"). */
  userByUpnFolded(upn: string): CoreUser | undefined {
    if (upn === '') return undefined;
    return this.#byUpnFolded.get(foldCase(upn));
  }

  groupByName(name: string): CoreGroup | undefined {
    return this.#byGroupName.get(name);
  }

  groupUsers(groupPk: string): readonly number[] {
    return this.#members.get(groupPk) ?? EMPTY_NUMBERS;
  }

  groupChildren(groupPk: string): readonly string[] {
    return this.#children.get(groupPk) ?? EMPTY_STRINGS;
  }

  /** Every ancestor of a group (parents, their parents, ...), excluding the group unless it is in a cycle. */
  groupAncestors(groupPk: string): readonly string[] {
    const cached = this.#ancestorCache.get(groupPk);
    if (cached !== undefined) return cached;
    const seen = new Set<string>();
    const queue = [...(this.groups.get(groupPk)?.parents ?? [])];
    for (let i = 0; i < queue.length; i++) {
      const pk = queue[i]!;
      if (seen.has(pk)) continue;
      seen.add(pk);
      for (const parent of this.groups.get(pk)?.parents ?? []) if (!seen.has(parent)) queue.push(parent);
    }
    const result = Object.freeze([...seen]);
    this.#ancestorCache.set(groupPk, result);
    return result;
  }

  effectiveGroups(userPk: number): ReadonlySet<string> {
    const user = this.users.get(userPk);
    const result = new Set<string>();
    if (user === undefined) return result;
    for (const groupPk of user.groups) {
      result.add(groupPk);
      for (const ancestor of this.groupAncestors(groupPk)) result.add(ancestor);
    }
    return result;
  }

  applicationOfProvider(providerPk: number): CoreApplication | undefined {
    return this.#appByProvider.get(providerPk);
  }
}

function upnOf(user: CoreUser): string {
  const upn = user.attributes['upn'];
  return typeof upn === 'string' ? upn : '';
}

function serviceAccountName(outpost: CoreOutpost): string {
  return `Outpost ${outpost.name} Service-Account`;
}

function setIfAbsent<K, V>(map: Map<K, V>, key: K, value: V): void {
  if (!map.has(key)) map.set(key, value);
}

/**
 * authentik's superuser status: the user's own flag or any effective group with is_superuser (authentik derives
 * it from groups, including inherited ones).
 */
export function isEffectiveSuperuser(directory: Directory, user: CoreUser): boolean {
  if (user.isSuperuser) return true;
  for (const groupPk of directory.effectiveGroups(user.pk)) {
    if (directory.groups.get(groupPk)?.isSuperuser === true) return true;
  }
  return false;
}
