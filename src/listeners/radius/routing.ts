/**
 * AUTHENTIK_WORKERS > 1: the workers share each UDP socket and the kernel hands a datagram to any of them, but an
 * EAP conversation lives in the worker that issued its State. A State names its issuing worker's slot
 * (newStateValue), so an Access-Request carrying another worker's State is routed to that worker, which runs the
 * whole intake again on the datagram and answers through its own handle of the same socket.
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

/** The channel between the workers, as the listener needs it. */
export interface RadiusRouting {
  /** This worker's slot (1..N). */
  readonly slot: number;
  readonly workers: number;
  /** Hands the datagram to worker `owner` (or back here when that worker is not serving); false when dropped. */
  forward(owner: number, datagram: ForwardedDatagram): boolean;
  /** Datagrams routed to this worker; returns a function that unsubscribes. */
  subscribe(onDatagram: (datagram: ForwardedDatagram) => void): () => void;
}

/**
 * The worker an Access-Request belongs to when that is not this one: its State names another existing slot. A
 * State of no slot, or of this one, is handled here (unknown States are refused there: fail closed).
 */
export function forwardTarget(packet: RadiusPacket, self: number, workers: number): number | undefined {
  if (packet.code !== Code.AccessRequest) return undefined;
  const state = getState(packet);
  const owner = state === undefined ? undefined : stateOwner(state);
  return owner !== undefined && owner !== self && owner <= workers ? owner : undefined;
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
