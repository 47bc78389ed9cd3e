/**
 * Routing an Access-Request to the worker that issued its State (AUTHENTIK_WORKERS > 1): the decision, the
 * validation of a routed datagram, and two listeners on loopback joined by an in-process stand-in for the
 * cluster channel.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildClientTable } from '../../../src/listeners/radius/clients.js';
import { forwardTarget, parseForwardedDatagram, type ForwardedDatagram, type RadiusRouting } from '../../../src/listeners/radius/routing.js';
import { RadiusListener, type RadiusClient, type RadiusDropReason, type RadiusRequest } from '../../../src/listeners/radius/server.js';
import { Attr, Code, decodePacket, encodeRequest, encodeResponse, newStateValue, type RadiusPacket } from '../../../src/protocol/radius/index.js';
import { ask, exchange, papRequest } from '../../helpers/radius-client.js';
import { LogCapture } from '../../helpers/log-capture.js';

const SECRET = 'routing-secret';

const accessRequest = (state: Buffer | undefined): RadiusPacket =>
  decodePacket(papRequest('a', 'b', SECRET, { extra: state === undefined ? [] : [{ type: Attr.State, value: state }] }).datagram);

describe('forwardTarget', () => {
  test('an Access-Request with another existing worker\'s State goes there', () => {
    assert.equal(forwardTarget(accessRequest(newStateValue(2)), 1, 2), 2);
    assert.equal(forwardTarget(accessRequest(newStateValue(1)), 2, 3), 1);
  });

  test('everything else is handled here', () => {
    assert.equal(forwardTarget(accessRequest(newStateValue(1)), 1, 2), undefined, 'its own State');
    assert.equal(forwardTarget(accessRequest(newStateValue(3)), 1, 2), undefined, 'a slot beyond the workers');
    assert.equal(forwardTarget(accessRequest(newStateValue()), 1, 2), undefined, 'a State naming no worker');
    assert.equal(forwardTarget(accessRequest(undefined), 1, 2), undefined, 'no State: a new conversation or PAP');
    const accounting = decodePacket(encodeRequest({ code: Code.AccountingRequest, identifier: 1, attributes: [{ type: Attr.State, value: newStateValue(2) }] }, SECRET));
    assert.equal(forwardTarget(accounting, 1, 2), undefined, 'only Access-Requests belong to a conversation');
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

/** Two workers' listeners; each reads its own socket here (in a cluster both read the one shared socket). */
function worker(slot: number, bus: Map<number, (d: ForwardedDatagram) => void>, options: { accept?: boolean } = {}) {
  const drops: RadiusDropReason[] = [];
  const seen: RadiusPacket[] = [];
  let forwarded = 0;
  const routing: RadiusRouting = {
    slot,
    workers: 2,
    forward: (owner, datagram) => {
      if (options.accept === false) return false;
      // Through a structured clone and the validation, as over the cluster channel (main.ts).
      const routed = parseForwardedDatagram(structuredClone(datagram));
      if (routed !== undefined) bus.get(owner)?.(routed);
      return true;
    },
    subscribe: (onDatagram) => {
      bus.set(slot, onDatagram);
      return () => bus.delete(slot);
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
  const bus = new Map<number, (d: ForwardedDatagram) => void>();
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

  test('a request with its own State, with none, or of a slot beyond the workers stays', async () => {
    for (const state of [newStateValue(1), newStateValue(), newStateValue(3)]) {
      const answer = await ask(papRequest('a', 'b', SECRET, { extra: [{ type: Attr.State, value: state }] }).datagram, { port });
      assert.equal(answer?.[0], Code.AccessAccept);
    }
    assert.equal((await ask(papRequest('a', 'b', SECRET).datagram, { port }))?.[0], Code.AccessAccept);
    assert.equal(one.seen.length, 4);
    assert.equal(one.forwarded(), 2);
  });

  test('a forged Message-Authenticator is dropped before routing, and the owner checks again on its own', async () => {
    const forged = papRequest('a', 'b', SECRET, { extra: [{ type: Attr.State, value: newStateValue(2) }] }).datagram;
    forged[forged.length - 1]! ^= 1; // any octet changed after signing breaks the Message-Authenticator
    const seenBefore = two.seen.length;
    assert.equal(await ask(forged, { port, waitMs: 300 }), undefined);
    assert.equal(one.drops.at(-1), 'bad_message_authenticator');
    // Injected straight into worker 2's channel: its own intake refuses it.
    bus.get(2)?.({ socket: 0, address: '127.0.0.1', port: portOfTwo, datagram: forged });
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(two.drops.at(-1), 'bad_message_authenticator');
    assert.equal(two.seen.length, seenBefore);
    // A routed datagram naming a socket the worker does not have is ignored.
    bus.get(2)?.({ socket: 5, address: '127.0.0.1', port: portOfTwo, datagram: papRequest('a', 'b', SECRET).datagram });
    assert.equal(two.seen.length, seenBefore);
  });

  test('when the channel refuses (too many in flight), the request is dropped and counted', async () => {
    const full = worker(1, new Map(), { accept: false });
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
