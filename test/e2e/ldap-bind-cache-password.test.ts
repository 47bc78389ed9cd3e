/**
 * A password change ends cached binds within one core-pushed refresh, on both API generations (issue #12294 of
 * the reference). 2026.x cores send `password_change_date`, so only the changed user's binds end; 2023.10 cores
 * do not, so every bind cached from such a core ends at each refresh. The push is the embedded core's reload,
 * which sends TRIGGER_UPDATE over the outpost's WebSocket exactly like a real core.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { hashPassword } from '../../src/embedded-core/directory/passwords.js';
import type { DirectoryFile } from '../../src/embedded-core/directory/types.js';
import { run } from '../helpers/cli.js';
import { BASE_DN, testDirectory } from '../helpers/directories.js';
import { metricSum } from '../helpers/metrics-text.js';
import { startStack, type Stack } from '../helpers/stack.js';

const userDn = (name: string): string => `cn=${name},ou=users,${BASE_DN}`;

async function waitFor(what: string, condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

for (const generation of ['2026.2', '2023.10'] as const) {
  for (const searchMode of ['cached', 'direct'] as const) {
    describe(`cached binds after a password change (${generation}, ${searchMode} search)`, () => {
      let stack: Stack;
      let directory: DirectoryFile;
      before(async () => {
        directory = await testDirectory({ generation, bindMode: 'cached', searchMode });
        stack = await startStack({ directory });
      });
      after(async () => {
        await stack.stop();
      });

      const flows = async (): Promise<number> =>
        metricSum(await stack.registry.exposition(), 'authentik_outpost_flow_timing_get_seconds_count', { flow: 'default-authentication-flow' });
      const bind = async (user: string, password: string): Promise<{ code: number; flowRan: boolean }> => {
        const before = await flows();
        const r = await run('ldapwhoami', ['-x', '-H', stack.ldapUrl, '-D', userDn(user), '-w', password]);
        return { code: r.code, flowRan: (await flows()) > before };
      };
      /** Edits the core, reloads it (it pushes TRIGGER_UPDATE) and waits for the refresh that push started. */
      const changeCoreAndWaitForPush = async (edit: () => Promise<void>): Promise<void> => {
        const previous = stack.outpost.controller.state.lastUpdate;
        await edit();
        await stack.core.reload();
        await waitFor('the pushed refresh', () => stack.outpost.controller.state.lastUpdate !== previous);
      };

      test('the old password is refused and the new one accepted within one pushed refresh', async () => {
        assert.deepEqual(await bind('alice', 'alice-pw'), { code: 0, flowRan: true });
        assert.deepEqual(await bind('alice', 'alice-pw'), { code: 0, flowRan: false }, 'alice is cached');
        assert.deepEqual(await bind('bob', 'bob-pw'), { code: 0, flowRan: true });

        await changeCoreAndWaitForPush(async () => {
          const alice = directory.users?.find((u) => u.username === 'alice');
          assert.ok(alice !== undefined);
          alice.password = await hashPassword('alice-new-pw', 10);
        });

        assert.deepEqual(await bind('alice', 'alice-pw'), { code: 49, flowRan: true }, 'the old password');
        assert.deepEqual(await bind('alice', 'alice-new-pw'), { code: 0, flowRan: true }, 'the new password');
        assert.deepEqual(await bind('alice', 'alice-new-pw'), { code: 0, flowRan: false }, 'the new password is cached');
        // bob did not change: a 2026.x core shows it; a 2023.10 core cannot, so bob asks the core again.
        assert.deepEqual(await bind('bob', 'bob-pw'), { code: 0, flowRan: generation === '2023.10' });
      });

      test(generation === '2023.10' ? 'every refresh ends the binds cached from this core' : 'a refresh without changes keeps cached binds', async () => {
        assert.deepEqual(await bind('bob', 'bob-pw'), { code: 0, flowRan: false }, 'bob is cached');
        await changeCoreAndWaitForPush(async () => {});
        assert.deepEqual(await bind('bob', 'bob-pw'), { code: 0, flowRan: generation === '2023.10' });
        const noted = stack.logs.lines.some((l) => l.includes('this core does not show password changes'));
        assert.equal(noted, generation === '2023.10');
      });
    });
  }
}
