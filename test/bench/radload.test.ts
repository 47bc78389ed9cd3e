/**
 * The C RADIUS load generator against a stub UDP server built on the project's own codec: what it sends must
 * verify (Message-Authenticator, Request Authenticator, hidden User-Password), and what it counts must match what
 * the stub answered: accepts, rejects, forged answers, silence.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import {
  Attr,
  checkMessageAuthenticator,
  Code,
  decodePacket,
  encodeResponse,
  getAttribute,
  unhideUserPassword,
  verifyRequestAuthenticator,
} from '../../src/protocol/radius/index.js';
import { buildLoadgen, loadgenSource } from '../../bench/lib/loadgen.js';
import { ProcessGroup } from '../../bench/lib/procs.js';
import { parseRadloadResult, radloadArgs, redactedRadloadArgs, runRadload, type RadloadOptions } from '../../bench/lib/radload.js';

const haveCc = spawnSync('cc', ['--version'], { stdio: 'ignore' }).error === undefined;
const SECRET = 'stub-secret';

type Behaviour = 'answer' | 'forge' | 'silent';

interface Stub {
  port: number;
  behaviour: Behaviour;
  /** Requests by code; passwords that did not match their user. */
  seen: { byCode: Map<number, number>; badPasswords: number; badSignatures: number; bodies: Set<string> };
  close(): Promise<void>;
}

