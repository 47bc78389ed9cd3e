/**
 * authentik's policy engine for the bindings the embedded core models (PolicyBinding of a group or a user):
 * a group binding passes for the group's members, direct or through a child group (Group.is_member); a user
 * binding for that very user; `negate` inverts a binding's result; the target's mode combines them (any: one
 * passing is enough, all: every one must pass); a target without bindings passes (empty_result).
 *
 * Who is checked is the caller's choice, as in authentik: the session's user when a flow is planned, the plan's
 * pending user when a stage comes up. Nobody (an unauthenticated request) is a member of no group and no user.
 */
import type { CorePolicies, CorePolicyBinding, CoreUser, Directory } from '../model.js';

const NO_GROUPS: ReadonlySet<string> = new Set();

export function policiesPass(directory: Directory, policies: CorePolicies, user: CoreUser | undefined): boolean {
  if (policies.bindings.length === 0) return true;
  const groups = user === undefined ? NO_GROUPS : directory.effectiveGroups(user.pk);
  const passes = (binding: CorePolicyBinding): boolean => bindingPasses(binding, user, groups) !== binding.negate;
  return policies.mode === 'all' ? policies.bindings.every(passes) : policies.bindings.some(passes);
}

/** The binding's own result, before negate. */
function bindingPasses(binding: CorePolicyBinding, user: CoreUser | undefined, groups: ReadonlySet<string>): boolean {
  if ('group' in binding) return groups.has(binding.group);
  return user !== undefined && user.pk === binding.user;
}
