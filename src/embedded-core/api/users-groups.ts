/**
 * /core/users/, /core/users/{id}/, /core/users/me/, /core/groups/, /core/groups/{uuid}/ (read-only: the directory
 * file is the source of truth; writes answer 405).
 *
 * Filters are exact and case-sensitive (Django `exact`). A groups_by_name / members_by_username /
 * members_by_pk value that names nothing is a 400 from django-filter's ModelMultipleChoiceFilter, as in
 * authentik (the LDAP outpost's direct search turns that into operationsError; we keep the core's behaviour).
 * Results are ordered by username (users) and name (groups), paginated before serializing.
 */
import type { CoreGroup, CoreUser, Directory } from '../model.js';
import type { ApiRequest, ApiResponse } from './http.js';
import { canonicalUuid, includeFlag, json, jsonPageText, objectNotFound, queryBoolean, validationError } from './http.js';
import { directoryIndex } from './indexes.js';
import { isPage, paginate } from './pagination.js';
import { groupJsonText, userJson, userSelfJson } from './serialize.js';
import type { JsonObject } from './serialize.js';

function invalidChoice(value: string): string {
  return `Select a valid choice. ${value} is not one of the available choices.`;
}

/** Principals that may read the directory: the admin and outpost service accounts. */
function mayReadDirectory(req: ApiRequest): boolean {
  return req.principal.kind === 'admin' || req.principal.kind === 'outpost';
}

function emptyList(req: ApiRequest): ApiResponse {
  const page = paginate([], req.query, req.generation);
  return isPage(page) ? json(200, page.envelope([])) : page;
}

/** Orders a subset of users by the directory's username order. */
function inUsernameOrder(directory: Directory, users: Iterable<CoreUser>): CoreUser[] {
  const rank = directoryIndex(directory).userRank;
  return [...users].sort((a, b) => (rank.get(a.pk) ?? 0) - (rank.get(b.pk) ?? 0));
}

function applyOrdering<T extends object>(items: T[], ordering: string | null, keys: Record<string, (item: T) => string | number>): T[] {
  if (ordering === null || ordering === '') return items;
  const fields = ordering
    .split(',')
    .map((f) => f.trim())
    .filter((f) => keys[f.replace(/^-/, '')] !== undefined);
  if (fields.length === 0) return items;
  return [...items].sort((a, b) => {
    for (const field of fields) {
      const desc = field.startsWith('-');
      const key = keys[field.replace(/^-/, '')] as (item: T) => string | number;
      const x = key(a);
      const y = key(b);
      if (x < y) return desc ? 1 : -1;
      if (x > y) return desc ? -1 : 1;
    }
    return 0;
  });
}

