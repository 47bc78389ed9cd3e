/**
 * The C load generator against a stub LDAP server built on the project's own codec: what it sends must decode
 * (binds, searches, filters), what it counts must match what the stub answered, also when answers to pipelined
 * requests come back out of order or the server hangs up.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { FrameReader } from '../../src/protocol/ber/framer.js';
import { formatFilter, type Filter } from '../../src/protocol/ldap/filter.js';
import { decodeMessage, encodeMessage, type LdapMessage, type LdapOp } from '../../src/protocol/ldap/messages.js';
import { LDAP_DECODE_LIMITS } from '../../src/config/limits.js';
import { buildLoadgen, runLoad, type LoadOptions, type LoadResult } from '../../bench/lib/loadgen.js';
import { ProcessGroup } from '../../bench/lib/procs.js';

const haveCc = spawnSync('cc', ['--version'], { stdio: 'ignore' }).error === undefined;

interface Seen {
  binds: string[];
  searches: Array<{ base: string; filter: Filter; attributes: string[]; scope: number }>;
  connections: number;
}

interface Stub {
  port: number;
  seen: Seen;
  /** Close each connection after this many requests (0: never). */
  hangUpAfter: number;
  close(): Promise<void>;
}

const done = (resultCode = 0): { resultCode: number; matchedDN: string; diagnosticMessage: string } => ({ resultCode, matchedDN: '', diagnosticMessage: '' });

/** Answers binds (cn=userN,... with passN) and searches (two entries each); batches of requests get their answers in reverse. */
async function startStub(): Promise<Stub> {
  const seen: Seen = { binds: [], searches: [], connections: 0 };
  const stub: Stub = { port: 0, seen, hangUpAfter: 0, close: async () => undefined };
  const sockets = new Set<net.Socket>();
  // noDelay like a real LDAP server: answers are several small writes.
  const server = net.createServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    seen.connections++;
    let requests = 0;
    const reader = new FrameReader(LDAP_DECODE_LIMITS);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      reader.push(Buffer.from(chunk));
      const answers: Buffer[][] = [];
      for (let frame = reader.next(); frame !== null; frame = reader.next()) {
        const msg = decodeMessage(frame);
        if (msg.op.kind === 'UnbindRequest') continue;
        requests++;
        answers.push(answer(msg, seen));
      }
      // Out of order on purpose: a pipelining client must match answers by messageID.
      for (const messages of answers.reverse()) for (const m of messages) socket.write(m);
      if (stub.hangUpAfter > 0 && requests >= stub.hangUpAfter) socket.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  stub.port = (server.address() as net.AddressInfo).port;
  stub.close = () =>
    new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  return stub;
}

function answer(msg: LdapMessage, seen: Seen): Buffer[] {
  const reply = (op: LdapOp): Buffer => encodeMessage({ messageID: msg.messageID, op, controls: [] });
  if (msg.op.kind === 'BindRequest') {
    const name = msg.op.name;
    seen.binds.push(name);
    const m = /^cn=[a-z]*(\d+),/.exec(name);
    const password = msg.op.auth.type === 'simple' ? msg.op.auth.password.toString('utf8') : '';
    const ok = m !== null && password === `pass${m[1]}`;
    return [reply({ kind: 'BindResponse', ...done(ok ? 0 : 49) })];
  }
  if (msg.op.kind === 'SearchRequest') {
    seen.searches.push({ base: msg.op.baseObject, filter: msg.op.filter, attributes: msg.op.attributes, scope: msg.op.scope });
    const entry = (dn: string): Buffer => reply({ kind: 'SearchResultEntry', objectName: dn, attributes: [{ type: 'cn', values: [Buffer.from('x'.repeat(200))] }] });
    return [entry('cn=a,dc=test'), entry('cn=b,dc=test'), reply({ kind: 'SearchResultDone', ...done(0) })];
  }
  return [];
}

