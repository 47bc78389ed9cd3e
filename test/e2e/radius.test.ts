/**
 * RADIUS end to end (embedded core -> outpost -> UDP) with FreeRADIUS's radtest and radclient, and a byte-level
 * client on our codec where the bytes matter (Message-Authenticator, retransmissions, source addresses).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { totpCode } from '../../src/embedded-core/directory/totp.js';
import type { DirectoryFile } from '../../src/embedded-core/directory/types.js';
import {
  Attr,
  Code,
  checkMessageAuthenticator,
  decodePacket,
  decodeVendorSpecific,
  encodeRequest,
  getAttribute,
  integerValue,
  verifyResponseAuthenticator,
} from '../../src/protocol/radius/index.js';
import { run } from '../helpers/cli.js';
import { RADIUS_OUTPOST_TOKEN, RADIUS_SECRET, TOTP_SECRET, testDirectory } from '../helpers/directories.js';
import { metricSum } from '../helpers/metrics-text.js';
import { ask, exchange, papRequest } from '../helpers/radius-client.js';
import { startStack, type Stack } from '../helpers/stack.js';

const FLOW = 'default-authentication-flow';

const flowRuns = async (stack: Stack): Promise<number> =>
  metricSum(await stack.registry.exposition(), 'authentik_outpost_flow_timing_get_seconds_count', { flow: FLOW });

const dropped = async (stack: Stack, reason: string): Promise<number> =>
  metricSum(await stack.registry.exposition(), 'ak_outpost_radius_packets_dropped_total', { reason });

/** radclient with attribute lines on stdin; returns its output (it prints "Received <code>"). */
async function radclient(stack: Stack, command: 'auth' | 'acct' | 'status', attributes: string, secret = RADIUS_SECRET): Promise<string> {
  const port = command === 'acct' ? stack.radiusAccountingPort : stack.radiusPort;
  // radtest sends Message-Authenticator, so policy 'auto' requires it from 127.0.0.1 afterwards.
  const withMa = command === 'acct' ? attributes : `${attributes}, Message-Authenticator = 0x00`;
  const script = `printf '%s\\n' "$1" | radclient -x -r 1 -t 2 127.0.0.1:${port} ${command} "$2"`;
  const result = await run('sh', ['-c', script, 'radclient', withMa, secret]);
  return result.stdout + result.stderr;
}

async function withReplyAttributes(): Promise<DirectoryFile> {
  const directory = await testDirectory();
  for (const p of directory.providers ?? []) {
    if (p.type === 'radius') {
      p.property_mappings = [
        {
          name: 'session',
          attributes: [
            { type: 27, value: 3600 },
            { type: 26, vendor: 9, vendor_type: 1, value: 'shell:priv-lvl=15' },
          ],
        },
      ];
    }
  }
  return directory;
}

