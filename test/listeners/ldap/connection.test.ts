import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { LdapResultError } from '../../../src/errors.js';
import type { LdapHandler } from '../../../src/listeners/ldap/handler.js';
import { LdapListener, type LdapListenerOptions } from '../../../src/listeners/ldap/server.js';
import { LDAP_DECODE_LIMITS } from '../../../src/config/limits.js';
import type { Filter } from '../../../src/protocol/ldap/filter.js';
import { encodeMessage, type ExtendedResponse, type SearchResultDone } from '../../../src/protocol/ldap/messages.js';
import { Oid } from '../../../src/protocol/ldap/oids.js';
import { encodeEntryOp, frameOp } from '../../../src/protocol/ldap/search-response.js';
import { duplexPair } from '../../helpers/ldap-pair.js';
import { LdapTestClient } from '../../helpers/ldap-client.js';
import { deferred, fakeHandler, makeCertificate, secureContext, until } from './fixtures.js';

const peer = { address: '192.0.2.1', port: 40000 };

function session(options: Partial<LdapListenerOptions> & { handler: LdapHandler }, pairOptions?: { highWaterMark?: number }) {
  const listener = new LdapListener(options);
  const pair = duplexPair(pairOptions);
  const conn = listener.handle(pair.server, peer);
  const client = new LdapTestClient(pair.client);
  return { listener, conn, client, pair };
}

function searchDone(messages: { op: { kind: string } }[]): SearchResultDone {
  return messages.at(-1)!.op as SearchResultDone;
}

describe('framing', () => {
  test('a request split byte by byte is answered', async () => {
    const handler = fakeHandler();
    const { client, conn } = session({ handler });
    const bytes = Buffer.concat([
      encodeMessage({ messageID: 1, op: { kind: 'BindRequest', version: 3, name: 'cn=a', auth: { type: 'simple', password: Buffer.from('x') } }, controls: [] }),
      encodeMessage({
        messageID: 2,
        op: { kind: 'SearchRequest', baseObject: 'dc=split', scope: 0, derefAliases: 0, sizeLimit: 0, timeLimit: 0, typesOnly: false, filter: { kind: 'present', type: 'objectClass' }, attributes: [] },
        controls: [],
      }),
    ]);
    const bind = client.expect(1);
    const search = client.expect(2);
    for (const byte of bytes) client.stream.write(Buffer.from([byte]));
    assert.equal((await bind).at(-1)!.op.kind, 'BindResponse');
    const messages = await search;
    assert.equal(messages.length, 2);
    assert.equal(messages[0]!.op.kind, 'SearchResultEntry');
    assert.equal(conn.boundDn, 'cn=a');
    await client.close();
    await conn.whenClosed();
    assert.equal(handler.closed.length, 1);
  });

  test('an oversized message gets a Notice of Disconnection (protocolError) and the close', async () => {
    const handler = fakeHandler();
    const { client, conn } = session({ handler, decodeLimits: { ...LDAP_DECODE_LIMITS, maxMessageBytes: 1024 } });
    client.send({ kind: 'BindRequest', version: 3, name: 'cn=big', auth: { type: 'simple', password: Buffer.alloc(2000, 0x61) } });
    await client.whenClosed();
    await conn.whenClosed();
    assert.equal(client.notices.length, 1);
    const notice = client.notices[0]!.op as ExtendedResponse;
    assert.equal(notice.resultCode, 2);
    assert.equal(notice.responseName, Oid.noticeOfDisconnection);
    assert.equal(handler.calls.length, 0);
  });

  test('garbage closes that connection while another keeps being served', async () => {
    const handler = fakeHandler();
    const listener = new LdapListener({ handler });
    const bad = duplexPair();
    const good = duplexPair();
    listener.handle(bad.server, peer);
    listener.handle(good.server, peer);
    const badClient = new LdapTestClient(bad.client);
    const goodClient = new LdapTestClient(good.client);
    bad.client.write(Buffer.from('GET / HTTP/1.1\r\n\r\n'));
    await badClient.whenClosed();
    assert.equal((badClient.notices[0]?.op as ExtendedResponse).resultCode, 2);
    const { done } = await goodClient.search('dc=still-here');
    assert.equal(done.resultCode, 0);
    assert.equal(listener.connectionCount, 1);
    await listener.close();
  });

  test('an undecodable operation with a known messageID gets protocolError and the session goes on', async () => {
    const handler = fakeHandler();
    const { client, listener } = session({ handler });
    // SearchRequest (messageID 7) with scope 9.
    const op = Buffer.from([
      0x63, 0x20, 0x04, 0x00, 0x0a, 0x01, 0x09, 0x0a, 0x01, 0x00, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00, 0x01, 0x01, 0x00,
      0x87, 0x0b, ...Buffer.from('objectClass'), 0x30, 0x00,
    ]);
    const reply = client.expect(7);
    client.stream.write(frameOp(7, op));
    const messages = await reply;
    assert.equal(messages.length, 1);
    assert.equal(messages[0]!.op.kind, 'SearchResultDone');
    assert.equal(searchDone(messages).resultCode, 2);
    const { done } = await client.search('dc=after');
    assert.equal(done.resultCode, 0);
    assert.equal(handler.calls.length, 1);
    await listener.close();
  });

  test('by default the listener enforces LDAP_DECODE_LIMITS: a filter at maxFilterNodes runs, one node more is protocolError', async () => {
    const handler = fakeHandler();
    const { client, listener } = session({ handler });
    const orOf = (nodes: number): Filter => ({ kind: 'or', filters: Array.from({ length: nodes - 1 }, (): Filter => ({ kind: 'present', type: 'cn' })) });
    const search = async (nodes: number) => (await client.search('dc=example', orOf(nodes))).done;
    assert.equal((await search(LDAP_DECODE_LIMITS.maxFilterNodes)).resultCode, 0);
    const over = await search(LDAP_DECODE_LIMITS.maxFilterNodes + 1);
    assert.equal(over.resultCode, 2);
    assert.match(over.diagnosticMessage, new RegExp(`more than ${LDAP_DECODE_LIMITS.maxFilterNodes} nodes`));
    assert.equal(handler.calls.length, 1);
    await listener.close();
  });

  test('an unknown operation tag or a response sent by the client disconnects', async () => {
    for (const opTlv of [Buffer.from([0x45, 0x00]), Buffer.from([0x61, 0x07, 0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00])]) {
      const { client, conn } = session({ handler: fakeHandler() });
      client.stream.write(frameOp(3, opTlv));
      await client.whenClosed();
      await conn.whenClosed();
      assert.equal((client.notices[0]?.op as ExtendedResponse).resultCode, 2);
    }
  });
});

