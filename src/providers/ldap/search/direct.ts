/**
 * Direct search mode (no cache): each search asks the core for what the filter can narrow down, builds a small
 * snapshot of the answer and runs the same engine on it, so results are always re-filtered in memory and match
 * cached mode exactly (for the data fetched).
 *
 * Translation (reference 3.6, with its bugs fixed): only equality items at the top level or inside a top-level
 * AND narrow the query; everything else is fetched in full. Attribute names are case-insensitive (aliases and
 * OIDs too). Users: cn / sAMAccountName -> username, displayName / name -> name, mail -> email, memberOf = a group
 * DN -> groups_by_name, memberOf = a virtual group DN -> that username, member = a user DN -> that username (its
 * virtual group). Groups: cn / sAMAccountName -> name, member = a user DN -> members_by_username. A value that
 * cannot match (a memberOf naming a user, a member naming a virtual group, an invalid DN, two different usernames)
 * skips the request: no entries of that kind.
 *
 * The core matches exactly and case-sensitively, LDAP does not: when a narrowed query finds nothing, it is asked
 * once more without narrowing and the in-memory filter decides, so `(cn=ALICE)` or a base `cn=Alice,ou=users,...`
 * finds `alice` as in cached mode (a miss costs one full listing, like any filter that cannot be narrowed; two
 * names differing only in case are both found only when the exact one does not exist).
 * A group name that does not exist makes the core answer 400; that becomes "no entries", not an error.
 */
import type { CoreApi } from '../../../core-api/port.js';
import type { DirectoryGroup, DirectoryUser, GroupQuery, UserQuery } from '../../../core-api/model.js';
import { CoreError } from '../../../errors.js';
import { assertionText, type Filter } from '../../../protocol/ldap/filter.js';
import { tryParseDn, normalizedRdns } from '../../../protocol/ldap/dn.js';
import { buildSnapshotFromData, type SnapshotProvider } from '../../../directory/build.js';
import { DirectoryLayout, GROUP_OBJECT_CLASSES, USER_OBJECT_CLASSES, VIRTUAL_GROUP_OBJECT_CLASSES } from '../../../directory/entries.js';
import { attributeKey } from '../../../directory/attributes.js';
import { IN_CHAIN_RULE } from '../../../directory/compile.js';
import { normalizeDnValue } from '../../../directory/matching.js';
import type { SearchQuery, SearchResult, Viewer } from '../../../directory/types.js';

type DnKind = { kind: 'user' | 'group' | 'virtualGroup'; name: string } | { kind: 'other' } | { kind: 'invalid' };

/** What a DN names in the provider's tree (or, without a layout, by its second RDN like the reference). */
function classifyDn(value: string, layout: DirectoryLayout | undefined): DnKind {
  const dn = tryParseDn(value);
  if (dn === null) return { kind: 'invalid' };
  const first = dn[0];
  if (dn.length < 2 || first === undefined || first.length !== 1 || first[0]!.type.toLowerCase() !== 'cn') return { kind: 'other' };
  const name = first[0]!.value;
  const parent = normalizedRdns(dn.slice(1)).join(',');
  if (layout !== undefined) {
    if (parent === layout.usersDn) return { kind: 'user', name };
    if (parent === layout.groupsDn) return { kind: 'group', name };
    if (parent === layout.virtualGroupsDn) return { kind: 'virtualGroup', name };
    return { kind: 'other' };
  }
  const container = normalizedRdns(dn.slice(1, 2))[0];
  if (container === 'ou=users') return { kind: 'user', name };
  if (container === 'ou=groups') return { kind: 'group', name };
  if (container === 'ou=virtual-groups') return { kind: 'virtualGroup', name };
  return { kind: 'other' };
}

/** Equality items that must all hold: the filter itself, or the children of (nested) top-level ANDs. */
function conjunctEqualities(filter: Filter, out: { type: string; value: string }[] = []): { type: string; value: string }[] {
  if (filter.kind === 'equalityMatch') out.push({ type: attributeKey(filter.type), value: assertionText(filter.value) });
  else if (filter.kind === 'and') for (const child of filter.filters) conjunctEqualities(child, out);
  return out;
}

/**
 * Query parameters for one kind, or null when no entry of that kind can match (skip the request). The caller
 * still filters the answer in memory.
 */
