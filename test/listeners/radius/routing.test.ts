/**
 * Routing an Access-Request to the worker that issued its State (AUTHENTIK_WORKERS > 1): the decision, the
 * validation of a routed datagram, and two listeners on loopback joined by an in-process stand-in for the
 * cluster channel.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { buildClientTable } from '../../../src/listeners/radius/clients.js';
import { forwardTarget, parseForwardedDatagram, requestOwner, type ForwardedDatagram, type RadiusRouting } from '../../../src/listeners/radius/routing.js';
import { RadiusListener, type RadiusClient, type RadiusDropReason, type RadiusRequest } from '../../../src/listeners/radius/server.js';
import { Attr, Code, decodePacket, encodeRequest, encodeResponse, newStateValue, type RadiusPacket } from '../../../src/protocol/radius/index.js';
import { ask, exchange, papRequest } from '../../helpers/radius-client.js';
import { LogCapture } from '../../helpers/log-capture.js';

const SECRET = 'routing-secret';

const accessRequest = (state: Buffer | undefined): RadiusPacket =>
  decodePacket(papRequest('a', 'b', SECRET, { extra: state === undefined ? [] : [{ type: Attr.State, value: state }] }).datagram);

const source = { address: '127.0.0.1', port: 40_000 };

describe('forwardTarget', () => {
  test('an Access-Request with another existing worker\'s State goes there', () => {
    assert.equal(forwardTarget(accessRequest(newStateValue(2)), source, 1, 2), 2);
    assert.equal(forwardTarget(accessRequest(newStateValue(1)), source, 2, 3), 1);
  });

  test('a State of this worker, of no worker or of a slot beyond the workers stays; so does every other code', () => {
    assert.equal(forwardTarget(accessRequest(newStateValue(1)), source, 1, 2), undefined, 'its own State');
    assert.equal(forwardTarget(accessRequest(newStateValue(3)), source, 1, 2), undefined, 'a slot beyond the workers');
    assert.equal(forwardTarget(accessRequest(newStateValue()), source, 1, 2), undefined, 'a State naming no worker');
    const accounting = decodePacket(encodeRequest({ code: Code.AccountingRequest, identifier: 1, attributes: [{ type: Attr.State, value: newStateValue(2) }] }, SECRET));
    assert.equal(forwardTarget(accounting, source, 1, 2), undefined, 'only Access-Requests have an owner');
    assert.equal(forwardTarget(accessRequest(undefined), source, 1, 1), undefined, 'a single worker owns everything');
  });

  test('without a State, the owner follows source address, port and Identifier, and requests spread over the workers', () => {
    const packet = accessRequest(undefined);
    const owner = requestOwner(source.address, source.port, packet.identifier, 2);
    assert.equal(forwardTarget(packet, source, owner, 2), undefined, 'the owner keeps it');
    assert.equal(forwardTarget(packet, source, 3 - owner, 2), owner, 'the other worker routes it');
    const counts = [0, 0, 0, 0];
    for (let port = 1024; port < 1088; port++) {
      for (let identifier = 0; identifier < 256; identifier++) {
        const slot = requestOwner('192.0.2.7', port, identifier, 3);
        assert.equal(slot, requestOwner('192.0.2.7', port, identifier, 3), 'stable');
        counts[slot]!++;
      }
    }
    assert.equal(counts[0], 0);
    for (const slot of [1, 2, 3]) assert.ok(counts[slot]! > 16_384 / 3 - 800 && counts[slot]! < 16_384 / 3 + 800, `slot ${slot}: ${counts[slot]}`);
  });
});

test('parseForwardedDatagram accepts a well-formed routed datagram and nothing else', () => {
  const datagram = Buffer.from([1, 2, 3]);
  const good = { socket: 0, address: '::ffff:127.0.0.1', port: 4000, datagram: new Uint8Array(datagram) };
  assert.deepEqual(parseForwardedDatagram(good), { ...good, datagram });
  assert.ok(Buffer.isBuffer(parseForwardedDatagram(good)?.datagram));
  for (const bad of [
    null,
    'x',
    { ...good, socket: -1 },
    { ...good, socket: '0' },
    { ...good, address: 'localhost' },
    { ...good, port: 0 },
    { ...good, port: 65_536 },
    { ...good, datagram: [1, 2, 3] },
    { ...good, datagram: new Uint8Array(4097) },
  ]) {
    assert.equal(parseForwardedDatagram(bad), undefined, JSON.stringify(bad));
  }
});

/** The cluster channel between the stand-in workers. */
interface Bus {
  datagrams: Map<number, (d: ForwardedDatagram) => void>;
  maClients: Map<number, (address: string) => void>;
}
const newBus = (): Bus => ({ datagrams: new Map(), maClients: new Map() });

