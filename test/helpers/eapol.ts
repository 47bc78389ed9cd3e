/** hostapd's eapol_test as an EAP supplicant and NAS against an outpost's RADIUS port, one config file per run. */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './cli.js';
import { RADIUS_SECRET } from './directories.js';

const EAPOL_TEST = 'eapol_test';
export const TLS12 = 'tls_disable_tlsv1_0=1 tls_disable_tlsv1_1=1 tls_disable_tlsv1_2=0 tls_disable_tlsv1_3=1';
export const TLS13 = 'tls_disable_tlsv1_0=1 tls_disable_tlsv1_1=1 tls_disable_tlsv1_2=1 tls_disable_tlsv1_3=0';

export interface EapolResult {
  success: boolean;
  output: string;
}

/** Where eapol_test talks to: the CA that signed the provider's certificate, and the RADIUS port. */
export interface EapolTarget {
  caPath: string;
  radiusPort: number;
}

/** Runs eapol_test conversations against `target`, one config file each, in `dir`. */
export function eapolRunner(target: () => EapolTarget, dir: () => string): (lines: readonly string[], extraArgs?: readonly string[]) => Promise<EapolResult> {
  let runs = 0;
  return async (lines, extraArgs = []) => {
    const conf = join(dir(), `eapol-${runs++}.conf`);
    writeFileSync(conf, `network={\n  key_mgmt=WPA-EAP\n  ca_cert="${target().caPath}"\n${lines.map((l) => `  ${l}\n`).join('')}}\n`);
    const args = ['-c', conf, '-a', '127.0.0.1', '-p', String(target().radiusPort), '-s', RADIUS_SECRET, '-t', '10', ...extraArgs];
    const result = await run(EAPOL_TEST, args, {}, 30_000);
    const output = result.stdout + result.stderr;
    return { success: result.code === 0 && /^SUCCESS$/m.test(output), output };
  };
}

/** eapol_test compares the MS-MPPE keys of the Access-Accept with the MSK it derived itself. */
export const assertKeysMatch = (output: string): void => {
  assert.match(output, /MPPE keys OK: 1 {2}mismatch: 0/, output.slice(-3000));
};

/** A tunnelled method (TTLS, PEAP) with a cleartext inner password, as `identity`. */
const tunnelled = (eap: string, identity: string, password: string, phase2: string, phase1: string): string[] => [
  `eap=${eap}`,
  `identity="${identity}"`,
  'anonymous_identity="anonymous"',
  `password="${password}"`,
  `phase2="${phase2}"`,
  `phase1="${phase1}"`,
];

export const ttlsPap = (identity: string, password: string, phase1: string): string[] => tunnelled('TTLS', identity, password, 'auth=PAP', phase1);

/** PEAPv0 with inner EAP-GTC. */
export const peapGtc = (identity: string, password: string, phase1: string): string[] =>
  tunnelled('PEAP', identity, password, 'auth=GTC', `peapver=0 ${phase1}`);
