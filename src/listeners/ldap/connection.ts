/**
 * One LDAP session over one Duplex (net.Socket, tls.TLSSocket, or an in-memory stream in tests): framing,
 * pipelined dispatch to the handler, Abandon, Unbind, StartTLS in place, backpressure both ways, idle and
 * lifetime limits. The handler never touches the socket.
 */
import { Buffer } from 'node:buffer';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { LDAP_DECODE_LIMITS, LDAP_LIMITS } from '../../config/limits.js';
import { LdapResultError } from '../../errors.js';
import { FrameReader } from '../../protocol/ber/framer.js';
import type { DecodeLimits } from '../../protocol/limits.js';
import type { Control } from '../../protocol/ldap/controls.js';
import { LdapDecodeError } from '../../protocol/ldap/decode-error.js';
import {
  OpTag,
  decodeMessage,
  encodeMessage,
  isRequestOp,
  noticeOfDisconnection,
  type LdapMessage,
  type LdapOp,
  type LdapOpKind,
} from '../../protocol/ldap/messages.js';
import { Oid } from '../../protocol/ldap/oids.js';
import { ResultCode } from '../../protocol/ldap/result-codes.js';
import {
  noopLogger,
  type DoneOptions,
  type LdapConnectionView,
  type LdapHandler,
  type LdapListenerHooks,
  type LdapLogger,
  type PeerInfo,
  type ResponseSink,
  type TlsInfo,
} from './handler.js';
import { isAcceptedTlsProtocol, type SelectCertificate } from './tls.js';

/**
 * A timeout source; CoarseTimers (src/util/coarse-timers.ts) fits. The native default keeps the event loop alive
 * like the socket it guards; every timer is cancelled when the connection closes.
 */
export interface TimerSource {
  setTimeout(onTimeout: () => void, ms: number): { cancel(): void; refresh(): void };
}

export const nativeTimers: TimerSource = {
  setTimeout(onTimeout, ms) {
    let timer: NodeJS.Timeout | undefined;
    const arm = (): void => {
      timer = setTimeout(() => {
        timer = undefined;
        onTimeout();
      }, ms);
    };
    arm();
    return {
      cancel: () => {
        if (timer !== undefined) clearTimeout(timer);
        timer = undefined;
      },
      refresh: () => {
        if (timer === undefined) arm();
        else timer.refresh();
      },
    };
  },
};

export interface LdapConnectionOptions {
  handler: LdapHandler;
  /** Client address (after PROXY protocol). */
  peer: PeerInfo;
  /** TCP peer; defaults to `peer`. */
  socketPeer?: PeerInfo;
  id?: number;
  logger?: LdapLogger;
  hooks?: LdapListenerHooks;
  timers?: TimerSource;
  decodeLimits?: DecodeLimits;
  /** Requests received and not answered; reading pauses beyond it (default LDAP_LIMITS.maxPendingOpsPerConnection). */
  maxPendingOps?: number;
  /** Bytes queued on the socket before writers wait for drain and reading pauses. */
  maxWriteBufferBytes?: number;
  /** No request and nothing in flight for this long closes the connection; 0 disables. */
  idleTimeoutMs?: number;
  /** Whole-connection lifetime; 0 (default) disables. Ends with a Notice of Disconnection (unavailable). */
  maxLifetimeMs?: number;
  /** Certificates for StartTLS and implicit TLS; without it StartTLS answers protocolError. */
  selectCertificate?: SelectCertificate;
  tlsHandshakeTimeoutMs?: number;
  /** 'implicit': LDAPS, the handshake starts at once on the given (raw) stream. */
  tlsMode?: 'starttls' | 'implicit';
  /** After we end our side, the peer gets this long to close before the socket is destroyed. */
  lingerMs?: number;
  /** Called once after the connection is gone (the listener's bookkeeping). */
  onClosed?: (conn: LdapConnection) => void;
}

