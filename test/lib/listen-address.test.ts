import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectHost, formatListenAddress, parseListenAddress } from '../../src/lib/listen-address.js';

test('host:port as Go net.Listen reads it: IPv4, host name, IPv6 in brackets, empty host for every interface', () => {
  assert.deepEqual(parseListenAddress('127.0.0.1:3389'), { host: '127.0.0.1', port: 3389 });
  assert.deepEqual(parseListenAddress('localhost:0'), { host: 'localhost', port: 0 });
  assert.deepEqual(parseListenAddress('ldap.example.org:65535'), { host: 'ldap.example.org', port: 65535 });
  assert.deepEqual(parseListenAddress('[::1]:3389'), { host: '::1', port: 3389 });
  assert.deepEqual(parseListenAddress('[::]:9300'), { host: '::', port: 9300 });
  assert.deepEqual(parseListenAddress('[fe80::1%eth0]:389'), { host: 'fe80::1%eth0', port: 389 });
  assert.deepEqual(parseListenAddress(':9000'), { host: '', port: 9000 });
});

test('anything else is refused', () => {
  for (const bad of [
    '',
    '3389',
    'foo',
    ':::3389', // unbracketed IPv6 is ambiguous
    '::1:3389',
    '[::1]3389',
    '[::1]:',
    '[localhost]:3389', // brackets hold IPv6 only
    '[127.0.0.1]:3389',
    '127.0.0.1:65536',
    '127.0.0.1:-1',
    '127.0.0.1:0x10',
    '127.0.0.1: 80',
    'x y:1',
    '-bad.example:1',
    '127.0.0.1:ldap', // numeric ports only
  ]) {
    assert.equal(parseListenAddress(bad), undefined, bad);
  }
});

test('formatListenAddress brackets IPv6 and round-trips', () => {
  assert.equal(formatListenAddress({ host: '::', port: 1 }), '[::]:1');
  assert.equal(formatListenAddress({ host: '0.0.0.0', port: 2 }), '0.0.0.0:2');
  assert.equal(formatListenAddress({ host: '', port: 3 }), ':3');
  for (const text of ['[::1]:3389', '10.0.0.1:1', 'localhost:9', ':9000']) {
    const parsed = parseListenAddress(text);
    assert.ok(parsed !== undefined);
    assert.equal(formatListenAddress(parsed), text);
  }
});

test('a wildcard is reached over the loopback of its family', () => {
  assert.equal(connectHost(''), '127.0.0.1');
  assert.equal(connectHost('0.0.0.0'), '127.0.0.1');
  assert.equal(connectHost('::'), '::1');
  assert.equal(connectHost('10.1.2.3'), '10.1.2.3');
  assert.equal(connectHost('localhost'), 'localhost');
});
