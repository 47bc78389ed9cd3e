/**
 * Typed views of attribute values (RFC 2865 section 5, RFC 2868 section 3, RFC 3162): text, integers, addresses,
 * tagged values and Vendor-Specific. Readers throw RadiusDecodeError('bad_value'); builders throw
 * RadiusEncodeError. Values stay raw in the packet so unknown attributes pass through untouched.
 */
import { Buffer, isUtf8 } from 'node:buffer';
import { formatIp, parseIPv4, parseIPv6 } from '../proxy-protocol.js';
import { Attr } from './dictionary.js';
import { MAX_VALUE_BYTES, RadiusDecodeError, RadiusEncodeError, type RadiusAttribute, type RadiusPacket } from './packet.js';

const MAX_TAG = 0x1f;

function badValue(what: string, problem: string): RadiusDecodeError {
  return new RadiusDecodeError('bad_value', `${what} ${problem}`);
}

function attribute(type: number, value: Buffer): RadiusAttribute {
  if (value.length > MAX_VALUE_BYTES) throw new RadiusEncodeError(`attribute ${type} value of ${value.length} octets exceeds 253`);
  return { type, value };
}

/** RFC 2865 "text": UTF-8, refused when not valid UTF-8. */
export function textValue(value: Buffer, what = 'text value'): string {
  if (!isUtf8(value)) throw badValue(what, 'is not valid UTF-8');
  return value.toString('utf8');
}

export function textAttribute(type: number, text: string): RadiusAttribute {
  return attribute(type, Buffer.from(text, 'utf8'));
}

/** RFC 2865 "integer": 32-bit unsigned, exactly 4 octets. */
export function integerValue(value: Buffer, what = 'integer value'): number {
  if (value.length !== 4) throw badValue(what, `has ${value.length} octets, not 4`);
  return value.readUInt32BE(0);
}

export function integerAttribute(type: number, n: number): RadiusAttribute {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new RadiusEncodeError(`integer ${n} outside 0..2^32-1`);
  const value = Buffer.allocUnsafe(4);
  value.writeUInt32BE(n, 0);
  return { type, value };
}

/** RFC 2865 "address": 4 octets, returned dotted. */
export function ipv4Value(value: Buffer, what = 'IPv4 address'): string {
  if (value.length !== 4) throw badValue(what, `has ${value.length} octets, not 4`);
  return formatIp(value);
}

export function ipv4Attribute(type: number, address: string): RadiusAttribute {
  const bytes = parseIPv4(address);
  if (bytes === null) throw new RadiusEncodeError(`not an IPv4 address: ${JSON.stringify(address)}`);
  return { type, value: Buffer.from(bytes) };
}

/** RFC 3162 IPv6 address: 16 octets, returned in RFC 5952 form. */
export function ipv6Value(value: Buffer, what = 'IPv6 address'): string {
  if (value.length !== 16) throw badValue(what, `has ${value.length} octets, not 16`);
  return formatIp(value);
}

export function ipv6Attribute(type: number, address: string): RadiusAttribute {
  const bytes = parseIPv6(address);
  if (bytes === null) throw new RadiusEncodeError(`not an IPv6 address: ${JSON.stringify(address)}`);
  return { type, value: Buffer.from(bytes) };
}

function checkTag(tag: number): void {
  if (!Number.isInteger(tag) || tag < 0 || tag > MAX_TAG) throw new RadiusEncodeError(`tag ${tag} outside 0..31`);
}

/** RFC 2868 tagged integer (Tunnel-Type, Tunnel-Medium-Type, Tunnel-Preference): tag octet + 3-octet value. */
export function taggedIntegerValue(value: Buffer, what = 'tagged integer'): { tag: number; value: number } {
  if (value.length !== 4) throw badValue(what, `has ${value.length} octets, not 4`);
  const tag = value[0]!;
  if (tag > MAX_TAG) throw badValue(what, `has tag ${tag} above 31`);
  return { tag, value: value.readUIntBE(1, 3) };
}

export function taggedIntegerAttribute(type: number, tag: number, n: number): RadiusAttribute {
  checkTag(tag);
  if (!Number.isInteger(n) || n < 0 || n > 0xffffff) throw new RadiusEncodeError(`tagged integer ${n} outside 0..2^24-1`);
  const value = Buffer.allocUnsafe(4);
  value[0] = tag;
  value.writeUIntBE(n, 1, 3);
  return { type, value };
}

