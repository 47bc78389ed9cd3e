/**
 * The README's Dovecot recipe (docs/recipes/dovecot-auth.conf and dovecot-ldap.conf.ext) against the outpost: a
 * private Dovecot 2.3 instance (its own base_dir, state_dir and log, no mail listeners) whose LDAP passdb binds as
 * the user over LDAPS; `doveadm auth test` asks its auth process.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../helpers/cli.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { readableTempDir, recipe, startDaemon } from './recipe.js';

/** Dovecot's own settings for a private instance; the recipe's passdb and userdb are included as printed. */
function dovecotConf(dir: string, authPath: string): string {
  return [
    `base_dir = ${join(dir, 'run')}`,
    `state_dir = ${join(dir, 'state')}`,
    `instance_name = ako-recipe-${process.pid}`,
    `log_path = ${join(dir, 'dovecot.log')}`,
    'protocols =',
    'ssl = no',
    `!include ${authPath}`,
    '',
  ].join('\n');
}

describe('Dovecot LDAP passdb (auth_bind), configured as the README says', () => {
  let stack: Stack;
  let dovecot: { stop(): Promise<void> } | undefined;
  let confPath: string;
  const scratch = readableTempDir('ako-dovecot-');

  before(async () => {
    stack = await startStack();
    copyFileSync(stack.caPath, join(scratch.path, 'ca.pem'));
    const ldapConf = scratch.write(
      'dovecot-ldap.conf.ext',
      recipe('dovecot-ldap.conf.ext', [
        ['ldap.example.com:6636', `localhost:${stack.ldapsPort}`],
        ['/etc/dovecot/authentik-ca.pem', join(scratch.path, 'ca.pem')],
      ]),
    );
    const authConf = scratch.write('auth.conf', recipe('dovecot-auth.conf', [['/etc/dovecot/dovecot-ldap.conf.ext', ldapConf]]));
    confPath = scratch.write('dovecot.conf', dovecotConf(scratch.path, authConf));
    dovecot = startDaemon('dovecot', ['-F', '-c', confPath]);
    for (let attempt = 0; attempt < 100 && !existsSync(join(scratch.path, 'run', 'auth-client')); attempt++) {
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  after(async () => {
    await dovecot?.stop();
    await stack?.stop();
    scratch.remove();
  });

  const authTest = (user: string, password: string) => run('doveadm', ['-c', confPath, 'auth', 'test', user, password]);
  const log = (): string => readFileSync(join(scratch.path, 'dovecot.log'), 'utf8');

  test('the right password: passdb: alice auth succeeded', async () => {
    const r = await authTest('alice', 'alice-pw');
    assert.equal(r.code, 0, r.stdout + r.stderr + log());
    assert.match(r.stdout, /passdb: alice auth succeeded/);
  });

  test('a wrong password: auth failed', async () => {
    const r = await authTest('alice', 'wrong-pw');
    assert.notEqual(r.code, 0);
    assert.match(r.stdout + r.stderr, /passdb: alice auth failed/);
  });

  test("a user the application's policy does not admit (erin): auth failed", async () => {
    const r = await authTest('erin', 'erin-pw');
    assert.notEqual(r.code, 0);
    assert.match(r.stdout + r.stderr, /passdb: erin auth failed/);
  });
});
