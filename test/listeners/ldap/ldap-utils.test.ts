/**
 * Framing against the real OpenLDAP command-line clients (ldap-utils): StartTLS with -ZZ, WhoAmI, a search,
 * and LDAPS. The handler is the fake one; this proves the wire, not the provider.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { LdapListener } from '../../../src/listeners/ldap/server.js';
import { createServerSecureContext } from '../../../src/listeners/tls.js';
import { fakeHandler, makeCertificate } from './fixtures.js';

const run = promisify(execFile);
const missing = spawnSync('ldapwhoami', ['-VV'], { stdio: 'ignore' }).error !== undefined;
const skip = missing ? 'ldapwhoami not on PATH (install ldap-utils)' : false;
const env = { ...process.env, LDAPTLS_REQCERT: 'never' };

describe('OpenLDAP clients', { skip }, () => {
  const handler = fakeHandler();
  let listener: LdapListener;
  let port = 0;
  let tlsPort = 0;

  before(async () => {
    const context = createServerSecureContext(makeCertificate());
    listener = new LdapListener({ handler, selectCertificate: () => context });
    port = (await listener.listen({ host: '127.0.0.1', port: 0 })).port;
    tlsPort = (await listener.listen({ host: '127.0.0.1', port: 0, mode: 'ldaps' })).port;
  });
  after(() => listener.close());

  test('ldapwhoami -ZZ: StartTLS, simple bind, WhoAmI', async () => {
    const { stdout } = await run(
      'ldapwhoami',
      ['-x', '-ZZ', '-H', `ldap://127.0.0.1:${port}`, '-D', 'cn=alice,ou=users,dc=example', '-w', 'secret'],
      { env, timeout: 10_000 },
    );
    assert.equal(stdout.trim(), 'dn:cn=alice,ou=users,dc=example');
    const bind = handler.calls.find((c) => c.msg.op.kind === 'BindRequest');
    assert.equal(bind?.conn.tls.secure, true);
  });

  test('ldapsearch over StartTLS and over LDAPS', async () => {
    for (const uri of [`ldap://127.0.0.1:${port}`, `ldaps://127.0.0.1:${tlsPort}`]) {
      const args = ['-x', '-LLL', '-H', uri, '-b', 'dc=example,dc=org', '(objectClass=*)'];
      if (uri.startsWith('ldap:')) args.unshift('-ZZ');
      const { stdout } = await run('ldapsearch', args, { env, timeout: 10_000 });
      assert.match(stdout, /^dn: dc=example,dc=org$/m, uri);
      assert.match(stdout, /^messageID: \d+$/m, uri);
    }
  });
});
