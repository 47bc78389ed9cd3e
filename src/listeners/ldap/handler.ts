/**
 * The contract between the LDAP listener (sockets, framing, StartTLS, Abandon, Unbind) and the provider layer
 * (bind and search). The provider implements LdapHandler; the listener calls it once per operation.
 */
import type { Buffer } from 'node:buffer';
import type { Control } from '../../protocol/ldap/controls.js';
import type { LdapMessage, LdapOp } from '../../protocol/ldap/messages.js';

export interface PeerInfo {
  address: string;
  port: number;
}

export interface TlsInfo {
  /** True once a TLS handshake (LDAPS or StartTLS) has completed on this connection. */
  readonly secure: boolean;
  /** SNI the client sent, if any. */
  readonly servername?: string;
  /** Negotiated protocol, e.g. 'TLSv1.3'. */
  readonly protocol?: string;
}

/** What a handler may see and change of its connection. */
export interface LdapConnectionView {
  /** Unique per listener, for logs. */
  readonly id: number;
  /** The client: the PROXY protocol source when a trusted proxy sent one, else the TCP peer. */
  readonly peer: PeerInfo;
  /** The TCP peer (the proxy itself when PROXY protocol was honoured). */
  readonly socketPeer: PeerInfo;
  readonly tls: TlsInfo;
  /** '' while anonymous; the provider layer sets it after a bind. */
  boundDn: string;
  /** Opaque slot owned by the provider layer (bound identity, session, flags). */
  authState: unknown;
  readonly closed: boolean;
  /**
   * Ends the connection on the server's initiative (e.g. SESSION_END): in-flight operations are abandoned, bytes
   * already written are flushed, then the socket closes. With `notice`, a Notice of Disconnection goes first.
   */
  close(reason: string, notice?: { resultCode: number; diagnosticMessage?: string }): void;
}

/** Optional fields of the final response `done()` builds. */
export interface DoneOptions {
  matchedDN?: string;
  diagnosticMessage?: string;
  referral?: string[];
  controls?: readonly Control[];
  /** BindResponse only. */
  serverSaslCreds?: Buffer;
  /** ExtendedResponse only. */
  responseName?: string;
  responseValue?: Buffer;
}

/**
 * Where a handler writes the responses of one operation. Every write returns undefined while the socket can take
 * more, or a promise to await before writing again (resolved when the socket drains or the operation ends), so
 * a large search never buffers more than the connection's write limit. After the operation was abandoned or the
 * connection closed, writes are dropped silently: check `signal.aborted` in long loops.
 */
export interface ResponseSink {
  readonly messageID: number;
  /** True once the operation was abandoned or its connection closed: long loops check it. */
  readonly aborted: boolean;
  /**
   * Aborts with the operation (Abandon, Unbind, close), for APIs that take an AbortSignal. Created on first read:
   * most operations never need one.
   */
  readonly signal: AbortSignal;
  /** True once the final response (any LDAPResult-carrying op) was written. */
  readonly finished: boolean;
  /** Encodes `op` with this operation's messageID. Throws after the final response. */
  send(op: LdapOp, controls?: readonly Control[]): Promise<void> | undefined;
  /**
   * Writes whole, already framed LDAPMessages (e.g. a MessageBatch of cached entries); the caller is responsible
   * for their messageIDs. Never counts as the final response. Throws after the final response.
   */
  sendRaw(frames: Uint8Array): Promise<void> | undefined;
  /** Sends the final response matching the request (BindResponse for a bind, SearchResultDone for a search...). */
  done(resultCode: number, options?: DoneOptions): void;
  /** undefined when the socket can take more, else a promise resolved once it drained. */
  ready(): Promise<void> | undefined;
}

export interface LdapHandler {
  /**
   * Called once per operation except StartTLS, Abandon and Unbind (the listener handles those). Write responses
   * through `out` and resolve when done. A rejection with LdapResultError becomes that result code on the
   * response (its message the diagnosticMessage the client sees); any other rejection becomes operationsError (1) and is logged; the connection stays open. Resolving
   * without a final response also yields operationsError. `out.aborted` / `out.signal` tell of Abandon, Unbind
   * and close.
   */
  handle(op: LdapMessage, conn: LdapConnectionView, out: ResponseSink): Promise<void>;
  /** Called once when the connection is gone (after every operation was aborted). */
  onClose?(conn: LdapConnectionView): void;
}

/** Structural subset of a pino logger; fields first, message second. */
export interface LdapLogger {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
  /** pino's: lets hot paths skip building fields for a level that is off. */
  isLevelEnabled?(level: string): boolean;
}

/** Callbacks for the metrics layer; every one optional, none may throw (they are guarded anyway). */
export interface LdapListenerHooks {
  /** +1 when a connection starts being served, -1 when it is gone. */
  connectionsOpen?(delta: 1 | -1): void;
  /** A connection refused before it was served. */
  connectionRefused?(reason: 'capacity' | 'per_ip' | 'shutting_down' | 'proxy_header'): void;
  /** A connection closed for a protocol problem. */
  protocolError?(kind: 'framing' | 'decode' | 'tls'): void;
}

export const noopLogger: LdapLogger = Object.freeze({
  debug() {},
  info() {},
  warn() {},
  error() {},
});
