/**
 * Faults between the outpost and the core (issue 13, part 2), with a fault-injecting TCP proxy in front of the
 * embedded core: the core down while serving, hanging, the WebSocket cut while the core changed, a certificate
 * rotated in the core. Cached binds and searches keep working without the core; whatever needs the core is
 * refused (LDAP 52, RADIUS Access-Reject), never accepted; connections to a hung core stay within the pool.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import tls from 'node:tls';
import { CORE_API_LIMITS } from '../../src/config/limits.js';
import type { DirectoryFile } from '../../src/embedded-core/directory/types.js';
import { hashPassword } from '../../src/embedded-core/directory/passwords.js';
import { Code, decodePacket } from '../../src/protocol/radius/index.js';
import { run } from '../helpers/cli.js';
import { BASE_DN, RADIUS_OUTPOST_TOKEN, RADIUS_SECRET, testDirectory } from '../helpers/directories.js';
import type { FaultProxy } from '../helpers/fault-proxy.js';
import { figure } from '../helpers/figures.js';
import { LdapTestClient } from '../helpers/ldap-client.js';
import { ask, papRequest } from '../helpers/radius-client.js';
import { waitFor } from '../helpers/wait.js';
import { startStackBehindProxy, type Stack } from '../helpers/stack.js';

const SUITE = 'resilience: faults';
const userDn = (name: string): string => `cn=${name},ou=users,${BASE_DN}`;


async function bind(port: number, name: string, password: string): Promise<number> {
  const client = await LdapTestClient.connect(port);
  try {
    return (await client.bind(name, password)).resultCode;
  } finally {
    client.destroy();
  }
}

describe('LDAP outpost with the core behind a fault proxy', () => {
  let stack: Stack;
  let proxy: FaultProxy;
  let stop: () => Promise<void>;
  let directory: DirectoryFile;

  before(async () => {
    directory = await testDirectory({ bindMode: 'cached', searchMode: 'cached' });
    ({ stack, proxy, stop } = await startStackBehindProxy({
      directory,
      fastLink: true,
      env: { AUTHENTIK_CORE_TIMEOUT_MS: '1000' },
    }));
  });
  after(async () => {
    await stop();
  });

  const searchCount = async (name: string, password: string): Promise<number> => {
    const client = await LdapTestClient.connect(stack.ldapPort);
    try {
      assert.equal((await client.bind(name, password)).resultCode, 0);
      const { entries, done } = await client.search(BASE_DN, '(objectClass=person)');
      assert.equal(done.resultCode, 0);
      return entries.length;
    } finally {
      client.destroy();
    }
  };

  test('core down: cached binds and searches keep working; anything needing the core is refused with 52', async () => {
    assert.equal(await bind(stack.ldapPort, userDn('akadmin'), 'akadmin-pw'), 0);
    const people = await searchCount(userDn('akadmin'), 'akadmin-pw');
    assert.ok(people >= 6, `${people} people`);

    proxy.mode = 'refuse';
    proxy.cut();
    await waitFor('the link to go down', () => !stack.outpost.controller.state.connected);

    assert.equal(await bind(stack.ldapPort, userDn('akadmin'), 'akadmin-pw'), 0, 'the cached bind');
    assert.equal(await searchCount(userDn('akadmin'), 'akadmin-pw'), people, 'the cached search');
    const started = performance.now();
    assert.equal(await bind(stack.ldapPort, userDn('bob'), 'bob-pw'), 52, 'a bind that needs the core');
    figure(SUITE, 'uncached bind refused with the core down (ms)', Math.round(performance.now() - started));
    assert.equal(await bind(stack.ldapPort, userDn('akadmin'), 'wrong-pw'), 52, 'a wrong password is never a cache hit');
    // ldapwhoami, a client nobody here wrote, sees the same.
    const whoami = await run('ldapwhoami', ['-x', '-H', stack.ldapUrl, '-D', userDn('erin'), '-w', 'erin-pw']);
    assert.equal(whoami.code, 52, whoami.stderr);

    proxy.mode = 'pass';
    const recovered = await waitFor('the link to come back', () => stack.outpost.controller.state.connected);
    figure(SUITE, 'event link back after the core returned (ms)', Math.round(recovered));
    assert.equal(await bind(stack.ldapPort, userDn('bob'), 'bob-pw'), 0, 'binds through the core work again');
  });

  test('core hanging: binds are refused at the timeout, connections to the core stay within the pool', async () => {
    proxy.mode = 'hang';
    proxy.cut(); // idle keep-alive sockets to the core would otherwise still answer
    const binds = 200;
    const started = performance.now();
    const codes = await Promise.all(Array.from({ length: binds }, (_, i) => bind(stack.ldapPort, userDn('erin'), `guess-${i}`)));
    const tookMs = performance.now() - started;
    assert.deepEqual(new Set(codes), new Set([52]), 'every bind refused as unavailable, none accepted');
    // The HTTP pool plus the event link's WebSocket, which reconnects through the proxy too.
    const cap = CORE_API_LIMITS.maxSockets + 1;
    assert.ok(proxy.peakHanging <= cap, `${proxy.peakHanging} connections held open to the hung core`);
    figure(SUITE, `${binds} concurrent binds against a hung core`, `all 52 after ${Math.round(tookMs)} ms; at most ${proxy.peakHanging} connections to the core (pool ${CORE_API_LIMITS.maxSockets} + event link)`);

    proxy.mode = 'pass';
    proxy.cut();
    await waitFor('binds to work again', async () => (await bind(stack.ldapPort, userDn('bob'), 'bob-pw')) === 0);
  });

  test('WebSocket cut while the core changed: the outpost reconnects and refreshes without a restart', async () => {
    proxy.mode = 'refuse';
    proxy.cut();
    await waitFor('the link to go down', () => !stack.outpost.controller.state.connected);
    directory.users!.push({ username: 'frank', name: 'Frank Tester', email: 'frank@example.test', password: await hashPassword('frank-pw', 10), groups: ['staff'] });
    await stack.core.reload(); // its push reaches nobody
    const before = stack.outpost.controller.state.lastUpdate;
    proxy.mode = 'pass';
    const tookMs = await waitFor('the refresh after the reconnect', () => stack.outpost.controller.state.lastUpdate !== before);
    figure(SUITE, 'reconnect and refresh after a cut WebSocket (ms)', Math.round(tookMs));
    assert.equal(await bind(stack.ldapPort, userDn('frank'), 'frank-pw'), 0, 'the user added while cut off binds');
    const client = await LdapTestClient.connect(stack.ldapPort);
    try {
      assert.equal((await client.bind(userDn('akadmin'), 'akadmin-pw')).resultCode, 0);
      const { entries } = await client.search(BASE_DN, '(&(objectClass=user)(cn=frank))');
      assert.equal(entries.length, 1, 'and is in the directory');
    } finally {
      client.destroy();
    }
  });

  test('a certificate rotated in the core is used by the next LDAPS handshake, without a restart', async () => {
    const fingerprint = (): Promise<string> =>
      new Promise((resolve, reject) => {
        const socket = tls.connect({ port: stack.ldapsPort, host: '127.0.0.1', servername: 'localhost', rejectUnauthorized: false }, () => {
          const raw = socket.getPeerCertificate().raw;
          socket.destroy();
          resolve(new X509Certificate(raw).fingerprint256);
        });
        socket.once('error', reject);
      });
    const old = await fingerprint();
    directory.certificates!.push({ name: 'ldap-rotated', subject_alt_names: ['localhost', 'ldap.test.local'] });
    const provider = directory.providers!.find((p) => p.type === 'ldap')!;
    provider.certificate = 'ldap-rotated';
    const before = stack.outpost.controller.state.lastUpdate;
    await stack.core.reload();
    await waitFor('the pushed refresh', () => stack.outpost.controller.state.lastUpdate !== before);
    const rotated = await fingerprint();
    assert.notEqual(rotated, old);
    const pem = [...stack.core.directory().certificates.values()].find((c) => c.name === 'ldap-rotated')?.certificatePem;
    assert.ok(pem !== undefined);
    assert.equal(rotated, new X509Certificate(pem).fingerprint256, 'the handshake presents the rotated certificate');
  });
});

describe('RADIUS outpost with the core down', () => {
  let stack: Stack;
  let proxy: FaultProxy;
  let stop: () => Promise<void>;

  before(async () => {
    ({ stack, proxy, stop } = await startStackBehindProxy({
      token: RADIUS_OUTPOST_TOKEN,
      env: { AUTHENTIK_CORE_TIMEOUT_MS: '1000' },
    }));
  });
  after(async () => {
    await stop();
  });

  test('a correct password is answered with Access-Reject while the core is down or hanging, Accept when back', async () => {
    const code = async (): Promise<number | undefined> => {
      const answer = await ask(papRequest('alice', 'alice-pw', RADIUS_SECRET).datagram, { port: stack.radiusPort, waitMs: 8_000 });
      return answer === undefined ? undefined : decodePacket(answer).code;
    };
    assert.equal(await code(), Code.AccessAccept);
    for (const mode of ['refuse', 'hang'] as const) {
      proxy.mode = mode;
      proxy.cut();
      assert.equal(await code(), Code.AccessReject, `core ${mode}`);
    }
    proxy.mode = 'pass';
    proxy.cut();
    assert.equal(await code(), Code.AccessAccept);
  });
});
