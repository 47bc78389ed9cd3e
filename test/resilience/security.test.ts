/**
 * Security properties (issue 13, part 4) at the system level: at TRACE, the most verbose level, no password,
 * one-time code, static token, outpost or admin token or RADIUS shared secret appears in any log line, whatever
 * the outcome (accepted, refused, MFA, accounting, EAP); TLS below 1.2 is refused on LDAPS, after StartTLS and
 * inside EAP; a request signed with the wrong secret is never answered; and the outpost's own code compares no
 * secret with `===`. Directory exposure to anonymous and unprivileged users is asserted in test/e2e/ldap-bind
 * and ldap-search; EAP and bind-cache bounds in their unit tests (test/providers).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { totpCode } from '../../src/embedded-core/directory/totp.js';
import { Code, decodePacket } from '../../src/protocol/radius/index.js';
import { run } from '../helpers/cli.js';
import type { DirectoryFile } from '../../src/embedded-core/directory/types.js';
import { ADMIN_TOKEN, BASE_DN, LDAP_OUTPOST_TOKEN, RADIUS_OUTPOST_TOKEN, RADIUS_SECRET, TOTP_SECRET, testDirectory } from '../helpers/directories.js';
import { figure } from '../helpers/figures.js';
import { LdapTestClient } from '../helpers/ldap-client.js';
import { ask, exchange, papRequest } from '../helpers/radius-client.js';
import { startStack, type Stack } from '../helpers/stack.js';

const SUITE = 'resilience: security';
const userDn = (name: string): string => `cn=${name},ou=users,${BASE_DN}`;
const OLD_TLS: tls.ConnectionOptions = { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0', rejectUnauthorized: false };

/** The test directory with every outpost's log level at trace, as the core's outpost config sets it. */
async function traceDirectory(): Promise<DirectoryFile> {
  const directory = await testDirectory();
  for (const outpost of directory.outposts ?? []) outpost.config = { log_level: 'trace' };
  return directory;
}

/** The TLS handshake's outcome: the version agreed, or the error. */
function handshake(connect: (options: tls.ConnectionOptions) => tls.TLSSocket): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(OLD_TLS);
    socket.once('secureConnect', () => {
      resolve(socket.getProtocol() ?? 'unknown');
      socket.destroy();
    });
    socket.once('error', (err) => resolve(`refused: ${err.message}`));
  });
}

describe('LDAP: secrets stay out of the log at trace level; old TLS refused', () => {
  let stack: Stack;
  const secrets: string[] = [];

  before(async () => {
    stack = await startStack({ directory: await traceDirectory(), logLevel: 'trace' });
  });
  after(async () => {
    await stack.stop();
  });

  test('binds that succeed, fail, carry a TOTP or static code, over StartTLS: no secret in any line', async () => {
    const code = totpCode(TOTP_SECRET, Date.now());
    const attempts: [string, string][] = [
      ['alice', 'alice-pw'],
      ['alice', 'alice-wrong-password-1'],
      ['carol', `carol-pw;${code}`],
      ['carol', 'carol-pw;carol-static-1'],
      ['carol', 'carol-pw'],
      ['dave', 'dave-pw'],
      ['erin', 'erin-pw'],
      ['nobody', 'nobody-password-2'],
    ];
    for (const [user, password] of attempts) {
      secrets.push(password, password.split(';')[0]!);
      await run('ldapwhoami', ['-x', '-H', stack.ldapUrl, '-D', userDn(user), '-w', password]);
    }
    const starttls = await run('ldapwhoami', ['-x', '-ZZ', '-H', stack.ldapUrl, '-D', userDn('bob'), '-w', 'bob-pw'], { LDAPTLS_CACERT: stack.caPath, LDAPTLS_REQCERT: 'never' });
    assert.equal(starttls.code, 0, starttls.stderr);
    secrets.push('bob-pw', code, 'carol-static-1', TOTP_SECRET, LDAP_OUTPOST_TOKEN, RADIUS_OUTPOST_TOKEN, ADMIN_TOKEN);
    const debugLines = stack.logs.lines.filter((l) => l.includes('"level":"debug"') || l.includes('"level":"trace"')).length;
    assert.ok(debugLines > 0, 'nothing below info was filtered out');
    assert.deepEqual(stack.logs.leaked(secrets), []);
    figure(SUITE, 'LDAP log lines scanned at trace level', `${stack.logs.lines.length} lines (${debugLines} debug), ${new Set(secrets).size} secrets, 0 found`);
  });

  test('TLS 1.0 and 1.1 are refused on LDAPS and after StartTLS; TLS 1.2 works', async () => {
    const ldaps = await handshake((o) => tls.connect({ ...o, port: stack.ldapsPort, host: '127.0.0.1', servername: 'localhost' }));
    assert.match(ldaps, /^refused/, ldaps);
    const modern = await new Promise<string>((resolve, reject) => {
      const socket = tls.connect({ port: stack.ldapsPort, host: '127.0.0.1', servername: 'localhost', rejectUnauthorized: false, maxVersion: 'TLSv1.2' }, () => {
        resolve(socket.getProtocol() ?? '');
        socket.destroy();
      });
      socket.once('error', reject);
    });
    assert.equal(modern, 'TLSv1.2');
    const client = await LdapTestClient.connect(stack.ldapPort);
    const refused = await client.startTls(OLD_TLS).then(
      () => 'handshake completed',
      (err: Error) => `refused: ${err.message}`,
    );
    assert.match(refused, /^refused/, refused);
    client.destroy();
  });
});

