/**
 * PROXY protocol v1 (text) and v2 (binary) header codec, after HAProxy's proxy-protocol.txt.
 * Pure: takes bytes, returns values. Whether a header is honoured at all (trusted peers only) is the listener's call.
 */
import { Buffer } from 'node:buffer';
import { LDAP_LIMITS } from '../config/limits.js';
import { ProtocolError } from '../errors.js';

/** v2 signature: \r\n\r\n\0\r\nQUIT\n */
export const PROXY_V2_SIGNATURE: Readonly<Uint8Array> = Uint8Array.from([
  0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
]);
const V1_PREFIX = Uint8Array.from(Buffer.from('PROXY ', 'latin1'));
/** v1 lines are at most 107 bytes including CRLF (spec 2.1). */
export const PROXY_V1_MAX_BYTES = 107;
const V2_FIXED_BYTES = 16;

export interface ProxyEndpoint {
  address: string;
  port: number;
}

export interface ProxyTlv {
  type: number;
  value: Uint8Array;
}

export type ProxyTransport = 'tcp4' | 'tcp6' | 'udp4' | 'udp6' | 'unix' | 'unknown';

export interface ProxyHeader {
  version: 1 | 2;
  /** 'local': health check or unknown origin; the receiver keeps the real TCP endpoints. */
  command: 'local' | 'proxy';
  transport: ProxyTransport;
  /** Present only for command 'proxy' with an inet family. */
  source?: ProxyEndpoint;
  destination?: ProxyEndpoint;
  /** v2 only; structure checked, contents not interpreted (CRC32c is not verified). */
  tlvs: ProxyTlv[];
}

export type ProxyParseResult =
  | { status: 'incomplete' }
  /** The first bytes diverge from both signatures: this stream carries no PROXY header. */
  | { status: 'absent' }
  | { status: 'complete'; header: ProxyHeader; length: number };

/**
 * Looks for a PROXY header at the start of `buf`. Decides 'absent' as soon as one byte diverges from both
 * signatures, so a client that sends none is never kept waiting. Throws ProtocolError on a malformed header.
 */
export function parseProxyHeader(buf: Uint8Array, maxV2Bytes: number = LDAP_LIMITS.maxProxyHeaderBytes): ProxyParseResult {
  if (buf.length === 0) return { status: 'incomplete' };
  if (buf[0] === V1_PREFIX[0]) {
    const n = Math.min(buf.length, V1_PREFIX.length);
    for (let i = 0; i < n; i++) if (buf[i] !== V1_PREFIX[i]) return { status: 'absent' };
    if (buf.length < V1_PREFIX.length) return { status: 'incomplete' };
    return parseV1(buf);
  }
  if (buf[0] === PROXY_V2_SIGNATURE[0]) {
    const n = Math.min(buf.length, PROXY_V2_SIGNATURE.length);
    for (let i = 0; i < n; i++) if (buf[i] !== PROXY_V2_SIGNATURE[i]) return { status: 'absent' };
    if (buf.length < V2_FIXED_BYTES) return { status: 'incomplete' };
    return parseV2(buf, maxV2Bytes);
  }
  return { status: 'absent' };
}

function parseV1(buf: Uint8Array): ProxyParseResult {
  const limit = Math.min(buf.length, PROXY_V1_MAX_BYTES);
  let lf = -1;
  for (let i = V1_PREFIX.length; i < limit; i++) {
    if (buf[i] === 0x0a) {
      lf = i;
      break;
    }
  }
  if (lf < 0) {
    if (buf.length >= PROXY_V1_MAX_BYTES) throw new ProtocolError('PROXY v1 header longer than 107 bytes');
    return { status: 'incomplete' };
  }
  if (buf[lf - 1] !== 0x0d) throw new ProtocolError('PROXY v1 header not terminated by CRLF');
  const line = Buffer.from(buf.buffer, buf.byteOffset, lf - 1).toString('latin1');
  const parts = line.split(' ');
  const length = lf + 1;
  if (parts[1] === 'UNKNOWN') {
    // The spec says to ignore whatever follows UNKNOWN.
    return { status: 'complete', length, header: { version: 1, command: 'local', transport: 'unknown', tlvs: [] } };
  }
  if (parts.length !== 6) throw new ProtocolError('PROXY v1 header must have 6 fields');
  const [, proto, src, dst, sport, dport] = parts as [string, string, string, string, string, string];
  let srcBytes: Uint8Array | null;
  let dstBytes: Uint8Array | null;
  let transport: ProxyTransport;
  if (proto === 'TCP4') {
    transport = 'tcp4';
    srcBytes = parseIPv4(src);
    dstBytes = parseIPv4(dst);
  } else if (proto === 'TCP6') {
    transport = 'tcp6';
    srcBytes = parseIPv6(src);
    dstBytes = parseIPv6(dst);
  } else {
    throw new ProtocolError('PROXY v1 header has an unknown protocol');
  }
  if (srcBytes === null || dstBytes === null) throw new ProtocolError('PROXY v1 header has an invalid address');
  const srcPort = parsePort(sport);
  const dstPort = parsePort(dport);
  return {
    status: 'complete',
    length,
    header: {
      version: 1,
      command: 'proxy',
      transport,
      source: { address: formatIp(srcBytes), port: srcPort },
      destination: { address: formatIp(dstBytes), port: dstPort },
      tlvs: [],
    },
  };
}

