import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { TotpDevice } from '../../../src/embedded-core/model.js';
import { base32Decode, base32Encode, totpCode, verifyTotp } from '../../../src/embedded-core/directory/totp.js';

// RFC 6238 appendix B, SHA-1: seed "12345678901234567890" (ASCII), 8 digits.
const RFC_SECRET = base32Encode(Buffer.from('12345678901234567890', 'ascii'));
const RFC_VECTORS: Array<[number, string]> = [
  [59, '94287082'],
  [1111111109, '07081804'],
  [1111111111, '14050471'],
  [1234567890, '89005924'],
  [2000000000, '69279037'],
  [20000000000, '65353130'],
];

function device(secret: string, digits: 6 | 8 = 6): TotpDevice {
  return { pk: 1, name: 'test', secret: base32Decode(secret), digits, lastUsedStep: -1, lastUsed: null };
}

describe('TOTP', () => {
  test('RFC 6238 SHA-1 test vectors', () => {
    assert.equal(RFC_SECRET, 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ');
    for (const [seconds, code] of RFC_VECTORS) assert.equal(totpCode(RFC_SECRET, seconds * 1000, 8), code, `T=${seconds}`);
    // 6 digits are the low six of the same value.
    assert.equal(totpCode(RFC_SECRET, 59_000), '287082');
  });

  test('base32 round trip; invalid characters are refused', () => {
    const data = Buffer.from('any bytes \x00\xff', 'latin1');
    assert.deepEqual(base32Decode(base32Encode(data)), data);
    assert.deepEqual(base32Decode('gezd gnbv'), base32Decode('GEZDGNBV'));
    assert.deepEqual(base32Decode('GEZDGNA='), base32Decode('GEZDGNA'));
    assert.throws(() => base32Decode('GEZ1'), RangeError);
  });

  test('accepts one step either side and records the step', () => {
    const now = 1_700_000_000_000;
    const dev = device(RFC_SECRET);
    assert.equal(verifyTotp(dev, totpCode(RFC_SECRET, now - 30_000), now), true);
    assert.equal(dev.lastUsedStep, Math.floor(now / 30_000) - 1);
    assert.equal(dev.lastUsed?.epochMicros, now * 1000);
    const dev2 = device(RFC_SECRET);
    assert.equal(verifyTotp(dev2, totpCode(RFC_SECRET, now + 30_000), now), true);
    const dev3 = device(RFC_SECRET);
    assert.equal(verifyTotp(dev3, totpCode(RFC_SECRET, now - 60_000), now), false);
    assert.equal(verifyTotp(dev3, totpCode(RFC_SECRET, now + 60_000), now), false);
    assert.equal(dev3.lastUsedStep, -1);
  });

  test('refuses reuse of a step and of older steps', () => {
    const now = 1_700_000_000_000;
    const dev = device(RFC_SECRET);
    const code = totpCode(RFC_SECRET, now);
    assert.equal(verifyTotp(dev, code, now), true);
    assert.equal(verifyTotp(dev, code, now), false, 'same code twice');
    assert.equal(verifyTotp(dev, code, now + 10_000), false, 'same step later');
    assert.equal(verifyTotp(dev, totpCode(RFC_SECRET, now - 30_000), now), false, 'older step');
    assert.equal(verifyTotp(dev, totpCode(RFC_SECRET, now + 30_000), now + 30_000), true, 'next step');
  });

  test('compares as integers like django-otp; non-numeric input fails', () => {
    const now = 59_000;
    const dev = device(RFC_SECRET, 8);
    assert.equal(verifyTotp(dev, ' 94287082 ', now), true);
    const dev6 = device(RFC_SECRET);
    assert.equal(verifyTotp(dev6, '+287082', now), true);
    for (const bad of ['', 'abcdef', '28708x', '287 082', '-287082']) {
      assert.equal(verifyTotp(device(RFC_SECRET), bad, now), false, bad);
    }
  });
});
