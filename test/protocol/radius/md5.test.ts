/** The packet authenticators' MD5 and HMAC-MD5 against RFC 1321 / RFC 2202 vectors and node:crypto. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { hmacMd5, md5 } from '../../../src/protocol/radius/md5.js';

test('RFC 1321 appendix A.5 vectors', () => {
  const vectors: Array<[string, string]> = [
    ['', 'd41d8cd98f00b204e9800998ecf8427e'],
    ['abc', '900150983cd24fb0d6963f7d28e17f72'],
    ['12345678901234567890123456789012345678901234567890123456789012345678901234567890', '57edf4a22be3c955ac49da2e2107b67a'],
  ];
  for (const [input, hex] of vectors) assert.equal(md5([Buffer.from(input)]).toString('hex'), hex, input);
});

test('RFC 2202 HMAC-MD5 vectors, including a key longer than one block', () => {
  assert.equal(hmacMd5(Buffer.from('Jefe'), [Buffer.from('what do ya want for nothing?')]).toString('hex'), '750c783e6ab0b503eaa86e310a5db738');
  assert.equal(
    hmacMd5(Buffer.alloc(80, 0xaa), [Buffer.from('Test Using Larger Than Block-Size Key - Hash Key First')]).toString('hex'),
    '6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd',
  );
});

test('equal to node:crypto for every length around the block and padding boundaries, split in segments', () => {
  for (let length = 0; length <= 200; length++) {
    const data = randomBytes(length);
    const key = randomBytes(length % 131);
    const segments = [data.subarray(0, length >> 2), data.subarray(length >> 2, length >> 1), data.subarray(length >> 1)];
    assert.deepEqual(md5(segments), createHash('md5').update(data).digest(), `md5 of ${length} octets`);
    assert.deepEqual(hmacMd5(key, segments), createHmac('md5', key).update(data).digest(), `hmac of ${length} octets, key ${key.length}`);
  }
});