/** Two workers' listeners; each reads its own socket here (in a cluster both read the one shared socket). */
function worker(slot: number, bus: Bus, options: { accept?: boolean } = {}) {
  const drops: RadiusDropReason[] = [];
  const seen: RadiusPacket[] = [];
  let forwarded = 0;
  const routing: RadiusRouting = {
    slot,
    workers: 2,
    forward: (owner, datagram) => {
      if (options.accept === false) return undefined;
      // Through a structured clone and the validation, as over the cluster channel (main.ts).
      const routed = parseForwardedDatagram(structuredClone(datagram));
      if (routed !== undefined) bus.datagrams.get(owner)?.(routed);
      return 'channel';
    },
    subscribe: (onDatagram) => {
      bus.datagrams.set(slot, onDatagram);
      return () => bus.datagrams.delete(slot);
    },
    announceMaClient: (address) => {
      for (const [other, onAddress] of bus.maClients) if (other !== slot) onAddress(address);
    },
    subscribeMaClients: (onAddress) => {
      bus.maClients.set(slot, onAddress);
      return () => bus.maClients.delete(slot);
    },
  };
  const listener = new RadiusListener<RadiusClient>({
    handler: {
      handle: async (request: RadiusRequest<RadiusClient>) => {
        seen.push(request.packet);
        return encodeResponse(request.packet, Code.AccessAccept, [], SECRET);
      },
    },
    clients: () => buildClientTable([{ pk: 1, clientNetworks: '127.0.0.0/8', value: { secret: SECRET } }]),
    requireMessageAuthenticator: 'auto',
    logger: new LogCapture('debug').root.child('test'),
    onDrop: (reason) => drops.push(reason),
    onForward: () => forwarded++,
    routing,
  });
  return { listener, drops, seen, forwarded: () => forwarded };
}

