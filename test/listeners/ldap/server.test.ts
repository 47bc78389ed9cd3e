import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import net, { BlockList } from 'node:net';
import tls from 'node:tls';
import { pino } from 'pino';
import type { TimerSource } from '../../../src/listeners/ldap/connection.js';
import type { LdapConnectionView, LdapLogger } from '../../../src/listeners/ldap/handler.js';
import { CoarseTimers } from '../../../src/util/coarse-timers.js';
import { LdapListener, normalizeAddress, type LdapListenerOptions } from '../../../src/listeners/ldap/server.js';
import { createServerSecureContext } from '../../../src/listeners/tls.js';
import { decodeMessage, type ExtendedResponse } from '../../../src/protocol/ldap/messages.js';
import { encodeProxyV1, encodeProxyV2 } from '../../../src/protocol/proxy-protocol.js';
import { LdapTestClient } from '../../helpers/ldap-client.js';
import { fakeHandler, makeCertificate, until, type TestCertificate } from './fixtures.js';

let certificate: TestCertificate;
let context: tls.SecureContext;

before(() => {
  certificate = makeCertificate();
  context = createServerSecureContext(certificate);
});

const open: LdapListener[] = [];
after(async () => {
  await Promise.all(open.map((l) => l.close()));
});

async function start(options: Partial<LdapListenerOptions> = {}, mode: 'ldap' | 'ldaps' = 'ldap') {
  const handler = fakeHandler();
  const listener = new LdapListener({ handler, selectCertificate: () => context, ...options });
  open.push(listener);
  const { port } = await listener.listen({ host: '127.0.0.1', port: 0, mode });
  return { listener, handler, port };
}

