import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import {
  encodeProxyV1,
  encodeProxyV2,
  formatIp,
  parseIPv4,
  parseIPv6,
  parseProxyHeader,
  type ProxyParseResult,
} from '../../src/protocol/proxy-protocol.js';
import { ProtocolError } from '../../src/errors.js';

function complete(result: ProxyParseResult): Extract<ProxyParseResult, { status: 'complete' }> {
  assert.equal(result.status, 'complete');
  return result;
}

describe('PROXY v1', () => {
  test('TCP4 line with trailing LDAP bytes', () => {
    const line = Buffer.from('PROXY TCP4 192.0.2.10 198.51.100.1 56324 389\r\n', 'latin1');
    const r = complete(parseProxyHeader(Buffer.concat([line, Buffer.from([0x30, 0x05])])));
    assert.equal(r.length, line.length);
    assert.deepEqual(r.header.source, { address: '192.0.2.10', port: 56324 });
    assert.deepEqual(r.header.destination, { address: '198.51.100.1', port: 389 });
    assert.equal(r.header.command, 'proxy');
    assert.equal(r.header.transport, 'tcp4');
  });

  test('TCP6 addresses come back canonical', () => {
    const r = complete(parseProxyHeader(Buffer.from('PROXY TCP6 2001:DB8:0:0:0:0:0:1 ::1 1 65535\r\n')));
    assert.deepEqual(r.header.source, { address: '2001:db8::1', port: 1 });
    assert.deepEqual(r.header.destination, { address: '::1', port: 65535 });
  });

  test('UNKNOWN keeps the real endpoints', () => {
    const r = complete(parseProxyHeader(Buffer.from('PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n')));
    assert.equal(r.header.command, 'local');
    assert.equal(r.header.source, undefined);
  });

  test('every split offset is incomplete until the CRLF', () => {
    const line = encodeProxyV1({ source: { address: '10.1.2.3', port: 1000 }, destination: { address: '10.0.0.1', port: 636 } });
    for (let i = 0; i < line.length; i++) {
      assert.equal(parseProxyHeader(line.subarray(0, i)).status, 'incomplete', `offset ${i}`);
    }
    assert.equal(complete(parseProxyHeader(line)).length, line.length);
  });

  test('malformed lines are protocol errors', () => {
    const bad = [
      'PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n', // no CR
      'PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n', // missing field
      'PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n',
      'PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n',
      'PROXY TCP4 ::1 ::1 1 2\r\n',
      'PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n',
      'PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n',
      'PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n',
      'PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n',
      'PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n',
    ];
    for (const line of bad) {
      assert.throws(() => parseProxyHeader(Buffer.from(line)), ProtocolError, JSON.stringify(line));
    }
  });

  test('a line without CRLF within 107 bytes is refused', () => {
    assert.equal(parseProxyHeader(Buffer.from(`PROXY ${'x'.repeat(100)}`)).status, 'incomplete');
    assert.throws(() => parseProxyHeader(Buffer.from(`PROXY ${'x'.repeat(101)}`)), ProtocolError);
  });
});

