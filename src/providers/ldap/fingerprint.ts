/**
 * A user's bind-relevant state (active flag, password change date, direct groups) as one string, from either the
 * cached directory or a /core/users/<pk>/ answer. A cached bind is dropped when it changes.
 */
import type { DirectoryUser } from '../../core-api/model.js';
import type { DirectorySnapshot } from '../../directory/snapshot.js';
import { firstRdnValue, tryParseDn } from '../../protocol/ldap/dn.js';
import { slotValues } from '../../directory/compile.js';
import { generalizedTime } from '../../directory/entries.js';

function compose(active: boolean, passwordChanged: string, groups: string[]): string {
  return JSON.stringify([active, passwordChanged, groups.map((g) => g.toLowerCase()).sort()]);
}

export function fingerprintOfUser(user: DirectoryUser): string {
  return compose(user.isActive, generalizedTime(user.passwordChangeDate) ?? '', user.groups.map((g) => g.name));
}

/** undefined when the snapshot has no such user. */
export function fingerprintInSnapshot(snapshot: DirectorySnapshot, userPk: number): string | undefined {
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
  return compose(read('ak-active')[0] === 'TRUE', read('pwdChangedTime')[0] ?? '', groups);
}