describe('ldapload against a stub server', { skip: haveCc ? false : 'cc is not installed' }, () => {
  let dir = '';
  let binary = '';
  let stub: Stub;
  let group: ProcessGroup;

  before(async () => {
    dir = mkdtempSync(join(os.tmpdir(), 'ldapload-test-'));
    binary = buildLoadgen(dir);
    stub = await startStub();
    group = new ProcessGroup();
  });
  after(async () => {
    await group.stopAll();
    group.dispose();
    await stub.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const run = (o: Omit<LoadOptions, 'port'>): Promise<LoadResult> => runLoad(group, binary, { ...o, port: stub.port }, []);

  test('sequential binds touch every index exactly once and succeed', async () => {
    stub.seen.binds = [];
    const r = await run({ mode: 'bind', conns: 4, totalOps: 50, sequential: true, lo: 1, hi: 50, bindDn: 'cn=user%05d,ou=users,dc=test', bindPassword: 'pass%05d' });
    assert.equal(r.ops, 50);
    assert.equal(r.errors, 0);
    assert.equal(r.setupErrors, 0);
    const indices = stub.seen.binds.map((dn) => Number(/user(\d+)/.exec(dn)?.[1])).sort((a, b) => a - b);
    assert.deepEqual(indices, Array.from({ length: 50 }, (_, i) => i + 1));
    assert.ok(stub.seen.binds.includes('cn=user00007,ou=users,dc=test'));
    assert.ok(r.latencyUs.p50 > 0 && r.latencyUs.p50 <= r.latencyUs.p99 && r.latencyUs.p99 <= r.latencyUs.max * 1.02);
  });

  test('a refused bind is an error with its result code', async () => {
    const r = await run({ mode: 'bind', conns: 2, totalOps: 20, lo: 1, hi: 5, bindDn: 'cn=user%05d,ou=users,dc=test', bindPassword: 'wrong%05d' });
    assert.equal(r.ops, 20);
    assert.equal(r.errors, 20);
    assert.deepEqual(r.resultCodes, { '49': 20 });
  });

  test('pipelined searches: one setup bind per connection, answers matched by messageID, entries counted', async () => {
    stub.seen.binds = [];
    stub.seen.searches = [];
    const r = await run({
      mode: 'search',
      conns: 3,
      depth: 8,
      totalOps: 300,
      searchDn: 'cn=admin1,dc=test',
      searchPassword: 'pass1',
      base: 'dc=test',
      filter: '(cn=user%05d)',
      attributes: ['cn', 'mail'],
      lo: 10,
      hi: 19,
    });
    assert.equal(r.ops, 300);
    assert.equal(r.errors + r.unexpected + r.protocolErrors + r.unanswered, 0);
    assert.equal(r.entries, 600);
    assert.equal(r.entriesPerOp, 2);
    assert.deepEqual(stub.seen.binds, ['cn=admin1,dc=test', 'cn=admin1,dc=test', 'cn=admin1,dc=test']);
    assert.equal(stub.seen.searches.length, 300);
    for (const s of stub.seen.searches) {
      assert.equal(s.base, 'dc=test');
      assert.equal(s.scope, 2);
      assert.deepEqual(s.attributes, ['cn', 'mail']);
      assert.match(formatFilter(s.filter), /^\(cn=user000(1\d)\)$/);
    }
  });

  test('mixed: each operation binds as user N, then searches for N on the same connection', async () => {
    stub.seen.binds = [];
    stub.seen.searches = [];
    const r = await run({
      mode: 'mixed',
      conns: 1,
      totalOps: 5,
      sequential: true,
      lo: 1,
      hi: 5,
      bindDn: 'cn=user%05d,ou=users,dc=test',
      bindPassword: 'pass%05d',
      base: 'dc=test',
      filter: '(cn=user%05d)',
    });
    assert.equal(r.ops, 5);
    assert.equal(r.errors, 0);
    assert.equal(r.entries, 10);
    assert.deepEqual(
      stub.seen.binds.map((dn) => /user(\d+)/.exec(dn)?.[1]),
      stub.seen.searches.map((s) => /user(\d+)/.exec(formatFilter(s.filter))?.[1]),
    );
    assert.deepEqual(stub.seen.binds, ['00001', '00002', '00003', '00004', '00005'].map((n) => `cn=user${n},ou=users,dc=test`));
  });

  test('filters are encoded as RFC 4511 expects (and, or, not, substrings, present, >=, extensible, escapes)', async () => {
    stub.seen.searches = [];
    const filter = '(&(objectClass=user)(|(cn=a*b*c)(!(mail=*)))(memberOf:1.2.840.113556.1.4.1941:=cn=g\\2cx)(uidNumber>=10)(sn~=x)(cn:dn:=y))';
    const r = await run({ mode: 'search', conns: 1, totalOps: 1, base: 'dc=test', filter });
    assert.equal(r.ops, 1);
    const sent = stub.seen.searches[0]?.filter;
    assert.ok(sent);
    assert.deepEqual(sent, {
      kind: 'and',
      filters: [
        { kind: 'equalityMatch', type: 'objectClass', value: 'user' },
        {
          kind: 'or',
          filters: [
            { kind: 'substrings', type: 'cn', initial: 'a', any: ['b'], final: 'c' },
            { kind: 'not', filter: { kind: 'present', type: 'mail' } },
          ],
        },
        { kind: 'extensibleMatch', matchingRule: '1.2.840.113556.1.4.1941', type: 'memberOf', matchValue: 'cn=g,x', dnAttributes: false },
        { kind: 'greaterOrEqual', type: 'uidNumber', value: '10' },
        { kind: 'approxMatch', type: 'sn', value: 'x' },
        { kind: 'extensibleMatch', type: 'cn', matchValue: 'y', dnAttributes: true },
      ],
    } satisfies Filter);
  });

  test('a server hanging up ends the run with the loss counted, not a hang', async () => {
    stub.hangUpAfter = 5;
    try {
      const r = await run({ mode: 'search', conns: 2, depth: 1, seconds: 0.5, base: 'dc=test', filter: '(cn=x)' });
      assert.equal(r.closed, 2);
      assert.ok(r.ops <= 10);
    } finally {
      stub.hangUpAfter = 0;
    }
  });

  test('a fixed rate is kept (open loop) and the window reports its length', async () => {
    const r = await run({ mode: 'search', conns: 2, rate: 200, seconds: 0.5, base: 'dc=test', filter: '(cn=x)' });
    assert.ok(Math.abs(r.seconds - 0.5) < 0.05, `window ${r.seconds}`);
    // 100 scheduled in the window; never more than the schedule allows.
    assert.ok(r.ops >= 50 && r.ops <= 102, `ops ${r.ops}`);
  });

  test('refuses what it cannot do honestly', () => {
    const pipelinedBind = spawnSync(binary, ['-p', String(stub.port), '-m', 'bind', '-d', '4', '-D', 'cn=x', '-w', 'y', '-n', '1']);
    assert.equal(pipelinedBind.status, 2);
    assert.match(pipelinedBind.stderr.toString(), /cannot be pipelined/);
    const badPattern = spawnSync(binary, ['-p', String(stub.port), '-m', 'search', '-f', '(cn=%s)', '-n', '1']);
    assert.equal(badPattern.status, 2);
    const badFilter = spawnSync(binary, ['-p', String(stub.port), '-m', 'search', '-f', '(cn=x', '-n', '1']);
    assert.equal(badFilter.status, 2);
  });
});