function parsePort(text: string): number {
  if (!/^(0|[1-9][0-9]{0,4})$/.test(text)) throw new ProtocolError('PROXY v1 header has an invalid port');
  const port = Number(text);
  if (port > 65535) throw new ProtocolError('PROXY v1 header has an invalid port');
  return port;
}

function parseV2(buf: Uint8Array, maxBytes: number): ProxyParseResult {
  const verCmd = buf[12] as number;
  const famProto = buf[13] as number;
  const bodyLength = ((buf[14] as number) << 8) | (buf[15] as number);
  if (verCmd >> 4 !== 2) throw new ProtocolError('PROXY v2 header has an unsupported version');
  const cmd = verCmd & 0x0f;
  if (cmd > 1) throw new ProtocolError('PROXY v2 header has an unknown command');
  const total = V2_FIXED_BYTES + bodyLength;
  if (total > maxBytes) throw new ProtocolError('PROXY v2 header exceeds the size limit');
  if (buf.length < total) return { status: 'incomplete' };
  const family = famProto >> 4;
  const proto = famProto & 0x0f;
  if (family > 3 || proto > 2) throw new ProtocolError('PROXY v2 header has an unknown family or protocol');
  const body = buf.subarray(V2_FIXED_BYTES, total);
  let addrLength = 0;
  let transport: ProxyTransport = 'unknown';
  if (family === 1) {
    addrLength = 12;
    transport = proto === 2 ? 'udp4' : proto === 1 ? 'tcp4' : 'unknown';
  } else if (family === 2) {
    addrLength = 36;
    transport = proto === 2 ? 'udp6' : proto === 1 ? 'tcp6' : 'unknown';
  } else if (family === 3) {
    addrLength = 216;
    transport = 'unix';
  }
  if (body.length < addrLength) throw new ProtocolError('PROXY v2 address block shorter than its family needs');
  const tlvs = parseTlvs(body.subarray(addrLength));
  const header: ProxyHeader = { version: 2, command: cmd === 1 ? 'proxy' : 'local', transport, tlvs };
  // LOCAL, UNSPEC and unix sockets: keep the real endpoints (spec 2.2).
  if (cmd === 1 && (family === 1 || family === 2)) {
    const ipLength = family === 1 ? 4 : 16;
    const src = body.subarray(0, ipLength);
    const dst = body.subarray(ipLength, 2 * ipLength);
    const ports = 2 * ipLength;
    header.source = { address: formatIp(src), port: ((body[ports] as number) << 8) | (body[ports + 1] as number) };
    header.destination = {
      address: formatIp(dst),
      port: ((body[ports + 2] as number) << 8) | (body[ports + 3] as number),
    };
  } else if (cmd === 1) {
    header.command = 'local';
  }
  return { status: 'complete', length: total, header };
}

function parseTlvs(bytes: Uint8Array): ProxyTlv[] {
  const tlvs: ProxyTlv[] = [];
  let i = 0;
  while (i < bytes.length) {
    if (bytes.length - i < 3) throw new ProtocolError('PROXY v2 TLV truncated');
    const type = bytes[i] as number;
    const len = ((bytes[i + 1] as number) << 8) | (bytes[i + 2] as number);
    if (i + 3 + len > bytes.length) throw new ProtocolError('PROXY v2 TLV overruns the header');
    if (tlvs.length >= LDAP_LIMITS.maxProxyTlvs) throw new ProtocolError('PROXY v2 header has too many TLVs');
    tlvs.push({ type, value: bytes.slice(i + 3, i + 3 + len) });
    i += 3 + len;
  }
  return tlvs;
}

export interface ProxyEncodeInput {
  command?: 'local' | 'proxy';
  /** Omit for LOCAL/UNKNOWN. */
  source?: ProxyEndpoint;
  destination?: ProxyEndpoint;
  tlvs?: ProxyTlv[];
}

