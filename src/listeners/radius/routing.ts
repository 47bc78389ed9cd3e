/**
 * AUTHENTIK_WORKERS > 1: the workers share each UDP socket and the kernel hands a datagram to any of them, but the
 * state that answers an Access-Request lives in one worker: the duplicate cache that recognises a retransmission,
 * and the EAP conversation or paused MFA run that a State continues. So every Access-Request has an owner: the
 * slot its State names (newStateValue), or, without a State, the slot a hash of the fields a retransmission
 * repeats picks. A datagram received by another worker is routed to its owner, which runs the whole intake again
 * and answers through its own handle of the same socket. The clients known to send Message-Authenticator (policy
 * `auto`) are shared between the workers the same way.
 */
import { Buffer } from 'node:buffer';
import { isIP } from 'node:net';
import { RADIUS_LIMITS } from '../../config/limits.js';
import { Code, getState, stateOwner, type RadiusPacket } from '../../protocol/radius/index.js';

/** A datagram as one worker received it, for the worker holding its conversation. */
export interface ForwardedDatagram {
  /** Index of the receiving socket in listen order (the same in every worker: they run one configuration). */
  readonly socket: number;
  /** The source as the socket reported it (IPv4-mapped form included). */
  readonly address: string;
  readonly port: number;
  readonly datagram: Buffer;
}

export type ForwardPath = 'link' | 'channel';

/** The channel between the workers, as the listener needs it. */
export interface RadiusRouting {
  /** This worker's slot (1..N). */
  readonly slot: number;
  readonly workers: number;
  /**
   * Hands the datagram to worker `owner` (or back here when that worker is not serving): over a direct link between
   * the workers, or the cluster channel through the supervisor; undefined when it was dropped.
   */
  forward(owner: number, datagram: ForwardedDatagram): ForwardPath | undefined;
  /** Datagrams routed to this worker; returns a function that unsubscribes. */
  subscribe(onDatagram: (datagram: ForwardedDatagram) => void): () => void;
  /** Tells the other workers that this client address sent a valid Message-Authenticator. */
  announceMaClient(address: string): void;
  /** Addresses the other workers announced; returns a function that unsubscribes. */
  subscribeMaClients(onAddress: (address: string) => void): () => void;
}

/**
 * The worker an Access-Request belongs to when that is not this one. With a State: the slot it names, when that
 * slot exists (a State of no slot or of this one is handled here; unknown States are refused there: fail closed).
 * Without: the slot of its source address, port and Identifier, which every retransmission repeats (RFC 5080
 * section 2.2.2), so each copy meets the duplicate cache of the worker running the first, while one client's
 * requests still spread over all workers.
 */
export function forwardTarget(packet: RadiusPacket, source: { address: string; port: number }, self: number, workers: number): number | undefined {
  if (packet.code !== Code.AccessRequest || workers < 2) return undefined;
  const state = getState(packet);
  const owner = state === undefined ? requestOwner(source.address, source.port, packet.identifier, workers) : stateOwner(state);
  return owner !== undefined && owner !== self && owner <= workers ? owner : undefined;
}

/** Slot 1..workers from FNV-1a over the address, port and Identifier (not secret: it only spreads the load). */
export function requestOwner(address: string, port: number, identifier: number, workers: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < address.length; i++) h = Math.imul(h ^ address.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ (port >>> 8), 0x01000193);
  h = Math.imul(h ^ (port & 0xff), 0x01000193);
  h = Math.imul(h ^ identifier, 0x01000193);
  return ((h >>> 0) % workers) + 1;
}

/** Validates a routed datagram from the channel; undefined when it is not one. */
export function parseForwardedDatagram(value: unknown): ForwardedDatagram | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { socket, address, port, datagram } = value as Record<string, unknown>;
  if (typeof socket !== 'number' || !Number.isSafeInteger(socket) || socket < 0) return undefined;
  if (typeof address !== 'string' || isIP(address) === 0) return undefined;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65_535) return undefined;
  // The channel's structured clone may hand a Buffer over as a plain Uint8Array.
  if (!(datagram instanceof Uint8Array) || datagram.length > RADIUS_LIMITS.maxDatagramBytes) return undefined;
  return { socket, address, port, datagram: Buffer.from(datagram.buffer, datagram.byteOffset, datagram.byteLength) };
}

/**
 * A routed datagram as one frame of a worker link: socket (1), port (2), address length (1), address, datagram;
 * undefined when a field does not fit (the channel carries it then).
 */
export function encodeForwardedDatagram(d: ForwardedDatagram): Buffer | undefined {
  const addressLength = Buffer.byteLength(d.address, 'latin1');
  if (d.socket > 0xff || d.port > 0xffff || addressLength > 0xff) return undefined;
  const frame = Buffer.allocUnsafe(4 + addressLength + d.datagram.length);
  frame[0] = d.socket;
  frame.writeUInt16BE(d.port, 1);
  frame[3] = addressLength;
  frame.write(d.address, 4, 'latin1');
  d.datagram.copy(frame, 4 + addressLength);
  return frame;
}

/** The datagram of a worker-link frame, validated like parseForwardedDatagram; undefined when it is not one. */
export function decodeForwardedDatagram(frame: Buffer): ForwardedDatagram | undefined {
  if (frame.length < 4) return undefined;
  const addressEnd = 4 + (frame[3] ?? 0);
  if (addressEnd > frame.length) return undefined;
  return parseForwardedDatagram({
    socket: frame[0],
    port: frame.readUInt16BE(1),
    address: frame.toString('latin1', 4, addressEnd),
    datagram: frame.subarray(addressEnd),
  });
}
