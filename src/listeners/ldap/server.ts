/**
 * LDAP listener: admission (connection caps, PROXY protocol from trusted peers), thin TCP wrappers for plain
 * LDAP (with StartTLS) and LDAPS, and a draining close. `handle()` takes any Duplex, so tests need no port.
 */
import { Buffer } from 'node:buffer';
import net, { type AddressInfo, type BlockList } from 'node:net';
import type { Duplex } from 'node:stream';
import { LDAP_LIMITS } from '../../config/limits.js';
import type { DecodeLimits } from '../../protocol/limits.js';
import { parseProxyHeader } from '../../protocol/proxy-protocol.js';
import { LdapConnection, nativeTimers, type TimerSource } from './connection.js';
import { noopLogger, type LdapHandler, type LdapListenerHooks, type LdapLogger, type PeerInfo } from './handler.js';
import type { SelectCertificate } from './tls.js';

export type ListenMode = 'ldap' | 'ldaps';

export interface LdapListenerOptions {
  handler: LdapHandler;
  logger?: LdapLogger;
  hooks?: LdapListenerHooks;
  timers?: TimerSource;
  decodeLimits?: DecodeLimits;
  /** All connections of this listener, PROXY-header phase included (default LDAP_LIMITS.maxConnections). */
  maxConnections?: number;
  /** Per client address, after PROXY protocol (default LDAP_LIMITS.maxConnectionsPerIp). */
  maxConnectionsPerIp?: number;
  maxPendingOps?: number;
  maxWriteBufferBytes?: number;
  idleTimeoutMs?: number;
  maxLifetimeMs?: number;
  tlsHandshakeTimeoutMs?: number;
  lingerMs?: number;
  /** Certificate per SNI for LDAPS and StartTLS. Without it StartTLS is refused and LDAPS cannot listen. */
  selectCertificate?: SelectCertificate;
  /** Peers allowed to send a PROXY v1/v2 header (e.g. cidrBlockList(config.listen.trustedProxyCidrs)). */
  trustedProxies?: BlockList | ((address: string) => boolean);
  proxyHeaderTimeoutMs?: number;
  maxProxyHeaderBytes?: number;
  /** close(): how long running operations may finish before connections are destroyed. */
  closeTimeoutMs?: number;
}

type ProxyOutcome = { ok: true; peer: PeerInfo | undefined } | { ok: false; reason: string };

export class LdapListener {
  readonly #options: LdapListenerOptions;
  readonly #log: LdapLogger;
  readonly #timers: TimerSource;
  readonly #maxConnections: number;
  readonly #maxPerIp: number;
  readonly #isTrusted: (address: string) => boolean;
  readonly #connections = new Set<LdapConnection>();
  /** Sockets accepted and still reading their PROXY header. */
  readonly #admitting = new Set<Duplex>();
  readonly #perIp = new Map<string, number>();
  readonly #servers = new Set<net.Server>();
  #nextId = 1;
  #closing: Promise<void> | undefined;

