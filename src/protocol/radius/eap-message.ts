/**
 * EAP over RADIUS (RFC 3579): an EAP packet travels in consecutive EAP-Message attributes of up to 253 octets,
 * and the conversation is tied together by the State attribute (RFC 2865 section 5.24).
 */
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { CONTROL_LIMITS } from '../../config/limits.js';
import { Attr } from './dictionary.js';
import { MAX_VALUE_BYTES, RadiusDecodeError, RadiusEncodeError, getAttribute, type RadiusAttribute, type RadiusPacket } from './packet.js';

/** EAP-Message attributes carrying `eap`, split at 253 octets (RFC 3579 section 3.1). */
export function eapMessageAttributes(eap: Buffer): RadiusAttribute[] {
  if (eap.length === 0) throw new RadiusEncodeError('an EAP packet is never empty');
  const attributes: RadiusAttribute[] = [];
  for (let offset = 0; offset < eap.length; offset += MAX_VALUE_BYTES) {
    attributes.push({ type: Attr.EapMessage, value: eap.subarray(offset, offset + MAX_VALUE_BYTES) });
  }
  return attributes;
}

/**
 * The EAP packet of a RADIUS packet: its EAP-Message values concatenated in order, or undefined without any.
 * They must be consecutive (RFC 3579 section 3.1); anything else is refused.
 */
export function joinEapMessage(packet: RadiusPacket): Buffer | undefined {
  const { attributes } = packet;
  const first = attributes.findIndex((a) => a.type === Attr.EapMessage);
  if (first < 0) return undefined;
  let end = first;
  while (end < attributes.length && attributes[end]!.type === Attr.EapMessage) end++;
  if (attributes.slice(end).some((a) => a.type === Attr.EapMessage)) {
    throw new RadiusDecodeError('bad_value', 'EAP-Message attributes are not consecutive');
  }
  if (end === first + 1) return attributes[first]!.value;
  return Buffer.concat(attributes.slice(first, end).map((a) => a.value));
}

/**
 * A new State value: 16 printable characters (base64url of 12 random octets), as the reference does. With
 * AUTHENTIK_WORKERS > 1 an octet naming the issuing worker's slot (1..16) goes first, so a later request
 * carrying the State can be routed to the worker holding the conversation; the random characters never read as one.
 */
export function newStateValue(ownerSlot?: number, random: (size: number) => Buffer = randomBytes): Buffer {
  const token = Buffer.from(random(12).subarray(0, 12).toString('base64url'), 'latin1');
  if (ownerSlot === undefined) return token;
  if (!isOwnerSlot(ownerSlot)) throw new RadiusEncodeError(`worker slot ${ownerSlot} outside 1..${CONTROL_LIMITS.maxWorkers}`);
  return Buffer.concat([Buffer.of(ownerSlot), token]);
}

/** The worker slot a State names, or undefined for a State of a single process (or not ours at all). */
export function stateOwner(state: Buffer): number | undefined {
  const first = state[0];
  return state.length > 1 && first !== undefined && isOwnerSlot(first) ? first : undefined;
}

function isOwnerSlot(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && n <= CONTROL_LIMITS.maxWorkers;
}

export function stateAttribute(value: Buffer): RadiusAttribute {
  if (value.length === 0 || value.length > MAX_VALUE_BYTES) throw new RadiusEncodeError('State holds 1..253 octets');
  return { type: Attr.State, value };
}

/** The State of a request, if present and not empty. */
export function getState(packet: RadiusPacket): Buffer | undefined {
  const value = getAttribute(packet, Attr.State);
  return value !== undefined && value.length > 0 ? value : undefined;
}
