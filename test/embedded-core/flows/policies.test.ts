import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildDirectory } from '../../../src/embedded-core/directory/loader.js';
import type { CorePolicies, CorePolicyBinding, Directory } from '../../../src/embedded-core/model.js';
import { policiesPass } from '../../../src/embedded-core/flows/policies.js';

async function directory(): Promise<Directory> {
  return buildDirectory(
    {
      version: 1,
      groups: [{ name: 'staff' }, { name: 'engineering', parents: ['staff'] }, { name: 'ops', parents: ['engineering'] }, { name: 'contractors' }],
      users: [
        { username: 'bob', groups: ['ops'] },
        { username: 'erin', groups: ['contractors'] },
        { username: 'zed' },
      ],
    },
    { baseDir: '.', resolveCertificate: () => Promise.reject(new Error('none')) },
  );
}

test('group bindings pass for members, direct or through child groups; user bindings for that user; negate inverts', async () => {
  const dir = await directory();
  const group = (name: string, negate = false): CorePolicyBinding => ({ group: dir.groupByName(name)!.pk, negate, order: 0 });
  const user = (name: string, negate = false): CorePolicyBinding => ({ user: dir.userByUsername(name)!.pk, negate, order: 0 });
  const any = (...bindings: CorePolicyBinding[]): CorePolicies => ({ mode: 'any', bindings });
  const bob = dir.userByUsername('bob');
  const erin = dir.userByUsername('erin');
  assert.equal(policiesPass(dir, any(group('staff')), bob), true, 'ops -> engineering -> staff');
  assert.equal(policiesPass(dir, any(group('ops')), bob), true);
  assert.equal(policiesPass(dir, any(group('staff')), erin), false);
  assert.equal(policiesPass(dir, any(group('staff', true)), erin), true);
  assert.equal(policiesPass(dir, any(group('staff', true)), bob), false);
  assert.equal(policiesPass(dir, any(user('erin')), erin), true);
  assert.equal(policiesPass(dir, any(user('erin')), bob), false);
  assert.equal(policiesPass(dir, any(user('erin', true)), bob), true);
});

test('any: one passing binding is enough; all: every one must pass; no binding passes', async () => {
  const dir = await directory();
  const staff: CorePolicyBinding = { group: dir.groupByName('staff')!.pk, negate: false, order: 0 };
  const notBob: CorePolicyBinding = { user: dir.userByUsername('bob')!.pk, negate: true, order: 1 };
  const bob = dir.userByUsername('bob');
  assert.equal(policiesPass(dir, { mode: 'any', bindings: [staff, notBob] }, bob), true);
  assert.equal(policiesPass(dir, { mode: 'all', bindings: [staff, notBob] }, bob), false);
  assert.equal(policiesPass(dir, { mode: 'all', bindings: [] }, bob), true);
  assert.equal(policiesPass(dir, { mode: 'any', bindings: [] }, undefined), true);
});

test('nobody (an unauthenticated request) is a member of no group and no user; negated bindings pass for nobody', async () => {
  const dir = await directory();
  const staff: CorePolicyBinding = { group: dir.groupByName('staff')!.pk, negate: false, order: 0 };
  const zed: CorePolicyBinding = { user: dir.userByUsername('zed')!.pk, negate: false, order: 0 };
  assert.equal(policiesPass(dir, { mode: 'any', bindings: [staff, zed] }, undefined), false);
  assert.equal(policiesPass(dir, { mode: 'all', bindings: [{ ...staff, negate: true }, { ...zed, negate: true }] }, undefined), true);
});

test('the loader resolves bindings: enabled ones only, by order, names to pks; errors name the path', async () => {
  const build = (flows: unknown[]) =>
    buildDirectory({ version: 1, groups: [{ name: 'staff' }], users: [{ username: 'bob' }], flows }, { baseDir: '.', resolveCertificate: () => Promise.reject(new Error('none')) });
  const dir = await build([
    {
      slug: 'f',
      policy_engine_mode: 'all',
      policy_bindings: [{ user: 'bob', order: 5 }, { group: 'staff', negate: true, order: 1 }, { group: 'staff', enabled: false }],
      stages: [{ kind: 'deny', evaluate_on_plan: true, policy_bindings: [{ group: 'staff' }] }],
    },
  ]);
  const flow = dir.flows.get('f')!;
  const staff = dir.groupByName('staff')!.pk;
  assert.deepEqual(flow.policies, { mode: 'all', bindings: [{ group: staff, negate: true, order: 1 }, { user: 1, negate: false, order: 5 }] });
  assert.deepEqual(flow.stages[0]?.binding, {
    evaluateOnPlan: true,
    reEvaluatePolicies: true,
    policies: { mode: 'any', bindings: [{ group: staff, negate: false, order: 0 }] },
  });
  const fails = async (flows: unknown[], message: string): Promise<void> => {
    await assert.rejects(build(flows), (err: Error) => err.message === message);
  };
  await fails([{ slug: 'f', policy_bindings: [{ group: 'nope' }], stages: [] }], 'flows[0].policy_bindings[0].group: no group named "nope"');
  await fails([{ slug: 'f', stages: [{ kind: 'password', policy_bindings: [{ user: 'nope' }] }] }], 'flows[0].stages[0].policy_bindings[0].user: no user named "nope"');
  await fails([{ slug: 'f', policy_bindings: [{ group: 'staff', user: 'bob' }], stages: [] }], 'flows[0].policy_bindings[0]: needs exactly one of group and user');
  await fails([{ slug: 'f', policy_bindings: [{ negate: true }], stages: [] }], 'flows[0].policy_bindings[0]: needs exactly one of group and user');
  await fails([{ slug: 'f', policy_engine_mode: 'first', stages: [] }], 'flows[0].policy_engine_mode: expected one of "any", "all"');
  await fails([{ slug: 'f', policy_bindings: [{ policy: 'x' }], stages: [] }], 'flows[0].policy_bindings[0].policy: unknown key');
});
