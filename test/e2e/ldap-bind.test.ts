/**
 * Bind end to end (embedded core -> outpost -> listener) with clients nobody here wrote: ldapwhoami, ldapexop,
 * ldapsearch (ldap-utils) and python3-ldap3. DN rules, anonymous binds, `password;code` TOTP, inactive and
 * policy-denied users, the connection turning anonymous after a failed bind, WhoAmI, and
 * AUTHENTIK_LDAP__REQUIRE_TLS. Exit codes of the OpenLDAP tools are the LDAP result codes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { totpCode, totpStep, TOTP_STEP_SECONDS } from '../../src/embedded-core/directory/totp.js';
import { run, parseLdif } from '../helpers/cli.js';
import { ADMIN_TOKEN, BASE_DN, LDAP_OUTPOST_TOKEN, TOTP_SECRET } from '../helpers/directories.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { Ldap3Driver } from './py/ldap3-driver.js';
import { metricSum } from '../helpers/metrics-text.js';

const userDn = (name: string): string => `cn=${name},ou=users,${BASE_DN}`;
const BIND_FLOW = 'default-authentication-flow';

/** Sum of a metric's samples whose labels include `labels` (Prometheus text format). */

/** Executor GETs the outpost made for the bind flow: one per flow the core ran. */
const bindFlowRequests = async (stack: Stack): Promise<number> =>
  metricSum(await stack.registry.exposition(), 'authentik_outpost_flow_timing_get_seconds_count', { flow: BIND_FLOW });

/** A six-digit code no TOTP step within the core's tolerance accepts. */
function wrongTotp(now: number): string {
  const valid = new Set([-1, 0, 1].map((d) => totpCode(TOTP_SECRET, now + d * TOTP_STEP_SECONDS * 1000)));
  for (let n = 123456; ; n = (n + 111_111) % 1_000_000) {
    const code = String(n).padStart(6, '0');
    if (!valid.has(code)) return code;
  }
}

const SECRETS = ['akadmin-pw', 'alice-pw', 'bob-pw', 'carol-pw', 'dave-pw', 'erin-pw', TOTP_SECRET, 'carol-static-1', 'wrong-pw'];

/** No password, token, TOTP secret or session cookie (an HS256 JWT) in anything the stack logged. */
function assertNothingSecretLogged(stack: Stack, secrets: readonly string[]): void {
  assert.ok(stack.logs.lines.length > 0, 'the stack logged');
  assert.deepEqual(stack.logs.leaked([...secrets, LDAP_OUTPOST_TOKEN, ADMIN_TOKEN, TOTP_SECRET]), []);
  assert.doesNotMatch(stack.logs.text, /eyJ[\w-]{8,}\.[\w-]{8,}|authentik_session=/, 'a session cookie was logged');
}