describe('operations', () => {
  test('pipelined searches are answered with their own messageIDs, in completion order', async () => {
    const gates = new Map<string, ReturnType<typeof deferred<void>>>();
    const handler = fakeHandler({
      gate: (msg) => (msg.op.kind === 'SearchRequest' ? gates.get(msg.op.baseObject)?.promise : undefined),
    });
    const { client, listener } = session({ handler });
    const bases = ['dc=a', 'dc=b', 'dc=c', 'dc=d'];
    for (const base of bases) gates.set(base, deferred());
    const searches = bases.map((base) => client.search(base));
    await until(() => handler.calls.length === 4, 2000, 'all four dispatched');
    const order: string[] = [];
    for (const [i, base] of [...bases].reverse().entries()) {
      gates.get(base)!.resolve();
      const result = await searches[bases.length - 1 - i]!;
      order.push(result.entries[0]!.objectName);
      assert.equal(result.done.resultCode, 0);
      assert.equal(result.entries[0]!.attributes[0]!.values[0]!.toString(), String(result.messages[0]!.messageID));
    }
    assert.deepEqual(order, ['dc=d', 'dc=c', 'dc=b', 'dc=a']);
    await listener.close();
  });

  test('a bind waits for earlier operations and holds later ones', async () => {
    const searchGate = deferred();
    const bindGate = deferred();
    const handler = fakeHandler({
      gate: (msg) =>
        msg.op.kind === 'BindRequest' ? bindGate.promise : msg.op.kind === 'SearchRequest' && msg.op.baseObject === 'dc=first' ? searchGate.promise : undefined,
    });
    const { client, listener, conn } = session({ handler });
    const first = client.search('dc=first');
    const bind = client.bind('cn=who', 'pw');
    const later = client.search('dc=later');
    await until(() => handler.calls.length === 1, 2000, 'first search');
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(handler.calls.length, 1, 'bind must wait for the running search');
    searchGate.resolve();
    await first;
    await until(() => handler.calls.length === 2, 2000, 'bind');
    assert.equal(handler.calls[1]!.msg.op.kind, 'BindRequest');
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(handler.calls.length, 2, 'later search must wait for the bind');
    bindGate.resolve();
    assert.equal((await bind).resultCode, 0);
    await later;
    assert.equal(handler.calls[2]!.msg.op.kind, 'SearchRequest');
    assert.equal(conn.boundDn, 'cn=who');
    await listener.close();
  });

  test('Abandon of a request held behind a bind drops it unseen', async () => {
    const bindGate = deferred();
    const handler = fakeHandler({ gate: (msg) => (msg.op.kind === 'BindRequest' ? bindGate.promise : undefined) });
    const { client, listener } = session({ handler });
    const bind = client.bind('cn=a', 'b');
    const heldID = client.nextMessageID();
    client.send(
      { kind: 'SearchRequest', baseObject: 'dc=held', scope: 0, derefAliases: 0, sizeLimit: 0, timeLimit: 0, typesOnly: false, filter: { kind: 'present', type: 'objectClass' }, attributes: [] },
      [],
      heldID,
    );
    client.abandon(heldID);
    await until(() => handler.calls.length === 1);
    bindGate.resolve();
    await bind;
    assert.equal((await client.search('dc=next')).done.resultCode, 0);
    assert.deepEqual(
      handler.calls.map((c) => (c.msg.op.kind === 'SearchRequest' ? c.msg.op.baseObject : c.msg.op.kind)),
      ['BindRequest', 'dc=next'],
    );
    assert.equal(client.unexpected.length, 0);
    await listener.close();
  });

  test('Abandon aborts the operation and nothing is sent for it', async () => {
    let aborted: unknown;
    const handler: LdapHandler = {
      async handle(msg, _conn, out) {
        const signal = out.signal;
        if (msg.op.kind === 'SearchRequest' && msg.op.baseObject === 'dc=forever') {
          await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
          aborted = signal.reason;
          // Late writes are dropped, not sent.
          await out.send({ kind: 'SearchResultEntry', objectName: 'dc=late', attributes: [] });
          out.done(0);
          return;
        }
        out.done(0);
      },
    };
    const { client, listener, conn } = session({ handler });
    const id = client.nextMessageID();
    void client.request(
      { kind: 'SearchRequest', baseObject: 'dc=forever', scope: 0, derefAliases: 0, sizeLimit: 0, timeLimit: 0, typesOnly: false, filter: { kind: 'present', type: 'objectClass' }, attributes: [] },
      [],
      id,
    ).catch(() => undefined);
    await until(() => conn.pendingOperations === 1, 2000, 'search running');
    client.abandon(id);
    await until(() => aborted !== undefined, 2000, 'abort');
    assert.equal((aborted as Error).name, 'AbortError');
    // A later request round-trips; the abandoned one never answered.
    const { done } = await client.search('dc=next');
    assert.equal(done.resultCode, 0);
    assert.equal(client.unexpected.length, 0);
    await listener.close();
  });

  test('Unbind aborts what runs and closes without a notice', async () => {
    const running = deferred<AbortSignal>();
    const handler = fakeHandler({
      gate: () => undefined,
    });
    const wrapped: LdapHandler = {
      async handle(msg, conn, out) {
        const signal = out.signal;
        if (msg.op.kind === 'SearchRequest') {
          running.resolve(signal);
          await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
          return;
        }
        return handler.handle(msg, conn, out);
      },
      onClose: handler.onClose,
    };
    const { client, conn } = session({ handler: wrapped });
    await client.bind('cn=x', 'y');
    void client.search('dc=slow').catch(() => undefined);
    const signal = await running.promise;
    client.unbind();
    await conn.whenClosed();
    await client.whenClosed();
    assert.equal(signal.aborted, true);
    assert.equal(client.notices.length, 0);
    assert.equal(handler.closed.length, 1);
  });

  test('handler failures become result codes and the connection stays', async () => {
    const handler: LdapHandler = {
      async handle(msg, _conn, out) {
        if (msg.op.kind !== 'SearchRequest') return out.done(0);
        if (msg.op.baseObject === 'dc=result') throw new LdapResultError(32, 'no such object');
        if (msg.op.baseObject === 'dc=crash') throw new Error('boom');
        if (msg.op.baseObject === 'dc=sync') return (() => { throw new Error('sync boom'); })();
        // dc=silent: resolves without a response.
      },
    };
    const errors: string[] = [];
    const logger = { debug() {}, info() {}, warn() {}, error: (_f: object, m: string) => void errors.push(m) };
    const { client, listener } = session({ handler, logger });
    assert.equal((await client.search('dc=result')).done.resultCode, 32);
    assert.equal((await client.search('dc=result')).done.diagnosticMessage, 'no such object');
    const crash = await client.search('dc=crash');
    assert.equal(crash.done.resultCode, 1);
    assert.doesNotMatch(crash.done.diagnosticMessage, /boom/);
    assert.equal((await client.search('dc=sync')).done.resultCode, 1);
    assert.equal((await client.search('dc=silent')).done.resultCode, 1);
    assert.equal(errors.length, 2);
    await listener.close();
  });

  test('the pending-operation cap stops reading instead of failing', async () => {
    const gate = deferred();
    const handler = fakeHandler({ gate: () => gate.promise });
    const { client, listener } = session({ handler, maxPendingOps: 2 });
    // All five in one chunk: the cap must hold inside a chunk, not only between reads.
    const ids = [1, 2, 3, 4, 5];
    const searches = ids.map((id) => client.expect(id));
    client.stream.write(
      Buffer.concat(
        ids.map((id) =>
          encodeMessage({
            messageID: id,
            op: { kind: 'SearchRequest', baseObject: `dc=${id}`, scope: 0, derefAliases: 0, sizeLimit: 0, timeLimit: 0, typesOnly: false, filter: { kind: 'present', type: 'objectClass' }, attributes: [] },
            controls: [],
          }),
        ),
      ),
    );
    await until(() => handler.calls.length === 2, 2000, 'two dispatched');
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(handler.calls.length, 2);
    gate.resolve();
    const results = await Promise.all(searches);
    assert.ok(results.every((r) => searchDone(r).resultCode === 0));
    assert.equal(handler.calls.length, 5);
    await listener.close();
  });

  test('a reused messageID of a running operation is a protocol error', async () => {
    const gate = deferred();
    const { client, conn } = session({ handler: fakeHandler({ gate: () => gate.promise }) });
    const op = { kind: 'SearchRequest', baseObject: '', scope: 0, derefAliases: 0, sizeLimit: 0, timeLimit: 0, typesOnly: false, filter: { kind: 'present', type: 'objectClass' }, attributes: [] } as const;
    client.send({ ...op, filter: { kind: 'present', type: 'objectClass' }, attributes: [] }, [], 5);
    client.send({ ...op, filter: { kind: 'present', type: 'objectClass' }, attributes: [] }, [], 5);
    await conn.whenClosed();
    assert.equal((client.notices[0]?.op as ExtendedResponse).resultCode, 2);
    gate.resolve();
  });
});

