/**
 * Policy bindings on flows and stage bindings, seen by an outpost over LDAP (ldapwhoami: the exit code is the
 * bind's result code), for both API generations. Each case is a provider of its own (its own base DN) whose
 * bind flow carries the bindings:
 * - flow-bound: the flow binds group staff. authentik checks a flow's bindings when the plan is made, with the
 *   session's user; an outpost's bind starts a new session, so nobody is known yet and every bind is refused
 *   ("Flow does not apply to current user."), members and right passwords included.
 * - negated: a deny stage after the password, bound to staff with negate: everyone outside staff (child groups
 *   count as inside) is refused after a right password.
 * - mfa-skip: the TOTP stage is bound to staff with negate, so it is skipped for staff: carol binds with her
 *   password alone, which the default flow refuses.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { DirectoryFile } from '../../src/embedded-core/directory/types.js';
import { run } from '../helpers/cli.js';
import { BASE_DN, testDirectory } from '../helpers/directories.js';
import { startStack, type Stack } from '../helpers/stack.js';

const BASES = { flowBound: 'DC=flowbound,DC=test', negated: 'DC=negated,DC=test', mfaSkip: 'DC=mfaskip,DC=test' } as const;
const STAFF_DENIED = 'Only staff may bind here';

async function policyDirectory(generation: '2026.2' | '2023.10'): Promise<DirectoryFile> {
  const directory = await testDirectory({ generation });
  directory.flows = [
    { slug: 'staff-flow', policy_bindings: [{ group: 'staff' }], stages: [{ kind: 'identification' }, { kind: 'password' }, { kind: 'user_login' }] },
    {
      slug: 'staff-or-deny',
      stages: [
        { kind: 'identification' },
        { kind: 'password' },
        { kind: 'deny', deny_message: STAFF_DENIED, policy_bindings: [{ group: 'staff', negate: true }] },
        { kind: 'user_login' },
      ],
    },
    {
      slug: 'mfa-unless-staff',
      stages: [
        { kind: 'identification' },
        { kind: 'password' },
        { kind: 'authenticator_validate', device_classes: ['totp', 'static'], policy_bindings: [{ group: 'staff', negate: true }] },
        { kind: 'user_login' },
      ],
    },
  ];
  const provider = (name: string, baseDn: string, flow: string): NonNullable<DirectoryFile['providers']>[number] => ({
    type: 'ldap',
    name,
    base_dn: baseDn,
    authorization_flow: flow,
  });
  directory.providers = [
    ...(directory.providers ?? []),
    provider('flow-bound', BASES.flowBound, 'staff-flow'),
    provider('negated', BASES.negated, 'staff-or-deny'),
    provider('mfa-skip', BASES.mfaSkip, 'mfa-unless-staff'),
  ];
  // No application policy on these: whatever refuses a bind is the flow.
  directory.applications = [
    ...(directory.applications ?? []),
    { slug: 'flow-bound', provider: 'flow-bound' },
    { slug: 'negated', provider: 'negated' },
    { slug: 'mfa-skip', provider: 'mfa-skip' },
  ];
  for (const outpost of directory.outposts ?? []) {
    if (outpost.type === 'ldap') outpost.providers = [...outpost.providers, 'flow-bound', 'negated', 'mfa-skip'];
  }
  return directory;
}

for (const generation of ['2026.2', '2023.10'] as const) {
  describe(`policy bindings on flows and stages, over LDAP (${generation})`, () => {
    let stack: Stack;
    before(async () => {
      stack = await startStack({ directory: await policyDirectory(generation) });
    });
    after(async () => {
      await stack.stop();
    });

    const whoami = async (base: string, user: string, password = `${user}-pw`): Promise<number> =>
      (await run('ldapwhoami', ['-x', '-H', stack.ldapUrl, '-D', `cn=${user},ou=users,${base}`, '-w', password])).code;

    test('a flow bound to a group refuses every bind with 49: the plan is made before anyone is known', async () => {
      assert.equal(await whoami(BASE_DN, 'alice'), 0, 'control: the default flow lets alice in');
      for (const user of ['alice', 'akadmin', 'erin']) assert.equal(await whoami(BASES.flowBound, user), 49, user);
      // What the outpost was told: the executor's access-denied challenge, before any stage.
      const res = await fetch(new URL('api/v3/flows/executor/staff-flow/', stack.core.url));
      const challenge = (await res.json()) as Record<string, unknown>;
      assert.deepEqual([challenge['component'], challenge['error_message']], ['ak-stage-access-denied', 'Flow does not apply to current user.']);
    });

    test('a negated group binding on a deny stage refuses non-members after a right password; nested members pass', async () => {
      assert.equal(await whoami(BASES.negated, 'erin'), 49, 'erin (contractors) passes the password stage, then meets the deny stage');
      assert.equal(await whoami(BASES.negated, 'alice'), 0, 'alice: engineering, inside staff');
      assert.equal(await whoami(BASES.negated, 'bob'), 0, 'bob: ops, inside engineering, inside staff');
      assert.equal(await whoami(BASES.negated, 'alice', 'wrong-pw'), 49);
      assert.match(stack.logs.text, /stage invalid, flow cancelled/);
    });

    test('a stage binding skips the TOTP stage for staff: carol binds with her password alone', async () => {
      assert.equal(await whoami(BASE_DN, 'carol'), 49, 'control: the default flow asks carol for her code');
      assert.equal(await whoami(BASES.mfaSkip, 'carol'), 0);
      assert.equal(await whoami(BASES.mfaSkip, 'carol', 'wrong-pw'), 49);
    });
  });
}