describe('RADIUS: secrets stay out of the log at trace level; wrong secrets and old TLS refused', () => {
  let stack: Stack;
  let dir: string;

  before(async () => {
    stack = await startStack({ directory: await traceDirectory(), token: RADIUS_OUTPOST_TOKEN, logLevel: 'trace' });
    dir = mkdtempSync(join(tmpdir(), 'ako-security-'));
  });
  after(async () => {
    await stack.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('PAP accepted, refused, with a code, accounting, EAP-TTLS: no secret in any line', async () => {
    const code = totpCode(TOTP_SECRET, Date.now());
    const port = stack.radiusPort;
    const pap = async (user: string, password: string): Promise<number | undefined> => {
      const answer = await ask(papRequest(user, password, RADIUS_SECRET).datagram, { port, waitMs: 5_000 });
      return answer === undefined ? undefined : decodePacket(answer).code;
    };
    assert.equal(await pap('alice', 'alice-pw'), Code.AccessAccept);
    assert.equal(await pap('alice', 'alice-wrong-password-3'), Code.AccessReject);
    assert.equal(await pap('carol', `carol-pw;${code}`), Code.AccessAccept);
    const acct = await run('sh', ['-c', `printf 'User-Name = alice\\nAcct-Status-Type = Start\\nAcct-Session-Id = s1\\n' | radclient -r 1 -t 2 127.0.0.1:${stack.radiusAccountingPort} acct ${RADIUS_SECRET}`]);
    assert.equal(acct.code, 0, acct.stderr);
    const conf = join(dir, 'ttls.conf');
    writeFileSync(conf, `network={\n  key_mgmt=WPA-EAP\n  eap=TTLS\n  identity="bob"\n  password="bob-ttls-pw-4"\n  phase2="auth=PAP"\n  ca_cert="${stack.caPath}"\n}\n`);
    await run('eapol_test', ['-c', conf, '-a', '127.0.0.1', '-p', String(port), '-s', RADIUS_SECRET, '-t', '10'], {}, 30_000);
    const secrets = ['alice-pw', 'alice-wrong-password-3', `carol-pw;${code}`, code, 'carol-pw', 'bob-ttls-pw-4', RADIUS_SECRET, RADIUS_OUTPOST_TOKEN, ADMIN_TOKEN];
    assert.deepEqual(stack.logs.leaked(secrets), []);
    const debugLines = stack.logs.lines.filter((l) => l.includes('"level":"debug"') || l.includes('"level":"trace"')).length;
    assert.ok(debugLines > 0, 'nothing below info was filtered out');
    figure(SUITE, 'RADIUS log lines scanned at trace level', `${stack.logs.lines.length} lines (${debugLines} debug or trace), ${secrets.length} secrets, 0 found`);
  });

  test('a right password sent with a wrong shared secret is never answered', async () => {
    for (const withMa of [true, false]) {
      const answers = await exchange(papRequest('alice', 'alice-pw', 'a-wrong-secret', { messageAuthenticator: withMa }).datagram, { port: stack.radiusPort, waitMs: 1_000 });
      // With Message-Authenticator: dropped as forged. Without: this client sent one before, so it is required.
      assert.equal(answers.length, 0);
    }
  });

  test('EAP-TTLS over TLS 1.1 is refused inside EAP', async () => {
    const conf = join(dir, 'ttls-old.conf');
    writeFileSync(
      conf,
      `network={\n  key_mgmt=WPA-EAP\n  eap=TTLS\n  identity="alice"\n  password="alice-pw"\n  phase2="auth=PAP"\n  ca_cert="${stack.caPath}"\n` +
        `  phase1="tls_disable_tlsv1_0=0 tls_disable_tlsv1_1=0 tls_disable_tlsv1_2=1 tls_disable_tlsv1_3=1"\n  openssl_ciphers="DEFAULT@SECLEVEL=0"\n}\n`,
    );
    const result = await run('eapol_test', ['-c', conf, '-a', '127.0.0.1', '-p', String(stack.radiusPort), '-s', RADIUS_SECRET, '-t', '10'], {}, 30_000);
    const output = result.stdout + result.stderr;
    assert.notEqual(result.code, 0);
    assert.doesNotMatch(output, /^SUCCESS$/m);
    // The one Access-Challenge is the EAP-TTLS start; the TLS 1.1 ClientHello is answered with Access-Reject,
    // no ServerHello ever sent.
    assert.equal(output.match(/code=11 \(Access-Challenge\)/g)?.length, 1, output.slice(-2000));
    assert.match(output, /code=3 \(Access-Reject\)/, output.slice(-2000));
  });
});

test('the outpost compares no password, secret or token with === or !== (constant-time comparisons only)', () => {
  const src = fileURLToPath(new URL('../../../src/', import.meta.url));
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const full = join(dir, name);
      if (statSync(full).isDirectory()) {
        if (name !== 'embedded-core') walk(full); // the embedded core is a separate product with its own checks
      } else if (name.endsWith('.ts')) files.push(full);
    }
  };
  walk(src);
  // `x === y` where either side names a secret, unless the other side is a literal, undefined or null.
  const secretName = /(password|secret|token)$/i;
  // Enum members name attribute types, not values.
  const enumMember = /^(Attr|AvpCode|Code|Oid)\./;
  const comparison = /([\w.[\]'"]+)\s*[!=]==\s*([\w.[\]'"]+)/g;
  const trivial = /^(undefined|null|''|""|\d+|true|false|'[^']*'|"[^"]*")$/;
  const found: string[] = [];
  for (const file of files) {
    const lines = readFileSync(file, 'utf8').split('\n');
    lines.forEach((line, i) => {
      if (line.trimStart().startsWith('*') || line.trimStart().startsWith('//')) return;
      for (const [, left = '', right = ''] of line.matchAll(comparison)) {
        if (trivial.test(left) || trivial.test(right)) continue;
        if (/typeof|\.length$|\.size$|\.type$|\.kind$|Type$/.test(left) || /\.length$|\.size$/.test(right)) continue;
        if (enumMember.test(left) || enumMember.test(right)) continue;
        if (secretName.test(left) || secretName.test(right)) found.push(`${relative(src, file)}:${i + 1}: ${line.trim()}`);
      }
    });
  }
  assert.deepEqual(found, []);
  figure(SUITE, 'source files checked for === on secrets', `${files.length} files, 0 found`);
});
