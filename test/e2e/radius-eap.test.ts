/**
 * EAP over RADIUS end to end (embedded core -> outpost -> UDP) with hostapd's eapol_test as the supplicant and
 * NAS: EAP-TTLS/PAP, PEAPv0/GTC and EAP-TLS, over TLS 1.2 and 1.3. eapol_test compares the MS-MPPE keys of the
 * Access-Accept with the MSK it derived itself and counts a mismatch ("MPPE keys OK: 1  mismatch: 0").
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RADIUS_OUTPOST_TOKEN } from '../helpers/directories.js';
import { clientCertificate, eapTlsDirectory } from '../helpers/eap-tls.js';
import { assertKeysMatch, eapolRunner, peapGtc, TLS12, TLS13, ttlsPap } from '../helpers/eapol.js';
import { metricSum } from '../helpers/metrics-text.js';
import { startStack, type Stack } from '../helpers/stack.js';

const assertTlsVersion = (output: string, version: string): void => {
  assert.match(output, new RegExp(`SSL: Using TLS version ${version.replace('.', '\\.')}\\b`), output.slice(-3000));
};

describe('EAP over RADIUS with eapol_test', () => {
  let stack: Stack;
  let dir: string;
  before(async () => {
    stack = await startStack({ token: RADIUS_OUTPOST_TOKEN });
    dir = mkdtempSync(join(tmpdir(), 'ako-eap-'));
  });
  after(async () => {
    await stack?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const eapol = eapolRunner(() => stack, () => dir);

  const ttls = (password: string, phase1: string): string[] => ttlsPap('alice', password, phase1);

  for (const [version, phase1] of [['TLSv1.2', TLS12], ['TLSv1.3', TLS13]] as const) {
    test(`EAP-TTLS/PAP over ${version}: SUCCESS and the MPPE keys match eapol_test's MSK`, async () => {
      const result = await eapol(ttls('alice-pw', phase1));
      assert.ok(result.success, result.output.slice(-3000));
      assertKeysMatch(result.output);
      assertTlsVersion(result.output, version);
    });
  }

  const peap = (password: string, phase1: string): string[] => peapGtc('alice', password, phase1);

  for (const [version, phase1] of [['TLSv1.2', TLS12], ['TLSv1.3', TLS13]] as const) {
    test(`PEAPv0/GTC over ${version} (after a Nak of TTLS): SUCCESS and matching MPPE keys`, async () => {
      const result = await eapol(peap('alice-pw', phase1));
      assert.ok(result.success, result.output.slice(-3000));
      assert.match(result.output, /method=21 -> NAK/, 'TTLS was proposed first');
      assert.match(result.output, /EAP-TLV: TLV Result - Success/);
      assertKeysMatch(result.output);
      assertTlsVersion(result.output, version);
    });
  }

  test('EAP-TTLS/PAP with small fragments both ways (peer fragment_size, NAS Framed-MTU)', async () => {
    const result = await eapol([...ttls('alice-pw', TLS12), 'fragment_size=100'], ['-N', '12:d:200']);
    assert.ok(result.success, result.output.slice(-3000));
    assertKeysMatch(result.output);
    // Our flights arrive in pieces (L and M set), and the peer's go out in pieces that we acknowledged.
    assert.match(result.output, /SSL: Received packet\(len=\d+\) - Flags 0xc0/);
    assert.match(result.output, /SSL: sending \d+ bytes, more fragments will follow/);
    assert.match(result.output, /SSL: Received packet\(len=6\) - Flags 0x00/);
  });

  test('PEAPv0/GTC with a wrong password: FAILURE', async () => {
    const result = await eapol(peap('wrong-pw', TLS12));
    assert.equal(result.success, false);
    assert.match(result.output, /EAP-TLV: TLV Result - Failure/);
    assert.match(result.output, /EAP: Received EAP-Failure|CTRL-EVENT-EAP-FAILURE/);
  });

  test('a peer that only does EAP-MD5 gets EAP-Failure after its Nak', async () => {
    const result = await eapol(['eap=MD5', 'identity="alice"', 'password="alice-pw"']);
    assert.equal(result.success, false);
    assert.match(result.output, /refuse proposed method \(param=TTLS\)/);
    assert.match(result.output, /EAP: Received EAP-Failure/);
  });

  test('EAP-TTLS/PAP with a wrong password: FAILURE, counted as a flow error', async () => {
    const before = metricSum(await stack.registry.exposition(), 'authentik_outpost_radius_requests_rejected_total', { reason: 'flow_error' });
    const result = await eapol(ttls('wrong-pw', TLS12));
    assert.equal(result.success, false);
    assert.match(result.output, /EAP: Received EAP-Failure|CTRL-EVENT-EAP-FAILURE/);
    const afterCount = metricSum(await stack.registry.exposition(), 'authentik_outpost_radius_requests_rejected_total', { reason: 'flow_error' });
    assert.equal(afterCount, before + 1);
  });
});

describe('EAP-TLS with eapol_test', () => {
  let stack: Stack;
  let dir: string;
  before(async () => {
    stack = await startStack({ token: RADIUS_OUTPOST_TOKEN, directory: await eapTlsDirectory() });
    dir = mkdtempSync(join(tmpdir(), 'ako-eap-tls-'));
    const { certPem, keyPem } = clientCertificate('alice');
    writeFileSync(join(dir, 'client.pem'), certPem);
    writeFileSync(join(dir, 'client.key'), keyPem);
  });
  after(async () => {
    await stack?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const eapol = eapolRunner(() => stack, () => dir);
  const tlsPeer = (identity: string, phase1: string, withCertificate = true): string[] => [
    'eap=TLS',
    `identity="${identity}"`,
    ...(withCertificate ? [`client_cert="${join(dir, 'client.pem')}"`, `private_key="${join(dir, 'client.key')}"`] : []),
    `phase1="${phase1}"`,
  ];

  for (const [version, phase1] of [['TLSv1.2', TLS12], ['TLSv1.3', TLS13]] as const) {
    test(`EAP-TLS over ${version} (after a Nak of TTLS): SUCCESS and matching MPPE keys`, async () => {
      const result = await eapol(tlsPeer('alice', phase1));
      assert.ok(result.success, result.output.slice(-3000));
      assertKeysMatch(result.output);
      assertTlsVersion(result.output, version);
    });
  }

  test('EAP-TLS without a client certificate: FAILURE, the flow never runs', async () => {
    const flowRuns = async (): Promise<number> =>
      metricSum(await stack.registry.exposition(), 'authentik_outpost_flow_timing_get_seconds_count', { flow: 'eap-tls' });
    const before = await flowRuns();
    const result = await eapol(tlsPeer('alice', TLS12, false));
    assert.equal(result.success, false);
    assert.equal(await flowRuns(), before);
  });

  test('EAP-TLS for an identity the flow does not know: FAILURE', async () => {
    const result = await eapol(tlsPeer('nobody', TLS12));
    assert.equal(result.success, false);
    assert.match(result.output, /EAP: Received EAP-Failure/);
  });
});