/** The response kind that ends each request kind. */
const FINAL_RESPONSE: Partial<Record<LdapOpKind, FinalKind>> = {
  BindRequest: 'BindResponse',
  SearchRequest: 'SearchResultDone',
  ModifyRequest: 'ModifyResponse',
  AddRequest: 'AddResponse',
  DelRequest: 'DelResponse',
  ModifyDNRequest: 'ModifyDNResponse',
  CompareRequest: 'CompareResponse',
  ExtendedRequest: 'ExtendedResponse',
};
type FinalKind =
  | 'BindResponse'
  | 'SearchResultDone'
  | 'ModifyResponse'
  | 'AddResponse'
  | 'DelResponse'
  | 'ModifyDNResponse'
  | 'CompareResponse'
  | 'ExtendedResponse';
const FINAL_KINDS: ReadonlySet<LdapOpKind> = new Set<LdapOpKind>(Object.values(FINAL_RESPONSE));

/** Request op tag -> response kind, for answering an operation that failed to decode. */
const FINAL_RESPONSE_BY_TAG = new Map<number, FinalKind>([
  [OpTag.BindRequest, 'BindResponse'],
  [OpTag.SearchRequest, 'SearchResultDone'],
  [OpTag.ModifyRequest, 'ModifyResponse'],
  [OpTag.AddRequest, 'AddResponse'],
  [OpTag.DelRequest, 'DelResponse'],
  [OpTag.ModifyDNRequest, 'ModifyDNResponse'],
  [OpTag.CompareRequest, 'CompareResponse'],
  [OpTag.ExtendedRequest, 'ExtendedResponse'],
]);

function buildFinal(kind: FinalKind, resultCode: number, options: DoneOptions | undefined): LdapOp {
  const op = {
    kind,
    resultCode,
    matchedDN: options?.matchedDN ?? '',
    diagnosticMessage: options?.diagnosticMessage ?? '',
    ...(options?.referral !== undefined ? { referral: options.referral } : {}),
  } as Extract<LdapOp, { kind: FinalKind }>;
  if (op.kind === 'BindResponse' && options?.serverSaslCreds !== undefined) op.serverSaslCreds = options.serverSaslCreds;
  if (op.kind === 'ExtendedResponse') {
    if (options?.responseName !== undefined) op.responseName = options.responseName;
    if (options?.responseValue !== undefined) op.responseValue = options.responseValue;
  }
  return op;
}

type State = 'open' | 'closing' | 'closed';

class Operation implements ResponseSink {
  readonly messageID: number;
  readonly finalKind: FinalKind;
  readonly isBind: boolean;
  /** Created on first use: an AbortController per operation is a measurable share of a cached bind. */
  #controller: AbortController | undefined;
  /** Set once aborted (Abandon, Unbind, close). */
  #abortReason: Error | undefined;
  finished = false;
  readonly #conn: LdapConnection;

  constructor(conn: LdapConnection, msg: LdapMessage, finalKind: FinalKind) {
    this.#conn = conn;
    this.messageID = msg.messageID;
    this.finalKind = finalKind;
    this.isBind = msg.op.kind === 'BindRequest';
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#abortReason !== undefined) this.#controller.abort(this.#abortReason);
    }
    return this.#controller.signal;
  }

  abort(reason: Error): void {
    if (this.#abortReason !== undefined) return;
    this.#abortReason = reason;
    this.#controller?.abort(reason);
  }

  get aborted(): boolean {
    return this.#abortReason !== undefined;
  }

  send(op: LdapOp, controls: readonly Control[] = []): Promise<void> | undefined {
    if (this.finished) throw new Error(`LDAP: response to message ${this.messageID} already finished`);
    if (this.aborted) return undefined;
    if (FINAL_KINDS.has(op.kind)) this.finished = true;
    const bytes = encodeMessage({ messageID: this.messageID, op, controls: controls as Control[] });
    return this.#untilAborted(this.#conn.writeResponse(bytes));
  }

  sendRaw(frames: Uint8Array): Promise<void> | undefined {
    if (this.finished) throw new Error(`LDAP: response to message ${this.messageID} already finished`);
    if (this.aborted) return undefined;
    return this.#untilAborted(this.#conn.writeResponse(frames));
  }

  done(resultCode: number, options?: DoneOptions): void {
    void this.send(buildFinal(this.finalKind, resultCode, options), options?.controls ?? []);
  }

  ready(): Promise<void> | undefined {
    if (this.aborted) return undefined;
    return this.#untilAborted(this.#conn.writeReady());
  }

  /** A drain wait also ends when this operation is abandoned, so an abandoned writer is never stuck. */
  #untilAborted(drained: Promise<void> | undefined): Promise<void> | undefined {
    if (drained === undefined) return undefined;
    const signal = this.signal;
    return new Promise<void>((resolve) => {
      const done = (): void => {
        signal.removeEventListener('abort', done);
        resolve();
      };
      signal.addEventListener('abort', done, { once: true });
      void drained.then(done);
    });
  }
}

