/** Directory data for cache and search tests: small hand-made directories and a generated large one. */
import type { CoreApi } from '../../src/core-api/port.js';
import { CoreError } from '../../src/errors.js';
import type { DirectoryGroup, DirectoryUser, GroupQuery, GroupRef, UserQuery } from '../../src/core-api/model.js';
import { parseFilter } from '../../src/protocol/ldap/filter.js';
import type { Scope } from '../../src/protocol/ldap/messages.js';
import type { SearchQuery } from '../../src/directory/types.js';

export const BASE = 'dc=ldap,dc=goauthentik,dc=io';
export const PROVIDER = { baseDn: 'DC=ldap,DC=goauthentik,DC=io', uidStartNumber: 2000, gidStartNumber: 4000 };

export function user(pk: number, username: string, extra: Partial<DirectoryUser> = {}): DirectoryUser {
  return {
    pk,
    username,
    name: `Name ${username}`,
    isActive: true,
    isSuperuser: false,
    email: `${username}@example.com`,
    uid: `uid-${pk}`,
    attributes: {},
    groups: [],
    dateJoined: '2024-01-02T03:04:05.678Z',
    lastUpdated: '2024-02-03T04:05:06Z',
    passwordChangeDate: '2024-03-04T05:06:07+02:00',
    ...extra,
  };
}

export function group(pk: string, name: string, numPk: number, extra: Partial<DirectoryGroup> = {}): DirectoryGroup {
  return { pk, numPk, name, isSuperuser: false, attributes: {}, users: [], parents: [], children: [], ...extra };
}

/** Wires memberships both ways (user.groups, group.users) and the hierarchy (parents, children). */
export function link(users: DirectoryUser[], groups: DirectoryGroup[], members: Record<string, string[]>, parentsOf: Record<string, string[]> = {}): void {
  const byName = new Map(groups.map((g) => [g.name, g]));
  const ref = (g: DirectoryGroup): GroupRef => ({ pk: g.pk, name: g.name });
  for (const [groupName, usernames] of Object.entries(members)) {
    const g = byName.get(groupName)!;
    for (const username of usernames) {
      const u = users.find((x) => x.username === username)!;
      u.groups.push(ref(g));
      g.users.push({ pk: u.pk, username: u.username });
    }
  }
  for (const [childName, parentNames] of Object.entries(parentsOf)) {
    const child = byName.get(childName)!;
    for (const parentName of parentNames) {
      const parent = byName.get(parentName)!;
      child.parents.push(ref(parent));
      parent.children.push(ref(child));
    }
  }
}

/** alice, bob, carol, svc; groups admins (alice), staff (alice, bob), nested chain: level3 <- level2 <- level1. */
export function smallDirectory(): { users: DirectoryUser[]; groups: DirectoryGroup[] } {
  const users = [
    user(1, 'alice', { isSuperuser: true, attributes: { extraAttribute: 'bar' } }),
    user(2, 'bob'),
    user(3, 'carol', { email: '' }),
    user(4, 'svc', { isActive: false }),
  ];
  const groups = [
    group('00000000-0000-4000-8000-000000000001', 'admins', 11, { isSuperuser: true }),
    group('00000000-0000-4000-8000-000000000002', 'staff', 12),
    group('00000000-0000-4000-8000-000000000003', 'level1', 13),
    group('00000000-0000-4000-8000-000000000004', 'level2', 14),
    group('00000000-0000-4000-8000-000000000005', 'level3', 15),
  ];
  link(users, groups, { admins: ['alice'], staff: ['alice', 'bob'], level1: ['carol'] }, { level1: ['level2'], level2: ['level3'] });
  return { users, groups };
}

export function query(baseObject: string, filter: string, options: Partial<Omit<SearchQuery, 'filter'>> & { scope?: Scope } = {}): SearchQuery {
  return { baseObject, scope: 2, attributes: [], typesOnly: false, sizeLimit: 0, ...options, filter: parseFilter(filter) };
}

export const FULL = { userPk: 1, canSearch: true };

/**
 * `userCount` users, `groupCount` groups, each user in `perUser` groups (spread evenly); every 10th group has
 * the previous one as parent. Generated lazily page by page.
 */