describe('backpressure', () => {
  test('50 MB of entries to a slow reader stay within the write limit', async () => {
    const entry = encodeEntryOp('cn=entry,dc=example', [{ type: 'description', values: [Buffer.alloc(10_000, 0x62)] }]);
    const total = 50 * 1024 * 1024;
    const count = Math.ceil(total / entry.length);
    const limit = 256 * 1024;
    let maxQueued = 0;
    let waits = 0;
    const handler: LdapHandler = {
      async handle(msg, _conn, out) {
        const signal = out.signal;
        for (let i = 0; i < count && !signal.aborted; i++) {
          const wait = out.sendRaw(frameOp(msg.messageID, entry));
          maxQueued = Math.max(maxQueued, s.pair.server.writableLength);
          if (wait !== undefined) {
            waits++;
            await wait;
          }
        }
        out.done(0);
      },
    };
    const s = session({ handler, maxWriteBufferBytes: limit });
    // The client only counts bytes, pausing after every chunk so the server always outruns it.
    s.pair.client.removeAllListeners('data');
    let received = 0;
    const finished = new Promise<void>((resolve) => {
      s.pair.client.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received >= count * (entry.length + 6)) resolve();
        s.pair.client.pause();
        setImmediate(() => s.pair.client.resume());
      });
    });
    s.pair.client.write(
      encodeMessage({
        messageID: 9,
        op: { kind: 'SearchRequest', baseObject: '', scope: 2, derefAliases: 0, sizeLimit: 0, timeLimit: 0, typesOnly: false, filter: { kind: 'present', type: 'objectClass' }, attributes: [] },
        controls: [],
      }),
    );
    await finished;
    assert.ok(received >= total, `received ${received}`);
    assert.ok(waits > 0, 'the handler was asked to wait');
    assert.ok(maxQueued <= limit + entry.length + 16, `queued at most ${maxQueued} bytes`);
    await s.listener.close();
  });
});

