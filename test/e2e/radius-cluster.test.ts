/**
 * RADIUS with AUTHENTIK_WORKERS=2: the real entry point as a child process against the embedded core, eapol_test
 * as supplicant and NAS. Both workers read the one shared UDP socket, so the packets of one EAP conversation land
 * on either; those carrying the other worker's State must reach it (routed over the cluster channel) or the
 * conversation fails with an unknown State. Every conversation must succeed, and some packets must have crossed.
 * Copies of a PAP request must meet the duplicate cache of the worker running it, whichever worker read them.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedCore, type EmbeddedCore } from '../../src/embedded-core/core.js';
import { spawnMain, type SpawnedMain } from '../helpers/cli.js';
import { RADIUS_OUTPOST_TOKEN, RADIUS_SECRET, testDirectory } from '../helpers/directories.js';
import { assertKeysMatch, eapolRunner, peapGtc, TLS12, TLS13, ttlsPap } from '../helpers/eapol.js';
import { metricSum } from '../helpers/metrics-text.js';
import { freePort } from '../helpers/net.js';
import { papRequest } from '../helpers/radius-client.js';
import { Code } from '../../src/protocol/radius/index.js';

async function waitFor(what: string, condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('EAP with AUTHENTIK_WORKERS=2', () => {
  let core: EmbeddedCore;
  let outpost: SpawnedMain;
  let dir: string;
  let radiusPort: number;
  let metricsUrl: string;
  const metrics = async (): Promise<string> => (await fetch(metricsUrl)).text();
  const forwarded = async (): Promise<number> => metricSum(await metrics(), 'ak_outpost_radius_packets_forwarded_total');
  const eapol = eapolRunner(() => ({ caPath: join(dir, 'certs', 'ca.pem'), radiusPort }), () => dir);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ako-radius-cluster-'));
    core = await startEmbeddedCore({ directory: await testDirectory(), certsDir: join(dir, 'certs') });
    radiusPort = await freePort();
    metricsUrl = `http://127.0.0.1:${await freePort()}/metrics`;
    outpost = spawnMain({
      ...(process.env as Record<string, string>),
      AUTHENTIK_HOST: core.url,
      AUTHENTIK_TOKEN: RADIUS_OUTPOST_TOKEN,
      AUTHENTIK_WORKERS: '2',
      AUTHENTIK_LISTEN__RADIUS: `127.0.0.1:${radiusPort}`,
      AUTHENTIK_LISTEN__RADIUS_ACCOUNTING: `127.0.0.1:${await freePort()}`,
      AUTHENTIK_LISTEN__METRICS: new URL(metricsUrl).host,
      TMPDIR: dir,
    });
    await waitFor('all workers serving', () => {
      assert.equal(outpost.child.exitCode, null, `exited early:\n${outpost.output()}`);
      return outpost.output().includes('"all workers serving"');
    });
  });

  after(async () => {
    if (outpost.child.exitCode === null) outpost.child.kill('SIGKILL');
    await core.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('EAP-TTLS/PAP and PEAPv0/GTC conversations, in a row and concurrently: all SUCCESS, keys match, packets routed', async () => {
    const before = await forwarded();
    const conversations = [ttlsPap('alice', 'alice-pw', TLS12), peapGtc('bob', 'bob-pw', TLS13), ttlsPap('bob', 'bob-pw', TLS13), peapGtc('alice', 'alice-pw', TLS12)];
    for (const lines of conversations) {
      const result = await eapol(lines);
      assert.ok(result.success, result.output.slice(-3000));
      assertKeysMatch(result.output);
    }
    const concurrent = await Promise.all(Array.from({ length: 6 }, (_, i) => eapol(conversations[i % conversations.length]!)));
    for (const result of concurrent) {
      assert.ok(result.success, result.output.slice(-3000));
      assertKeysMatch(result.output);
    }
    assert.ok((await forwarded()) > before, 'no packet crossed to the other worker');
    assert.ok(metricSum(await metrics(), 'ak_outpost_radius_packets_forwarded_total', { path: 'link' }) > 0, 'the direct link between the workers carried none');
    const text = await metrics();
    assert.equal(metricSum(text, 'authentik_outpost_radius_requests_rejected_total'), 0, 'nothing was rejected');
    assert.equal(metricSum(text, 'ak_outpost_radius_packets_dropped_total'), 0, 'nothing was dropped');
  });

  test('retransmissions received by either worker run the flow once per request (PAP)', async () => {
    const flowRuns = async (): Promise<number> => metricSum(await metrics(), 'authentik_outpost_flow_timing_get_seconds_count');
    const before = await flowRuns();
    const client = dgram.createSocket('udp4');
    const answers: Buffer[] = [];
    client.on('message', (msg) => answers.push(msg));
    await new Promise<void>((resolve) => client.bind({ address: '127.0.0.1', port: 0 }, resolve));
    try {
      const requests = Array.from({ length: 20 }, (_, i) => papRequest('alice', 'alice-pw', RADIUS_SECRET, { identifier: 100 + i }).datagram);
      // Four copies of each, back to back: the kernel hands them to either worker, mostly before the first answer.
      for (const datagram of requests) {
        for (let copy = 0; copy < 4; copy++) await new Promise<void>((resolve, reject) => client.send(datagram, radiusPort, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
      }
      await waitFor('an answer to every copy', () => answers.length >= 80);
      for (const answer of answers) assert.equal(answer[0], Code.AccessAccept);
      assert.equal((await flowRuns()) - before, 20, 'one flow run per request');
    } finally {
      client.close();
    }
  });

  test('a wrong password still fails, and no password or secret is logged', async () => {
    const result = await eapol(ttlsPap('alice', 'wrong-pw', TLS12));
    assert.equal(result.success, false);
    assert.match(result.output, /EAP: Received EAP-Failure|CTRL-EVENT-EAP-FAILURE/);
    outpost.child.kill('SIGTERM');
    assert.equal(await outpost.exited, 0, outpost.output());
    for (const secret of ['alice-pw', 'bob-pw', 'wrong-pw', RADIUS_SECRET, RADIUS_OUTPOST_TOKEN]) {
      assert.ok(!outpost.output().includes(secret), `${secret} was logged`);
    }
  });
});