/**
 * RFC 2868 tagged string: a first octet of 0x00..0x1F is the tag, anything higher is already the string. The tag
 * of each attribute is read from that attribute alone (no state carried to the next one).
 */
export function taggedStringValue(value: Buffer): { tag: number | undefined; value: Buffer } {
  if (value.length > 0 && value[0]! <= MAX_TAG) return { tag: value[0]!, value: value.subarray(1) };
  return { tag: undefined, value };
}

/** Without a tag, a string that starts with an octet below 0x20 gets a zero tag so it is not misread as one. */
export function taggedStringAttribute(type: number, tag: number | undefined, data: Buffer | string): RadiusAttribute {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  if (tag === undefined && (bytes.length === 0 || bytes[0]! > MAX_TAG)) return attribute(type, bytes);
  checkTag(tag ?? 0);
  return attribute(type, Buffer.concat([Buffer.from([tag ?? 0]), bytes]));
}

/** One sub-attribute of a Vendor-Specific attribute in the RFC 2865 format (1-octet type and length). */
export interface VendorAttribute {
  readonly vendorType: number;
  readonly value: Buffer;
}

export interface VendorSpecific {
  readonly vendorId: number;
  readonly attributes: readonly VendorAttribute[];
}

/** Decodes a Vendor-Specific (26) value whose sub-attributes follow RFC 2865's suggested format. */
export function decodeVendorSpecific(value: Buffer): VendorSpecific {
  if (value.length < 5) throw badValue('Vendor-Specific', `has ${value.length} octets, fewer than 5`);
  if (value[0] !== 0) throw badValue('Vendor-Specific', 'has a non-zero high-order vendor id octet');
  const vendorId = value.readUInt32BE(0);
  const attributes: VendorAttribute[] = [];
  let pos = 4;
  while (pos < value.length) {
    if (pos + 2 > value.length) throw badValue('Vendor-Specific', `of vendor ${vendorId} ends inside a sub-attribute header`);
    const length = value[pos + 1]!;
    if (length < 2 || pos + length > value.length) throw badValue('Vendor-Specific', `of vendor ${vendorId} has a sub-attribute of bad length ${length}`);
    attributes.push({ vendorType: value[pos]!, value: value.subarray(pos + 2, pos + length) });
    pos += length;
  }
  return { vendorId, attributes };
}

/** One Vendor-Specific attribute carrying `attributes` (all must fit in its 253 octets). */
export function vendorSpecificAttribute(vendorId: number, attributes: readonly VendorAttribute[]): RadiusAttribute {
  if (!Number.isInteger(vendorId) || vendorId < 0 || vendorId > 0xffffff) throw new RadiusEncodeError(`vendor id ${vendorId} outside 0..2^24-1`);
  let length = 4;
  for (const a of attributes) {
    if (!Number.isInteger(a.vendorType) || a.vendorType < 0 || a.vendorType > 255) throw new RadiusEncodeError(`vendor type ${a.vendorType} outside 0..255`);
    length += 2 + a.value.length;
  }
  if (length > MAX_VALUE_BYTES) throw new RadiusEncodeError(`Vendor-Specific of ${length} octets exceeds 253`);
  const value = Buffer.allocUnsafe(length);
  value.writeUInt32BE(vendorId, 0);
  let pos = 4;
  for (const a of attributes) {
    value[pos] = a.vendorType;
    value[pos + 1] = 2 + a.value.length;
    a.value.copy(value, pos + 2);
    pos += 2 + a.value.length;
  }
  return { type: Attr.VendorSpecific, value };
}

/**
 * Value of the first sub-attribute `vendorType` of vendor `vendorId`. Vendor-Specific attributes of other
 * vendors are skipped unparsed (they may use another format); a malformed one of this vendor throws.
 */
export function getVendorAttribute(packet: RadiusPacket, vendorId: number, vendorType: number): Buffer | undefined {
  for (const { type, value } of packet.attributes) {
    if (type !== Attr.VendorSpecific || value.length < 4 || value.readUInt32BE(0) !== vendorId) continue;
    for (const sub of decodeVendorSpecific(value).attributes) if (sub.vendorType === vendorType) return sub.value;
  }
  return undefined;
}