describe('RADIUS outpost with radtest and radclient', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ token: RADIUS_OUTPOST_TOKEN, directory: await withReplyAttributes() });
  });
  after(async () => {
    if (process.env['AKO_DUMP_LOGS'] !== undefined) (await import('node:fs')).writeFileSync(process.env['AKO_DUMP_LOGS'], stack.logs.text);
    await stack?.stop();
  });

  test('radtest: PAP Access-Accept for the right password', async () => {
    const result = await run('radtest', ['alice', 'alice-pw', `127.0.0.1:${stack.radiusPort}`, '0', RADIUS_SECRET]);
    assert.match(result.stdout, /Received Access-Accept/, result.stdout + result.stderr);
  });

  test('radclient: wrong password and unknown user are Access-Rejects', async () => {
    assert.match(await radclient(stack, 'auth', 'User-Name = "alice", User-Password = "wrong-pw"'), /Received Access-Reject/);
    assert.match(await radclient(stack, 'auth', 'User-Name = "nobody", User-Password = "nobody-pw"'), /Received Access-Reject/);
    const rejected = metricSum(await stack.registry.exposition(), 'authentik_outpost_radius_requests_rejected_total', { reason: 'flow_error', app: 'radius' });
    assert.ok(rejected >= 2, `flow_error rejections: ${rejected}`);
  });

  test('password;code with a TOTP code passes the MFA stage; without the code it is challenged (radius-mfa.test.ts)', async () => {
    assert.match(await radclient(stack, 'auth', 'User-Name = "carol", User-Password = "carol-pw"'), /Received Access-Challenge/);
    const code = totpCode(TOTP_SECRET, Date.now());
    assert.match(await radclient(stack, 'auth', `User-Name = "carol", User-Password = "carol-pw;${code}"`), /Received Access-Accept/);
  });

  test('an inactive user and a user outside the application are refused', async () => {
    assert.match(await radclient(stack, 'auth', 'User-Name = "dave", User-Password = "dave-pw"'), /Received Access-Reject/);
    assert.match(await radclient(stack, 'auth', 'User-Name = "erin", User-Password = "erin-pw"'), /Received Access-Reject/);
  });

  test('Status-Server is answered with Access-Accept', async () => {
    const out = await radclient(stack, 'status', 'NAS-Identifier = "test"');
    assert.match(out, /Received Access-Accept/, out);
  });

  test('Accounting-Request is answered with Accounting-Response; a wrong secret gets nothing', async () => {
    const before = metricSum(await stack.registry.exposition(), 'ak_outpost_radius_accounting_requests_total');
    const out = await radclient(stack, 'acct', 'User-Name = "alice", Acct-Status-Type = Start, Acct-Session-Id = "s-1"');
    assert.match(out, /Received Accounting-Response/, out);
    assert.equal(metricSum(await stack.registry.exposition(), 'ak_outpost_radius_accounting_requests_total'), before + 1);
    const forged = await radclient(stack, 'acct', 'User-Name = "alice", Acct-Status-Type = Stop, Acct-Session-Id = "s-1"', 'not-the-secret');
    assert.doesNotMatch(forged, /Received Accounting-Response/);
    assert.ok((await dropped(stack, 'bad_request_authenticator')) >= 1);
  });

  test('Access-Accept: Message-Authenticator first and valid, then the core\'s reply attributes', async () => {
    const { datagram, authenticator } = papRequest('alice', 'alice-pw', RADIUS_SECRET);
    const answer = await ask(datagram, { port: stack.radiusPort, from: '127.0.0.5' });
    assert.ok(answer !== undefined, 'no answer');
    const packet = decodePacket(answer);
    assert.equal(packet.code, Code.AccessAccept);
    assert.equal(packet.attributes[0]?.type, Attr.MessageAuthenticator);
    assert.equal(checkMessageAuthenticator(answer, RADIUS_SECRET, authenticator), 'valid');
    assert.ok(verifyResponseAuthenticator(answer, authenticator, RADIUS_SECRET));
    assert.equal(integerValue(getAttribute(packet, Attr.SessionTimeout)!), 3600);
    const vsa = decodeVendorSpecific(getAttribute(packet, Attr.VendorSpecific)!);
    assert.equal(vsa.vendorId, 9);
    assert.equal(vsa.attributes[0]?.value.toString(), 'shell:priv-lvl=15');
  });

  test('a forged Message-Authenticator is dropped; after a valid one, a request without one is dropped (auto)', async () => {
    const { datagram } = papRequest('alice', 'alice-pw', RADIUS_SECRET, { identifier: 21 });
    datagram[22] = datagram[22]! ^ 0xff; // first octet of the Message-Authenticator value
    const before = await dropped(stack, 'bad_message_authenticator');
    assert.equal(await ask(datagram, { port: stack.radiusPort, from: '127.0.0.5' }), undefined);
    assert.equal(await dropped(stack, 'bad_message_authenticator'), before + 1);
    // 127.0.0.5 sent a valid one in the previous test.
    const bare = papRequest('alice', 'alice-pw', RADIUS_SECRET, { identifier: 22, messageAuthenticator: false });
    assert.equal(await ask(bare.datagram, { port: stack.radiusPort, from: '127.0.0.5' }), undefined);
    assert.ok((await dropped(stack, 'missing_message_authenticator')) >= 1);
    // A client that never sent one may still omit it.
    const other = papRequest('alice', 'alice-pw', RADIUS_SECRET, { identifier: 23, messageAuthenticator: false });
    const answer = await ask(other.datagram, { port: stack.radiusPort, from: '127.0.0.6' });
    assert.equal(answer?.[0], Code.AccessAccept);
  });

  test('Status-Server without Message-Authenticator is dropped', async () => {
    const datagram = encodeRequest({ code: Code.StatusServer, identifier: 3, attributes: [] }, RADIUS_SECRET, false);
    assert.equal(await ask(datagram, { port: stack.radiusPort, from: '127.0.0.7' }), undefined);
  });

  test('retransmissions run the flow once: joined while in progress, then answered from the cache', async () => {
    const runs = await flowRuns(stack);
    const { datagram } = papRequest('bob', 'bob-pw', RADIUS_SECRET, { identifier: 40 });
    const answers = await exchange(datagram, { port: stack.radiusPort, from: '127.0.0.8', times: 3, resendAfterAnswers: true });
    assert.equal(answers.length, 4);
    assert.equal(answers[0]![0], Code.AccessAccept);
    for (const a of answers) assert.deepEqual(a, answers[0]);
    assert.equal(await flowRuns(stack), runs + 1);
    // A new request (another authenticator) is a new flow.
    const fresh = papRequest('bob', 'bob-pw', RADIUS_SECRET, { identifier: 40 });
    assert.equal((await ask(fresh.datagram, { port: stack.radiusPort, from: '127.0.0.8' }))?.[0], Code.AccessAccept);
    assert.equal(await flowRuns(stack), runs + 2);
  });

  test('nothing secret in the logs', () => {
    const code = totpCode(TOTP_SECRET, Date.now());
    assert.deepEqual(stack.logs.leaked([RADIUS_SECRET, 'alice-pw', 'wrong-pw', 'carol-pw', 'bob-pw', code]), []);
  });
});

