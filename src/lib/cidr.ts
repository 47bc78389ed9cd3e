/**
 * One reading of `address/prefix` (a bare address is a host network) for every list of networks the outpost
 * takes: trusted PROXY peers (AUTHENTIK_LISTEN__TRUSTED_PROXY_CIDRS), RADIUS client_networks and NO_PROXY. The
 * address is what node:net accepts (no zone index: a network is not bound to an interface), the prefix 0 to 32 or
 * 128 in decimal digits.
 */
import { isIP } from 'node:net';

export interface Cidr {
  readonly address: string;
  readonly prefix: number;
  readonly family: 'ipv4' | 'ipv6';
}

export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf('/');
  const address = slash < 0 ? text : text.slice(0, slash);
  const version = address.includes('%') ? 0 : isIP(address);
  if (version === 0) return undefined;
  const max = version === 4 ? 32 : 128;
  const prefixText = slash < 0 ? String(max) : text.slice(slash + 1);
  if (!/^[0-9]{1,3}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  if (prefix > max) return undefined;
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}