export class LdapConnection implements LdapConnectionView {
  readonly id: number;
  readonly peer: PeerInfo;
  readonly socketPeer: PeerInfo;
  boundDn = '';
  authState: unknown = undefined;

  #stream: Duplex;
  /** The stream under TLS after an upgrade (destroyed with the connection). */
  #rawStream: Duplex | undefined;
  #state: State = 'open';
  #tls: TlsInfo = { secure: false };
  readonly #handler: LdapHandler;
  readonly #log: LdapLogger;
  readonly #hooks: LdapListenerHooks;
  readonly #timers: TimerSource;
  readonly #limits: DecodeLimits;
  readonly #maxPending: number;
  readonly #maxWriteBuffer: number;
  readonly #lingerMs: number;
  readonly #handshakeTimeoutMs: number;
  readonly #selectCertificate: SelectCertificate | undefined;
  readonly #onClosed: ((conn: LdapConnection) => void) | undefined;
  readonly #reader: FrameReader;

  /** Decoded requests not yet handed to the handler (held behind a bind, or behind the pending cap). */
  readonly #queue: LdapMessage[] = [];
  /** Operations handed to the handler and not abandoned, by messageID. */
  readonly #ops = new Map<number, Operation>();
  /** Handler calls not yet settled, abandoned ones included. */
  #running = 0;
  #bindRunning = false;
  /** Between our StartTLS response and the TLS wrap: received bytes are stashed for the handshake. */
  #upgrading = false;
  #stash: Buffer[] = [];
  #stashBytes = 0;
  #writeBlocked = false;
  #corked = false;
  #drain: { promise: Promise<void>; resolve: () => void } | undefined;
  #drainAfterOps = false;
  #closeReason = '';
  /** Notice of Disconnection to write when closing. */
  #pendingNotice: Buffer | undefined;
  #closedPromise: Promise<void>;
  #resolveClosed!: () => void;

  #idleTimer: { cancel(): void; refresh(): void } | undefined;
  #lifetimeTimer: { cancel(): void; refresh(): void } | undefined;
  #lingerTimer: { cancel(): void; refresh(): void } | undefined;
  #handshakeTimer: { cancel(): void; refresh(): void } | undefined;

  constructor(stream: Duplex, options: LdapConnectionOptions) {
    this.#stream = stream;
    this.id = options.id ?? 0;
    this.peer = options.peer;
    this.socketPeer = options.socketPeer ?? options.peer;
    this.#handler = options.handler;
    this.#log = options.logger ?? noopLogger;
    this.#hooks = options.hooks ?? {};
    this.#timers = options.timers ?? nativeTimers;
    this.#limits = options.decodeLimits ?? LDAP_DECODE_LIMITS;
    this.#maxPending = Math.max(1, options.maxPendingOps ?? LDAP_LIMITS.maxPendingOpsPerConnection);
    this.#maxWriteBuffer = Math.max(1, options.maxWriteBufferBytes ?? LDAP_LIMITS.maxWriteBufferBytes);
    this.#lingerMs = options.lingerMs ?? LDAP_LIMITS.lingerMs;
    this.#handshakeTimeoutMs = options.tlsHandshakeTimeoutMs ?? LDAP_LIMITS.tlsHandshakeTimeoutMs;
    this.#selectCertificate = options.selectCertificate;
    this.#onClosed = options.onClosed;
    this.#reader = new FrameReader(this.#limits);
    this.#closedPromise = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });

    this.#attach(stream);
    this.#hook(() => this.#hooks.connectionsOpen?.(1));
    const idleMs = options.idleTimeoutMs ?? LDAP_LIMITS.idleTimeoutMs;
    if (idleMs > 0) this.#idleTimer = this.#timers.setTimeout(() => this.#onIdle(), idleMs);
    const lifetimeMs = options.maxLifetimeMs ?? 0;
    if (lifetimeMs > 0) {
      this.#lifetimeTimer = this.#timers.setTimeout(
        () => this.close('lifetime', { resultCode: ResultCode.unavailable, diagnosticMessage: 'connection lifetime exceeded' }),
        lifetimeMs,
      );
    }
    if (options.tlsMode === 'implicit') {
      if (this.#selectCertificate === undefined) throw new TypeError('implicit TLS needs selectCertificate');
      this.#wrapTls();
    } else {
      // A stream paused explicitly (e.g. after reading a PROXY header) does not resume on a 'data' listener.
      this.#updateReading();
    }
    this.#log.debug({ conn: this.id, client: this.peer.address }, 'LDAP connection opened');
  }