async function startStub(): Promise<Stub> {
  const socket = dgram.createSocket('udp4');
  const stub: Stub = {
    port: 0,
    behaviour: 'answer',
    seen: { byCode: new Map(), badPasswords: 0, badSignatures: 0, bodies: new Set() },
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
  socket.on('message', (datagram, from) => {
    const request = decodePacket(datagram);
    const seen = stub.seen;
    seen.byCode.set(request.code, (seen.byCode.get(request.code) ?? 0) + 1);
    seen.bodies.add(datagram.toString('hex'));
    let code: number;
    if (request.code === Code.AccountingRequest) {
      if (!verifyRequestAuthenticator(datagram, SECRET)) seen.badSignatures++;
      code = Code.AccountingResponse;
    } else {
      if (checkMessageAuthenticator(datagram, SECRET) !== 'valid') {
        seen.badSignatures++;
        return; // dropped, as a server must
      }
      if (request.code === Code.StatusServer) {
        code = Code.AccessAccept;
      } else {
        const name = getAttribute(request, Attr.UserName)?.toString('utf8') ?? '';
        const hidden = getAttribute(request, Attr.UserPassword);
        const password = hidden === undefined ? '' : unhideUserPassword(hidden, SECRET, request.authenticator).toString('utf8');
        const ok = password === name.replace('user', 'pass');
        if (!ok) seen.badPasswords++;
        code = ok ? Code.AccessAccept : Code.AccessReject;
      }
    }
    if (stub.behaviour === 'silent') return;
    const answer = encodeResponse(request, code, [], stub.behaviour === 'forge' ? 'another-secret' : SECRET);
    socket.send(answer, from.port, from.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  stub.port = socket.address().port;
  return stub;
}

describe('radload (bench/loadgen/radload.c)', { skip: haveCc ? false : 'no C compiler' }, () => {
  let dir: string;
  let binary: string;
  let usersFile: string;
  let stub: Stub;
  const group = new ProcessGroup();

  before(async () => {
    dir = mkdtempSync(join(os.tmpdir(), 'radload-test-'));
    binary = buildLoadgen(dir, loadgenSource('radload.c'));
    usersFile = join(dir, 'users.txt');
    // A long password (two 16-octet blocks) checks the chained hiding of RFC 2865 section 5.2.
    writeFileSync(usersFile, 'user1:pass1\nuser22:pass22\nuser333-with-a-longer-tail:pass333-with-a-longer-tail\n');
    stub = await startStub();
  });

  after(async () => {
    await stub.close();
    await group.stopAll();
    group.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  const run = (o: Partial<RadloadOptions>) =>
    runRadload(group, binary, { port: stub.port, secret: SECRET, kind: 'pap', inFlight: 4, totalOps: 200, timeoutMs: 300, usersFile, ...o }, []);

  test('PAP: hidden passwords and Message-Authenticators verify, every answer is counted', async () => {
    stub.behaviour = 'answer';
    const r = await run({ kind: 'pap', inFlight: 8 });
    assert.ok(r.ops >= 200, JSON.stringify(r));
    assert.equal(r.wrong + r.lost, 0);
    assert.equal(stub.seen.badPasswords, 0);
    assert.equal(stub.seen.badSignatures, 0);
  });

  test('Status-Server and Accounting-Request are signed as their RFCs say and answered', async () => {
    for (const kind of ['status', 'acct'] as const) {
      const r = await run({ kind });
      assert.ok(r.ops >= 200 && r.wrong === 0 && r.lost === 0, `${kind}: ${JSON.stringify(r)}`);
    }
    assert.ok((stub.seen.byCode.get(Code.StatusServer) ?? 0) >= 200);
    assert.ok((stub.seen.byCode.get(Code.AccountingRequest) ?? 0) >= 200);
    assert.equal(stub.seen.badSignatures, 0);
  });

  test('a reject or a forged answer is wrong, silence is lost', async () => {
    writeFileSync(join(dir, 'wrong.txt'), 'user1:not-the-password\n');
    const rejected = await run({ kind: 'pap', inFlight: 1, totalOps: 5, usersFile: join(dir, 'wrong.txt') });
    assert.ok(rejected.wrong >= 5 && rejected.rejected === rejected.wrong && rejected.ops === 0, JSON.stringify(rejected));
    stub.behaviour = 'forge';
    const forged = await run({ kind: 'status', inFlight: 2, totalOps: 10 });
    assert.ok(forged.wrong >= 10 && forged.rejected === 0 && forged.ops === 0, JSON.stringify(forged));
    stub.behaviour = 'silent';
    const silent = await run({ kind: 'status', inFlight: 2, totalOps: 2, timeoutMs: 50 });
    assert.ok(silent.lost >= 2 && silent.ops === 0, JSON.stringify(silent));
    stub.behaviour = 'answer';
  });

  test('retrans repeats one fixed request per slot', async () => {
    const before = stub.seen.bodies.size;
    const r = await run({ kind: 'retrans', inFlight: 3, totalOps: 60 });
    assert.ok(r.ops >= 60 && r.wrong === 0, JSON.stringify(r));
    assert.equal(stub.seen.bodies.size - before, 3);
  });

  test('badma: sent at the rate asked, every Message-Authenticator wrong, answers would be unexpected', async () => {
    const badBefore = stub.seen.badSignatures;
    const r = await run({ kind: 'badma', totalOps: undefined, rate: 2000, seconds: 0.5, warmupSeconds: 0 });
    assert.ok(r.sent >= 800 && r.sent <= 1200, JSON.stringify(r));
    assert.equal(r.ops, 0);
    assert.equal(r.unexpected, 0);
    // Every packet the stub received was refused for its Message-Authenticator.
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.ok(stub.seen.badSignatures - badBefore >= r.sent);
  });

  test('arguments: the secret is redacted in messages; a malformed result line is refused', () => {
    const options: RadloadOptions = { port: 1812, secret: 's3cret', kind: 'acct', inFlight: 8, seconds: 2, warmupSeconds: 1 };
    assert.deepEqual(radloadArgs(options), ['-h', '127.0.0.1', '-p', '1812', '-s', 's3cret', '-k', 'acct', '-c', '8', '-t', '2', '-W', '1']);
    assert.ok(!redactedRadloadArgs(options).includes('s3cret'));
    assert.throws(() => parseRadloadResult({ kind: 'pap', ops: 1 }), /malformed/);
    const usage = spawnSync(binary, ['-p', '1812', '-s', 'x', '-k', 'eap'], { encoding: 'utf8' });
    assert.equal(usage.status, 2);
    assert.match(usage.stderr, /unknown kind eap/);
  });
});
