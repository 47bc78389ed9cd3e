/**
 * Unbind in direct bind mode runs the provider's unbind (invalidation) flow in the user's core session, as
 * authentik does: the core session the bind created is gone afterwards. In cached bind mode the session is shared
 * by every cached bind of that user, so an unbind leaves it alone.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_TOKEN, BASE_DN } from '../helpers/directories.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { Ldap3Driver } from './py/ldap3-driver.js';

const userDn = (name: string): string => `cn=${name},ou=users,${BASE_DN}`;

async function sessionsOf(stack: Stack, username: string): Promise<number> {
  const res = await fetch(new URL('api/v3/ak-embedded/sessions/', stack.core.url), { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
  assert.equal(res.status, 200);
  const body = await res.json();
  const list = Array.isArray(body) ? body : ((body as { results?: unknown[] }).results ?? []);
  return list.filter((s) => JSON.stringify(s).includes(`"${username}"`)).length;
}

async function waitFor(what: string, condition: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

for (const bindMode of ['direct', 'cached'] as const) {
  describe(`unbind (${bindMode} bind mode)`, () => {
    let stack: Stack;
    let py: Ldap3Driver;
    before(async () => {
      stack = await startStack({ bindMode });
      py = new Ldap3Driver();
    });
    after(async () => {
      await py.close();
      await stack.stop();
    });

    test(bindMode === 'direct' ? 'ends the core session the bind opened' : 'keeps the shared core session', async () => {
      const before = await sessionsOf(stack, 'bob');
      await py.must('open', { conn: 'c', host: '127.0.0.1', port: stack.ldapPort });
      const bound = await py.must('bind', { conn: 'c', user: userDn('bob'), password: 'bob-pw' });
      assert.equal(bound.bound, true);
      const during = await sessionsOf(stack, 'bob');
      assert.equal(during, before + 1, 'the bind opened a core session');
      await py.must('close', { conn: 'c' });
      if (bindMode === 'direct') {
        await waitFor('the session to end', async () => (await sessionsOf(stack, 'bob')) === before);
        const unbinds = (await stack.registry.exposition()).split('\n').filter((l) => l.startsWith('authentik_outpost_ldap_request_duration_seconds_count') && l.includes('type="unbind"'));
        assert.equal(unbinds.length, 1, unbinds.join('\n'));
      } else {
        // Give a (wrong) unbind flow time to run, then check the session is still there.
        await new Promise((resolve) => setTimeout(resolve, 300));
        assert.equal(await sessionsOf(stack, 'bob'), during);
      }
    });
  });
}
