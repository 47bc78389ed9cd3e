/**
 * The direct link between two workers (AUTHENTIK_WORKERS > 1, Linux): routed datagrams arrive intact and in order,
 * a connection without the key is cut, a peer not listening makes send() refuse (the caller then uses the cluster
 * channel), and a peer that comes back is dialled again.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { decodeForwardedDatagram, encodeForwardedDatagram, type ForwardedDatagram } from '../../../src/listeners/radius/routing.js';
import { RadiusWorkerLink, workerLinkName } from '../../../src/listeners/radius/worker-link.js';
import { LogCapture } from '../../helpers/log-capture.js';
import { waitFor } from '../../helpers/wait.js';

const logger = new LogCapture('debug').root.child('test');

test('a routed datagram survives its frame encoding; fields that do not fit are refused', () => {
  const d: ForwardedDatagram = { socket: 3, address: '::ffff:192.0.2.1', port: 61_000, datagram: randomBytes(4_096) };
  assert.deepEqual(decodeForwardedDatagram(encodeForwardedDatagram(d)!), d);
  assert.equal(encodeForwardedDatagram({ ...d, socket: 256 }), undefined);
  assert.equal(decodeForwardedDatagram(Buffer.from([0, 0, 1, 200, 1])), undefined, 'address beyond the frame');
  assert.equal(decodeForwardedDatagram(Buffer.from([0, 0, 0])), undefined, 'short frame');
  const port0 = encodeForwardedDatagram(d)!;
  port0.writeUInt16BE(0, 1);
  assert.equal(decodeForwardedDatagram(port0), undefined, 'port 0');
});

describe('RadiusWorkerLink', { skip: process.platform !== 'linux' && 'abstract unix sockets are Linux only' }, () => {
  const key = randomBytes(32);
  const received: Array<{ slot: number; datagram: ForwardedDatagram }> = [];
  const open = (slot: number): Promise<RadiusWorkerLink | undefined> =>
    RadiusWorkerLink.open({ slot, key, logger, onDatagram: (datagram) => received.push({ slot, datagram }) });
  const links: RadiusWorkerLink[] = [];
  after(() => links.forEach((link) => link.close()));

  test('datagrams from worker 1 reach worker 2 in order once the link is up', async () => {
    const one = (await open(1))!;
    const two = (await open(2))!;
    links.push(one, two);
    const datagrams = Array.from({ length: 200 }, (_, i) => ({ socket: i % 2, address: '127.0.0.1', port: 1_000 + i, datagram: randomBytes(20 + i) }));
    // The first send dials and refuses: the caller routes that one through the channel.
    assert.equal(one.send(2, datagrams[0]!), false);
    await waitFor('the link up', () => one.send(2, datagrams[0]!));
    for (const d of datagrams.slice(1)) assert.equal(one.send(2, d), true);
    await waitFor('every datagram', () => received.length >= 200);
    assert.deepEqual(received.map((r) => r.slot), Array(200).fill(2));
    assert.deepEqual(received.map((r) => r.datagram), datagrams);
    assert.equal(one.send(1, datagrams[0]!), false, 'never to itself');
  });

  test('a connection that does not prove the key is cut, and nothing it sends is delivered', async () => {
    const before = received.length;
    const intruder = net.connect({ path: workerLinkName(key, 2) });
    const closed = new Promise<void>((resolve) => intruder.on('close', () => resolve()));
    intruder.on('error', () => undefined);
    await new Promise<void>((resolve) => intruder.on('connect', () => resolve()));
    const frame = encodeForwardedDatagram({ socket: 0, address: '127.0.0.1', port: 1_812, datagram: randomBytes(30) })!;
    intruder.write(Buffer.concat([randomBytes(32), Buffer.from([0, frame.length]), frame]));
    await closed;
    assert.equal(received.length, before);
  });

  test('a worker that is gone makes send() refuse; once it listens again the link comes back', async () => {
    const three = (await open(3))!;
    links.push(three);
    const d = { socket: 0, address: '127.0.0.1', port: 5_000, datagram: randomBytes(40) };
    assert.equal(three.send(4, d), false, 'nobody listens as worker 4');
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(three.send(4, d), false, 'refused, and not dialled again at once');
    const four = (await open(4))!;
    links.push(four);
    const before = received.filter((r) => r.slot === 4).length;
    await waitFor('the link to worker 4 up', () => three.send(4, d), 5_000);
    await waitFor('delivery to worker 4', () => received.filter((r) => r.slot === 4).length > before);
  });
});
