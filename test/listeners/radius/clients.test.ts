import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addressBytes, buildClientTable } from '../../../src/listeners/radius/clients.js';

const table = (...sources: [number, string][]) => buildClientTable(sources.map(([pk, clientNetworks]) => ({ pk, clientNetworks, value: pk })));

test('the longest prefix wins over every provider, whatever the order', () => {
  for (const t of [table([1, '192.168.128.0/24'], [2, '192.168.128.254/32']), table([2, '192.168.128.254/32'], [1, '192.168.128.0/24'])]) {
    assert.equal(t.match('192.168.128.254'), 2);
    assert.equal(t.match('192.168.128.1'), 1);
    assert.equal(t.match('192.168.129.1'), undefined);
  }
});

test('equal prefixes: the lowest provider pk wins', () => {
  assert.equal(table([7, '10.0.0.0/8'], [3, '10.0.0.0/8, 11.0.0.0/8'], [5, '10.0.0.0/8']).match('10.1.2.3'), 3);
});

test('prefixes not on an octet boundary, /0, and a bare address as a host network', () => {
  const t = table([1, '10.0.0.0/9'], [2, '0.0.0.0/0'], [3, '10.200.0.1']);
  assert.equal(t.match('10.127.255.255'), 1);
  assert.equal(t.match('10.128.0.0'), 2);
  assert.equal(t.match('10.200.0.1'), 3);
});

test('IPv6 networks; an IPv4-mapped source matches IPv4 networks only', () => {
  const t = table([1, '::/0'], [2, '2001:db8::/32'], [3, '127.0.0.0/8']);
  assert.equal(t.match('2001:db8::1'), 2);
  assert.equal(t.match('::1'), 1);
  assert.equal(t.match('::ffff:127.0.0.1'), 3);
  assert.equal(t.match('fe80::1%eth0'), 1);
  assert.equal(table([1, '::/0']).match('127.0.0.1'), undefined);
});

test('invalid and empty entries are skipped and reported; an empty list is no network', () => {
  const t = table([1, ' 10.0.0.0/33, foo, , 10.0.0.0/8 ,1.2.3.4/x'], [2, '']);
  assert.deepEqual(t.invalid, ['1: 10.0.0.0/33', '1: foo', '1: 1.2.3.4/x']);
  assert.equal(t.match('10.9.9.9'), 1);
  assert.equal(table([2, '']).match('10.9.9.9'), undefined);
  assert.equal(t.match('not an address'), undefined);
});

test('addressBytes', () => {
  assert.deepEqual(addressBytes('::ffff:10.0.0.1'), Uint8Array.from([10, 0, 0, 1]));
  assert.equal(addressBytes('2001:db8::1')?.length, 16);
  assert.equal(addressBytes('300.1.1.1'), undefined);
});
