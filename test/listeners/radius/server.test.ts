/** The RADIUS listener's intake on loopback with a scripted handler: what is dropped, what is answered. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import type { MessageAuthenticatorPolicy } from '../../../src/config/env.js';
import { buildClientTable } from '../../../src/listeners/radius/clients.js';
import { RadiusListener, type RadiusClient, type RadiusDropReason, type RadiusRequest } from '../../../src/listeners/radius/server.js';
import { Attr, Code, encodeRequest, encodeResponse, type RadiusPacket } from '../../../src/protocol/radius/index.js';
import { ask, exchange, papRequest } from '../../helpers/radius-client.js';
import { LogCapture } from '../../helpers/log-capture.js';

const SECRET = 'listener-secret';

function listener(policy: MessageAuthenticatorPolicy, options: { maxInProgress?: number; hold?: Promise<void> } = {}) {
  const drops: RadiusDropReason[] = [];
  const seen: RadiusPacket[] = [];
  const logs = new LogCapture('debug');
  const l = new RadiusListener<RadiusClient>({
    handler: {
      handle: async (request: RadiusRequest<RadiusClient>) => {
        seen.push(request.packet);
        await options.hold;
        const code = request.packet.code === Code.AccountingRequest ? Code.AccountingResponse : Code.AccessAccept;
        return encodeResponse(request.packet, code, [], SECRET);
      },
    },
    clients: () => buildClientTable([{ pk: 1, clientNetworks: '127.0.0.0/8', value: { secret: SECRET } }]),
    requireMessageAuthenticator: policy,
    logger: logs.root.child('test'),
    onDrop: (reason) => drops.push(reason),
    ...(options.maxInProgress !== undefined ? { maxInProgress: options.maxInProgress } : {}),
  });
  return { l, drops, seen };
}

describe('RADIUS listener intake', () => {
  const t = listener('true');
  let auth = 0;
  let acct = 0;
  before(async () => {
    auth = (await t.l.listen('127.0.0.1', 0, 'authentication')).port;
    acct = (await t.l.listen('127.0.0.1', 0, 'accounting')).port;
  });
  after(() => t.l.close());

  test('policy true: an Access-Request without Message-Authenticator is dropped, with one answered', async () => {
    assert.equal(await ask(papRequest('a', 'b', SECRET, { messageAuthenticator: false }).datagram, { port: auth, waitMs: 300 }), undefined);
    assert.equal(t.drops.at(-1), 'missing_message_authenticator');
    assert.equal((await ask(papRequest('a', 'b', SECRET).datagram, { port: auth }))?.[0], Code.AccessAccept);
  });

  test('oversize, malformed and codes the port does not serve are dropped', async () => {
    assert.equal(await ask(Buffer.alloc(4097, 1), { port: auth, waitMs: 300 }), undefined);
    assert.equal(t.drops.at(-1), 'oversize');
    assert.equal(await ask(Buffer.from([1, 2, 0, 19]), { port: auth, waitMs: 300 }), undefined);
    assert.equal(t.drops.at(-1), 'malformed');
    const accounting = encodeRequest({ code: Code.AccountingRequest, identifier: 1, attributes: [] }, SECRET);
    assert.equal(await ask(accounting, { port: auth, waitMs: 300 }), undefined);
    assert.equal(t.drops.at(-1), 'unsupported_code');
    assert.equal((await ask(accounting, { port: acct }))?.[0], Code.AccountingResponse);
    assert.equal(await ask(papRequest('a', 'b', SECRET).datagram, { port: acct, waitMs: 300 }), undefined);
    assert.equal(t.drops.at(-1), 'unsupported_code');
  });

  test('Status-Server on the accounting port gets Accounting-Response without reaching the handler', async () => {
    const before = t.seen.length;
    const status = encodeRequest({ code: Code.StatusServer, identifier: 5, attributes: [] }, SECRET);
    assert.equal((await ask(status, { port: acct }))?.[0], Code.AccountingResponse);
    assert.equal((await ask(status, { port: auth }))?.[0], Code.AccessAccept);
    assert.equal(t.seen.length, before);
  });
});

test('policy false still drops EAP-Message without Message-Authenticator (RFC 3579)', async () => {
  const t = listener('false');
  const { port } = await t.l.listen('127.0.0.1', 0, 'authentication');
  try {
    assert.equal((await ask(papRequest('a', 'b', SECRET, { messageAuthenticator: false }).datagram, { port }))?.[0], Code.AccessAccept);
    const eap = encodeRequest(
      { code: Code.AccessRequest, identifier: 2, attributes: [{ type: Attr.EapMessage, value: Buffer.from([2, 1, 0, 5, 1]) }] },
      SECRET,
      false,
    );
    assert.equal(await ask(eap, { port, waitMs: 300 }), undefined);
    assert.equal(t.drops.at(-1), 'missing_message_authenticator');
  } finally {
    await t.l.close();
  }
});

test('beyond the cap on requests in progress, new requests are dropped as overload', async () => {
  let release!: () => void;
  const hold = new Promise<void>((r) => (release = r));
  const t = listener('auto', { maxInProgress: 1, hold });
  const { port } = await t.l.listen('127.0.0.1', 0, 'authentication');
  try {
    const first = ask(papRequest('a', 'b', SECRET, { identifier: 1 }).datagram, { port, waitMs: 3_000 });
    while (t.l.inProgress === 0) await new Promise((r) => setTimeout(r, 10));
    assert.equal(await ask(papRequest('a', 'b', SECRET, { identifier: 2 }).datagram, { port, waitMs: 300 }), undefined);
    assert.equal(t.drops.at(-1), 'overload');
    release();
    assert.equal((await first)?.[0], Code.AccessAccept);
  } finally {
    await t.l.close();
  }
});

test('every interface (dual-stack udp6): an IPv4 client is matched by its IPv4 address, ::1 by its own', async () => {
  const t = listener('auto');
  const { port } = await t.l.listen('', 0, 'authentication');
  try {
    assert.equal((await ask(papRequest('a', 'b', SECRET, { identifier: 1 }).datagram, { port }))?.[0], Code.AccessAccept);
    const socket = dgram.createSocket('udp6');
    await new Promise<void>((resolve) => socket.bind(0, '::1', resolve));
    socket.send(papRequest('a', 'b', SECRET, { identifier: 2 }).datagram, port, '::1');
    const dropped = new Promise<void>((resolve) => {
      const poll = (): void => void (t.drops.includes('unknown_client') ? resolve() : setTimeout(poll, 10));
      poll();
    });
    // ::1 is in no client network of this listener (127.0.0.0/8 only): dropped, not answered.
    await dropped;
    socket.close();
  } finally {
    await t.l.close();
  }
});

test('a handler answering at once (no promise): sent, and a retransmission gets the same answer without the handler', async () => {
  const seen: number[] = [];
  const logs = new LogCapture('debug');
  const l = new RadiusListener<RadiusClient>({
    handler: {
      handle: (request: RadiusRequest<RadiusClient>) => {
        seen.push(request.packet.identifier);
        if (request.packet.identifier === 9) throw new Error('scripted failure');
        return encodeResponse(request.packet, Code.AccountingResponse, [], SECRET);
      },
    },
    clients: () => buildClientTable([{ pk: 1, clientNetworks: '127.0.0.0/8', value: { secret: SECRET } }]),
    requireMessageAuthenticator: 'auto',
    logger: logs.root.child('test'),
  });
  const { port } = await l.listen('127.0.0.1', 0, 'accounting');
  try {
    const accounting = encodeRequest({ code: Code.AccountingRequest, identifier: 3, attributes: [] }, SECRET);
    const answers = await exchange(accounting, { port, times: 2, resendAfterAnswers: true });
    assert.equal(answers.length, 3);
    assert.equal(answers[0]![0], Code.AccountingResponse);
    assert.ok(answers.every((a) => a.equals(answers[0]!)));
    assert.deepEqual(seen, [3]);
    assert.equal(l.inProgress, 0);
    const failing = encodeRequest({ code: Code.AccountingRequest, identifier: 9, attributes: [] }, SECRET);
    assert.deepEqual(await exchange(failing, { port, waitMs: 300 }), []);
    assert.match(logs.text, /RADIUS handler failed, no answer sent/);
  } finally {
    await l.close();
  }
});

test('a retransmitted Status-Server gets the same reply bytes each time, never reaching the handler', async () => {
  const t = listener('auto');
  const { port } = await t.l.listen('127.0.0.1', 0, 'authentication');
  try {
    const status = encodeRequest({ code: Code.StatusServer, identifier: 4, attributes: [] }, SECRET);
    const answers = await exchange(status, { port, times: 3 });
    assert.equal(answers.length, 3);
    assert.equal(answers[0]![0], Code.AccessAccept);
    assert.ok(answers.every((a) => a.equals(answers[0]!)));
    assert.equal(t.seen.length, 0);
  } finally {
    await t.l.close();
  }
});
