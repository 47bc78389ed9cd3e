/**
 * The embedded stand-in for authentik's policy engine and permission checks, as check_access uses them.
 *
 * Application access: an application with neither allowed_groups nor allowed_users has no policy bindings, so
 * the result is core_default_app_access (default true). Otherwise any binding passing is enough (authentik's
 * default policy_engine_mode "any"): a group binding passes on effective membership (direct groups and all
 * their ancestors), a user binding on the user itself.
 *
 * LDAP search permission (2024.8+): search_full_directory held globally by the user, through a group that grants
 * it (effective membership, like roles inherited from parent groups), or on this provider object. As in Django,
 * an active superuser holds every permission and an inactive user none.
 */
import type { CoreApplication, CoreLdapProvider, CoreUser, Directory } from '../model.js';

export function applicationAccess(directory: Directory, app: CoreApplication, user: CoreUser | null): boolean {
  if (app.allowedGroups.length === 0 && app.allowedUsers.length === 0) return directory.settings.defaultAppAccess;
  if (user === null) return false;
  if (app.allowedUsers.includes(user.pk)) return true;
  const effective = directory.effectiveGroups(user.pk);
  return app.allowedGroups.some((pk) => effective.has(pk));
}

export function ldapSearchPermission(directory: Directory, provider: CoreLdapProvider, user: CoreUser | null): boolean {
  if (user === null || !user.isActive) return false;
  if (user.searchFullDirectory || user.isSuperuser) return true;
  if (provider.searchFullDirectoryUsers.includes(user.pk)) return true;
  const effective = directory.effectiveGroups(user.pk);
  for (const pk of effective) {
    const group = directory.groups.get(pk);
    if (group?.searchFullDirectory || group?.isSuperuser) return true;
  }
  return provider.searchFullDirectoryGroups.some((pk) => effective.has(pk));
}
