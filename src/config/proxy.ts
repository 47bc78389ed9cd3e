/**
 * HTTP_PROXY / HTTPS_PROXY / NO_PROXY for the core link, with the rules of Go's net/http (ProxyFromEnvironment),
 * which authentik's own outposts use: HTTPS_PROXY for https (and wss) cores, HTTP_PROXY for http (and ws) ones,
 * upper-case names before lower-case ones, and NO_PROXY as a comma-separated list of `*`, IP addresses, CIDR
 * ranges and host names (a name matches itself and its subdomains, `.name` and `*.name` only subdomains), each
 * optionally with a `:port`. Unlike Go, loopback addresses are not exempt: list them in NO_PROXY.
 * The decision is made once per core URL and shared by the REST client and the WebSocket, so both take the
 * same route.
 */
import { BlockList, isIP } from 'node:net';
import { ConfigError } from '../errors.js';
import { parseCidr, type Cidr } from '../lib/cidr.js';

export interface ProxySettings {
  httpProxy: URL | undefined;
  httpsProxy: URL | undefined;
  noProxy: string;
}

export const NO_PROXY_SETTINGS: ProxySettings = Object.freeze({ httpProxy: undefined, httpsProxy: undefined, noProxy: '' });

/** The three variables from the environment; an unusable proxy URL is a ConfigError naming its variable. */
export function proxySettingsFromEnv(env: NodeJS.ProcessEnv): ProxySettings {
  const first = (...names: string[]): { name: string; value: string } | undefined => {
    for (const name of names) {
      const value = env[name]?.trim();
      if (value !== undefined && value !== '') return { name, value };
    }
    return undefined;
  };
  return {
    httpProxy: parseProxyUrl(first('HTTP_PROXY', 'http_proxy')),
    httpsProxy: parseProxyUrl(first('HTTPS_PROXY', 'https_proxy')),
    noProxy: first('NO_PROXY', 'no_proxy')?.value ?? '',
  };
}

/** Like Go: a value without a scheme means http://. */
function parseProxyUrl(variable: { name: string; value: string } | undefined): URL | undefined {
  if (variable === undefined) return undefined;
  const text = /^[a-z][a-z0-9+.-]*:\/\//i.test(variable.value) ? variable.value : `http://${variable.value}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError(variable.name, 'not a valid proxy URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(variable.name, `unsupported proxy scheme ${url.protocol} (expected http or https)`);
  }
  if (url.hostname === '') throw new ConfigError(variable.name, 'has no host name');
  return url;
}

/** The proxy to reach `target` (an http(s) or ws(s) URL) through, or undefined to connect directly. */
export function proxyFor(target: URL, settings: ProxySettings): URL | undefined {
  const secure = target.protocol === 'https:' || target.protocol === 'wss:';
  const proxy = secure ? settings.httpsProxy : settings.httpProxy;
  if (proxy === undefined) return undefined;
  const host = target.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  const port = target.port !== '' ? target.port : secure ? '443' : '80';
  return bypassed(host, port, settings.noProxy) ? undefined : proxy;
}

function bypassed(host: string, port: string, noProxy: string): boolean {
  const family = isIP(host);
  for (const raw of noProxy.split(',')) {
    const entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    if (entry === '*') return true;
    if (entry.includes('/')) {
      const cidr = parseCidr(entry);
      if (cidr !== undefined && family !== 0 && inCidr(host, family, cidr)) return true;
      continue;
    }
    const { name, entryPort } = splitPort(entry);
    if (entryPort !== '' && entryPort !== port) continue;
    if (isIP(name) !== 0) {
      if (family !== 0 && sameAddress(host, name)) return true;
      continue;
    }
    const suffix = name.startsWith('*.') ? name.slice(1) : name;
    if (suffix.startsWith('.') ? host.endsWith(suffix) : host === suffix || host.endsWith(`.${suffix}`)) return true;
  }
  return false;
}

/** `host:port`, `[v6]:port`, or no port (a bare IPv6 address has colons but no port). */
function splitPort(entry: string): { name: string; entryPort: string } {
  const bracketed = /^\[(.*)\](?::(\d+))?$/.exec(entry);
  if (bracketed !== null) return { name: bracketed[1] ?? '', entryPort: bracketed[2] ?? '' };
  const withPort = /^([^:]+):(\d+)$/.exec(entry);
  if (withPort !== null) return { name: withPort[1] ?? '', entryPort: withPort[2] ?? '' };
  return { name: entry, entryPort: '' };
}

function inCidr(host: string, family: number, cidr: Cidr): boolean {
  if (cidr.family !== (family === 4 ? 'ipv4' : 'ipv6')) return false;
  const list = new BlockList();
  list.addSubnet(cidr.address, cidr.prefix, cidr.family);
  return list.check(host, cidr.family);
}

function sameAddress(a: string, b: string): boolean {
  const family = isIP(a);
  if (family !== isIP(b)) return false;
  const list = new BlockList();
  const type = family === 4 ? 'ipv4' : 'ipv6';
  list.addAddress(b, type);
  return list.check(a, type);
}
