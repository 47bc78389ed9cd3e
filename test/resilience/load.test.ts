/**
 * Load held for a bounded time (issue 13, part 3): 1,000 LDAP connections open at once from four loopback
 * addresses (the per-address cap is 512), each binding and searching in rounds, RADIUS PAP from many sources;
 * zero errors, file descriptors returned when the clients leave, and the heap flat across repeated refreshes
 * and event-link reconnects after warm-up (a leaked snapshot per refresh would add megabytes each time).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import v8 from 'node:v8';
import vm from 'node:vm';
import type { DirectoryFile } from '../../src/embedded-core/directory/types.js';
import { hashPassword } from '../../src/embedded-core/directory/passwords.js';
import { Code, decodePacket } from '../../src/protocol/radius/index.js';
import { BASE_DN, RADIUS_OUTPOST_TOKEN, RADIUS_SECRET, testDirectory } from '../helpers/directories.js';
import type { FaultProxy } from '../helpers/fault-proxy.js';
import { figure } from '../helpers/figures.js';
import { LdapTestClient } from '../helpers/ldap-client.js';
import { ask, papRequest } from '../helpers/radius-client.js';
import { waitFor } from '../helpers/wait.js';
import { startStack, startStackBehindProxy, type Stack } from '../helpers/stack.js';

const SUITE = 'resilience: load';
const CONNECTIONS = 1_000;
const ROUNDS = 3;
const LOAD_USERS = 2_000;
const BINDERS = 25;
const userDn = (name: string): string => `cn=${name},ou=users,${BASE_DN}`;

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

const openFds = (): number => readdirSync('/proc/self/fd').length;
const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;


function connectFrom(port: number, localAddress: string): Promise<LdapTestClient> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', localAddress }, () => {
      socket.off('error', reject);
      resolve(new LdapTestClient(socket));
    });
    socket.once('error', reject);
  });
}

async function loadDirectory(): Promise<DirectoryFile> {
  const password = await hashPassword('load-pw', 10);
  const extraUsers = Array.from({ length: LOAD_USERS }, (_, i) => ({
    username: `load-${i}`,
    name: `Load ${i}`,
    email: `load-${i}@example.test`,
    password,
    groups: ['staff'],
  }));
  const directory = await testDirectory({ bindMode: 'cached', searchMode: 'cached', extraUsers });
  for (const user of directory.users ?? []) if (user.username.startsWith('load-') && Number(user.username.slice(5)) < BINDERS) user.search_full_directory = true;
  return directory;
}

describe('LDAP under load', () => {
  let stack: Stack;
  let proxy: FaultProxy;
  let stop: () => Promise<void>;

  before(async () => {
    ({ stack, proxy, stop } = await startStackBehindProxy({
      directory: await loadDirectory(),
      fastLink: true,
    }));
  });
  after(async () => {
    await stop();
  });

  test(`${CONNECTIONS} connections held open, binding and searching in ${ROUNDS} rounds: zero errors, descriptors returned`, async () => {
    // Each binder's first bind runs the flow; the rounds below are the cached binds many clients repeat.
    const warm = await LdapTestClient.connect(stack.ldapPort);
    for (let i = 0; i < BINDERS; i++) assert.equal((await warm.bind(userDn(`load-${i}`), 'load-pw')).resultCode, 0);
    await warm.close();
    const fdsBefore = openFds();
    const started = performance.now();
    const clients = await Promise.all(Array.from({ length: CONNECTIONS }, (_, i) => connectFrom(stack.ldapPort, `127.0.0.${2 + (i % 4)}`)));
    await waitFor('every connection to be open at once', () => stack.ldapModule().listener.connectionCount === CONNECTIONS);
    let operations = 0;
    const errors: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      await Promise.all(
        clients.map(async (client, i) => {
          const user = `load-${(i + round) % BINDERS}`;
          const bound = await client.bind(userDn(user), 'load-pw');
          operations++;
          if (bound.resultCode !== 0) return void errors.push(`bind ${user}: ${bound.resultCode}`);
          const target = `load-${(i * 7 + round) % LOAD_USERS}`;
          const { entries, done } = await client.search(`ou=users,${BASE_DN}`, `(cn=${target})`, { attributes: ['cn', 'memberOf'] });
          operations++;
          if (done.resultCode !== 0 || entries.length !== 1) errors.push(`search ${target}: ${done.resultCode}, ${entries.length} entries`);
        }),
      );
    }
    const tookMs = performance.now() - started;
    assert.deepEqual(errors.slice(0, 5), [], `${errors.length} errors`);
    await Promise.all(clients.map((c) => c.close()));
    await waitFor('the server to close every connection', () => stack.ldapModule().listener.connectionCount === 0);
    await waitFor('descriptors to be returned', () => openFds() <= fdsBefore + 2);
    figure(SUITE, `${CONNECTIONS} LDAP connections from 4 addresses, ${ROUNDS} rounds of bind + search`, `${operations} operations, 0 errors, ${Math.round(tookMs)} ms; descriptors ${fdsBefore} before, ${openFds()} after`);
  });

  test('heap flat across 40 refreshes and 10 event-link reconnects after warm-up', async () => {
    for (let i = 0; i < 5; i++) assert.ok(await stack.outpost.refresh());
    const warm = heapAfterGc();
    for (let i = 0; i < 40; i++) assert.ok(await stack.outpost.refresh());
    for (let i = 0; i < 10; i++) {
      proxy.cut();
      await waitFor('the link to go down', () => !stack.outpost.controller.state.connected);
      await waitFor('the link to come back', () => stack.outpost.controller.state.connected);
    }
    const afterRefreshes = heapAfterGc();
    figure(SUITE, `heap after warm-up / after 40 refreshes and 10 reconnects (${LOAD_USERS} + 6 users, test process incl. core)`, `${mb(warm)} / ${mb(afterRefreshes)}`);
    // One leaked snapshot of this directory is several MB; 40 of them could not hide in this margin.
    assert.ok(afterRefreshes < warm * 1.1 + 4 * 1024 * 1024, `heap grew from ${mb(warm)} to ${mb(afterRefreshes)}`);
  });
});

describe('RADIUS under load', () => {
  let stack: Stack;

  before(async () => {
    stack = await startStack({ token: RADIUS_OUTPOST_TOKEN });
  });
  after(async () => {
    await stack.stop();
  });

  test('400 PAP requests from 16 source addresses at once: every one answered, right ones accepted', async () => {
    const requests = Array.from({ length: 400 }, (_, i) => ({ good: i % 4 !== 0, from: `127.0.1.${1 + (i % 16)}` }));
    const started = performance.now();
    const codes = await Promise.all(
      requests.map(async ({ good, from }) => {
        const answer = await ask(papRequest('alice', good ? 'alice-pw' : 'wrong-pw', RADIUS_SECRET).datagram, { port: stack.radiusPort, from, waitMs: 20_000 });
        return answer === undefined ? undefined : decodePacket(answer).code;
      }),
    );
    const tookMs = performance.now() - started;
    assert.deepEqual(
      codes,
      requests.map((r) => (r.good ? Code.AccessAccept : Code.AccessReject)),
    );
    figure(SUITE, '400 concurrent PAP requests (a quarter with a wrong password)', `400 answered, 300 Accept, 100 Reject, ${Math.round(tookMs)} ms`);
  });
});
