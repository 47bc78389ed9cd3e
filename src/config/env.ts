/**
 * Environment to a frozen, typed configuration. Names and defaults follow authentik's outpost configuration
 * (reference §1.3); every invalid value stops start-up with a ConfigError whose message is one line naming the
 * variable. Any value may be indirect: `env://NAME?fallback` or `file:///path?fallback` (reference §5.6).
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { BlockList } from 'node:net';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { ConfigError } from '../errors.js';
import { proxyFor, proxySettingsFromEnv, type ProxySettings } from './proxy.js';
import { parseCidr, type Cidr } from '../lib/cidr.js';
import { formatListenAddress, parseListenAddress, type ListenAddress } from '../lib/listen-address.js';
import { LOG_LEVELS, parseLogLevel, type LogLevel } from '../lib/log-level.js';
import { CONTROL_LIMITS, CORE_API_LIMITS, ENV_LIMITS } from './limits.js';

export type { Cidr };


export interface CoreConnectionConfig {
  /** AUTHENTIK_HOST as given (indirection resolved, trimmed). */
  readonly host: string;
  /** Normalised base: scheme, host, sub-path ending in '/', no query. `http://localhost/` for unix sockets. */
  readonly baseUrl: string;
  /** AUTHENTIK_HOST's query without '?', copied onto the event link URL; '' when none. */
  readonly query: string;
  /** Set for unix:// hosts. */
  readonly socketPath: string | undefined;
  /** Non-enumerable: JSON.stringify, util.inspect and loggers never see it. */
  readonly token: string;
  readonly insecure: boolean;
  readonly timeoutMs: number;
  /**
   * HTTP_PROXY/HTTPS_PROXY for this core unless NO_PROXY exempts it (never for unix sockets); REST and WebSocket
   * both use it. Non-enumerable like the token: a proxy URL may carry credentials.
   */
  readonly proxy: URL | undefined;
}

export interface OutpostConfig {
  /** Undefined without AUTHENTIK_HOST: the embedded default mode. */
  readonly core: CoreConnectionConfig | undefined;
  readonly insecure: boolean;
  readonly listen: {
    readonly ldap: readonly ListenAddress[];
    readonly ldaps: readonly ListenAddress[];
    readonly radius: readonly ListenAddress[];
    readonly radiusAccounting: readonly ListenAddress[];
    readonly metrics: readonly ListenAddress[];
    /** Peers whose PROXY header is believed (the address it names is the client's for logs, caps and the core). */
    readonly trustedProxyCidrs: readonly Cidr[];
  };
  readonly logLevel: LogLevel;
  readonly ldap: { readonly pageSize: number; readonly requireTls: boolean };
  readonly radius: { readonly requireMessageAuthenticator: MessageAuthenticatorPolicy };
  readonly coreTimeoutMs: number;
  /** GIT_BUILD_HASH, '' when unset. */
  readonly buildHash: string;
  /** $TMPDIR/authentik-metrics.sock */
  readonly metricsSocketPath: string;
  /**
   * AUTHENTIK_WORKERS: outpost processes serving the listeners together (1, a number, or `auto` for one per CPU).
   * Each is a full outpost (own core link, own directory copy), like replicas; the primary shares the sockets.
   */
  readonly workers: number;
}

/**
 * AUTHENTIK_RADIUS__REQUIRE_MESSAGE_AUTHENTICATOR: must an Access-Request carry Message-Authenticator?
 * 'auto': only from a client address that has sent one valid Message-Authenticator before.
 */
export type MessageAuthenticatorPolicy = 'true' | 'false' | 'auto';

const DEFAULTS = {
  AUTHENTIK_LISTEN__LDAP: '0.0.0.0:3389',
  AUTHENTIK_LISTEN__LDAPS: '0.0.0.0:6636',
  AUTHENTIK_LISTEN__RADIUS: '0.0.0.0:1812',
  AUTHENTIK_LISTEN__RADIUS_ACCOUNTING: '0.0.0.0:1813',
  AUTHENTIK_LISTEN__METRICS: '0.0.0.0:9300',
  // authentik's default: any client on these networks may claim any source address in a PROXY header, which
  // becomes X-authentik-remote-ip at the core. README tells operators to narrow it to their load balancers.
  AUTHENTIK_LISTEN__TRUSTED_PROXY_CIDRS: '127.0.0.0/8,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fe80::/10,::1/128',
} as const;