export function listUsers(req: ApiRequest, directory: Directory): ApiResponse {
  if (!mayReadDirectory(req)) return emptyList(req);
  const q = req.query;
  const errors: Record<string, string[]> = {};

  let candidates: CoreUser[] | null = null;
  const groupNames = q.getAll('groups_by_name');
  if (groupNames.length > 0) {
    const members = new Set<CoreUser>();
    const unknown: string[] = [];
    for (const name of groupNames) {
      const group = directory.groupByName(name);
      if (!group) {
        unknown.push(name);
        continue;
      }
      for (const pk of directory.groupUsers(group.pk)) {
        const user = directory.users.get(pk);
        if (user) members.add(user);
      }
    }
    if (unknown[0] !== undefined) errors.groups_by_name = [invalidChoice(unknown[0])];
    candidates = inUsernameOrder(directory, members);
  }
  const groupPks = q.getAll('groups_by_pk');
  if (groupPks.length > 0) {
    const members = new Set<CoreUser>();
    for (const pk of groupPks) {
      const key = canonicalUuid(pk);
      if (key === null) {
        errors.groups_by_pk = [`“${pk}” is not a valid UUID.`];
        break;
      }
      const group = directory.groups.get(key);
      if (!group) {
        errors.groups_by_pk = [invalidChoice(pk)];
        break;
      }
      for (const userPk of directory.groupUsers(group.pk)) {
        const user = directory.users.get(userPk);
        if (user) members.add(user);
      }
    }
    const base: CoreUser[] = candidates ?? inUsernameOrder(directory, members);
    candidates = candidates ? base.filter((u) => members.has(u)) : base;
  }
  if (Object.keys(errors).length > 0) return validationError(errors);

  const username = q.get('username');
  if (username !== null && candidates === null) {
    const user = directory.userByUsername(username);
    candidates = user ? [user] : [];
  }
  let users: readonly CoreUser[] = candidates ?? directoryIndex(directory).usersByUsername;

  const filters: Array<(u: CoreUser) => boolean> = [];
  if (username !== null) filters.push((u) => u.username === username);
  const name = q.get('name');
  if (name !== null) filters.push((u) => u.name === name);
  const email = q.get('email');
  if (email !== null) filters.push((u) => u.email === email);
  const uuid = q.get('uuid');
  if (uuid !== null) filters.push((u) => u.uuid === uuid.toLowerCase());
  const isActive = queryBoolean(q, 'is_active');
  if (isActive !== undefined) filters.push((u) => u.isActive === isActive);
  const path = q.get('path');
  if (path !== null) filters.push((u) => u.path === path);
  const pathPrefix = q.get('path_startswith');
  if (pathPrefix !== null) filters.push((u) => u.path.startsWith(pathPrefix));
  const types = q.getAll('type');
  if (types.length > 0) filters.push((u) => types.includes(u.type));
  const search = q.get('search');
  if (search !== null && search !== '') {
    const needle = search.toLowerCase();
    filters.push((u) => u.username.toLowerCase().includes(needle) || u.name.toLowerCase().includes(needle) || u.email.toLowerCase().includes(needle));
  }
  if (filters.length > 0) users = users.filter((u) => filters.every((f) => f(u)));
  const isSuperuser = queryBoolean(q, 'is_superuser');
  if (isSuperuser !== undefined) {
    users = users.filter((u) => (userJson(directory, u, req.generation, false).is_superuser === true) === isSuperuser);
  }
  users = applyOrdering([...users], q.get('ordering'), {
    username: (u) => u.username,
    pk: (u) => u.pk,
    name: (u) => u.name,
    email: (u) => u.email,
    is_active: (u) => (u.isActive ? 1 : 0),
    last_updated: (u) => u.lastUpdated.epochMicros,
    date_joined: (u) => u.dateJoined.epochMicros,
  });

  const page = paginate(users, q, req.generation);
  if (!isPage(page)) return page;
  const includeGroups = includeFlag(q, 'include_groups', true);
  return json(200, page.envelope(page.items.map((u) => userJson(directory, u, req.generation, includeGroups))));
}

export function retrieveUser(req: ApiRequest, directory: Directory, id: string): ApiResponse {
  const user = /^\d+$/.test(id) ? directory.users.get(Number(id)) : undefined;
  if (!user || !mayReadDirectory(req)) return objectNotFound(req.generation, 'User');
  return json(200, userJson(directory, user, req.generation, includeFlag(req.query, 'include_groups', true)));
}

const ADMIN_SELF = (generation: ApiRequest['generation']): JsonObject => {
  const out: JsonObject = {
    pk: 2_099_999_999,
    username: 'ak-embedded-admin',
    name: 'Embedded core administrator',
    is_active: true,
    is_superuser: true,
    groups: [],
  };
  if (generation === '2026.2') out.roles = [];
  out.email = '';
  out.avatar = '/static/dist/assets/images/user_default.png';
  out.uid = 'ak-embedded-admin';
  out.settings = {};
  out.type = 'internal_service_account';
  out.system_permissions = [];
  return out;
};