function connectRaw(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Resolves when the socket is closed, with every byte it received. */
function drain(socket: net.Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.on('error', () => {});
  return new Promise((resolve) => socket.on('close', () => resolve(Buffer.concat(chunks))));
}

function trusting(cidr: string): BlockList {
  const list = new BlockList();
  const [address, prefix] = cidr.split('/') as [string, string];
  list.addSubnet(address, Number(prefix), net.isIPv4(address) ? 'ipv4' : 'ipv6');
  return list;
}

describe('TCP and TLS', () => {
  test('plain TCP: bind and search', async () => {
    const { port, handler } = await start();
    const client = await LdapTestClient.connect(port);
    assert.equal((await client.bind('cn=tcp', 'pw')).resultCode, 0);
    const { entries, done } = await client.search('dc=tcp');
    assert.equal(done.resultCode, 0);
    assert.equal(entries[0]!.objectName, 'dc=tcp');
    const conn = handler.calls[0]!.conn;
    assert.equal(conn.peer.address, '127.0.0.1');
    assert.equal(conn.tls.secure, false);
    await client.close();
  });

  test('LDAPS with SNI', async () => {
    const names: (string | undefined)[] = [];
    const { port, handler } = await start(
      {
        selectCertificate: (name) => {
          names.push(name);
          return context;
        },
      },
      'ldaps',
    );
    const client = await LdapTestClient.connectTls(port, { servername: 'ldap.example.org' });
    assert.equal((await client.search('dc=ldaps')).done.resultCode, 0);
    const conn = handler.calls[0]!.conn;
    assert.equal(conn.tls.secure, true);
    assert.equal(conn.tls.servername, 'ldap.example.org');
    assert.deepEqual(names, [undefined, 'ldap.example.org']);
    await client.close();
  });

  test('LDAPS refuses TLS 1.1', async () => {
    const { port } = await start({}, 'ldaps');
    // The alert comes from the server: the client offered TLS 1.0-1.1 and was told the version is not accepted.
    await assert.rejects(
      LdapTestClient.connectTls(port, { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT:@SECLEVEL=0' }),
      { code: 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION' },
    );
  });

  test('StartTLS over TCP, then StartTLS again is operationsError', async () => {
    const { port, handler } = await start();
    const client = await LdapTestClient.connect(port);
    assert.equal((await client.startTls()).resultCode, 0);
    assert.equal((await client.bind('cn=secure', 'pw')).resultCode, 0);
    assert.equal(handler.calls[0]!.conn.tls.secure, true);
    assert.equal((await client.startTls()).resultCode, 1);
    assert.equal((await client.search('dc=after')).done.resultCode, 0);
    await client.close();
  });

  test('idle timeout on the shared coarse clock, with a pino logger', async () => {
    const timers: TimerSource = new CoarseTimers({ resolutionMs: 10 });
    const logger: LdapLogger = pino({ level: 'silent' });
    const { port, handler } = await start({ timers, logger, idleTimeoutMs: 40 });
    const client = await LdapTestClient.connect(port);
    // The idle timer restarts when the bind arrives, which is after this instant (the coarse clock may fire up
    // to one 10 ms tick early): a lower bound that holds however slow the machine is.
    const started = Date.now();
    await client.bind('cn=idle', 'x');
    await client.whenClosed();
    assert.ok(Date.now() - started >= 30);
    await until(() => handler.closed.length === 1);
    (timers as CoarseTimers).close();
  });

  test('a TLS handshake that never comes is cut off', async () => {
    const { port, listener } = await start({ tlsHandshakeTimeoutMs: 50 }, 'ldaps');
    const socket = await connectRaw(port);
    await drain(socket);
    await until(() => listener.connectionCount === 0);
  });
});

describe('PROXY protocol', () => {
  const source = { address: '203.0.113.9', port: 51234 };
  const destination = { address: '10.0.0.1', port: 389 };

  for (const [name, header] of [
    ['v1', () => encodeProxyV1({ source, destination })],
    ['v2', () => encodeProxyV2({ source, destination })],
  ] as const) {
    test(`${name} from a trusted peer sets the client address`, async () => {
      const { port, handler } = await start({ trustedProxies: trusting('127.0.0.0/8') });
      const socket = await connectRaw(port);
      socket.write(header());
      const client = new LdapTestClient(socket);
      assert.equal((await client.bind('cn=p', 'x')).resultCode, 0);
      const conn: LdapConnectionView = handler.calls[0]!.conn;
      assert.deepEqual(conn.peer, source);
      assert.equal(conn.socketPeer.address, '127.0.0.1');
      await client.close();
    });
  }

  test('v2 before the TLS handshake on LDAPS', async () => {
    const { port, handler } = await start({ trustedProxies: trusting('127.0.0.0/8') }, 'ldaps');
    const socket = await connectRaw(port);
    socket.write(encodeProxyV2({ source, destination, tlvs: [{ type: 0x02, value: Buffer.from('ldap.example.org') }] }));
    const secure = await new Promise<tls.TLSSocket>((resolve, reject) => {
      const s = tls.connect({ socket, rejectUnauthorized: false }, () => resolve(s));
      s.once('error', reject);
    });
    const client = new LdapTestClient(secure);
    assert.equal((await client.search('dc=proxied')).done.resultCode, 0);
    assert.deepEqual(handler.calls[0]!.conn.peer, source);
    assert.equal(handler.calls[0]!.conn.tls.secure, true);
    await client.close();
  });

  test('a trusted peer may also speak LDAP directly', async () => {
    const { port, handler } = await start({ trustedProxies: trusting('127.0.0.0/8') });
    const client = await LdapTestClient.connect(port);
    assert.equal((await client.bind('cn=direct', 'x')).resultCode, 0);
    assert.equal(handler.calls[0]!.conn.peer.address, '127.0.0.1');
    await client.close();
  });

  test('from an untrusted peer the header is garbage: protocolError and close', async () => {
    const refused: string[] = [];
    const { port, handler } = await start({ trustedProxies: trusting('10.0.0.0/8'), hooks: { protocolError: (k) => void refused.push(k) } });
    for (const header of [encodeProxyV1({ source, destination }), encodeProxyV2({ source, destination })]) {
      const socket = await connectRaw(port);
      const received = drain(socket);
      socket.write(header);
      const notice = decodeMessage(await received);
      assert.equal(notice.messageID, 0);
      assert.equal((notice.op as ExtendedResponse).resultCode, 2);
    }
    assert.equal(handler.calls.length, 0);
    assert.deepEqual(refused, ['framing', 'framing']);
  });

  test('a malformed or slow header from a trusted peer is refused', async () => {
    const reasons: string[] = [];
    const { port, listener } = await start({
      trustedProxies: trusting('127.0.0.0/8'),
      proxyHeaderTimeoutMs: 50,
      hooks: { connectionRefused: (r) => void reasons.push(r) },
    });
    const bad = await connectRaw(port);
    const badClosed = drain(bad);
    bad.write('PROXY TCP4 1.2.3.4 nonsense\r\n');
    assert.equal((await badClosed).length, 0);
    const slow = await connectRaw(port);
    const slowClosed = drain(slow);
    slow.write('PROXY TCP4 1.2.');
    assert.equal((await slowClosed).length, 0);
    assert.deepEqual(reasons, ['proxy_header', 'proxy_header']);
    assert.equal(listener.connectionCount, 0);
  });
});

describe('admission', () => {
  test('the global cap refuses by closing at once', async () => {
    const refused: string[] = [];
    let open = 0;
    const { port, listener } = await start({
      maxConnections: 2,
      hooks: { connectionRefused: (r) => void refused.push(r), connectionsOpen: (d) => void (open += d) },
    });
    const a = await LdapTestClient.connect(port);
    const b = await LdapTestClient.connect(port);
    await a.bind('cn=a', 'x');
    await b.bind('cn=b', 'x');
    const c = await connectRaw(port);
    assert.equal((await drain(c)).length, 0);
    assert.deepEqual(refused, ['capacity']);
    assert.equal(open, 2);
    await a.close();
    await until(() => listener.connectionCount === 1);
    const d = await LdapTestClient.connect(port);
    assert.equal((await d.bind('cn=d', 'x')).resultCode, 0);
    await b.close();
    await d.close();
    await until(() => open === 0, 2000, 'gauge back to 0');
  });

  test('the per-address cap counts the PROXY source', async () => {
    const refused: string[] = [];
    const { port } = await start({
      maxConnectionsPerIp: 1,
      trustedProxies: trusting('127.0.0.0/8'),
      hooks: { connectionRefused: (r) => void refused.push(r) },
    });
    const viaProxy = async (address: string): Promise<net.Socket> => {
      const socket = await connectRaw(port);
      socket.write(encodeProxyV1({ source: { address, port: 1000 }, destination: { address: '127.0.0.1', port } }));
      return socket;
    };
    const first = new LdapTestClient(await viaProxy('198.51.100.1'));
    assert.equal((await first.bind('cn=1', 'x')).resultCode, 0);
    const other = new LdapTestClient(await viaProxy('198.51.100.2'));
    assert.equal((await other.bind('cn=2', 'x')).resultCode, 0);
    const second = await viaProxy('198.51.100.1');
    assert.equal((await drain(second)).length, 0);
    assert.deepEqual(refused, ['per_ip']);
    await first.close();
    await other.close();
  });

  test('close() sends unavailable to open connections and stops accepting', async () => {
    const { port, listener } = await start();
    const client = await LdapTestClient.connect(port);
    await client.bind('cn=x', 'y');
    await listener.close();
    await client.whenClosed();
    assert.equal((client.notices[0]?.op as ExtendedResponse).resultCode, 52);
    await assert.rejects(connectRaw(port));
  });
});

test('normalizeAddress unwraps IPv4-mapped IPv6', () => {
  assert.equal(normalizeAddress('::ffff:10.1.2.3'), '10.1.2.3');
  assert.equal(normalizeAddress('::1'), '::1');
  assert.equal(normalizeAddress('::ffff:abcd'), '::ffff:abcd');
});
