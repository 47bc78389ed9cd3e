/**
 * A user's bind-relevant state (active flag, password change date to the microsecond, direct groups) as one
 * string, from either the cached directory or a /core/users/<pk>/ answer. A cached bind is dropped when it changes.
 *
 * Cores whose user serializer has no `password_change_date` (the 2023.10 generation) cannot show a password
 * change at all: such a state is marked blind, and a bind cached with it ends at the next refresh whatever the
 * listing shows (authentik issue #12294 on those cores).
 */
import type { DirectoryUser } from '../../core-api/model.js';
import type { DirectorySnapshot } from '../../directory/snapshot.js';
import { slotValues } from '../../directory/compile.js';
import { epochMicros } from '../../lib/time.js';
import { firstRdnValue, tryParseDn } from '../../protocol/ldap/dn.js';

export interface UserBindState {
  fingerprint: string;
  /** False when the core sent no password change date for the user: a password change would go unseen. */
  passwordChangesVisible: boolean;
}

function compose(active: boolean, passwordChangedAt: number, groups: string[]): UserBindState {
  const visible = Number.isFinite(passwordChangedAt);
  return {
    fingerprint: JSON.stringify([active, visible ? passwordChangedAt : null, groups.map((g) => g.toLowerCase()).sort()]),
    passwordChangesVisible: visible,
  };
}

export function bindStateOfUser(user: DirectoryUser): UserBindState {
  return compose(user.isActive, epochMicros(user.passwordChangeDate), user.groups.map((g) => g.name));
}

/** undefined when the snapshot has no such user. */
export function bindStateInSnapshot(snapshot: DirectorySnapshot, userPk: number): UserBindState | undefined {
  const id = snapshot.userIdByPkOf(userPk);
  if (id === undefined) return undefined;
  const read = (name: string): readonly string[] => {
    const attr = snapshot.attribute(name);
    const slot = attr === undefined ? undefined : snapshot.values(id, attr);
    return slot === undefined ? [] : slotValues(slot);
  };
  const groups = read('memberOf').map((dn) => {
    const parsed = tryParseDn(dn);
    return (parsed === null ? undefined : firstRdnValue(parsed, 'cn')) ?? dn;
  });
  return compose(read('ak-active')[0] === 'TRUE', snapshot.passwordChangedAtOf(id), groups);
}
