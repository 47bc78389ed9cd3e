/** The supervisor as a relay between workers (in-process stand-ins for the forked workers). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChildProcess } from 'node:child_process';
import { Worker } from 'node:cluster';
import { WorkerSupervisor } from '../../src/outpost/cluster.js';
import { CONTROL_LIMITS } from '../../src/config/limits.js';
import { LogCapture } from '../helpers/log-capture.js';

/** Records what the supervisor sends; `flush` false leaves the writes pending (a channel that does not drain). */
class FakeWorker extends Worker {
  readonly received: unknown[] = [];
  flush = true;

  constructor() {
    super();
    this.process = new ChildProcess();
  }

  override send(message: unknown, ...rest: unknown[]): boolean {
    this.received.push(message);
    const callback = rest.find((r) => typeof r === 'function');
    if (this.flush && typeof callback === 'function') callback(null);
    return true;
  }

  override isConnected(): boolean {
    return true;
  }
}

async function cluster(size: number, ready: readonly number[]) {
  const workers: FakeWorker[] = [];
  let drops = 0;
  const supervisor = new WorkerSupervisor({
    workers: size,
    logger: new LogCapture('info').root.child('test'),
    fork: () => {
      const w = new FakeWorker();
      workers.push(w);
      return w;
    },
    onRelayDrop: () => drops++,
  });
  void supervisor.start().catch(() => undefined);
  for (const slot of ready) workers[slot - 1]!.emit('message', { t: 'ready' });
  const direct = (from: number, to: number, payload: unknown): void =>
    void workers[from - 1]!.emit('message', { t: 'direct', to, topic: 'radius.datagram', payload });
  const peerMessages = (slot: number): unknown[] => workers[slot - 1]!.received.filter((m) => (m as { t?: string }).t === 'peer');
  return { workers, direct, peerMessages, drops: () => drops };
}

test('a directed message reaches only its target slot, as a peer message', async () => {
  const c = await cluster(3, [1, 2, 3]);
  c.direct(1, 2, { n: 1 });
  assert.deepEqual(c.peerMessages(2), [{ t: 'peer', topic: 'radius.datagram', payload: { n: 1 } }]);
  assert.deepEqual(c.peerMessages(1), []);
  assert.deepEqual(c.peerMessages(3), []);
});

test('a target that is not serving, or no slot at all, hands the message back to its sender', async () => {
  const c = await cluster(2, [1]);
  c.direct(1, 2, { n: 1 });
  c.direct(1, 7, { n: 2 });
  assert.deepEqual(c.peerMessages(2), []);
  assert.deepEqual(
    c.peerMessages(1).map((m) => (m as { payload: unknown }).payload),
    [{ n: 1 }, { n: 2 }],
  );
  assert.equal(c.drops(), 0);
});

test('a target whose channel does not drain gets at most the cap; then back to the sender, then dropped and counted', async () => {
  const c = await cluster(2, [1, 2]);
  const cap = CONTROL_LIMITS.workerRelaysInFlight;
  c.workers[1]!.flush = false;
  for (let i = 0; i < cap; i++) c.direct(1, 2, i);
  assert.equal(c.peerMessages(2).length, cap);
  c.direct(1, 2, 'over the cap');
  assert.equal(c.peerMessages(2).length, cap);
  assert.deepEqual(c.peerMessages(1), [{ t: 'peer', topic: 'radius.datagram', payload: 'over the cap' }]);
  c.workers[0]!.flush = false;
  for (let i = 0; i <= cap; i++) c.direct(1, 2, i);
  assert.equal(c.peerMessages(1).length, 1 + cap);
  assert.equal(c.drops(), 1);
});
