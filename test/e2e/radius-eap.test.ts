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
import { run } from '../helpers/cli.js';
import { RADIUS_OUTPOST_TOKEN, RADIUS_SECRET } from '../helpers/directories.js';
import { metricSum } from '../helpers/metrics-text.js';
import { startStack, type Stack } from '../helpers/stack.js';

const EAPOL_TEST = 'eapol_test';
const TLS12 = 'tls_disable_tlsv1_0=1 tls_disable_tlsv1_1=1 tls_disable_tlsv1_2=0 tls_disable_tlsv1_3=1';
const TLS13 = 'tls_disable_tlsv1_0=1 tls_disable_tlsv1_1=1 tls_disable_tlsv1_2=1 tls_disable_tlsv1_3=0';

interface EapolResult {
  success: boolean;
  output: string;
}

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

  let runs = 0;
  /** One eapol_test conversation with this network block (lines inside network={...}). */
  async function eapol(lines: readonly string[]): Promise<EapolResult> {
    const conf = join(dir, `eapol-${runs++}.conf`);
    writeFileSync(conf, `network={\n  key_mgmt=WPA-EAP\n  ca_cert="${stack.caPath}"\n${lines.map((l) => `  ${l}\n`).join('')}}\n`);
    const result = await run(EAPOL_TEST, ['-c', conf, '-a', '127.0.0.1', '-p', String(stack.radiusPort), '-s', RADIUS_SECRET, '-t', '10'], {}, 30_000);
    const output = result.stdout + result.stderr;
    return { success: result.code === 0 && /^SUCCESS$/m.test(output), output };
  }

  const assertKeysMatch = (output: string): void => {
    assert.match(output, /MPPE keys OK: 1 {2}mismatch: 0/, output.slice(-3000));
  };
  const assertTlsVersion = (output: string, version: string): void => {
    assert.match(output, new RegExp(`SSL: Using TLS version ${version.replace('.', '\\.')}\\b`), output.slice(-3000));
  };

  const ttls = (password: string, phase1: string): string[] => [
    'eap=TTLS',
    'identity="alice"',
    'anonymous_identity="anonymous"',
    `password="${password}"`,
    'phase2="auth=PAP"',
    `phase1="${phase1}"`,
  ];

  for (const [version, phase1] of [['TLSv1.2', TLS12], ['TLSv1.3', TLS13]] as const) {
    test(`EAP-TTLS/PAP over ${version}: SUCCESS and the MPPE keys match eapol_test's MSK`, async () => {
      const result = await eapol(ttls('alice-pw', phase1));
      assert.ok(result.success, result.output.slice(-3000));
      assertKeysMatch(result.output);
      assertTlsVersion(result.output, version);
    });
  }

  const peap = (password: string, phase1: string): string[] => [
    'eap=PEAP',
    'identity="alice"',
    'anonymous_identity="anonymous"',
    `password="${password}"`,
    'phase2="auth=GTC"',
    `phase1="peapver=0 ${phase1}"`,
  ];

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