export function filterToCoreQuery(filter: Filter, kind: 'user', layout?: DirectoryLayout): UserQuery | null;
export function filterToCoreQuery(filter: Filter, kind: 'group', layout?: DirectoryLayout): GroupQuery | null;
export function filterToCoreQuery(filter: Filter, kind: 'user' | 'group', layout?: DirectoryLayout): UserQuery | GroupQuery | null {
  const user: UserQuery = {};
  const group: GroupQuery = {};
  const setOnce = <T extends object, K extends keyof T>(target: T, key: K, value: T[K]): boolean => {
    // LDAP compares these names case-insensitively: `(&(cn=a)(cn=A))` can still match.
    if (target[key] !== undefined && !sameText(target[key], value)) return false;
    target[key] = value;
    return true;
  };
  for (const { type, value } of conjunctEqualities(filter)) {
    if (kind === 'user') {
      if (type === 'cn' || type === 'samaccountname') {
        if (!setOnce(user, 'username', value)) return null;
      } else if (type === 'displayname' || type === 'name') {
        if (!setOnce(user, 'name', value)) return null;
      } else if (type === 'mail') {
        if (!setOnce(user, 'email', value)) return null;
      } else if (type === 'member') {
        // Users have no member attribute, but the virtual groups built from them do: their only member is the user.
        const target = classifyDn(value, layout);
        if (target.kind !== 'user' || !setOnce(user, 'username', target.name)) return null;
      } else if (type === 'memberof') {
        const target = classifyDn(value, layout);
        if (target.kind === 'group') (user.groupsByName ??= []).push(target.name);
        else if (target.kind === 'virtualGroup') {
          if (!setOnce(user, 'username', target.name)) return null;
        } else return null;
      }
    } else {
      if (type === 'cn' || type === 'samaccountname') {
        if (!setOnce(group, 'name', value)) return null;
      } else if (type === 'member') {
        const target = classifyDn(value, layout);
        if (target.kind === 'user') (group.membersByUsername ??= []).push(target.name);
        else if (target.kind !== 'group') return null; // child groups are filtered in memory
      } else if (type === 'memberof') {
        const target = classifyDn(value, layout);
        if (target.kind !== 'group') return null; // parent groups are filtered in memory
      }
    }
  }
  return kind === 'user' ? user : group;
}

const sameText = (a: unknown, b: unknown): boolean =>
  a === b || (typeof a === 'string' && typeof b === 'string' && a.toLowerCase() === b.toLowerCase());

// ---------------------------------------------------------------------------------------------------------
// Which kinds of entries a filter can return (decides which API calls to make)

const F = 1;
const T = 2;
const U = 4;
const ANY = F | T | U;

function combine(a: number, b: number, op: (x: number, y: number) => number): number {
  let out = 0;
  for (const x of [F, T, U]) if (a & x) for (const y of [F, T, U]) if (b & y) out |= op(x, y);
  return out;
}
const and3 = (x: number, y: number): number => (x === F || y === F ? F : x === U || y === U ? U : T);
const or3 = (x: number, y: number): number => (x === T || y === T ? T : x === U || y === U ? U : F);

/** Possible outcomes of the filter on an entry with these object classes (everything else unknown). */
function outcomes(filter: Filter, classes: ReadonlySet<string>): number {
  switch (filter.kind) {
    case 'and':
      return filter.filters.reduce((acc, f) => combine(acc, outcomes(f, classes), and3), T);
    case 'or':
      return filter.filters.reduce((acc, f) => combine(acc, outcomes(f, classes), or3), F);
    case 'not': {
      const inner = outcomes(filter.filter, classes);
      return (inner & F ? T : 0) | (inner & T ? F : 0) | (inner & U);
    }
    case 'equalityMatch':
      if (attributeKey(filter.type) === 'objectclass') return classes.has(assertionText(filter.value).toLowerCase()) ? T : F;
      return ANY;
    case 'present':
      return attributeKey(filter.type) === 'objectclass' ? T : ANY;
    default:
      return ANY;
  }
}

const lowerSet = (values: readonly string[]): ReadonlySet<string> => new Set(values.map((v) => v.toLowerCase()));
const USER_CLASSES = lowerSet(USER_OBJECT_CLASSES);
const GROUP_CLASSES = lowerSet(GROUP_OBJECT_CLASSES);
const VIRTUAL_GROUP_CLASSES = lowerSet(VIRTUAL_GROUP_OBJECT_CLASSES);

export interface NeededKinds {
  users: boolean;
  groups: boolean;
  virtualGroups: boolean;
}

/**
 * Kinds of entries the filter can return, from the whole filter (an OR of object classes gives both kinds; a
 * NOT of a class no entry has excludes nothing). Assumes entries carry their default object classes.
 */
export function kindsForFilter(filter: Filter): NeededKinds {
  return {
    users: (outcomes(filter, USER_CLASSES) & T) !== 0,
    groups: (outcomes(filter, GROUP_CLASSES) & T) !== 0,
    virtualGroups: (outcomes(filter, VIRTUAL_GROUP_CLASSES) & T) !== 0,
  };
}

/** Kinds below a search base (all three at the base or above it, one inside a container, none elsewhere). */
export function kindsForBase(baseObject: string, layout: DirectoryLayout): NeededKinds {
  const key = normalizeDnValue(baseObject);
  const none = { users: false, groups: false, virtualGroups: false };
  if (key === null) return none;
  const under = (dn: string): boolean => key === dn || key.endsWith(',' + dn);
  if (under(layout.usersDn)) return { ...none, users: true };
  if (under(layout.groupsDn)) return { ...none, groups: true };
  if (under(layout.virtualGroupsDn)) return { ...none, virtualGroups: true };
  if (key === layout.baseDn) return { users: true, groups: true, virtualGroups: true };
  return none;
}

