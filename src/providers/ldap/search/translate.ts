/**
 * Direct search: which core queries a filter needs. Combines the kinds the whole filter can return
 * (kindsForFilter) with the per-kind narrowing (filterToCoreQuery); null means "no request for that kind".
 */
import type { GroupQuery, UserQuery } from '../../../core-api/model.js';
import type { Filter } from '../../../protocol/ldap/filter.js';
import { DirectoryLayout } from '../../../directory/entries.js';
import { filterToCoreQuery, kindsForFilter, usesInChain } from './direct.js';

export interface CoreQueryPlan {
  /** Query for /core/users/ (users and their virtual groups), or null: no user can match. */
  users: UserQuery | null;
  /** Query for /core/groups/, or null: no group can match and none is needed for in-chain matching. */
  groups: GroupQuery | null;
}

export function translateFilter(filter: Filter, provider: { baseDn: string }): CoreQueryPlan {
  const layout = new DirectoryLayout(provider.baseDn);
  const kinds = kindsForFilter(filter);
  const inChain = usesInChain(filter);
  const users = kinds.users || kinds.virtualGroups ? filterToCoreQuery(filter, 'user', layout) : null;
  // In-chain needs the whole hierarchy (and every group a user is in), so groups are then not narrowed.
  const groups = inChain && users !== null ? {} : kinds.groups ? filterToCoreQuery(filter, 'group', layout) : null;
  return { users, groups };
}
