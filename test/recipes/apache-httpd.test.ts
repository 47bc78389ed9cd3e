/**
 * The README's Apache httpd recipe (docs/recipes/apache-httpd.conf) against the outpost: httpd with mod_ldap and
 * mod_authnz_ldap, started in the foreground with a private configuration on a loopback port, checks Basic
 * credentials over LDAPS; curl is the browser.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hashPassword } from '../../src/embedded-core/directory/passwords.js';
import { run } from '../helpers/cli.js';
import { freePort } from '../helpers/net.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { testDirectory } from '../helpers/directories.js';
import { readableTempDir, recipe, startDaemon } from './recipe.js';

const APACHE = '/usr/sbin/apache2';
const MODULES = '/usr/lib/apache2/modules';
const SERVICE_PASSWORD = 'ldapservice-password';

/** httpd's own settings for a private instance; the recipe is included as printed in the README. */
function httpdConf(dir: string, port: number, recipePath: string): string {
  const modules = ['mpm_event', 'authn_core', 'authz_core', 'authz_user', 'auth_basic', 'ldap', 'authnz_ldap'];
  return [
    `ServerRoot "${dir}"`,
    'ServerName localhost',
    `Listen 127.0.0.1:${port}`,
    `PidFile "${join(dir, 'httpd.pid')}"`,
    `ErrorLog "${join(dir, 'error.log')}"`,
    'LogLevel warn',
    `Mutex file:${dir} default`,
    `DefaultRuntimeDir "${dir}"`,
    // Started as root (CI), httpd refuses to serve as root: its children run as Debian's www-data.
    ...(process.getuid?.() === 0 ? ['User www-data', 'Group www-data'] : []),
    ...modules.map((m) => `LoadModule ${m}_module ${MODULES}/mod_${m}.so`),
    `DocumentRoot "${join(dir, 'htdocs')}"`,
    `Include "${recipePath}"`,
    '',
  ].join('\n');
}

describe('Apache httpd with mod_authnz_ldap, configured as the README says', () => {
  let stack: Stack;
  let httpd: { stop(): Promise<void> } | undefined;
  let base: string;
  const scratch = readableTempDir('ako-apache-');

  before(async () => {
    const directory = await testDirectory({
      extraUsers: [
        {
          username: 'ldapservice',
          name: 'LDAP service account',
          password: await hashPassword(SERVICE_PASSWORD, 10),
          groups: ['staff'],
          search_full_directory: true,
        },
      ],
    });
    stack = await startStack({ directory });
    copyFileSync(stack.caPath, join(scratch.path, 'ca.pem'));
    const conf = recipe('apache-httpd.conf', [
      ['/etc/apache2/authentik-ca.pem', join(scratch.path, 'ca.pem')],
      ['ldap.example.com:6636', `localhost:${stack.ldapsPort}`],
      ['ldapservice-password', SERVICE_PASSWORD],
    ]);
    const recipePath = scratch.write('recipe.conf', conf);
    for (const path of ['htdocs', 'htdocs/engineering']) mkdirSync(join(scratch.path, path), { mode: 0o755 });
    writeFileSync(join(scratch.path, 'htdocs', 'ok.txt'), 'ok\n', { mode: 0o644 });
    writeFileSync(join(scratch.path, 'htdocs', 'engineering', 'ok.txt'), 'engineering\n', { mode: 0o644 });
    const port = await freePort();
    const confPath = scratch.write('httpd.conf', httpdConf(scratch.path, port, recipePath));
    httpd = startDaemon(APACHE, ['-f', confPath, '-D', 'FOREGROUND']);
    base = `http://127.0.0.1:${port}`;
    await waitForHttp(base);
  });

  after(async () => {
    await httpd?.stop();
    await stack?.stop();
    scratch.remove();
  });

  /** The HTTP status curl gets for `path` with `user:password`. */
  async function status(path: string, user: string, password: string): Promise<number> {
    const r = await run('curl', ['--noproxy', '*', '-s', '-o', '/dev/null', '-w', '%{http_code}', '-u', `${user}:${password}`, `${base}${path}`]);
    return Number(r.stdout);
  }
  const errorLog = (): string => readFileSync(join(scratch.path, 'error.log'), 'utf8');

  test('the right password: 200', async () => {
    assert.equal(await status('/ok.txt', 'alice', 'alice-pw'), 200, errorLog());
  });

  test('a wrong password: 401', async () => {
    assert.equal(await status('/ok.txt', 'alice', 'wrong-pw'), 401);
  });

  test('an unknown user: 401', async () => {
    assert.equal(await status('/ok.txt', 'nobody', 'nobody-pw'), 401);
  });

  test("a user the application's policy does not admit (erin) or an inactive one (dave): 401", async () => {
    assert.equal(await status('/ok.txt', 'erin', 'erin-pw'), 401);
    assert.equal(await status('/ok.txt', 'dave', 'dave-pw'), 401);
  });

  test('Require ldap-group: a member gets 200, a user outside the group is refused', async () => {
    assert.equal(await status('/engineering/ok.txt', 'alice', 'alice-pw'), 200, errorLog());
    // httpd answers an authorization failure with 401 unless AuthzSendForbiddenOnFailure is on.
    assert.equal(await status('/engineering/ok.txt', 'akadmin', 'akadmin-pw'), 401);
    assert.match(errorLog(), /user akadmin: authorization failure for "\/engineering\/ok\.txt"/);
    // akadmin's password is right: the refusal comes from the group rule, not the bind.
    assert.equal(await status('/ok.txt', 'akadmin', 'akadmin-pw'), 200);
  });

  test('Require ldap-group follows nested groups: bob, in ops (a child of engineering), gets 200', async () => {
    assert.equal(await status('/engineering/ok.txt', 'bob', 'bob-pw'), 200, errorLog());
  });
});

async function waitForHttp(base: string): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const r = await run('curl', ['--noproxy', '*', '-s', '-o', '/dev/null', '-w', '%{http_code}', `${base}/`]);
    if (r.code === 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('httpd did not start answering');
}