/** Whether the filter uses LDAP_MATCHING_RULE_IN_CHAIN anywhere. */
export function usesInChain(filter: Filter): boolean {
  switch (filter.kind) {
    case 'and':
    case 'or':
      return filter.filters.some(usesInChain);
    case 'not':
      return usesInChain(filter.filter);
    case 'extensibleMatch':
      return filter.matchingRule === IN_CHAIN_RULE;
    default:
      return false;
  }
}

// ---------------------------------------------------------------------------------------------------------
// The search

export interface DirectSearchDeps {
  core: Pick<CoreApi, 'forEachUserPage' | 'forEachGroupPage' | 'getUser'>;
  provider: SnapshotProvider;
  /** ldap.page_size. */
  pageSize?: number;
  signal?: AbortSignal;
}

/** A 400 for a query naming a group or member that does not exist means "nothing matches". */
async function fetchAll<T>(fetch: (onPage: (page: T[]) => void) => Promise<void>, namesObjects: boolean): Promise<T[]> {
  const out: T[] = [];
  try {
    await fetch((page) => {
      for (const item of page) out.push(item);
    });
  } catch (error) {
    if (namesObjects && error instanceof CoreError && error.kind === 'http_status' && error.status === 400) return [];
    throw error;
  }
  return out;
}

/** Fetches narrowed; when that finds nothing, once more unnarrowed (exact core matching, see the header). */
async function fetchWidening<T>(narrowed: boolean, fetch: (narrow: boolean) => Promise<T[]>): Promise<T[]> {
  const found = await fetch(true);
  return found.length > 0 || !narrowed ? found : fetch(false);
}

/**
 * Runs a search against the core. Rejects with CoreError when the core fails (the caller answers
 * operationsError); every client-side problem is a result code.
 */
export async function searchDirect(deps: DirectSearchDeps, query: SearchQuery, viewer: Viewer): Promise<SearchResult> {
  const layout = new DirectoryLayout(deps.provider.baseDn);
  const byFilter = kindsForFilter(query.filter);
  const byBase = kindsForBase(query.baseObject, layout);
  const inChain = usesInChain(query.filter);
  const needUsers = (byFilter.users && byBase.users) || (byFilter.virtualGroups && byBase.virtualGroups);
  const needGroups = (byFilter.groups && byBase.groups) || (inChain && needUsers);
  const page = deps.pageSize === undefined ? {} : { pageSize: deps.pageSize };
  const { core, signal } = deps;

  let users: Promise<DirectoryUser[]>;
  let groups: Promise<DirectoryGroup[]>;
  if (viewer.canSearch) {
    // A base naming one entry narrows like an equality on its name.
    const base = classifyDn(query.baseObject, layout);
    const byName = (q: { username?: string } | { name?: string } | null, key: 'username' | 'name', name: string): typeof q => {
      if (q === null) return null;
      const current = (q as Record<string, string | undefined>)[key];
      return current !== undefined && !sameText(current, name) ? null : { ...q, [key]: current ?? name };
    };
    let userQuery = needUsers ? filterToCoreQuery(query.filter, 'user', layout) : null;
    if (base.kind === 'user' || base.kind === 'virtualGroup') userQuery = byName(userQuery, 'username', base.name);
    // In-chain needs the whole hierarchy, so groups are not narrowed then.
    let groupQuery = needGroups ? (inChain ? {} : filterToCoreQuery(query.filter, 'group', layout)) : null;
    if (base.kind === 'group' && !inChain) groupQuery = byName(groupQuery, 'name', base.name) as GroupQuery | null;
    const uq = userQuery; // const copies: the closures below need the narrowed (non-null) types
    const gq = groupQuery;
    users =
      uq === null
        ? Promise.resolve([])
        : fetchWidening(Object.keys(uq).length > 0, (narrow) =>
            fetchAll<DirectoryUser>((onPage) => core.forEachUserPage({ ...(narrow ? uq : {}), ...page }, onPage), narrow && uq.groupsByName !== undefined),
          );
    groups =
      gq === null
        ? Promise.resolve([])
        : fetchWidening(Object.keys(gq).length > 0, (narrow) =>
            fetchAll<DirectoryGroup>((onPage) => core.forEachGroupPage({ ...(narrow ? gq : {}), ...page }, onPage), narrow && gq.membersByUsername !== undefined),
          );
  } else {
    // A user without search permission sees only itself and its own groups (reference 3.7).
    users = core.getUser(viewer.userPk).then((u) => [u]);
    groups = fetchAll<DirectoryGroup>((onPage) => core.forEachGroupPage({ membersByPk: [viewer.userPk], ...page }, onPage), false);
  }
  const [userList, groupList] = await Promise.all([users, groups]);
  signal?.throwIfAborted();
  const snapshot = await buildSnapshotFromData(deps.provider, userList, groupList, { preEncode: false, ...(signal === undefined ? {} : { signal }) });
  return snapshot.search(query, viewer);
}
