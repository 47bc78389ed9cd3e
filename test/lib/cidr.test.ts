import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCidr } from '../../src/lib/cidr.js';

test('parseCidr: address/prefix, a bare address as a host network, both families', () => {
  assert.deepEqual(parseCidr('10.0.0.0/8'), { address: '10.0.0.0', prefix: 8, family: 'ipv4' });
  assert.deepEqual(parseCidr('192.0.2.7'), { address: '192.0.2.7', prefix: 32, family: 'ipv4' });
  assert.deepEqual(parseCidr('fd00::/8'), { address: 'fd00::', prefix: 8, family: 'ipv6' });
  assert.deepEqual(parseCidr('::1'), { address: '::1', prefix: 128, family: 'ipv6' });
  assert.deepEqual(parseCidr('0.0.0.0/0'), { address: '0.0.0.0', prefix: 0, family: 'ipv4' });
});

test('parseCidr refuses what is not a network', () => {
  for (const text of ['', '/8', '10.0.0.0/', '10.0.0.0/33', '::/129', '10.0.0.0/+8', '10.0.0.0/0x8', '10.0.0.0/8/8', 'fe80::1%eth0/64', 'example.com/24', '10.0.0/8', '10.0.0.0/1000'])
    assert.equal(parseCidr(text), undefined, text);
});
