/**
 * The in-memory Directory (model.ts) with its indexes. Built once per load by loader.ts and then read-only,
 * except `outposts` (admin API) and device state (TOTP last step, consumed static tokens) that the flow
 * engine updates in place.
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
  readonly outposts: Map<string, CoreOutpost>;
  readonly fileOutpostUuids: ReadonlySet<string>;
  readonly adminTokenGenerated: boolean;
  readonly staticTokenSource: ReadonlyMap<number, readonly string[]>;

  private readonly byUsername = new Map<string, CoreUser>();
  private readonly byUsernameFolded = new Map<string, CoreUser>();
  private readonly byEmailFolded = new Map<string, CoreUser>();
  private readonly byUpnFolded = new Map<string, CoreUser>();
  private readonly byGroupName = new Map<string, CoreGroup>();
  private readonly members = new Map<string, number[]>();
  private readonly children = new Map<string, string[]>();
  private readonly appByProvider = new Map<number, CoreApplication>();
  /** Lazily computed ancestor lists per group (cycle-safe BFS), reused by effectiveGroups(). */
  private readonly ancestorCache = new Map<string, readonly string[]>();

  constructor(parts: DirectoryParts) {
    this.settings = parts.settings;
    this.fileOutpostUuids = parts.fileOutpostUuids;
    this.adminTokenGenerated = parts.adminTokenGenerated;
    this.staticTokenSource = parts.staticTokenSource;
    this.users = new Map(parts.users.map((u) => [u.pk, u]));
    this.groups = new Map(parts.groups.map((g) => [g.pk, g]));
    this.applications = new Map(parts.applications.map((a) => [a.slug, a]));
    this.providers = new Map(parts.providers.map((p) => [p.pk, p]));
    this.flows = new Map(parts.flows.map((f) => [f.slug, f]));
    this.certificates = new Map(parts.certificates.map((c) => [c.uuid, c]));
    this.outposts = new Map(parts.outposts.map((o) => [o.uuid, o]));

    for (const group of parts.groups) {
      this.byGroupName.set(group.name, group);
      for (const parent of group.parents) {
        const list = this.children.get(parent);
        if (list === undefined) this.children.set(parent, [group.pk]);
        else list.push(group.pk);
      }
    }
    // Users arrive sorted by pk, so "first match wins" below is authentik's `.first()` (lowest pk).
    for (const user of parts.users) {
      this.byUsername.set(user.username, user);
      setIfAbsent(this.byUsernameFolded, foldCase(user.username), user);
      if (user.email !== '') setIfAbsent(this.byEmailFolded, foldCase(user.email), user);
      const upn = user.attributes['upn'];
      if (typeof upn === 'string' && upn !== '') setIfAbsent(this.byUpnFolded, foldCase(upn), user);
      for (const groupPk of user.groups) {
        const list = this.members.get(groupPk);
        if (list === undefined) this.members.set(groupPk, [user.pk]);
        else list.push(user.pk);
      }
    }
    for (const app of parts.applications) {
      if (app.providerPk !== null) this.appByProvider.set(app.providerPk, app);
    }
  }

  /** Exact, case-sensitive (the API's `?username=` filter). */
  userByUsername(username: string): CoreUser | undefined {
    return this.byUsername.get(username);
  }

  /** Case-insensitive; the lowest pk wins when several users share an address (authentik allows that). */
  userByEmail(email: string): CoreUser | undefined {
    if (email === '') return undefined;
    return this.byEmailFolded.get(foldCase(email));
  }

  /** Case-insensitive username lookup (identification stage with case_insensitive_matching, authentik's default). */
  userByUsernameFolded(username: string): CoreUser | undefined {
    return this.byUsernameFolded.get(foldCase(username));
  }

  /** Case-insensitive match on `attributes.upn` (identification stage field "upn"). */
  userByUpnFolded(upn: string): CoreUser | undefined {
    if (upn === '') return undefined;
    return this.byUpnFolded.get(foldCase(upn));
  }

  groupByName(name: string): CoreGroup | undefined {
    return this.byGroupName.get(name);
  }

  groupUsers(groupPk: string): readonly number[] {
    return this.members.get(groupPk) ?? EMPTY_NUMBERS;
  }

  groupChildren(groupPk: string): readonly string[] {
    return this.children.get(groupPk) ?? EMPTY_STRINGS;
  }

  /** Every ancestor of a group (parents, their parents, ...), excluding the group unless it is in a cycle. */
  groupAncestors(groupPk: string): readonly string[] {
    const cached = this.ancestorCache.get(groupPk);
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
    this.ancestorCache.set(groupPk, result);
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
    return this.appByProvider.get(providerPk);
  }
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