export function loadConfig(env: NodeJS.ProcessEnv): OutpostConfig {
  const read = (name: string): string | undefined => resolveValue(name, env);

  const insecure = parseBool('AUTHENTIK_INSECURE', read('AUTHENTIK_INSECURE'), false);
  const coreTimeoutMs = parseInteger(
    'AUTHENTIK_CORE_TIMEOUT_MS',
    read('AUTHENTIK_CORE_TIMEOUT_MS'),
    CONTROL_LIMITS.coreTimeoutMsDefault,
    CONTROL_LIMITS.coreTimeoutMsMin,
    CONTROL_LIMITS.coreTimeoutMsMax,
  );

  const host = read('AUTHENTIK_HOST');
  let core: CoreConnectionConfig | undefined;
  if (host !== undefined) {
    const token = read('AUTHENTIK_TOKEN');
    if (token === undefined) throw new ConfigError('AUTHENTIK_TOKEN', 'not set (required when AUTHENTIK_HOST is set)');
    core = coreConnectionConfig(host, token, { insecure, timeoutMs: coreTimeoutMs, proxy: proxySettingsFromEnv(env) });
  }

  const listen = (name: keyof typeof DEFAULTS): readonly ListenAddress[] =>
    parseListenList(name, read(name) ?? DEFAULTS[name]);

  const config: OutpostConfig = {
    core,
    insecure,
    listen: Object.freeze({
      ldap: listen('AUTHENTIK_LISTEN__LDAP'),
      ldaps: listen('AUTHENTIK_LISTEN__LDAPS'),
      radius: listen('AUTHENTIK_LISTEN__RADIUS'),
      radiusAccounting: listen('AUTHENTIK_LISTEN__RADIUS_ACCOUNTING'),
      metrics: listen('AUTHENTIK_LISTEN__METRICS'),
      trustedProxyCidrs: parseCidrList(
        'AUTHENTIK_LISTEN__TRUSTED_PROXY_CIDRS',
        read('AUTHENTIK_LISTEN__TRUSTED_PROXY_CIDRS') ?? DEFAULTS.AUTHENTIK_LISTEN__TRUSTED_PROXY_CIDRS,
      ),
    }),
    logLevel: parseLogLevelVar('AUTHENTIK_LOG_LEVEL', read('AUTHENTIK_LOG_LEVEL')),
    ldap: Object.freeze({
      pageSize: parseInteger('AUTHENTIK_LDAP__PAGE_SIZE', read('AUTHENTIK_LDAP__PAGE_SIZE'), 50, 1, CORE_API_LIMITS.pageSizeMax),
      requireTls: parseBool('AUTHENTIK_LDAP__REQUIRE_TLS', read('AUTHENTIK_LDAP__REQUIRE_TLS'), false),
    }),
    radius: Object.freeze({
      requireMessageAuthenticator: parseMessageAuthenticatorPolicy(read('AUTHENTIK_RADIUS__REQUIRE_MESSAGE_AUTHENTICATOR')),
    }),
    coreTimeoutMs,
    buildHash: read('GIT_BUILD_HASH') ?? '',
    metricsSocketPath: join(env['TMPDIR']?.trim() || '/tmp', 'authentik-metrics.sock'),
    workers: parseWorkers(read('AUTHENTIK_WORKERS')),
  };
  return Object.freeze(config);
}

/**
 * Validates one core address and token. loadConfig uses it for AUTHENTIK_HOST/AUTHENTIK_TOKEN; the embedded
 * demo uses it to build one connection per demo outpost token.
 */
