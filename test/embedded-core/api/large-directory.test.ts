/**
 * A 100,000-user directory: pages come out in username order with a correct envelope, and page_size is clamped.
 * (How fast is a benchmark question; here only correctness at that size.)
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateDirectory, generatedUsername, GENERATED_LDAP_OUTPOST_TOKEN } from '../../../src/embedded-core/directory/generate.js';
import { startHarness } from './harness.js';
import type { Harness } from './harness.js';

const USERS = 100_000;

describe('100,000 users', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness('2026.2', { file: await generateDirectory({ users: USERS, groups: 20, groupsPerUser: 1 }) });
  });
  after(() => h.close());

  const list = (query: string) => h.call('GET', `/api/v3/core/users/?${query}`, { token: GENERATED_LDAP_OUTPOST_TOKEN });

  test('first, middle and last pages', async () => {
    const first = await list('page=1&page_size=100');
    const count = first.body.pagination.count as number;
    assert.ok(count >= USERS, `count ${count}`);
    assert.deepEqual(first.body.pagination, { next: 2, previous: 0, count, current: 1, total_pages: Math.ceil(count / 100), start_index: 1, end_index: 100 });
    const usernames = first.body.results.map((u: { username: string }) => u.username);
    assert.deepEqual(usernames, [...usernames].sort());

    const middle = await list('page=500&page_size=100');
    assert.equal(middle.body.pagination.start_index, 49_901);
    const last = await list(`page=${first.body.pagination.total_pages}&page_size=100`);
    assert.equal(last.body.pagination.next, 0);
    assert.equal(last.body.pagination.end_index, count);
    // Code-point order: user100000 sorts before user10001, so user99999 is last.
    assert.equal(last.body.results.at(-1).username, generatedUsername(USERS - 1));
  });

  test('page_size is clamped to 1000', async () => {
    const big = await list('page=1&page_size=5000');
    assert.equal(big.body.results.length, 1000);
    assert.equal(big.body.pagination.end_index, 1000);
  });

  test('exact filters stay exact at scale', async () => {
    for (const n of [77_777, USERS]) {
      const one = await list(`username=${generatedUsername(n)}`);
      assert.deepEqual(one.body.results.map((u: { username: string }) => u.username), [generatedUsername(n)]);
    }
    const members = await list('groups_by_name=group00001&page_size=1');
    assert.ok(members.body.pagination.count > 1000);
  });
});