describe('timeouts', () => {
  test('an idle connection is closed, a busy one is not', async () => {
    const gate = deferred();
    const handler = fakeHandler({ gate: (msg) => (msg.op.kind === 'SearchRequest' && msg.op.baseObject === 'dc=busy' ? gate.promise : undefined) });
    const busy = session({ handler, idleTimeoutMs: 60 });
    const started = Date.now();
    const search = busy.client.search('dc=busy');
    const idle = session({ handler, idleTimeoutMs: 60 });
    await idle.conn.whenClosed();
    assert.ok(Date.now() - started >= 50);
    assert.equal(idle.client.notices.length, 0);
    await new Promise((r) => setTimeout(r, 80));
    assert.equal(busy.conn.closed, false, 'an operation in flight keeps the connection');
    gate.resolve();
    await search;
    await busy.conn.whenClosed();
  });

  test('the lifetime limit ends with a Notice of Disconnection (unavailable)', async () => {
    const { client, conn } = session({ handler: fakeHandler(), maxLifetimeMs: 40 });
    await client.bind('cn=a', 'b');
    await conn.whenClosed();
    await client.whenClosed();
    assert.equal((client.notices[0]?.op as ExtendedResponse).resultCode, 52);
  });

  test('close() from the handler side (SESSION_END) aborts and closes', async () => {
    const running = deferred<AbortSignal>();
    const handler: LdapHandler = {
      async handle(_msg, _conn, out) {
        const signal = out.signal;
        running.resolve(signal);
        await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
      },
    };
    const { client, conn } = session({ handler });
    void client.search('dc=x').catch(() => undefined);
    const signal = await running.promise;
    conn.close('session_end');
    await client.whenClosed();
    assert.equal(signal.aborted, true);
    assert.equal(conn.closed, true);
  });
});