for (const generation of ['2026.2', '2023.10'] as const) {
  describe(`LDAP bind with real clients (${generation})`, () => {
    let stack: Stack;
    let py: Ldap3Driver;
    const usedCodes: string[] = [];
    before(async () => {
      stack = await startStack({ generation });
      py = new Ldap3Driver();
    });
    after(async () => {
      await py.close();
      await stack.stop();
    });

    const whoami = (dn: string, password: string) => run('ldapwhoami', ['-x', '-H', stack.ldapUrl, '-D', dn, '-w', password]);

    test('only cn=<name>,ou=users,<base> and cn=<name>,<base> bind; other paths are refused', async () => {
      const full = await whoami(userDn('alice'), 'alice-pw');
      assert.equal(full.code, 0, full.stderr);
      assert.equal(full.stdout.trim(), `dn:${userDn('alice')}`);
      const short = await whoami(`cn=alice,${BASE_DN}`, 'alice-pw');
      assert.equal(short.code, 0, short.stderr);
      assert.equal(short.stdout.trim(), `dn:cn=alice,${BASE_DN}`);
      // Case of the base and the RDN types does not matter; the DN is reported as sent.
      const mixed = await whoami('CN=alice,OU=Users,dc=LDAP,dc=goauthentik,dc=IO', 'alice-pw');
      assert.equal(mixed.code, 0, mixed.stderr);

      for (const dn of [`uid=alice,ou=users,${BASE_DN}`, `cn=alice,ou=groups,${BASE_DN}`, `cn=alice,ou=x,ou=users,${BASE_DN}`, `cn=alice,ou=virtual-groups,${BASE_DN}`]) {
        const r = await whoami(dn, 'alice-pw');
        assert.equal(r.code, 49, `${dn}: ${r.stderr}`);
        assert.match(r.stderr, /Invalid credentials \(49\)/);
      }
      const elsewhere = await whoami('cn=alice,dc=example,dc=com', 'alice-pw');
      assert.equal(elsewhere.code, 50, elsewhere.stderr);
      assert.match(elsewhere.stderr, /Insufficient access \(50\)/);
    });

    test('result codes: wrong password 49, inactive user 49, app policy 50, DN without password 53', async () => {
      assert.equal((await whoami(userDn('alice'), 'wrong-pw')).code, 49);
      assert.equal((await whoami(userDn('nosuchuser'), 'wrong-pw')).code, 49);
      assert.equal((await whoami(userDn('dave'), 'dave-pw')).code, 49);
      const erin = await whoami(userDn('erin'), 'erin-pw');
      assert.equal(erin.code, 50, erin.stderr);
      assert.match(erin.stderr, /Insufficient access \(50\)/);
      // RFC 4513 5.1.2: an unauthenticated bind (name, no password) is refused, never treated as anonymous.
      const unauthenticated = await whoami(userDn('alice'), '');
      assert.equal(unauthenticated.code, 53, unauthenticated.stderr);
      const rejected = await stack.registry.exposition();
      assert.ok(metricSum(rejected, 'authentik_outpost_ldap_requests_rejected_total', { type: 'bind', reason: 'access_denied' }) >= 1);
      assert.ok(metricSum(rejected, 'authentik_outpost_ldap_requests_rejected_total', { type: 'bind', reason: 'flow_error' }) >= 2);
    });

    test('anonymous bind succeeds but reads only the RootDSE', async () => {
      const who = await run('ldapwhoami', ['-x', '-H', stack.ldapUrl]);
      assert.equal(who.code, 0, who.stderr);
      assert.equal(who.stdout.trim(), 'anonymous');
      const root = await run('ldapsearch', ['-x', '-LLL', '-H', stack.ldapUrl, '-b', '', '-s', 'base', 'namingContexts']);
      assert.equal(root.code, 0, root.stderr);
      assert.deepEqual(parseLdif(root.stdout)[0]?.attributes.get('namingContexts'), ['dc=ldap,dc=goauthentik,dc=io']);
      const base = await run('ldapsearch', ['-x', '-LLL', '-H', stack.ldapUrl, '-b', BASE_DN, '-s', 'base']);
      assert.equal(base.code, 50, base.stderr);
      assert.equal(parseLdif(base.stdout).length, 0);
      const users = await run('ldapsearch', ['-x', '-LLL', '-H', stack.ldapUrl, '-b', `ou=users,${BASE_DN}`, '(cn=alice)']);
      assert.equal(users.code, 50, users.stderr);
    });

    test('password;code: TOTP through LDAP for carol', async () => {
      const now = Date.now();
      const noCode = await whoami(userDn('carol'), 'carol-pw');
      assert.equal(noCode.code, 49, 'the flow needs the second factor');
      const wrong = wrongTotp(now);
      usedCodes.push(wrong);
      assert.equal((await whoami(userDn('carol'), `carol-pw;${wrong}`)).code, 49);
      // The core refuses a step that was already used, so take the newest step the core accepts.
      const code = totpCode(TOTP_SECRET, (totpStep(now) + 1) * TOTP_STEP_SECONDS * 1000);
      usedCodes.push(code);
      const ok = await whoami(userDn('carol'), `carol-pw;${code}`);
      assert.equal(ok.code, 0, ok.stderr);
      assert.equal(ok.stdout.trim(), `dn:${userDn('carol')}`);
      // The same code again is a replay.
      assert.equal((await whoami(userDn('carol'), `carol-pw;${code}`)).code, 49);
    });

    test('after a failed bind the connection is anonymous (ldap3, one connection)', async () => {
      await py.must('open', { conn: 'c', host: '127.0.0.1', port: stack.ldapPort });
      const first = await py.must('bind', { conn: 'c', user: userDn('alice'), password: 'alice-pw' });
      assert.deepEqual([first.bound, first.result], [true, 0]);
      const own = await py.must('search', { conn: 'c', base: userDn('alice'), scope: 'base', attributes: ['cn'] });
      assert.equal(own.result, 0);
      assert.deepEqual(own.entries?.map((e) => e.dn), ['cn=alice,ou=users,dc=ldap,dc=goauthentik,dc=io']);
      assert.equal((await py.must('whoami', { conn: 'c' })).whoami, `dn:${userDn('alice')}`);

      const second = await py.must('bind', { conn: 'c', user: userDn('alice'), password: 'wrong-pw' });
      assert.deepEqual([second.bound, second.result], [false, 49]);
      const after = await py.must('search', { conn: 'c', base: userDn('alice'), scope: 'base', attributes: ['cn'] });
      assert.equal(after.result, 50, 'the failed bind left the connection anonymous');
      assert.deepEqual(after.entries, []);
      const who = await py.must('whoami', { conn: 'c' });
      assert.ok(who.whoami === null || who.whoami === '', `anonymous WhoAmI, got ${String(who.whoami)}`);
      await py.must('close', { conn: 'c' });
    });

    test('WhoAmI with ldapexop and ldap3', async () => {
      const exop = await run('ldapexop', ['-x', '-H', stack.ldapUrl, '-D', userDn('bob'), '-w', 'bob-pw', 'whoami']);
      assert.equal(exop.code, 0, exop.stderr);
      assert.equal(exop.stdout.trim(), `dn:${userDn('bob')}`);
      const anonymous = await run('ldapexop', ['-x', '-H', stack.ldapUrl, 'whoami']);
      assert.equal(anonymous.code, 0, anonymous.stderr);
      assert.equal(anonymous.stdout.trim(), 'anonymous');

      await py.must('open', { conn: 'w', host: '127.0.0.1', port: stack.ldapPort });
      assert.equal((await py.must('bind', { conn: 'w', user: `cn=bob,${BASE_DN}`, password: 'bob-pw' })).result, 0);
      assert.equal((await py.must('whoami', { conn: 'w' })).whoami, `dn:cn=bob,${BASE_DN}`);
      await py.must('close', { conn: 'w' });
    });

    test('nothing secret was logged', () => {
      // A code alone is six digits (could occur by chance in ids): look for it as a value or after the ';'.
      assertNothingSecretLogged(stack, [...SECRETS, ...usedCodes.flatMap((c) => [`"${c}"`, `;${c}`])]);
    });
  });
}