/** Encodes a v1 line; without endpoints it is `PROXY UNKNOWN`. */
export function encodeProxyV1(input: ProxyEncodeInput): Buffer {
  const { source, destination } = input;
  if (input.command === 'local' || source === undefined || destination === undefined) {
    return Buffer.from('PROXY UNKNOWN\r\n', 'latin1');
  }
  const src = parseIp(source.address);
  const dst = parseIp(destination.address);
  if (src === null || dst === null || src.length !== dst.length) throw new RangeError('invalid or mixed address families');
  checkPort(source.port);
  checkPort(destination.port);
  const proto = src.length === 4 ? 'TCP4' : 'TCP6';
  return Buffer.from(
    `PROXY ${proto} ${formatIp(src)} ${formatIp(dst)} ${source.port} ${destination.port}\r\n`,
    'latin1',
  );
}

/** Encodes a v2 header (TCP over inet, or LOCAL). */
export function encodeProxyV2(input: ProxyEncodeInput): Buffer {
  const parts: Uint8Array[] = [];
  let famProto = 0x00;
  const local = input.command === 'local' || input.source === undefined || input.destination === undefined;
  if (!local) {
    const src = parseIp((input.source as ProxyEndpoint).address);
    const dst = parseIp((input.destination as ProxyEndpoint).address);
    if (src === null || dst === null || src.length !== dst.length) throw new RangeError('invalid or mixed address families');
    const srcPort = (input.source as ProxyEndpoint).port;
    const dstPort = (input.destination as ProxyEndpoint).port;
    checkPort(srcPort);
    checkPort(dstPort);
    famProto = src.length === 4 ? 0x11 : 0x21;
    const ports = Buffer.alloc(4);
    ports.writeUInt16BE(srcPort, 0);
    ports.writeUInt16BE(dstPort, 2);
    parts.push(src, dst, ports);
  }
  for (const tlv of input.tlvs ?? []) {
    if (tlv.value.length > 0xffff || tlv.type > 0xff) throw new RangeError('TLV too large');
    const head = Buffer.alloc(3);
    head[0] = tlv.type;
    head.writeUInt16BE(tlv.value.length, 1);
    parts.push(head, tlv.value);
  }
  const body = Buffer.concat(parts);
  if (body.length > 0xffff) throw new RangeError('PROXY v2 header too large');
  const fixed = Buffer.alloc(V2_FIXED_BYTES);
  fixed.set(PROXY_V2_SIGNATURE, 0);
  fixed[12] = local ? 0x20 : 0x21;
  fixed[13] = famProto;
  fixed.writeUInt16BE(body.length, 14);
  return Buffer.concat([fixed, body]);
}

function checkPort(port: number): void {
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError('invalid port');
}

// --- IP text <-> bytes (kept here so the codec needs no node:net) ---

function parseIp(text: string): Uint8Array | null {
  return text.includes(':') ? parseIPv6(text) : parseIPv4(text);
}

/** Strict dotted quad: four decimal octets, no leading zeros. */
export function parseIPv4(text: string): Uint8Array | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i] as string;
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return null;
    const v = Number(p);
    if (v > 255) return null;
    out[i] = v;
  }
  return out;
}

/** RFC 4291 text form, with `::` and a trailing dotted quad; no zone index. */
export function parseIPv6(text: string): Uint8Array | null {
  if (text.length < 2 || text.length > 45) return null;
  const out = new Uint8Array(16);
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const parseGroups = (s: string, allowV4: boolean): number[] | null => {
    if (s === '') return [];
    const groups = s.split(':');
    const words: number[] = [];
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i] as string;
      if (allowV4 && i === groups.length - 1 && g.includes('.')) {
        const v4 = parseIPv4(g);
        if (v4 === null) return null;
        words.push(((v4[0] as number) << 8) | (v4[1] as number), ((v4[2] as number) << 8) | (v4[3] as number));
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
        words.push(parseInt(g, 16));
      }
    }
    return words;
  };
  let words: number[];
  if (halves.length === 2) {
    const head = parseGroups(halves[0] as string, false);
    const tail = parseGroups(halves[1] as string, true);
    if (head === null || tail === null || head.length + tail.length > 7) return null;
    words = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  } else {
    const all = parseGroups(text, true);
    if (all === null || all.length !== 8) return null;
    words = all;
  }
  for (let i = 0; i < 8; i++) {
    const w = words[i] as number;
    out[2 * i] = w >> 8;
    out[2 * i + 1] = w & 0xff;
  }
  return out;
}

/** Dotted quad for 4 bytes, RFC 5952 canonical text for 16. */
export function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push(((bytes[i] as number) << 8) | (bytes[i + 1] as number));
  // IPv4-mapped addresses keep their dotted tail (RFC 5952 section 5).
  if (words.slice(0, 5).every((w) => w === 0) && words[5] === 0xffff) {
    return `::ffff:${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`;
  }
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = words.map((w) => w.toString(16));
  if (bestLen < 2) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}