describe('RADIUS client networks', () => {
  let stack: Stack;
  const SECRET_B = 'secret-of-provider-b';
  before(async () => {
    const directory = await testDirectory();
    for (const p of directory.providers ?? []) if (p.type === 'radius') p.client_networks = '127.0.0.0/24';
    directory.providers!.push({ type: 'radius', name: 'radius-b', shared_secret: SECRET_B, client_networks: '127.0.0.2/32' });
    directory.applications!.push({ slug: 'radius-b', name: 'RADIUS B', provider: 'radius-b', allowed_groups: ['staff'] });
    for (const o of directory.outposts ?? []) if (o.type === 'radius') o.providers.push('radius-b');
    stack = await startStack({ token: RADIUS_OUTPOST_TOKEN, directory });
  });
  after(async () => {
    await stack?.stop();
  });

  test('the longest prefix picks the provider and its secret', async () => {
    const b = papRequest('alice', 'alice-pw', SECRET_B);
    assert.equal((await ask(b.datagram, { port: stack.radiusPort, from: '127.0.0.2' }))?.[0], Code.AccessAccept);
    const a = papRequest('alice', 'alice-pw', RADIUS_SECRET);
    assert.equal(await ask(a.datagram, { port: stack.radiusPort, from: '127.0.0.2' }), undefined, 'signed with the /24 secret');
    assert.equal((await ask(a.datagram, { port: stack.radiusPort, from: '127.0.0.3' }))?.[0], Code.AccessAccept);
    const apps = await stack.registry.exposition();
    assert.ok(metricSum(apps, 'authentik_outpost_radius_request_duration_seconds_count', { app: 'radius-b' }) >= 1);
  });

  test('a source in no client network is dropped and counted', async () => {
    const before = await dropped(stack, 'unknown_client');
    const a = papRequest('alice', 'alice-pw', RADIUS_SECRET);
    assert.equal(await ask(a.datagram, { port: stack.radiusPort, from: '127.0.1.1' }), undefined);
    assert.equal(await dropped(stack, 'unknown_client'), before + 1);
    assert.deepEqual(stack.logs.leaked([RADIUS_SECRET, SECRET_B, 'alice-pw']), []);
  });
});