describe('AUTHENTIK_LDAP__REQUIRE_TLS=true', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ env: { AUTHENTIK_LDAP__REQUIRE_TLS: 'true' } });
  });
  after(async () => {
    await stack.stop();
  });
  const tlsEnv = () => ({ LDAPTLS_CACERT: stack.caPath });
  const bindArgs = ['-x', '-D', userDn('alice'), '-w', 'alice-pw'];

  test('a simple bind on plain LDAP is confidentialityRequired (13) and never reaches the core', async () => {
    const before = await bindFlowRequests(stack);
    const r = await run('ldapwhoami', ['-H', stack.ldapUrl, ...bindArgs]);
    assert.equal(r.code, 13, r.stderr);
    assert.match(r.stderr, /Confidentiality required \(13\)/);
    const wrong = await run('ldapwhoami', ['-H', stack.ldapUrl, '-x', '-D', userDn('alice'), '-w', 'wrong-pw']);
    assert.equal(wrong.code, 13, wrong.stderr);
    assert.equal(await bindFlowRequests(stack), before, 'no flow request went to the core');
    assert.ok(
      metricSum(await stack.registry.exposition(), 'authentik_outpost_ldap_requests_rejected_total', { type: 'bind', reason: 'tls_required' }) >= 2,
    );
  });

  test('the RootDSE stays readable on plain LDAP, so clients can discover StartTLS', async () => {
    const r = await run('ldapsearch', ['-x', '-LLL', '-H', stack.ldapUrl, '-b', '', '-s', 'base', 'supportedExtension']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(parseLdif(r.stdout)[0]?.attributes.get('supportedExtension')?.includes('1.3.6.1.4.1.1466.20037'));
  });

  test('StartTLS then bind, and LDAPS, succeed', async () => {
    const before = await bindFlowRequests(stack);
    const startTls = await run('ldapwhoami', ['-ZZ', '-H', `ldap://localhost:${stack.ldapPort}`, ...bindArgs], tlsEnv());
    assert.equal(startTls.code, 0, startTls.stderr);
    assert.equal(startTls.stdout.trim(), `dn:${userDn('alice')}`);
    const ldaps = await run('ldapwhoami', ['-H', stack.ldapsUrl, ...bindArgs], tlsEnv());
    assert.equal(ldaps.code, 0, ldaps.stderr);
    assert.equal(await bindFlowRequests(stack), before + 2);
  });

  test('nothing secret was logged', () => {
    assertNothingSecretLogged(stack, SECRETS);
  });
});