export function generatedCore(userCount: number, groupCount: number, perUser: number, pageSize = 1000): Pick<CoreApi, 'forEachUserPage' | 'forEachGroupPage'> {
  const groupPk = (i: number): string => `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
  const groupName = (i: number): string => `group-${String(i).padStart(5, '0')}`;
  const groupsOfUser = (u: number): number[] => Array.from({ length: perUser }, (_, k) => (u * 7 + k * 13) % groupCount);
  return {
    async forEachGroupPage(_query: GroupQuery, onPage) {
      const members: { pk: number; username: string }[][] = Array.from({ length: groupCount }, () => []);
      for (let u = 0; u < userCount; u++) for (const g of groupsOfUser(u)) members[g]!.push({ pk: u + 1, username: `user${u}` });
      for (let start = 0; start < groupCount; start += pageSize) {
        const page: DirectoryGroup[] = [];
        for (let i = start; i < Math.min(groupCount, start + pageSize); i++) {
          page.push({
            pk: groupPk(i),
            numPk: i,
            name: groupName(i),
            isSuperuser: false,
            attributes: {},
            users: members[i]!,
            parents: i % 10 === 1 ? [{ pk: groupPk(i - 1), name: groupName(i - 1) }] : [],
            children: i % 10 === 0 && i + 1 < groupCount ? [{ pk: groupPk(i + 1), name: groupName(i + 1) }] : [],
          });
        }
        await onPage(asFromNetwork(page));
      }
    },
    async forEachUserPage(_query: UserQuery, onPage) {
      for (let start = 0; start < userCount; start += pageSize) {
        const page: DirectoryUser[] = [];
        for (let u = start; u < Math.min(userCount, start + pageSize); u++) {
          page.push({
            pk: u + 1,
            username: `user${u}`,
            name: `User Number ${u}`,
            isActive: true,
            isSuperuser: false,
            email: `user${u}@example.com`,
            uid: (u + 1).toString(16).padStart(64, 'a'),
            attributes: u % 100 === 0 ? { locale: 'en', settings: { theme: 'dark' } } : {},
            groups: groupsOfUser(u).map((g) => ({ pk: groupPk(g), name: groupName(g) })),
            dateJoined: '2024-01-02T03:04:05Z',
            lastUpdated: '2024-02-03T04:05:06Z',
            passwordChangeDate: '2024-03-04T05:06:07Z',
          });
        }
        await onPage(asFromNetwork(page));
      }
    },
  };
}

/** Strings as JSON.parse makes them (flat), like pages from the core's HTTP API. */
function asFromNetwork<T>(page: T): T {
  return JSON.parse(JSON.stringify(page)) as T;
}

/** A fake core answering like authentik: exact matches, 400 for unknown names in multiple-choice filters. */
export function exactCore(users: DirectoryUser[], groups: DirectoryGroup[]) {
  const calls: string[] = [];
  const core: Pick<CoreApi, 'forEachUserPage' | 'forEachGroupPage' | 'getUser'> = {
    async forEachUserPage(q, onPage) {
      calls.push(`users ${JSON.stringify(q)}`);
      if (q.groupsByName?.some((n) => !groups.some((g) => g.name === n))) throw new CoreError('http_status', 'HTTP 400', { status: 400 });
      const found = users.filter(
        (u) =>
          (q.username === undefined || u.username === q.username) &&
          (q.name === undefined || u.name === q.name) &&
          (q.email === undefined || u.email === q.email) &&
          (q.groupsByName === undefined || u.groups.some((g) => q.groupsByName!.includes(g.name))),
      );
      await onPage(found);
    },
    async forEachGroupPage(q, onPage) {
      calls.push(`groups ${JSON.stringify(q)}`);
      if (q.membersByUsername?.some((n) => !users.some((u) => u.username === n))) throw new CoreError('http_status', 'HTTP 400', { status: 400 });
      await onPage(
        groups.filter(
          (g) =>
            (q.name === undefined || g.name === q.name) &&
            (q.membersByUsername === undefined || g.users.some((u) => q.membersByUsername!.includes(u.username))) &&
            (q.membersByPk === undefined || g.users.some((u) => q.membersByPk!.includes(u.pk))),
        ),
      );
    },
    async getUser(pk) {
      calls.push(`user ${pk}`);
      const found = users.find((u) => u.pk === pk);
      if (found === undefined) throw new CoreError('http_status', 'HTTP 404', { status: 404 });
      return found;
    },
  };
  return { core, calls };
}