  constructor(options: LdapListenerOptions) {
    this.#options = options;
    this.#log = options.logger ?? noopLogger;
    this.#timers = options.timers ?? nativeTimers;
    this.#maxConnections = options.maxConnections ?? LDAP_LIMITS.maxConnections;
    this.#maxPerIp = options.maxConnectionsPerIp ?? LDAP_LIMITS.maxConnectionsPerIp;
    const trusted = options.trustedProxies;
    if (trusted === undefined) this.#isTrusted = () => false;
    else if (typeof trusted === 'function') this.#isTrusted = trusted;
    else {
      this.#isTrusted = (address) => {
        const family = net.isIP(address);
        return family !== 0 && trusted.check(address, family === 4 ? 'ipv4' : 'ipv6');
      };
    }
  }

  /** Connections being served plus sockets still in admission. */
  get connectionCount(): number {
    return this.#connections.size + this.#admitting.size;
  }

  /** Serves one stream as an LDAP session, without admission checks (tests, or after accept()). */
  handle(stream: Duplex, peer: PeerInfo, options: { socketPeer?: PeerInfo; tls?: 'implicit' } = {}): LdapConnection {
    const o = this.#options;
    const address = peer.address;
    this.#perIp.set(address, (this.#perIp.get(address) ?? 0) + 1);
    const conn = new LdapConnection(stream, {
      handler: o.handler,
      peer,
      socketPeer: options.socketPeer ?? peer,
      id: this.#nextId++,
      logger: this.#log,
      ...(o.hooks !== undefined ? { hooks: o.hooks } : {}),
      timers: this.#timers,
      ...(o.decodeLimits !== undefined ? { decodeLimits: o.decodeLimits } : {}),
      ...(o.maxPendingOps !== undefined ? { maxPendingOps: o.maxPendingOps } : {}),
      ...(o.maxWriteBufferBytes !== undefined ? { maxWriteBufferBytes: o.maxWriteBufferBytes } : {}),
      ...(o.idleTimeoutMs !== undefined ? { idleTimeoutMs: o.idleTimeoutMs } : {}),
      ...(o.maxLifetimeMs !== undefined ? { maxLifetimeMs: o.maxLifetimeMs } : {}),
      ...(o.tlsHandshakeTimeoutMs !== undefined ? { tlsHandshakeTimeoutMs: o.tlsHandshakeTimeoutMs } : {}),
      ...(o.lingerMs !== undefined ? { lingerMs: o.lingerMs } : {}),
      ...(o.selectCertificate !== undefined ? { selectCertificate: o.selectCertificate } : {}),
      ...(options.tls !== undefined ? { tlsMode: options.tls } : {}),
      onClosed: (closed) => this.#forget(closed),
    });
    this.#connections.add(conn);
    if (this.#closing !== undefined) conn.shutdown();
    return conn;
  }

  /**
   * Admits an accepted socket: global cap, PROXY header when the TCP peer is trusted (before TLS on LDAPS),
   * per-address cap, then serves it. Refusal closes the socket at once.
   */
  accept(stream: Duplex, socketPeer: PeerInfo, mode: ListenMode = 'ldap'): void {
    if (this.#closing !== undefined) {
      this.#refuse(stream, 'shutting_down', socketPeer);
      return;
    }
    if (this.connectionCount >= this.#maxConnections) {
      this.#refuse(stream, 'capacity', socketPeer);
      return;
    }
    if (mode === 'ldaps' && this.#options.selectCertificate === undefined) {
      throw new TypeError('LDAPS needs selectCertificate');
    }
    if (!this.#isTrusted(socketPeer.address)) {
      this.#admit(stream, socketPeer, socketPeer, mode);
      return;
    }
    this.#admitting.add(stream);
    void this.#readProxyHeader(stream).then((outcome) => {
      this.#admitting.delete(stream);
      if (!outcome.ok) {
        this.#log.debug({ client: socketPeer.address, reason: outcome.reason }, 'LDAP PROXY header refused');
        this.#refuse(stream, 'proxy_header', socketPeer);
        return;
      }
      if (this.#closing !== undefined) {
        this.#refuse(stream, 'shutting_down', socketPeer);
        return;
      }
      this.#admit(stream, outcome.peer ?? socketPeer, socketPeer, mode);
    });
  }

  /** Listens on TCP; resolves with the bound address (port 0 picks one). */
  async listen(address: { host?: string; port: number; mode?: ListenMode }): Promise<AddressInfo> {
    if (this.#closing !== undefined) throw new Error('LdapListener is closed');
    const mode = address.mode ?? 'ldap';
    if (mode === 'ldaps' && this.#options.selectCertificate === undefined) throw new TypeError('LDAPS needs selectCertificate');
    const server = net.createServer({ noDelay: true, keepAlive: true, keepAliveInitialDelay: 60_000 }, (socket) => {
      if (socket.remoteAddress === undefined) {
        socket.destroy(); // already gone
        return;
      }
      this.accept(socket, { address: normalizeAddress(socket.remoteAddress), port: socket.remotePort ?? 0 }, mode);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port: address.port, ...(address.host !== undefined && address.host !== '' ? { host: address.host } : {}) }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.#log.error({ err: { name: err.name, message: err.message } }, 'LDAP listener error'));
    this.#servers.add(server);
    const bound = server.address() as AddressInfo;
    this.#log.info({ address: bound.address, port: bound.port, mode }, 'LDAP listening');
    return bound;
  }

  /**
   * Stops accepting, lets running operations finish, sends every connection a Notice of Disconnection
   * (unavailable) and closes it; after closeTimeoutMs the rest are destroyed.
   */
  close(): Promise<void> {
    this.#closing ??= this.#drain();
    return this.#closing;
  }

  async #drain(): Promise<void> {
    const serversClosed = [...this.#servers].map(
      (server) => new Promise<void>((resolve) => server.close(() => resolve())),
    );
    for (const stream of this.#admitting) stream.destroy();
    this.#admitting.clear();
    for (const conn of this.#connections) conn.shutdown();
    const all = (): Promise<void> => Promise.all([...this.#connections].map((c) => c.whenClosed())).then(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.#options.closeTimeoutMs ?? LDAP_LIMITS.closeTimeoutMs);
    });
    await Promise.race([all(), deadline]);
    clearTimeout(timer);
    for (const conn of this.#connections) conn.destroy('shutdown_timeout');
    await all();
    await Promise.all(serversClosed);
    this.#servers.clear();
  }

  #admit(stream: Duplex, peer: PeerInfo, socketPeer: PeerInfo, mode: ListenMode): void {
    if ((this.#perIp.get(peer.address) ?? 0) >= this.#maxPerIp) {
      this.#refuse(stream, 'per_ip', peer);
      return;
    }
    this.handle(stream, peer, { socketPeer, ...(mode === 'ldaps' ? { tls: 'implicit' as const } : {}) });
  }

  #refuse(stream: Duplex, reason: 'capacity' | 'per_ip' | 'shutting_down' | 'proxy_header', peer: PeerInfo): void {
    this.#log.debug({ client: peer.address, reason }, 'LDAP connection refused');
    try {
      this.#options.hooks?.connectionRefused?.(reason);
    } catch {
      // Metrics must never break admission.
    }
    stream.destroy();
  }

  #forget(conn: LdapConnection): void {
    this.#connections.delete(conn);
    const address = conn.peer.address;
    const count = (this.#perIp.get(address) ?? 1) - 1;
    if (count <= 0) this.#perIp.delete(address);
    else this.#perIp.set(address, count);
  }

  /**
   * Reads an optional PROXY header from a trusted peer. The first byte tells whether one comes (an LDAP
   * message starts with 0x30, a TLS record with 0x16), so clients without a proxy are not delayed.
   */
  #readProxyHeader(stream: Duplex): Promise<ProxyOutcome> {
    const maxBytes = this.#options.maxProxyHeaderBytes ?? LDAP_LIMITS.maxProxyHeaderBytes;
    return new Promise((resolve) => {
      let buffered: Buffer = Buffer.alloc(0);
      let settled = false;
      const finish = (outcome: ProxyOutcome, rest?: Buffer): void => {
        if (settled) return;
        settled = true;
        timer.cancel();
        stream.off('data', onData);
        stream.off('end', onGone);
        stream.off('close', onGone);
        stream.off('error', onGone);
        stream.pause();
        if (rest !== undefined && rest.length > 0) stream.unshift(rest);
        // A late error before the connection attaches its own handler must not crash the process.
        if (!outcome.ok) stream.on('error', () => {});
        resolve(outcome);
      };
      const onGone = (): void => finish({ ok: false, reason: 'closed' });
      const onData = (chunk: Buffer): void => {
        buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
        let result;
        try {
          result = parseProxyHeader(buffered, maxBytes);
        } catch (err) {
          finish({ ok: false, reason: err instanceof Error ? err.message : 'malformed' });
          return;
        }
        if (result.status === 'incomplete') {
          if (buffered.length > maxBytes) finish({ ok: false, reason: 'header too large' });
          return;
        }
        if (result.status === 'absent') {
          finish({ ok: true, peer: undefined }, buffered);
          return;
        }
        const source = result.header.command === 'proxy' ? result.header.source : undefined;
        const peer = source === undefined ? undefined : { address: normalizeAddress(source.address), port: source.port };
        finish({ ok: true, peer }, buffered.subarray(result.length));
      };
      const timer = this.#timers.setTimeout(
        () => finish({ ok: false, reason: 'timeout' }),
        this.#options.proxyHeaderTimeoutMs ?? LDAP_LIMITS.proxyHeaderTimeoutMs,
      );
      stream.on('data', onData);
      stream.on('end', onGone);
      stream.on('close', onGone);
      stream.on('error', onGone);
    });
  }
}

/** '::ffff:192.0.2.1' -> '192.0.2.1', so logs, caps and X-authentik-remote-ip see one form per client. */
export function normalizeAddress(address: string): string {
  return address.startsWith('::ffff:') && net.isIPv4(address.slice(7)) ? address.slice(7) : address;
}