describe('PROXY v2', () => {
  test('IPv4 with a TLV round-trips', () => {
    const bytes = encodeProxyV2({
      source: { address: '203.0.113.7', port: 40000 },
      destination: { address: '10.0.0.2', port: 636 },
      tlvs: [{ type: 0x02, value: Buffer.from('ldap.example.org') }],
    });
    const r = complete(parseProxyHeader(Buffer.concat([bytes, Buffer.from([0x16, 0x03, 0x01])])));
    assert.equal(r.length, bytes.length);
    assert.equal(r.header.version, 2);
    assert.deepEqual(r.header.source, { address: '203.0.113.7', port: 40000 });
    assert.deepEqual(r.header.destination, { address: '10.0.0.2', port: 636 });
    assert.equal(r.header.tlvs.length, 1);
    assert.equal(Buffer.from(r.header.tlvs[0]!.value).toString(), 'ldap.example.org');
  });

  test('IPv6 and LOCAL', () => {
    const v6 = complete(
      parseProxyHeader(encodeProxyV2({ source: { address: 'fe80::1', port: 1 }, destination: { address: '::1', port: 2 } })),
    );
    assert.deepEqual(v6.header.source, { address: 'fe80::1', port: 1 });
    assert.equal(v6.header.transport, 'tcp6');
    const local = complete(parseProxyHeader(encodeProxyV2({ command: 'local' })));
    assert.equal(local.header.command, 'local');
    assert.equal(local.header.source, undefined);
    assert.equal(local.length, 16);
  });

  test('every split offset is incomplete', () => {
    const bytes = encodeProxyV2({ source: { address: '1.2.3.4', port: 5 }, destination: { address: '5.6.7.8', port: 9 } });
    for (let i = 0; i < bytes.length; i++) {
      assert.equal(parseProxyHeader(bytes.subarray(0, i)).status, 'incomplete', `offset ${i}`);
    }
  });

  test('malformed headers are protocol errors', () => {
    const good = encodeProxyV2({ source: { address: '1.2.3.4', port: 5 }, destination: { address: '5.6.7.8', port: 9 } });
    const mutate = (at: number, value: number): Buffer => {
      const copy = Buffer.from(good);
      copy[at] = value;
      return copy;
    };
    assert.throws(() => parseProxyHeader(mutate(12, 0x11)), ProtocolError, 'version 1 in v2');
    assert.throws(() => parseProxyHeader(mutate(12, 0x22)), ProtocolError, 'unknown command');
    assert.throws(() => parseProxyHeader(mutate(13, 0x41)), ProtocolError, 'unknown family');
    // Declared body too short for IPv6.
    assert.throws(() => parseProxyHeader(mutate(13, 0x21)), ProtocolError, 'short address block');
    // A TLV running past the end.
    const tlv = Buffer.concat([good, Buffer.from([0x01, 0x00, 0x09, 0x00])]);
    tlv.writeUInt16BE(12 + 4, 14);
    assert.throws(() => parseProxyHeader(tlv), ProtocolError, 'TLV overrun');
  });

  test('the size cap is checked from the fixed header', () => {
    const head = Buffer.from(encodeProxyV2({ command: 'local' }));
    head.writeUInt16BE(5000, 14);
    assert.throws(() => parseProxyHeader(head, 4096), ProtocolError);
  });
});

describe('detection', () => {
  test('an LDAP message or TLS ClientHello is absent at the first byte', () => {
    assert.equal(parseProxyHeader(Buffer.from([0x30])).status, 'absent');
    assert.equal(parseProxyHeader(Buffer.from([0x16, 0x03])).status, 'absent');
    assert.equal(parseProxyHeader(Buffer.from('PROXX')).status, 'absent');
    assert.equal(parseProxyHeader(Buffer.from([0x0d, 0x0a, 0x0d, 0x0b])).status, 'absent');
    assert.equal(parseProxyHeader(Buffer.alloc(0)).status, 'incomplete');
    assert.equal(parseProxyHeader(Buffer.from('PRO')).status, 'incomplete');
  });
});

describe('IP text helpers', () => {
  test('IPv6 parsing and RFC 5952 formatting', () => {
    const cases: Array<[string, string]> = [
      ['::', '::'],
      ['::1', '::1'],
      ['1::', '1::'],
      ['2001:0db8:0000:0000:0001:0000:0000:0001', '2001:db8::1:0:0:1'],
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
      ['::ffff:192.0.2.1', '::ffff:192.0.2.1'],
      ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
    ];
    for (const [input, expected] of cases) {
      const bytes = parseIPv6(input);
      assert.ok(bytes, input);
      assert.equal(formatIp(bytes), expected);
    }
    for (const bad of ['1:2:3:4:5:6:7:8:9', ':::1', '1::2::3', 'g::1', '12345::', '1:2:3:4:5:6:7', '::1.2.3', '']) {
      assert.equal(parseIPv6(bad), null, bad);
    }
    assert.equal(parseIPv4('1.2.3'), null);
    assert.deepEqual(parseIPv4('255.0.10.1'), Uint8Array.from([255, 0, 10, 1]));
  });
});
