/**
 * `host:port` listen addresses, one rule for the outpost (AUTHENTIK_LISTEN__*), the demo (AKO_EMBEDDED_CORE_LISTEN)
 * and the embedded core (--listen), the one Go's net.Listen applies to authentik's own outposts:
 *   `127.0.0.1:3389`, `localhost:3389`  an IPv4 address or a host name
 *   `[::1]:3389`, `[::]:3389`           an IPv6 address, only in brackets (`:::3389` is refused as ambiguous)
 *   `:3389`                             an empty host: every interface, IPv6 and IPv4 where the system has both
 * The port is decimal, 0 to 65535; 0 asks the system for a free one.
 */
import { isIPv4, isIPv6 } from 'node:net';

export interface ListenAddress {
  /** IPv4 or IPv6 address (without brackets) or host name; '' for every interface. */
  readonly host: string;
  readonly port: number;
}

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** undefined when `text` is not host:port by the rule above. */
export function parseListenAddress(text: string): ListenAddress | undefined {
  let host: string;
  let portText: string;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0 || text[close + 1] !== ':') return undefined;
    host = text.slice(1, close);
    if (!isIPv6(host)) return undefined;
    portText = text.slice(close + 2);
  } else {
    const colon = text.lastIndexOf(':');
    if (colon < 0) return undefined;
    host = text.slice(0, colon);
    portText = text.slice(colon + 1);
    if (host !== '' && !isIPv4(host) && !HOSTNAME.test(host)) return undefined;
  }
  if (!/^[0-9]{1,5}$/.test(portText)) return undefined;
  const port = Number(portText);
  if (port > 65535) return undefined;
  return { host, port };
}

/** `127.0.0.1:3389`, `[::]:3389`, `:3389`; parseListenAddress reads it back. */
export function formatListenAddress(address: ListenAddress): string {
  return isIPv6(address.host) ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

/** The host a client on this machine connects to for a listener: a wildcard means the loopback of its family. */
export function connectHost(host: string): string {
  if (host === '' || host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '::1';
  return host;
}