export function coreConnectionConfig(
  host: string,
  token: string,
  options: { insecure: boolean; timeoutMs: number; proxy?: ProxySettings },
): CoreConnectionConfig {
  const parsed = parseCoreHost('AUTHENTIK_HOST', host.trim());
  const cleanToken = token.trim();
  if (cleanToken === '') throw new ConfigError('AUTHENTIK_TOKEN', 'is empty');
  if (cleanToken.length > ENV_LIMITS.maxTokenLength) throw new ConfigError('AUTHENTIK_TOKEN', `longer than ${ENV_LIMITS.maxTokenLength} characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\s\x00-\x1f\x7f]/.test(cleanToken)) throw new ConfigError('AUTHENTIK_TOKEN', 'contains whitespace or control characters');
  const config = {
    host: host.trim(),
    baseUrl: parsed.baseUrl,
    query: parsed.query,
    socketPath: parsed.socketPath,
    insecure: options.insecure,
    timeoutMs: options.timeoutMs,
  };
  Object.defineProperty(config, 'token', { value: cleanToken, enumerable: false });
  const proxy = parsed.socketPath === undefined && options.proxy !== undefined ? proxyFor(new URL(parsed.baseUrl), options.proxy) : undefined;
  Object.defineProperty(config, 'proxy', { value: proxy, enumerable: false });
  return Object.freeze(config as CoreConnectionConfig);
}

/** A BlockList matching the CIDRs, for PROXY-protocol peer checks. */
export function cidrBlockList(cidrs: readonly Cidr[]): BlockList {
  const list = new BlockList();
  for (const cidr of cidrs) list.addSubnet(cidr.address, cidr.prefix, cidr.family);
  return list;
}

// ---------------------------------------------------------------------------------------------------------

/** Reads a variable, resolves env:// and file:// indirection; empty or blank counts as unset. */
function resolveValue(name: string, env: NodeJS.ProcessEnv): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const value = raw.trim();
  let resolved: string;
  if (value.startsWith('env://')) {
    const { target, fallback } = splitFallback(value.slice('env://'.length));
    resolved = env[target] ?? fallback ?? '';
  } else if (value.startsWith('file://')) {
    const { target, fallback } = splitFallback(value.slice('file://'.length));
    const contents = readIndirectFile(target);
    if (contents !== undefined) resolved = contents.trim();
    else if (fallback !== undefined) resolved = fallback;
    else throw new ConfigError(name, `cannot read file ${quote(target)}`);
  } else {
    return value;
  }
  return resolved.trim() === '' ? undefined : resolved.trim();
}

function splitFallback(rest: string): { target: string; fallback: string | undefined } {
  const q = rest.indexOf('?');
  return q < 0 ? { target: rest, fallback: undefined } : { target: rest.slice(0, q), fallback: rest.slice(q + 1) };
}

function readIndirectFile(path: string): string | undefined {
  if (!path.startsWith('/')) return undefined;
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const size = fstatSync(fd).size;
    if (size > ENV_LIMITS.maxIndirectFileBytes) return undefined;
    const buf = Buffer.alloc(size);
    let off = 0;
    while (off < size) {
      const n = readSync(fd, buf, off, size - off, off);
      if (n === 0) break;
      off += n;
    }
    return buf.subarray(0, off).toString('utf8');
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function quote(value: string): string {
  const short = value.length > 80 ? `${value.slice(0, 77)}...` : value;
  return JSON.stringify(short);
}

function parseBool(name: string, value: string | undefined, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  switch (value.toLowerCase()) {
    case 'true': case '1': case 't': case 'yes': case 'y': case 'on':
      return true;
    case 'false': case '0': case 'f': case 'no': case 'n': case 'off':
      return false;
    default:
      throw new ConfigError(name, `${quote(value)} is not a boolean (true or false)`);
  }
}

function parseMessageAuthenticatorPolicy(value: string | undefined): MessageAuthenticatorPolicy {
  if (value === undefined || value.trim().toLowerCase() === 'auto') return 'auto';
  return parseBool('AUTHENTIK_RADIUS__REQUIRE_MESSAGE_AUTHENTICATOR', value.trim(), false) ? 'true' : 'false';
}

function parseWorkers(value: string | undefined): number {
  if (value?.trim().toLowerCase() === 'auto') return Math.min(availableParallelism(), CONTROL_LIMITS.maxWorkers);
  return parseInteger('AUTHENTIK_WORKERS', value, 1, 1, CONTROL_LIMITS.maxWorkers);
}

function parseInteger(name: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = /^[0-9]{1,10}$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new ConfigError(name, `${quote(value)} must be an integer from ${min} to ${max}`);
  }
  return n;
}

function parseLogLevelVar(name: string, value: string | undefined): LogLevel {
  if (value === undefined) return 'info';
  const level = parseLogLevel(value);
  if (level === undefined) throw new ConfigError(name, `${quote(value)} is not one of ${LOG_LEVELS.join(', ')}`);
  return level;
}

function splitList(name: string, value: string): string[] {
  const items = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (items.length === 0) throw new ConfigError(name, `${quote(value)} is an empty list`);
  if (items.length > ENV_LIMITS.maxListEntries) throw new ConfigError(name, `more than ${ENV_LIMITS.maxListEntries} entries`);
  return items;
}

function parseListenList(name: string, value: string): readonly ListenAddress[] {
  const out: ListenAddress[] = [];
  const seen = new Set<string>();
  for (const item of splitList(name, value)) {
    const address = parseListenAddress(item);
    if (address === undefined) throw new ConfigError(name, `${quote(item)} is not host:port`);
    const key = formatListenAddress(address);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(Object.freeze(address));
  }
  return Object.freeze(out);
}

function parseCidrList(name: string, value: string): readonly Cidr[] {
  const out: Cidr[] = [];
  for (const item of splitList(name, value)) {
    const cidr = parseCidr(item);
    if (cidr === undefined) throw new ConfigError(name, `${quote(item)} is not a CIDR (address/prefix)`);
    out.push(Object.freeze(cidr));
  }
  return Object.freeze(out);
}

function parseCoreHost(name: string, value: string): { baseUrl: string; query: string; socketPath: string | undefined } {
  const notUrl = () => new ConfigError(name, `${quote(value)} is not an http://, https:// or unix:// URL`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw notUrl();
  }
  if (url.username !== '' || url.password !== '') throw new ConfigError(name, 'must not contain credentials');
  const query = url.search.startsWith('?') ? url.search.slice(1) : url.search;
  if (url.protocol === 'unix:') {
    // unix:///run/authentik/core.sock: the path is the socket, the HTTP host is forced to localhost.
    let socketPath: string;
    try {
      socketPath = decodeURIComponent(url.pathname);
    } catch {
      throw notUrl();
    }
    if (url.host !== '' || !socketPath.startsWith('/') || socketPath.length < 2) {
      throw new ConfigError(name, `${quote(value)} needs an absolute socket path (unix:///path/to.sock)`);
    }
    return { baseUrl: 'http://localhost/', query, socketPath };
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') throw notUrl();
  const path = url.pathname.endsWith('/') ? url.pathname : `${url.pathname}/`;
  return { baseUrl: `${url.protocol}//${url.host}${path}`, query, socketPath: undefined };
}
