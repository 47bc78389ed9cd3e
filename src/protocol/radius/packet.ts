/**
 * RADIUS packet codec (RFC 2865 section 3 and 5): one datagram in, code, identifier, authenticator and the
 * attributes in wire order out, and back. No cryptography here: see authenticators.ts and hiding.ts.
 */
import { Buffer } from 'node:buffer';
import { OutpostError, ProtocolError } from '../../errors.js';

export const HEADER_BYTES = 20;
export const MAX_PACKET_BYTES = 4096;
export const AUTHENTICATOR_BYTES = 16;
/** An attribute's value: 255 octets minus type and length. */
export const MAX_VALUE_BYTES = 253;

/** A shared secret as configured; strings are taken as UTF-8. */
export type Secret = string | Buffer;

/** One attribute as on the wire: type and raw value (no length octet). */
export interface RadiusAttribute {
  readonly type: number;
  readonly value: Buffer;
}

export interface RadiusPacket {
  readonly code: number;
  readonly identifier: number;
  /** Request Authenticator or Response Authenticator, 16 octets. */
  readonly authenticator: Buffer;
  /** In wire order; duplicates kept. */
  readonly attributes: readonly RadiusAttribute[];
}

/** Why a datagram or a value was refused; the listener drops the packet silently whatever the reason. */
export type RadiusDecodeReason =
  | 'short_datagram' // fewer than 20 octets
  | 'bad_length' // Length field outside 20..4096
  | 'truncated' // datagram shorter than its Length field
  | 'bad_attribute_length' // an attribute length below 2
  | 'attribute_overflow' // an attribute runs past Length
  | 'bad_value'; // a value does not fit its type (accessors, hiding)

export class RadiusDecodeError extends ProtocolError {
  readonly reason: RadiusDecodeReason;
  constructor(reason: RadiusDecodeReason, message: string) {
    super(`RADIUS: ${message}`);
    this.name = 'RadiusDecodeError';
    this.reason = reason;
  }
}

/** Something we were asked to send does not fit RADIUS (a value over 253 octets, a packet over 4096). */
export class RadiusEncodeError extends OutpostError {
  constructor(message: string) {
    super('AKO_RADIUS_ENCODE', `RADIUS: ${message}`);
    this.name = 'RadiusEncodeError';
  }
}

/**
 * Decodes one datagram. Octets after the Length field are padding and ignored (RFC 2865 section 3); a datagram
 * shorter than Length is refused. The authenticator and the values are views of `datagram`: the caller must not
 * reuse that buffer while the packet is in use.
 */
export function decodePacket(datagram: Buffer): RadiusPacket {
  if (datagram.length < HEADER_BYTES) throw new RadiusDecodeError('short_datagram', `datagram of ${datagram.length} octets`);
  const length = datagram.readUInt16BE(2);
  if (length < HEADER_BYTES || length > MAX_PACKET_BYTES) throw new RadiusDecodeError('bad_length', `Length ${length} outside 20..4096`);
  if (length > datagram.length) throw new RadiusDecodeError('truncated', `Length ${length} but ${datagram.length} octets received`);
  const attributes: RadiusAttribute[] = [];
  let pos = HEADER_BYTES;
  while (pos < length) {
    if (pos + 2 > length) throw new RadiusDecodeError('attribute_overflow', `attribute header at ${pos} runs past Length`);
    const type = datagram[pos]!;
    const attrLength = datagram[pos + 1]!;
    if (attrLength < 2) throw new RadiusDecodeError('bad_attribute_length', `attribute ${type} at ${pos} has length ${attrLength}`);
    const end = pos + attrLength;
    if (end > length) throw new RadiusDecodeError('attribute_overflow', `attribute ${type} at ${pos} runs past Length`);
    attributes.push({ type, value: datagram.subarray(pos + 2, end) });
    pos = end;
  }
  return {
    code: datagram[0]!,
    identifier: datagram[1]!,
    authenticator: datagram.subarray(4, HEADER_BYTES),
    attributes,
  };
}

/** Octets `attributes` take on the wire; throws RadiusEncodeError for a value over 253 octets or a bad type. */
export function attributesLength(attributes: readonly RadiusAttribute[]): number {
  let total = 0;
  for (const { type, value } of attributes) {
    if (!Number.isInteger(type) || type < 0 || type > 255) throw new RadiusEncodeError(`attribute type ${type} outside 0..255`);
    if (value.length > MAX_VALUE_BYTES) throw new RadiusEncodeError(`attribute ${type} value of ${value.length} octets exceeds 253`);
    total += 2 + value.length;
  }
  return total;
}

/** Writes `attributes` at `offset`; returns the offset after them. Sizes must have been checked. */
export function writeAttributes(out: Buffer, offset: number, attributes: readonly RadiusAttribute[]): number {
  let pos = offset;
  for (const { type, value } of attributes) {
    out[pos] = type;
    out[pos + 1] = 2 + value.length;
    value.copy(out, pos + 2);
    pos += 2 + value.length;
  }
  return pos;
}

/** A packet buffer of `length` octets with code, identifier and Length written; authenticator and body unset. */
export function allocatePacket(code: number, identifier: number, length: number): Buffer {
  if (!Number.isInteger(code) || code < 0 || code > 255) throw new RadiusEncodeError(`code ${code} outside 0..255`);
  if (!Number.isInteger(identifier) || identifier < 0 || identifier > 255) throw new RadiusEncodeError(`identifier ${identifier} outside 0..255`);
  if (length > MAX_PACKET_BYTES) throw new RadiusEncodeError(`packet of ${length} octets exceeds 4096`);
  const out = Buffer.allocUnsafe(length);
  out[0] = code;
  out[1] = identifier;
  out.writeUInt16BE(length, 2);
  return out;
}

/** Encodes a packet as given (authenticator copied verbatim, no signing). */
export function encodePacket(packet: RadiusPacket): Buffer {
  if (packet.authenticator.length !== AUTHENTICATOR_BYTES) throw new RadiusEncodeError('authenticator must be 16 octets');
  const out = allocatePacket(packet.code, packet.identifier, HEADER_BYTES + attributesLength(packet.attributes));
  packet.authenticator.copy(out, 4);
  writeAttributes(out, HEADER_BYTES, packet.attributes);
  return out;
}

/** Value of the first attribute of `type`, if any. */
export function getAttribute(packet: RadiusPacket, type: number): Buffer | undefined {
  for (const attribute of packet.attributes) if (attribute.type === type) return attribute.value;
  return undefined;
}

/** Values of every attribute of `type`, in order. */
export function getAttributes(packet: RadiusPacket, type: number): Buffer[] {
  const values: Buffer[] = [];
  for (const attribute of packet.attributes) if (attribute.type === type) values.push(attribute.value);
  return values;
}
