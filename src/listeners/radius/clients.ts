/**
 * Which RADIUS client (provider) a datagram comes from: true longest-prefix match of the source address over every
 * provider's client_networks, ties to the lowest provider pk (authentik's outpost picks one at random, its issue
 * #22853). An IPv4-mapped IPv6 source (a dual-stack socket) matches IPv4 networks.
 */
import { parseCidr } from '../../lib/cidr.js';
import { parseIPv4, parseIPv6 } from '../../protocol/proxy-protocol.js';

export interface RadiusClientSource<T> {
  readonly pk: number;
  /** Comma-separated CIDRs (a bare address is a host network); invalid entries are skipped. */
  readonly clientNetworks: string;
  readonly value: T;
}

interface Network<T> {
  readonly bytes: Uint8Array;
  readonly prefix: number;
  readonly pk: number;
  readonly value: T;
}

export interface ClientTable<T> {
  /** The value of the most specific network containing `address`, if any. */
  match(address: string): T | undefined;
  /** Entries that were not networks, as `pk: entry`, for the caller's warning. */
  readonly invalid: readonly string[];
}

const MAPPED_V4_PREFIX = Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]);

/** The address's bytes: 4 for IPv4 (also IPv4-mapped IPv6), 16 for IPv6; undefined when not an address. */
export function addressBytes(text: string): Uint8Array | undefined {
  const v4 = parseIPv4(text);
  if (v4 !== null) return v4;
  const zone = text.indexOf('%');
  const v6 = parseIPv6(zone < 0 ? text : text.slice(0, zone));
  if (v6 === null) return undefined;
  return MAPPED_V4_PREFIX.every((b, i) => v6[i] === b) ? v6.subarray(12) : v6;
}

function parseNetwork(entry: string): { bytes: Uint8Array; prefix: number } | undefined {
  const cidr = parseCidr(entry);
  const bytes = cidr === undefined ? null : cidr.family === 'ipv4' ? parseIPv4(cidr.address) : parseIPv6(cidr.address);
  return cidr === undefined || bytes === null ? undefined : { bytes, prefix: cidr.prefix };
}

function contains(network: Uint8Array, prefix: number, address: Uint8Array): boolean {
  if (network.length !== address.length) return false;
  const whole = prefix >> 3;
  for (let i = 0; i < whole; i++) if (network[i] !== address[i]) return false;
  const rest = prefix & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (network[whole]! & mask) === (address[whole]! & mask);
}

export function buildClientTable<T>(sources: readonly RadiusClientSource<T>[]): ClientTable<T> {
  const networks: Network<T>[] = [];
  const invalid: string[] = [];
  for (const source of sources) {
    for (const raw of source.clientNetworks.split(',')) {
      const entry = raw.trim();
      if (entry === '') continue;
      const network = parseNetwork(entry);
      if (network === undefined) invalid.push(`${source.pk}: ${entry}`);
      else networks.push({ ...network, pk: source.pk, value: source.value });
    }
  }
  // Most specific first, then lowest pk: the first network that contains an address is the answer.
  networks.sort((a, b) => b.prefix - a.prefix || a.pk - b.pk);
  return {
    invalid,
    match(address: string): T | undefined {
      const bytes = addressBytes(address);
      if (bytes === undefined) return undefined;
      for (const n of networks) if (contains(n.bytes, n.prefix, bytes)) return n.value;
      return undefined;
    },
  };
}