  get tls(): TlsInfo {
    return this.#tls;
  }

  get closed(): boolean {
    return this.#state === 'closed';
  }

  /** Requests received and not yet answered (queued or running). */
  get pendingOperations(): number {
    return this.#queue.length + this.#running;
  }

  /** Resolves once the socket is closed and the handler's onClose ran. */
  whenClosed(): Promise<void> {
    return this.#closedPromise;
  }

  close(reason: string, notice?: { resultCode: number; diagnosticMessage?: string }): void {
    const bytes = notice === undefined ? undefined : noticeOfDisconnection(notice.resultCode, notice.diagnosticMessage ?? '');
    this.#beginClose(reason, bytes, true);
  }

  /**
   * Graceful stop (listener shutdown): reads no more requests, lets running operations finish, then sends a
   * Notice of Disconnection (unavailable) and closes. The caller bounds the wait with destroy().
   */
  shutdown(diagnosticMessage = 'server is shutting down'): void {
    this.#beginClose('shutdown', noticeOfDisconnection(ResultCode.unavailable, diagnosticMessage), false);
  }

  /** Immediate close: nothing more is written. */
  destroy(reason = 'destroyed'): void {
    if (this.#state === 'closed') return;
    if (this.#closeReason === '') this.#closeReason = reason;
    this.#stream.destroy();
    // A stream that never emits 'close' (or already did) must not leave the connection open.
    queueMicrotask(() => this.#finalize());
  }

  // --- input ---

  #attach(stream: Duplex): void {
    stream.on('data', this.#onData);
    stream.on('end', this.#onEnd);
    stream.on('error', this.#onError);
    stream.on('close', this.#onClose);
    stream.on('drain', this.#onDrain);
  }

  #detach(stream: Duplex): void {
    stream.off('data', this.#onData);
    stream.off('end', this.#onEnd);
    stream.off('error', this.#onError);
    stream.off('close', this.#onClose);
    stream.off('drain', this.#onDrain);
  }

  readonly #onData = (chunk: Buffer | string): void => {
    if (this.#state !== 'open') return; // closing: discard, so our last bytes are not answered with a reset
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk;
    if (this.#upgrading) {
      this.#stashBytes += bytes.length;
      if (this.#stashBytes > LDAP_LIMITS.maxStartTlsStashBytes) {
        this.destroy('starttls_overflow');
        return;
      }
      this.#stash.push(bytes);
      return;
    }
    this.#reader.push(bytes);
    this.#pump();
  };

  readonly #onEnd = (): void => {
    // The client will send nothing more: work it asked for is abandoned, our side is ended.
    if (this.#state === 'open') this.#beginClose('peer_closed', undefined, true);
  };

  readonly #onError = (err: Error): void => {
    this.#log.debug({ conn: this.id, client: this.peer.address, err: errorSummary(err) }, 'LDAP connection error');
    this.destroy('socket_error');
  };

  readonly #onClose = (): void => {
    this.#finalize();
  };

  /** Frames and routes as many requests as the pending cap allows. */
  #pump(): void {
    while (this.#state === 'open' && !this.#upgrading && this.#queue.length + this.#running < this.#maxPending) {
      let frame: Buffer | null;
      try {
        frame = this.#reader.next();
      } catch (err) {
        this.#protocolFailure('framing', err);
        return;
      }
      if (frame === null) break;
      let msg: LdapMessage;
      try {
        msg = decodeMessage(frame, this.#limits);
      } catch (err) {
        if (!this.#answerUndecodable(err)) return;
        continue;
      }
      this.#route(msg);
    }
    this.#updateReading();
  }

  /** Answers a malformed operation with protocolError when its messageID and kind are known; false = fatal. */
  #answerUndecodable(err: unknown): boolean {
    const kind = err instanceof LdapDecodeError && err.opTag !== undefined ? FINAL_RESPONSE_BY_TAG.get(err.opTag) : undefined;
    if (!(err instanceof LdapDecodeError) || kind === undefined || err.messageID === 0) {
      this.#protocolFailure('decode', err);
      return false;
    }
    this.#log.debug(
      { conn: this.id, client: this.peer.address, messageID: err.messageID, err: errorSummary(err) },
      'LDAP undecodable operation',
    );
    this.#hook(() => this.#hooks.protocolError?.('decode'));
    const bytes = encodeMessage({
      messageID: err.messageID,
      op: buildFinal(kind, ResultCode.protocolError, { diagnosticMessage: err.message }),
      controls: [],
    });
    // Never rejects; over the write limit, reading is already paused until the client drains.
    void this.writeResponse(bytes);
    return true;
  }

  #route(msg: LdapMessage): void {
    this.#idleTimer?.refresh();
    const op = msg.op;
    if (!isRequestOp(op)) {
      this.#protocolFailure('decode', new Error(`LDAP: ${op.kind} is not a request`));
      return;
    }
    if (op.kind === 'AbandonRequest') {
      this.#abandon(op.messageID);
      return;
    }
    if (op.kind === 'UnbindRequest') {
      this.#beginClose('unbind', undefined, true);
      return;
    }
    if (this.#isOutstanding(msg.messageID)) {
      this.#protocolFailure('decode', new Error(`LDAP: messageID ${msg.messageID} is already in use`));
      return;
    }
    this.#queue.push(msg);
    this.#dispatch();
  }

  #isOutstanding(messageID: number): boolean {
    if (this.#ops.has(messageID)) return true;
    for (const queued of this.#queue) if (queued.messageID === messageID) return true;
    return false;
  }

  // --- dispatch ---

  /**
   * Starts queued requests in order. A bind starts only when nothing else runs, and nothing starts while a bind
   * runs (RFC 4511 4.2.1); StartTLS is answered here.
   */
  #dispatch(): void {
    while (this.#state === 'open' && !this.#upgrading && this.#queue.length > 0 && !this.#bindRunning) {
      const next = this.#queue[0] as LdapMessage;
      if (next.op.kind === 'BindRequest' && this.#running > 0) return;
      this.#queue.shift();
      if (next.op.kind === 'ExtendedRequest' && next.op.requestName === Oid.startTls) {
        this.#startTls(next);
        continue;
      }
      this.#start(next);
    }
  }

  #start(msg: LdapMessage): void {
    const finalKind = FINAL_RESPONSE[msg.op.kind] as FinalKind;
    const operation = new Operation(this, msg, finalKind);
    this.#ops.set(msg.messageID, operation);
    this.#running++;
    if (operation.isBind) this.#bindRunning = true;
    let result: Promise<void>;
    try {
      result = this.#handler.handle(msg, this, operation);
    } catch (err) {
      result = Promise.reject(err);
    }
    result.then(
      () => this.#settle(operation, undefined, false),
      (err: unknown) => this.#settle(operation, err, true),
    );
  }

  #settle(operation: Operation, err: unknown, failed: boolean): void {
    this.#running--;
    if (this.#ops.get(operation.messageID) === operation) this.#ops.delete(operation.messageID);
    if (operation.isBind) this.#bindRunning = false;
    if (!operation.aborted && this.#state !== 'closed') {
      if (failed) {
        if (err instanceof LdapResultError) {
          if (!operation.finished) operation.done(err.resultCode, { diagnosticMessage: err.message });
        } else {
          this.#log.error(
            { conn: this.id, client: this.peer.address, messageID: operation.messageID, err: errorSummary(err) },
            'LDAP handler failed',
          );
          if (!operation.finished) operation.done(ResultCode.operationsError, { diagnosticMessage: 'internal error' });
        }
      } else if (!operation.finished) {
        this.#log.warn(
          { conn: this.id, client: this.peer.address, messageID: operation.messageID },
          'LDAP handler returned without a response',
        );
        operation.done(ResultCode.operationsError, { diagnosticMessage: 'internal error' });
      }
    }
    if (this.#state === 'open') {
      if (this.#running === 0 && this.#queue.length === 0) this.#idleTimer?.refresh();
      this.#dispatch();
      this.#pump();
    } else if (this.#state === 'closing' && this.#drainAfterOps && this.#running === 0) {
      this.#finishClose();
    }
  }

  #abandon(target: number): void {
    const index = this.#queue.findIndex((m) => m.messageID === target);
    if (index >= 0) {
      const queued = this.#queue[index] as LdapMessage;
      // Bind and StartTLS cannot be abandoned (RFC 4511 4.11).
      if (queued.op.kind === 'BindRequest' || queued.op.kind === 'ExtendedRequest' && queued.op.requestName === Oid.startTls) return;
      this.#queue.splice(index, 1);
      this.#dispatch();
      return;
    }
    const operation = this.#ops.get(target);
    if (operation === undefined || operation.isBind) return;
    this.#ops.delete(target);
    operation.abort(new AbandonedError('abandoned'));
  }

  // --- StartTLS ---

  #startTls(msg: LdapMessage): void {
    const refuse = (resultCode: number, diagnosticMessage: string): void => {
      // Never rejects; over the write limit, reading is already paused until the client drains.
      void this.writeResponse(
        encodeMessage({ messageID: msg.messageID, op: buildFinal('ExtendedResponse', resultCode, { diagnosticMessage }), controls: [] }),
      );
    };
    // RFC 4511 4.14.1/4.14.2: no outstanding operations, no TLS layer already, nothing sent after the request.
    if (this.#running > 0 || this.#queue.length > 0 || this.#reader.buffered > 0) {
      refuse(ResultCode.operationsError, 'operations are outstanding');
      return;
    }
    if (this.#tls.secure || this.#stream instanceof tls.TLSSocket) {
      refuse(ResultCode.operationsError, 'TLS is already established');
      return;
    }
    if (this.#selectCertificate === undefined) {
      refuse(ResultCode.protocolError, 'StartTLS is not supported');
      return;
    }
    try {
      this.#selectCertificate(undefined);
    } catch (err) {
      this.#log.warn({ conn: this.id, err: errorSummary(err) }, 'LDAP StartTLS: no certificate');
      refuse(ResultCode.unavailable, 'TLS is not available');
      return;
    }
    this.#upgrading = true;
    const response = encodeMessage({
      messageID: msg.messageID,
      op: { kind: 'ExtendedResponse', resultCode: ResultCode.success, matchedDN: '', diagnosticMessage: '', responseName: Oid.startTls },
      controls: [],
    });
    this.#uncork();
    // Wrap only once the response is handed to the socket, so it goes out in clear text before any TLS record.
    this.#stream.write(response, (err) => {
      if (err !== undefined && err !== null) {
        this.destroy('socket_error');
        return;
      }
      if (this.#state === 'open') this.#wrapTls();
    });
  }

  #wrapTls(): void {
    const select = this.#selectCertificate as SelectCertificate;
    const raw = this.#stream;
    this.#detach(raw);
    raw.pause();
    // Bytes that arrived after our response (the ClientHello) go back in front of the stream for TLS to read.
    if (this.#stash.length > 0) raw.unshift(Buffer.concat(this.#stash));
    this.#stash = [];
    this.#stashBytes = 0;
    let secure: tls.TLSSocket;
    try {
      secure = new tls.TLSSocket(raw, {
        isServer: true,
        secureContext: select(undefined),
        SNICallback: (servername, callback) => {
          try {
            callback(null, select(servername));
          } catch (err) {
            callback(err instanceof Error ? err : new Error('certificate selection failed'));
          }
        },
        requestCert: false,
      });
    } catch (err) {
      this.#log.warn({ conn: this.id, err: errorSummary(err) }, 'LDAP TLS setup failed');
      this.#stream = raw;
      raw.on('close', this.#onClose);
      this.destroy('tls_setup');
      return;
    }
    // The raw stream now belongs to the TLS socket; an error on it must still end us.
    raw.on('error', this.#onError);
    this.#rawStream = raw;
    this.#stream = secure;
    this.#attach(secure);
    this.#handshakeTimer = this.#timers.setTimeout(() => {
      this.#log.debug({ conn: this.id, client: this.peer.address }, 'LDAP TLS handshake timed out');
      this.#hook(() => this.#hooks.protocolError?.('tls'));
      this.destroy('tls_timeout');
    }, this.#handshakeTimeoutMs);
    secure.once('secure', () => {
      this.#handshakeTimer?.cancel();
      const protocol = secure.getProtocol();
      if (!isAcceptedTlsProtocol(protocol)) {
        this.#hook(() => this.#hooks.protocolError?.('tls'));
        this.destroy('tls_protocol');
        return;
      }
      const servername = typeof secure.servername === 'string' ? secure.servername : undefined;
      this.#tls = Object.freeze({ secure: true, protocol: protocol ?? undefined, servername });
      this.#log.debug({ conn: this.id, client: this.peer.address, protocol, servername }, 'LDAP TLS established');
    });
    secure.on('error', () => {
      if (!this.#tls.secure) this.#hook(() => this.#hooks.protocolError?.('tls'));
    });
    this.#upgrading = false;
    if (this.#writeBlocked) {
      // Everything written before the upgrade was flushed (the StartTLS response callback came after it).
      this.#writeBlocked = false;
      this.#releaseDrain();
    }
    this.#updateReading();
  }

  // --- output ---

  /** Writes response bytes; undefined while below the write limit, else a promise resolved on drain or close. */
  writeResponse(bytes: Uint8Array): Promise<void> | undefined {
    const stream = this.#stream;
    if (this.#state === 'closed' || stream.destroyed || stream.writableEnded) return undefined;
    if (!this.#corked) {
      // Everything this connection writes until the microtask queue has drained (the handler's await chain)
      // leaves in one writev: an entry and its SearchResultDone in one segment, not two. A plain nextTick would
      // run before those microtasks; setImmediate would hold every connection's answer until all reads of the
      // loop turn are handled, so clients would wait on each other.
      this.#corked = true;
      stream.cork();
      queueMicrotask(this.#uncorkAfterMicrotasks);
    }
    stream.write(bytes);
    if (stream.writableNeedDrain && stream.writableLength >= this.#maxWriteBuffer) {
      if (!this.#writeBlocked) {
        this.#writeBlocked = true;
        this.#updateReading();
      }
      return this.#drainPromise();
    }
    return undefined;
  }

  writeReady(): Promise<void> | undefined {
    return this.#writeBlocked && this.#state !== 'closed' ? this.#drainPromise() : undefined;
  }

  /** A tick queued from a microtask runs once the microtask queue is empty. */
  readonly #uncorkAfterMicrotasks = (): void => {
    process.nextTick(this.#uncork);
  };

  readonly #uncork = (): void => {
    if (!this.#corked) return;
    this.#corked = false;
    this.#stream.uncork();
  };

  #drainPromise(): Promise<void> {
    if (this.#drain === undefined) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => {
        resolve = r;
      });
      this.#drain = { promise, resolve };
    }
    return this.#drain.promise;
  }

  readonly #onDrain = (): void => {
    if (!this.#writeBlocked) return;
    this.#writeBlocked = false;
    this.#releaseDrain();
    if (this.#state === 'open') this.#pump();
  };

  #releaseDrain(): void {
    const drain = this.#drain;
    this.#drain = undefined;
    drain?.resolve();
  }

  /** Reads while requests may be accepted and the socket is not over its write limit. */
  #updateReading(): void {
    const stream = this.#stream;
    const want =
      this.#state !== 'open' ||
      this.#upgrading ||
      (!this.#writeBlocked && this.#queue.length + this.#running < this.#maxPending);
    if (want) {
      if (stream.isPaused()) stream.resume();
    } else if (!stream.isPaused()) {
      stream.pause();
    }
  }

  // --- closing ---

  #protocolFailure(kind: 'framing' | 'decode', err: unknown): void {
    this.#log.debug({ conn: this.id, client: this.peer.address, err: errorSummary(err) }, 'LDAP protocol error');
    this.#hook(() => this.#hooks.protocolError?.(kind));
    const message = err instanceof Error ? err.message : 'protocol error';
    this.#beginClose('protocol_error', noticeOfDisconnection(ResultCode.protocolError, message), true);
  }

  #beginClose(reason: string, notice: Buffer | undefined, abortOps: boolean): void {
    if (this.#state !== 'open') {
      // A graceful shutdown may be hurried by a later abortive close.
      if (this.#state === 'closing' && abortOps && this.#drainAfterOps) {
        this.#abortAll(reason);
        this.#finishClose();
      }
      return;
    }
    this.#state = 'closing';
    this.#closeReason = reason;
    this.#pendingNotice = notice;
    this.#queue.length = 0;
    this.#idleTimer?.cancel();
    this.#lifetimeTimer?.cancel();
    // Keep reading (and discarding) so the peer is not answered with a reset while our last bytes are in flight.
    this.#updateReading();
    if (abortOps || this.#running === 0) {
      this.#abortAll(reason);
      this.#finishClose();
    } else {
      this.#drainAfterOps = true;
    }
  }

  #finishClose(): void {
    this.#drainAfterOps = false;
    const stream = this.#stream;
    const notice = this.#pendingNotice;
    this.#pendingNotice = undefined;
    if (this.#upgrading) {
      // Mid-StartTLS there is no layer to speak on any more.
      this.destroy(this.#closeReason);
      return;
    }
    if (!stream.destroyed && !stream.writableEnded) {
      if (notice !== undefined) stream.write(notice);
      this.#uncork();
      stream.end();
    }
    this.#lingerTimer = this.#timers.setTimeout(() => this.destroy(this.#closeReason), this.#lingerMs);
  }

  #abortAll(reason: string): void {
    const error = new AbandonedError(reason);
    for (const operation of this.#ops.values()) operation.abort(error);
    this.#ops.clear();
  }

  #onIdle(): void {
    if (this.#state !== 'open') return;
    if (this.#running > 0 || this.#queue.length > 0) {
      this.#idleTimer?.refresh();
      return;
    }
    this.#log.debug({ conn: this.id, client: this.peer.address }, 'LDAP connection idle, closing');
    this.#beginClose('idle', undefined, true);
  }

  #finalize(): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    if (this.#closeReason === '') this.#closeReason = 'closed';
    this.#queue.length = 0;
    this.#abortAll(this.#closeReason);
    this.#idleTimer?.cancel();
    this.#lifetimeTimer?.cancel();
    this.#lingerTimer?.cancel();
    this.#handshakeTimer?.cancel();
    this.#stash = [];
    this.#writeBlocked = false;
    this.#releaseDrain();
    if (!this.#stream.destroyed) this.#stream.destroy();
    if (this.#rawStream !== undefined && !this.#rawStream.destroyed) this.#rawStream.destroy();
    this.#hook(() => this.#hooks.connectionsOpen?.(-1));
    try {
      this.#handler.onClose?.(this);
    } catch (err) {
      this.#log.error({ conn: this.id, err: errorSummary(err) }, 'LDAP handler onClose failed');
    }
    this.#log.debug({ conn: this.id, client: this.peer.address, reason: this.#closeReason }, 'LDAP connection closed');
    try {
      this.#onClosed?.(this);
    } finally {
      this.#resolveClosed();
    }
  }

  #hook(call: () => void): void {
    try {
      call();
    } catch {
      // Metrics must never break a connection.
    }
  }
}

/** The reason an operation's signal carries when it was abandoned or its connection went away. */
export class AbandonedError extends Error {
  constructor(reason: string) {
    super(`LDAP operation abandoned: ${reason}`);
    this.name = 'AbortError';
  }
}

/** Error fields for logs: name, code and message only (no stack of user data). */
function errorSummary(err: unknown): { name: string; message: string; code?: string; stack?: string } {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return { name: err.name, message: err.message, ...(typeof code === 'string' ? { code } : {}), ...(err.stack ? { stack: err.stack } : {}) };
  }
  return { name: 'unknown', message: String(err) };
}
