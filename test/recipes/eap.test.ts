/**
 * The README's Wi-Fi recipe: the supplicant network blocks of docs/recipes/eap-*.conf, as printed, run by hostapd's
 * eapol_test (supplicant and NAS in one) against the outpost's RADIUS port with the recipe's shared secret.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../helpers/cli.js';
import { RADIUS_OUTPOST_TOKEN, RADIUS_SECRET } from '../helpers/directories.js';
import { clientCertificate, eapTlsDirectory } from '../helpers/eap-tls.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { readableTempDir, recipe } from './recipe.js';

/** Swaps shared by every network block: the CA file and the name in the outpost's RADIUS certificate. */
function commonSwaps(dir: string): [string, string][] {
  return [
    ['/etc/ssl/certs/authentik-ca.pem', join(dir, 'ca.pem')],
    ['radius.example.com', 'radius.test.local'],
  ];
}

/** eapol_test with one recipe's network block; true when it printed SUCCESS. */
async function eapol(stack: Stack, confPath: string): Promise<{ success: boolean; output: string }> {
  const r = await run('eapol_test', ['-c', confPath, '-a', '127.0.0.1', '-p', String(stack.radiusPort), '-s', RADIUS_SECRET, '-t', '10'], {}, 30_000);
  const output = r.stdout + r.stderr;
  return { success: r.code === 0 && /^SUCCESS$/m.test(output), output };
}

describe('EAP-TTLS/PAP and PEAP/GTC as the README prints them', () => {
  let stack: Stack;
  const scratch = readableTempDir('ako-eap-recipe-');
  before(async () => {
    stack = await startStack({ token: RADIUS_OUTPOST_TOKEN });
    copyFileSync(stack.caPath, join(scratch.path, 'ca.pem'));
  });
  after(async () => {
    await stack?.stop();
    scratch.remove();
  });

  for (const name of ['eap-ttls-pap.conf', 'eap-peap-gtc.conf']) {
    test(`${name}: SUCCESS with the right password, FAILURE with a wrong one`, async () => {
      const right = scratch.write(`right-${name}`, recipe(name, [...commonSwaps(scratch.path), ['alice-password', 'alice-pw']]));
      const ok = await eapol(stack, right);
      assert.ok(ok.success, ok.output.slice(-3000));
      assert.match(ok.output, /MPPE keys OK: 1 {2}mismatch: 0/);
      const wrong = scratch.write(`wrong-${name}`, recipe(name, [...commonSwaps(scratch.path), ['alice-password', 'wrong-pw']]));
      const refused = await eapol(stack, wrong);
      assert.equal(refused.success, false);
      assert.match(refused.output, /EAP: Received EAP-Failure|CTRL-EVENT-EAP-FAILURE/);
    });
  }

  test('domain_match refuses a server certificate for another name', async () => {
    const conf = scratch.write(
      'other-name.conf',
      recipe('eap-ttls-pap.conf', [
        ['/etc/ssl/certs/authentik-ca.pem', join(scratch.path, 'ca.pem')],
        ['alice-password', 'alice-pw'],
      ]),
    );
    const r = await eapol(stack, conf);
    assert.equal(r.success, false);
    assert.match(r.output, /Domain match 'radius.example.com' not found/);
  });
});

describe('EAP-TLS as the README prints it', () => {
  let stack: Stack;
  const scratch = readableTempDir('ako-eap-tls-recipe-');
  before(async () => {
    stack = await startStack({ token: RADIUS_OUTPOST_TOKEN, directory: await eapTlsDirectory() });
    copyFileSync(stack.caPath, join(scratch.path, 'ca.pem'));
    const { certPem, keyPem } = clientCertificate('alice');
    scratch.write('alice.pem', certPem);
    scratch.write('alice.key', keyPem);
  });
  after(async () => {
    await stack?.stop();
    scratch.remove();
  });

  test('eap-tls.conf: SUCCESS with the client certificate', async () => {
    const conf = scratch.write(
      'eap-tls.conf',
      recipe('eap-tls.conf', [
        ...commonSwaps(scratch.path),
        ['/etc/ssl/certs/alice.pem', join(scratch.path, 'alice.pem')],
        ['/etc/ssl/private/alice.key', join(scratch.path, 'alice.key')],
      ]),
    );
    const r = await eapol(stack, conf);
    assert.ok(r.success, r.output.slice(-3000));
    assert.match(r.output, /MPPE keys OK: 1 {2}mismatch: 0/);
  });
});
