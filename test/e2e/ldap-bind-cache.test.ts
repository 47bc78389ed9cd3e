/**
 * Cached bind mode end to end: a repeated bind with the same password is answered without a flow on the core, a
 * wrong password is never cached, a refresh that shows the user changed in the core drops that user's cached
 * binds (and only theirs), and SESSION_END closes the user's open LDAP connections (python3-ldap3 sees the server
 * end the session) and drops their cached binds. Flows on the core are counted with the outpost's own metric
 * `authentik_outpost_flow_timing_get_seconds_count` (one executor GET per flow).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { DirectoryFile } from '../../src/embedded-core/directory/types.js';
import { run } from '../helpers/cli.js';
import { ADMIN_TOKEN, BASE_DN, LDAP_OUTPOST_TOKEN, TOTP_SECRET, testDirectory } from '../helpers/directories.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { Ldap3Driver } from './py/ldap3-driver.js';
import { metricSum } from '../helpers/metrics-text.js';

const userDn = (name: string): string => `cn=${name},ou=users,${BASE_DN}`;
const BIND_FLOW = 'default-authentication-flow';

async function waitFor(what: string, condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function userSpec(directory: DirectoryFile, username: string): NonNullable<DirectoryFile['users']>[number] {
  const user = directory.users?.find((u) => u.username === username);
  assert.ok(user !== undefined, username);
  return user;
}

/** No password, token, TOTP secret or session cookie (an HS256 JWT) in anything the stack logged. */
function assertNothingSecretLogged(stack: Stack, secrets: readonly string[]): void {
  assert.ok(stack.logs.lines.length > 0, 'the stack logged');
  assert.deepEqual(stack.logs.leaked([...secrets, LDAP_OUTPOST_TOKEN, ADMIN_TOKEN, TOTP_SECRET]), []);
  assert.doesNotMatch(stack.logs.text, /eyJ[\w-]{8,}\.[\w-]{8,}|authentik_session=/, 'a session cookie was logged');
}

