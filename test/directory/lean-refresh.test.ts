import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSnapshot, buildSnapshotFromData } from '../../src/directory/build.js';
import type { DirectorySnapshot } from '../../src/directory/snapshot.js';
import { createCoreClient, type CoreClient } from '../../src/core-api/client.js';
import type { DirectoryGroup, DirectoryUser } from '../../src/core-api/model.js';
import type { CoreApi } from '../../src/core-api/port.js';
import { startEmbeddedCore, type EmbeddedCore } from '../../src/embedded-core/core.js';
import { generateDirectory } from '../../src/embedded-core/directory/generate.js';
import { group, link, PROVIDER, user } from './fixtures.js';

/** Every entry (all attributes, operational ones too) and its pre-encoded bytes must be the same. */
function assertSameDirectory(actual: DirectorySnapshot, expected: DirectorySnapshot): void {
  assert.equal(actual.size, expected.size);
  for (let id = 0; id < expected.size; id++) {
    assert.deepEqual(actual.entryById(id), expected.entryById(id), `entry ${id}`);
    assert.deepEqual(actual.preEncoded(id), expected.preEncoded(id), `encoded entry ${id}`);
  }
}

/** A fake core that honours includeUsers / includeGroups = false the way the core does: pks only. */
function pkOnlyCore(users: DirectoryUser[], groups: DirectoryGroup[]): Pick<CoreApi, 'forEachUserPage' | 'forEachGroupPage'> {
  return {
    async forEachGroupPage(query, onPage) {
      assert.equal(query.includeUsers, false);
      await onPage(groups.map((g) => ({ ...g, users: g.users.map((u) => ({ pk: u.pk, username: '' })) })));
    },
    async forEachUserPage(query, onPage) {
      assert.equal(query.includeGroups, false);
      for (let i = 0; i < users.length; i += 2) {
        await onPage(users.slice(i, i + 2).map((u) => ({ ...u, groups: u.groups.map((g) => ({ pk: g.pk, name: '' })) })));
      }
    },
  };
}

function sample(): { users: DirectoryUser[]; groups: DirectoryGroup[] } {
  const users = [user(1, 'alice'), user(2, 'Bob'), user(3, 'carol, jr.'), user(4, 'dave'), user(5, 'erin')];
  const groups = [group('g1', 'admins', 1), group('g2', 'Staff', 2), group('g3', 'single', 3), group('g4', 'empty', 4), group('g5', 'nested', 5)];
  link(users, groups, { admins: ['alice'], Staff: ['erin', 'alice', 'Bob', 'carol, jr.'], single: ['dave'], nested: ['dave', 'erin'] }, { nested: ['Staff'], single: ['Staff', 'admins'] });
  return { users, groups };
}

describe('memberships as pks', () => {
  test('give the same directory as full member objects', async () => {
    const { users, groups } = sample();
    const lean = await buildSnapshot(pkOnlyCore(users, groups), PROVIDER, { pageSize: 2 });
    assertSameDirectory(lean, await buildSnapshotFromData(PROVIDER, users, groups));
  });

  test('members and groups missing from the other listing are dropped', async () => {
    const { users, groups } = sample();
    groups[1]!.users.push({ pk: 99, username: 'ghost' });
    users[0]!.groups.push({ pk: 'g-gone', name: 'gone' });
    const lean = await buildSnapshot(pkOnlyCore(users, groups), PROVIDER);
    const staff = lean.entryById(lean.idOf(`cn=staff,ou=groups,${PROVIDER.baseDn}`)!).attributes.find((a) => a.type === 'member');
    assert.ok(staff !== undefined && !staff.values.some((v) => v.includes('ghost')));
    const alice = lean.entryById(lean.idOf(`cn=alice,ou=users,${PROVIDER.baseDn}`)!).attributes.find((a) => a.type === 'memberOf');
    assert.ok(alice !== undefined && !alice.values.some((v) => v.includes('gone')));
  });
});

describe('a refresh with the previous snapshot', () => {
  test('builds the same directory and shares unchanged values', async () => {
    const first = sample();
    const previous = await buildSnapshotFromData(PROVIDER, first.users, first.groups);
    const next = sample();
    next.users[1] = { ...next.users[1]!, name: 'Bob Renamed', email: '' };
    next.users.push(user(6, 'frank', { groups: [{ pk: 'g1', name: 'admins' }] }));
    next.groups[0]!.users.push({ pk: 6, username: 'frank' });
    next.groups[2] = { ...next.groups[2]!, attributes: { note: 'changed' } };
    const fresh = await buildSnapshotFromData(PROVIDER, next.users, next.groups);
    const shared = await buildSnapshot(pkOnlyCore(next.users, next.groups), PROVIDER, { previous, pauseMs: 1 });
    assertSameDirectory(shared, fresh);
    // alice's memberOf (several values, unchanged) is the very array of the previous snapshot.
    const memberOf = (s: DirectorySnapshot): unknown => {
      const id = s.idOf(`cn=alice,ou=users,${PROVIDER.baseDn}`)!;
      return s.values(id, s.attribute('memberOf')!);
    };
    assert.ok(Array.isArray(memberOf(previous)));
    assert.equal(memberOf(shared), memberOf(previous));
    assert.notEqual(memberOf(fresh), memberOf(previous));
  });
});

for (const generation of ['2023.10', '2026.2'] as const) {
  describe(`cached directory from the embedded core (${generation})`, () => {
    let core: EmbeddedCore;
    let client: CoreClient;
    let certsDir: string;

    before(async () => {
      certsDir = mkdtempSync(join(tmpdir(), 'ako-lean-'));
      const directory = await generateDirectory({ users: 300, groups: 40, groupsPerUser: 3, seed: 7, iterations: 1, generation });
      core = await startEmbeddedCore({ directory, certsDir });
      const outpost = [...core.directory().outposts.values()].find((o) => o.type === 'ldap')!;
      client = createCoreClient({ host: core.url, token: outpost.token, insecure: false, timeoutMs: 10_000 });
    });

    after(async () => {
      await client.close();
      await core.stop();
      rmSync(certsDir, { recursive: true, force: true });
    });

    test('pk-only pages give the directory of full pages', async () => {
      const provider = (await client.listLdapProviders())[0]!;
      const users: DirectoryUser[] = [];
      const groups: DirectoryGroup[] = [];
      await client.forEachGroupPage({ pageSize: 50 }, (page) => void groups.push(...page));
      await client.forEachUserPage({ pageSize: 50 }, (page) => void users.push(...page));
      assert.ok(groups.some((g) => g.users.length > 0 && g.users.every((u) => u.username !== '')));
      const lean = await buildSnapshot(client, provider, { pageSize: 50 });
      assert.equal(lean.userCount, users.length);
      assertSameDirectory(lean, await buildSnapshotFromData(provider, users, groups));
    });
  });
}