describe('RADIUS listener routing between workers', () => {
  const bus = newBus();
  const one = worker(1, bus);
  const two = worker(2, bus);
  let port = 0;
  let portOfTwo = 0;
  before(async () => {
    port = (await one.listener.listen('127.0.0.1', 0, 'authentication')).port;
    portOfTwo = (await two.listener.listen('127.0.0.1', 0, 'authentication')).port;
  });
  after(async () => {
    await one.listener.close();
    await two.listener.close();
  });

  test('a request with worker 2\'s State, received by worker 1, is answered by worker 2', async () => {
    const request = papRequest('a', 'b', SECRET, { extra: [{ type: Attr.State, value: newStateValue(2) }] });
    // Sent twice from one socket: the retransmission takes the same way and is answered from worker 2's duplicate cache.
    const answers = await exchange(request.datagram, { port, times: 2 });
    assert.equal(answers.length, 2);
    assert.equal(answers[0]?.[0], Code.AccessAccept);
    assert.deepEqual(answers[1], answers[0]);
    assert.equal(one.seen.length, 0);
    assert.equal(two.seen.length, 1);
    assert.equal(one.forwarded(), 2);
  });

  test('a request with its own State, or of a slot beyond the workers stays', async () => {
    for (const state of [newStateValue(1), newStateValue(), newStateValue(3)]) {
      const answer = await ask(papRequest('a', 'b', SECRET, { extra: [{ type: Attr.State, value: state }] }).datagram, { port });
      assert.equal(answer?.[0], Code.AccessAccept);
    }
    assert.equal(one.seen.length, 3);
    assert.equal(one.forwarded(), 2);
  });

  test('copies of a request without State reach one worker whichever received them: one run, identical answers', async () => {
    const client = dgram.createSocket('udp4');
    const answers: Buffer[] = [];
    client.on('message', (msg) => answers.push(msg));
    await new Promise<void>((resolve) => client.bind({ address: '127.0.0.1', port: 0 }, resolve));
    try {
      const seenBefore = one.seen.length + two.seen.length;
      const requests = Array.from({ length: 8 }, (_, i) => papRequest(`user${i}`, 'pw', SECRET, { identifier: 10 + i }).datagram);
      // Each request first to worker 1, its retransmission to worker 2 (the kernel may hand copies to either).
      for (const datagram of requests) {
        for (const to of [port, portOfTwo]) await new Promise<void>((resolve, reject) => client.send(datagram, to, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
      }
      const deadline = Date.now() + 2_000;
      while (answers.length < 16 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 100)); // a late extra answer would show here
      assert.equal(answers.length, 16);
      assert.equal(one.seen.length + two.seen.length - seenBefore, 8, 'one handler run per request');
      for (const datagram of requests) {
        const mine = answers.filter((a) => a[1] === datagram[1]);
        assert.equal(mine.length, 2);
        assert.deepEqual(mine[0], mine[1]);
      }
    } finally {
      client.close();
    }
  });

  test('a client that sent a Message-Authenticator to one worker must send it to the other too (policy auto)', async () => {
    const from = '127.0.0.9';
    const signed = papRequest('a', 'b', SECRET).datagram;
    assert.equal((await ask(signed, { port, from }))?.[0], Code.AccessAccept);
    const unsigned = papRequest('a', 'b', SECRET, { messageAuthenticator: false }).datagram;
    assert.equal(await ask(unsigned, { port: portOfTwo, from, waitMs: 300 }), undefined);
    assert.equal(two.drops.at(-1), 'missing_message_authenticator');
  });

  test('a forged Message-Authenticator is dropped before routing, and the owner checks again on its own', async () => {
    const forged = papRequest('a', 'b', SECRET, { extra: [{ type: Attr.State, value: newStateValue(2) }] }).datagram;
    forged[forged.length - 1]! ^= 1; // any octet changed after signing breaks the Message-Authenticator
    const seenBefore = two.seen.length;
    assert.equal(await ask(forged, { port, waitMs: 300 }), undefined);
    assert.equal(one.drops.at(-1), 'bad_message_authenticator');
    // Injected straight into worker 2's channel: its own intake refuses it.
    bus.datagrams.get(2)?.({ socket: 0, address: '127.0.0.1', port: portOfTwo, datagram: forged });
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(two.drops.at(-1), 'bad_message_authenticator');
    assert.equal(two.seen.length, seenBefore);
    // A routed datagram naming a socket the worker does not have is ignored.
    bus.datagrams.get(2)?.({ socket: 5, address: '127.0.0.1', port: portOfTwo, datagram: papRequest('a', 'b', SECRET).datagram });
    assert.equal(two.seen.length, seenBefore);
  });

  test('when the channel refuses (too many in flight), the request is dropped and counted', async () => {
    const full = worker(1, newBus(), { accept: false });
    const { port: fullPort } = await full.listener.listen('127.0.0.1', 0, 'authentication');
    try {
      const request = papRequest('a', 'b', SECRET, { extra: [{ type: Attr.State, value: newStateValue(2) }] });
      assert.equal(await ask(request.datagram, { port: fullPort, waitMs: 300 }), undefined);
      assert.deepEqual(full.drops, ['forward_overload']);
      assert.equal(full.seen.length, 0);
    } finally {
      await full.listener.close();
    }
  });
});