/** SessionUser: `{user: UserSelf}` for whoever is calling. */
export function me(req: ApiRequest, directory: Directory): ApiResponse {
  const p = req.principal;
  switch (p.kind) {
    case 'session':
      return json(200, { user: userSelfJson(directory, p.user, req.generation) });
    case 'outpost': {
      // The token's owner: the outpost's service account.
      const account = directory.outpostUser(p.outpost.uuid);
      if (account === undefined) return objectNotFound(req.generation, 'User');
      return json(200, { user: userSelfJson(directory, account, req.generation) });
    }
    case 'admin':
      return json(200, { user: ADMIN_SELF(req.generation) });
    default:
      // The router answers unauthenticated callers before this.
      return objectNotFound(req.generation, 'User');
  }
}

function groupIncludes(req: ApiRequest): { users: boolean; children: boolean; parents: boolean; inheritedRoles: boolean } {
  return {
    users: includeFlag(req.query, 'include_users', true),
    children: includeFlag(req.query, 'include_children', false),
    parents: includeFlag(req.query, 'include_parents', false),
    inheritedRoles: includeFlag(req.query, 'include_inherited_roles', false),
  };
}

export function listGroups(req: ApiRequest, directory: Directory): ApiResponse {
  if (!mayReadDirectory(req)) return emptyList(req);
  const q = req.query;
  const errors: Record<string, string[]> = {};
  const filters: Array<(g: CoreGroup) => boolean> = [];

  const memberUsernames = q.getAll('members_by_username');
  if (memberUsernames.length > 0) {
    const memberPks = new Set<number>();
    for (const username of memberUsernames) {
      const user = directory.userByUsername(username);
      if (!user) {
        errors.members_by_username = [invalidChoice(username)];
        break;
      }
      memberPks.add(user.pk);
    }
    filters.push((g) => directory.groupUsers(g.pk).some((pk) => memberPks.has(pk)));
  }
  const memberPkValues = q.getAll('members_by_pk');
  if (memberPkValues.length > 0) {
    const memberPks = new Set<number>();
    for (const raw of memberPkValues) {
      if (!/^\d+$/.test(raw)) {
        errors.members_by_pk = [`“${raw}” is not a valid value.`];
        break;
      }
      if (!directory.users.has(Number(raw))) {
        errors.members_by_pk = [invalidChoice(raw)];
        break;
      }
      memberPks.add(Number(raw));
    }
    filters.push((g) => directory.groupUsers(g.pk).some((pk) => memberPks.has(pk)));
  }
  if (Object.keys(errors).length > 0) return validationError(errors);

  const name = q.get('name');
  let groups: readonly CoreGroup[];
  if (name !== null) {
    const group = directory.groupByName(name);
    groups = group ? [group] : [];
  } else {
    groups = directoryIndex(directory).groupsByName;
  }
  const isSuperuser = queryBoolean(q, 'is_superuser');
  if (isSuperuser !== undefined) filters.push((g) => g.isSuperuser === isSuperuser);
  const search = q.get('search');
  if (search !== null && search !== '') {
    const needle = search.toLowerCase();
    filters.push((g) => g.name.toLowerCase().includes(needle));
  }
  if (filters.length > 0) groups = groups.filter((g) => filters.every((f) => f(g)));
  groups = applyOrdering([...groups], q.get('ordering'), { name: (g) => g.name, is_superuser: (g) => (g.isSuperuser ? 1 : 0) });

  const page = paginate(groups, q, req.generation);
  if (!isPage(page)) return page;
  const includes = groupIncludes(req);
  return jsonPageText(page.envelope([]), page.items.map((g) => groupJsonText(directory, g, req.generation, includes)));
}

export function retrieveGroup(req: ApiRequest, directory: Directory, uuid: string): ApiResponse {
  const key = canonicalUuid(uuid);
  const group = key !== null ? directory.groups.get(key) : undefined;
  if (!group || !mayReadDirectory(req)) return objectNotFound(req.generation, 'Group');
  return { status: 200, rawJson: groupJsonText(directory, group, req.generation, groupIncludes(req)) };
}