describe('StartTLS in memory', () => {
  const certificate = makeCertificate();
  const context = secureContext(certificate);

  test('upgrade in place, then requests over TLS', async () => {
    const names: (string | undefined)[] = [];
    const handler = fakeHandler();
    const { client, conn, listener } = session({
      handler,
      selectCertificate: (name) => {
        names.push(name);
        return context;
      },
    });
    await client.bind('cn=before', 'x');
    const response = await client.startTls({ servername: 'ldap.example.org' });
    assert.equal(response.resultCode, 0);
    assert.equal(response.responseName, Oid.startTls);
    const { done } = await client.search('dc=secure');
    assert.equal(done.resultCode, 0);
    assert.equal(conn.tls.secure, true);
    assert.equal(conn.tls.servername, 'ldap.example.org');
    assert.match(conn.tls.protocol ?? '', /^TLSv1\.[23]$/);
    assert.ok(names.includes('ldap.example.org'));
    const whoami = handler.calls.at(-1)!;
    assert.equal(whoami.conn.tls.secure, true);
    // StartTLS again: operationsError, session continues.
    const again = await client.startTls();
    assert.equal(again.resultCode, 1);
    assert.equal((await client.search('dc=still')).done.resultCode, 0);
    await listener.close();
    await client.whenClosed();
    assert.equal((client.notices[0]?.op as ExtendedResponse).resultCode, 52, 'the notice arrives over TLS');
  });

  test('refused while an operation is outstanding, and without certificates', async () => {
    const gate = deferred();
    const handler = fakeHandler({ gate: () => gate.promise });
    const { client, listener } = session({ handler, selectCertificate: () => context });
    const search = client.search('dc=slow');
    await until(() => handler.calls.length === 1);
    const refused = await client.startTls();
    assert.equal(refused.resultCode, 1);
    gate.resolve();
    await search;
    await listener.close();

    const plain = session({ handler: fakeHandler() });
    assert.equal((await plain.client.startTls()).resultCode, 2);
    const broken = session({
      handler: fakeHandler(),
      selectCertificate: () => {
        throw new Error('no certificate');
      },
    });
    assert.equal((await broken.client.startTls()).resultCode, 52);
    await plain.listener.close();
    await broken.listener.close();
  });
});

describe('listener shutdown', () => {
  test('close() lets running operations finish, then sends unavailable and closes', async () => {
    const gate = deferred();
    const handler = fakeHandler({ gate: (msg) => (msg.op.kind === 'SearchRequest' ? gate.promise : undefined) });
    const { client, listener } = session({ handler });
    const search = client.search('dc=draining');
    await until(() => handler.calls.length === 1);
    const closing = listener.close();
    gate.resolve();
    const result = await search;
    assert.equal(result.done.resultCode, 0);
    await closing;
    await client.whenClosed();
    assert.equal((client.notices[0]?.op as ExtendedResponse).resultCode, 52);
    assert.equal(listener.connectionCount, 0);
  });

  test('close() destroys what does not finish in time', async () => {
    const handler = fakeHandler({ gate: () => new Promise(() => {}) });
    const { client, listener } = session({ handler, closeTimeoutMs: 50 });
    void client.search('dc=never').catch(() => undefined);
    await until(() => handler.calls.length === 1);
    await listener.close();
    await client.whenClosed();
    assert.equal(handler.calls[0]!.signal.aborted, true);
  });
});