for (const searchMode of ['cached', 'direct'] as const) {
  describe(`cached bind mode (${searchMode} search)`, () => {
    let stack: Stack;
    let directory: DirectoryFile;
    let py: Ldap3Driver;
    before(async () => {
      // The core rebuilds from this same object on reload(), so the tests change the core by editing it.
      directory = await testDirectory({ bindMode: 'cached', searchMode });
      stack = await startStack({ directory });
      py = new Ldap3Driver();
    });
    after(async () => {
      await py.close();
      await stack.stop();
    });

    const flows = async (): Promise<number> => metricSum(await stack.registry.exposition(), 'authentik_outpost_flow_timing_get_seconds_count', { flow: BIND_FLOW });
    const whoami = (user: string, password: string) => run('ldapwhoami', ['-x', '-H', stack.ldapUrl, '-D', userDn(user), '-w', password]);
    /** Binds and reports whether the core ran a flow for it. */
    const bindCounted = async (user: string, password: string): Promise<{ code: number; flowRan: boolean }> => {
      const before = await flows();
      const r = await whoami(user, password);
      return { code: r.code, flowRan: (await flows()) > before };
    };
    const changeCore = async (edit: () => void): Promise<void> => {
      edit();
      await stack.core.reload();
      assert.equal(await stack.outpost.refresh(), true);
    };

    test('the second bind with the same password is served from the cache', async () => {
      assert.deepEqual(await bindCounted('alice', 'alice-pw'), { code: 0, flowRan: true });
      assert.deepEqual(await bindCounted('alice', 'alice-pw'), { code: 0, flowRan: false });
      assert.deepEqual(await bindCounted('alice', 'alice-pw'), { code: 0, flowRan: false });
      // The key is the normalized DN (case-insensitive, like DN matching) and the password.
      assert.deepEqual(await bindCounted('ALICE', 'alice-pw'), { code: 0, flowRan: false });
      assert.deepEqual(await bindCounted('alice', 'ALICE-PW'), { code: 49, flowRan: true });
    });

    test('a wrong password is never cached, and does not evict the right one', async () => {
      assert.deepEqual(await bindCounted('bob', 'wrong-pw'), { code: 49, flowRan: true });
      assert.deepEqual(await bindCounted('bob', 'wrong-pw'), { code: 49, flowRan: true });
      assert.deepEqual(await bindCounted('bob', 'bob-pw'), { code: 0, flowRan: true });
      assert.deepEqual(await bindCounted('bob', 'wrong-pw'), { code: 49, flowRan: true });
      assert.deepEqual(await bindCounted('bob', 'bob-pw'), { code: 0, flowRan: false });
    });

    test('a refresh after the user changed in the core drops that user\'s cached binds only', async () => {
      assert.equal((await whoami('alice', 'alice-pw')).code, 0);
      assert.equal((await whoami('bob', 'bob-pw')).code, 0);
      assert.deepEqual(await bindCounted('alice', 'alice-pw'), { code: 0, flowRan: false }, 'alice is cached');

      // Group membership changes what a bind decided (access policy, search permission).
      await changeCore(() => (userSpec(directory, 'alice').groups = ['staff']));
      assert.deepEqual(await bindCounted('bob', 'bob-pw'), { code: 0, flowRan: false }, 'bob did not change');
      assert.deepEqual(await bindCounted('alice', 'alice-pw'), { code: 0, flowRan: true }, 'alice asked the core again');
      assert.deepEqual(await bindCounted('alice', 'alice-pw'), { code: 0, flowRan: false });

      // Deactivated in the core: the old password no longer works from the cache.
      await changeCore(() => (userSpec(directory, 'alice').is_active = false));
      assert.deepEqual(await bindCounted('alice', 'alice-pw'), { code: 49, flowRan: true });
      await changeCore(() => (userSpec(directory, 'alice').is_active = true));
      assert.deepEqual(await bindCounted('alice', 'alice-pw'), { code: 0, flowRan: true });
    });

    test('SESSION_END closes the user\'s open connections and drops their cached binds', async () => {
      // Two connections of alice (the second bind is served from the cache) and one of bob.
      for (const [conn, user] of [['a1', 'alice'], ['a2', 'alice'], ['b1', 'bob']] as const) {
        await py.must('open', { conn, host: '127.0.0.1', port: stack.ldapPort });
        const bound = await py.must('bind', { conn, user: userDn(user), password: `${user}-pw` });
        assert.equal(bound.result, 0, `${conn}: ${bound.description}`);
      }
      const ownEntry = { base: userDn('alice'), scope: 'base', attributes: ['cn'] };
      assert.equal((await py.must('search', { conn: 'a1', ...ownEntry })).entries?.length, 1);

      const closedBefore = stack.logs.lines.filter((l) => l.includes('Closed connections of an ended session')).length;
      assert.ok((await stack.core.endUserSessions('alice')) >= 1);
      await waitFor('the outpost to close alice\'s connections', () =>
        stack.logs.lines.filter((l) => l.includes('Closed connections of an ended session')).length > closedBefore,
      );

      for (const conn of ['a1', 'a2']) {
        const after = await py.send('search', { conn, ...ownEntry });
        assert.equal(after.ok, false, `${conn} must be closed by the server, got ${JSON.stringify(after)}`);
        assert.match(after.error ?? '', /LDAPSessionTerminatedByServerError|LDAPSocket(Receive|Send)Error|LDAPSocketOpenError/);
        await py.must('close', { conn });
      }
      const bob = await py.must('search', { conn: 'b1', base: userDn('bob'), scope: 'base', attributes: ['cn'] });
      assert.equal(bob.entries?.length, 1, 'bob\'s connection is untouched');
      await py.must('close', { conn: 'b1' });

      assert.deepEqual(await bindCounted('alice', 'alice-pw'), { code: 0, flowRan: true }, 'the cached bind was dropped');
      assert.deepEqual(await bindCounted('bob', 'bob-pw'), { code: 0, flowRan: false }, 'bob is still cached');
    });

    test('nothing secret was logged', () => {
      assertNothingSecretLogged(stack, ['alice-pw', 'ALICE-PW', 'bob-pw', 'wrong-pw', 'akadmin-pw']);
    });
  });
}
