/**
 * RADIUS listener: UDP sockets for authentication and accounting, and the intake every datagram passes before a
 * handler sees it: size, the client (shared secret) by source address, decoding, the code the port serves, the
 * Request Authenticator of Accounting-Request, the Message-Authenticator policy, retransmissions, and the cap on
 * requests in progress. Anything refused is dropped without an answer (the NAS times out), counted by reason.
 * Status-Server is answered here (RFC 5997): it needs nothing but the secret. With several workers, an
 * Access-Request whose State another worker issued is routed to that worker after the intake (routing.ts).
 */
import type { Buffer } from 'node:buffer';
import dgram from 'node:dgram';
import { isIP } from 'node:net';
import type { MessageAuthenticatorPolicy } from '../../config/env.js';
import { RADIUS_LIMITS } from '../../config/limits.js';
import type { Logger } from '../../observability/log.js';
import {
  Attr,
  Code,
  checkMessageAuthenticator,
  codeName,
  decodePacket,
  getAttribute,
  verifyRequestAuthenticator,
  type RadiusPacket,
  type RadiusService,
  type Secret,
  statusServerReply,
} from '../../protocol/radius/index.js';
import type { ClientTable } from './clients.js';
import { DuplicateCache, requestKey, type Answer } from './duplicates.js';
import { forwardTarget, type ForwardedDatagram, type ForwardPath, type RadiusRouting } from './routing.js';

export interface RadiusClient {
  readonly secret: Secret;
}

export interface RadiusSource {
  /** IPv4 in dotted form also when it arrived on a dual-stack IPv6 socket. */
  readonly address: string;
  readonly port: number;
}

export interface RadiusRequest<T extends RadiusClient> {
  readonly service: RadiusService;
  readonly source: RadiusSource;
  /** The client whose network the source is in; its secret verified the packet. */
  readonly client: T;
  readonly packet: RadiusPacket;
}

export interface RadiusHandler<T extends RadiusClient> {
  /**
   * The signed answer to an Access-Request or Accounting-Request, or undefined for none; a plain value when it
   * needs no I/O (the listener then sends it at once, without a promise). Never rejects.
   */
  handle(request: RadiusRequest<T>): Answer | Promise<Answer>;
}

export type RadiusDropReason =
  | 'oversize'
  | 'unknown_client'
  | 'malformed'
  | 'unsupported_code'
  | 'bad_request_authenticator'
  | 'bad_message_authenticator'
  | 'missing_message_authenticator'
  | 'overload'
  /** Routing to the worker holding the conversation failed: too many routed datagrams in flight. */
  | 'forward_overload';

export interface RadiusListenerOptions<T extends RadiusClient> {
  handler: RadiusHandler<T>;
  /** The current clients (replaced at each refresh). */
  clients: () => ClientTable<T>;
  requireMessageAuthenticator: MessageAuthenticatorPolicy;
  logger: Logger;
  onDrop?: (reason: RadiusDropReason, service: RadiusService) => void;
  /** AUTHENTIK_WORKERS > 1: the channel to the sibling workers. */
  routing?: RadiusRouting;
  /** A datagram was routed to the worker owning it, by the path it took. */
  onForward?: (service: RadiusService, path: ForwardPath) => void;
  maxInProgress?: number;
  duplicateCacheMs?: number;
  duplicateCacheEntries?: number;
}

export interface BoundRadiusSocket {
  readonly service: RadiusService;
  readonly address: string;
  readonly port: number;
}

/** The codes each port serves; Status-Server on both (RFC 5997 section 3). */
const SERVED: Readonly<Record<RadiusService, ReadonlySet<number>>> = {
  authentication: new Set([Code.AccessRequest, Code.StatusServer]),
  accounting: new Set([Code.AccountingRequest, Code.StatusServer]),
};

const MAPPED_V4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i;

interface ServiceSocket {
  readonly socket: dgram.Socket;
  readonly service: RadiusService;
}

interface Peer {
  readonly address: string;
  readonly port: number;
}

export class RadiusListener<T extends RadiusClient> {
  readonly #options: RadiusListenerOptions<T>;
  readonly #log: Logger;
  readonly #maxInProgress: number;
  readonly #duplicates: DuplicateCache;
  /** Addresses that sent a valid Message-Authenticator (policy 'auto'), oldest first. */
  readonly #maClients = new Set<string>();
  /** In listen order: a routed datagram names its socket by index. */
  readonly #sockets: ServiceSocket[] = [];
  readonly #unsubscribeRouting: (() => void) | undefined;
  readonly #bound: BoundRadiusSocket[] = [];
  readonly #warned = new Set<string>();
  #warnedFor: ClientTable<T> | undefined;
  #inProgress = 0;
  #closed = false;

  constructor(options: RadiusListenerOptions<T>) {
    this.#options = options;
    this.#log = options.logger;
    this.#maxInProgress = options.maxInProgress ?? RADIUS_LIMITS.maxRequestsInProgress;
    this.#duplicates = new DuplicateCache({
      ttlMs: options.duplicateCacheMs ?? RADIUS_LIMITS.duplicateCacheMs,
      maxEntries: options.duplicateCacheEntries ?? RADIUS_LIMITS.duplicateCacheEntries,
    });
    const routing = options.routing;
    if (routing === undefined) {
      this.#unsubscribeRouting = undefined;
    } else {
      const unsubscribeDatagrams = routing.subscribe((routed) => this.#receiveRouted(routed));
      const unsubscribeMaClients = routing.subscribeMaClients((address) => this.#rememberMaClient(address, false));
      this.#unsubscribeRouting = () => {
        unsubscribeDatagrams();
        unsubscribeMaClients();
      };
    }
  }

  get boundSockets(): readonly BoundRadiusSocket[] {
    return this.#bound;
  }

  get inProgress(): number {
    return this.#inProgress;
  }

  /** Binds one UDP socket: udp6 for an IPv6 host or every interface (''), dual-stack; udp4 otherwise. */
  async listen(host: string, port: number, service: RadiusService): Promise<BoundRadiusSocket> {
    const v6 = host === '' || isIP(host) === 6;
    const socket = dgram.createSocket({ type: v6 ? 'udp6' : 'udp4', ipv6Only: false, recvBufferSize: RADIUS_LIMITS.receiveBufferBytes });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', (err) => {
        socket.close();
        reject(err);
      });
      socket.bind({ address: host === '' ? '::' : host, port }, () => {
        socket.removeAllListeners('error');
        resolve();
      });
    });
    socket.on('error', (err) => this.#log.error({ err: { name: err.name, message: err.message } }, 'RADIUS socket error'));
    const index = this.#sockets.length;
    socket.on('message', (datagram, rinfo) => this.#receive(index, datagram, rinfo, false));
    this.#sockets.push({ socket, service });
    const address = socket.address();
    const bound = { service, address: address.address, port: address.port };
    this.#bound.push(bound);
    return bound;
  }

  /** Stops reading; answers still being computed are not sent. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#unsubscribeRouting?.();
    await Promise.all(this.#sockets.map(({ socket }) => new Promise<void>((resolve) => socket.close(() => resolve()))));
    this.#sockets.length = 0;
  }

  #drop(reason: RadiusDropReason, service: RadiusService): void {
    this.#options.onDrop?.(reason, service);
  }

  /** A datagram another worker received for a conversation of this one: the same intake, never routed again. */
  #receiveRouted(routed: ForwardedDatagram): void {
    if (routed.socket >= this.#sockets.length) return;
    this.#receive(routed.socket, routed.datagram, routed, true);
  }

  #receive(index: number, datagram: Buffer, rinfo: Peer, routed: boolean): void {
    const { socket, service } = this.#sockets[index]!;
    if (this.#closed) return;
    if (datagram.length > RADIUS_LIMITS.maxDatagramBytes) return this.#drop('oversize', service);
    const address = rinfo.address.replace(MAPPED_V4, '$1');
    const clients = this.#options.clients();
    const client = clients.match(address);
    if (client === undefined) {
      this.#warnUnknown(clients, address);
      return this.#drop('unknown_client', service);
    }
    let packet: RadiusPacket;
    try {
      packet = decodePacket(datagram);
    } catch {
      return this.#drop('malformed', service);
    }
    if (!SERVED[service].has(packet.code)) return this.#drop('unsupported_code', service);
    if (packet.code === Code.AccountingRequest && !verifyRequestAuthenticator(datagram, client.secret)) {
      return this.#drop('bad_request_authenticator', service);
    }
    const ma = checkMessageAuthenticator(datagram, client.secret);
    if (ma === 'invalid') {
      // Debug only: anyone inside a client network could otherwise flood the log; the drop metric counts them.
      this.#log.debug({ client: address, code: codeName(packet.code) }, 'Invalid message authenticator, dropped');
      return this.#drop('bad_message_authenticator', service);
    }
    // RFC 3579 section 3.3: EAP-Message requires Message-Authenticator; RFC 5997: so does Status-Server.
    const mustHaveMa =
      packet.code === Code.StatusServer ||
      (packet.code === Code.AccessRequest && (this.#requiresMa(address) || getAttribute(packet, Attr.EapMessage) !== undefined));
    if (ma === 'absent' && mustHaveMa) {
      return this.#drop('missing_message_authenticator', service);
    }
    if (ma === 'valid' && packet.code === Code.AccessRequest) this.#rememberMaClient(address, true);

    const routing = routed ? undefined : this.#options.routing;
    const owner = routing === undefined ? undefined : forwardTarget(packet, rinfo, routing.slot, routing.workers);
    if (routing !== undefined && owner !== undefined) {
      const path = routing.forward(owner, { socket: index, address: rinfo.address, port: rinfo.port, datagram });
      if (path === undefined) return this.#drop('forward_overload', service);
      this.#options.onForward?.(service, path);
      return;
    }

    const send = (answer: Answer): void => {
      if (answer !== undefined && !this.#closed) socket.send(answer, rinfo.port, rinfo.address);
    };
    // A Status-Server reply depends on the request and the secret only: a retransmission gets the same bytes uncached.
    if (packet.code === Code.StatusServer) return send(statusServerReply(packet, client.secret, service));
    const key = requestKey(address, rinfo.port, packet.identifier, packet.authenticator);
    const seen = this.#duplicates.lookup(key);
    if (seen.kind === 'pending') {
      void seen.answer.then(send, () => undefined);
      return;
    }
    if (seen.kind === 'done') return send(seen.answer);
    if (this.#inProgress >= this.#maxInProgress) return this.#drop('overload', service);
    const answer = this.#answer({ service, source: { address, port: rinfo.port }, client, packet });
    if (!(answer instanceof Promise)) {
      this.#duplicates.remember(key, answer);
      return send(answer);
    }
    this.#inProgress++;
    const settled = answer.finally(() => this.#inProgress--);
    this.#duplicates.begin(key, settled);
    void settled.then(send, () => undefined);
  }

  /** The handler's answer; a handler that throws or rejects sends none (logged). */
  #answer(request: RadiusRequest<T>): Answer | Promise<Answer> {
    const failed = (err: unknown): Answer => {
      this.#log.error({ err: err instanceof Error ? err.message : String(err) }, 'RADIUS handler failed, no answer sent');
      return undefined;
    };
    try {
      const answer = this.#options.handler.handle(request);
      return answer instanceof Promise ? answer.catch(failed) : answer;
    } catch (err) {
      return failed(err);
    }
  }

  /** One warning per unknown address per client table (a refresh starts over), at most a bounded number. */
  #warnUnknown(clients: ClientTable<T>, address: string): void {
    if (clients !== this.#warnedFor) {
      this.#warnedFor = clients;
      this.#warned.clear();
    }
    if (this.#warned.has(address) || this.#warned.size >= RADIUS_LIMITS.unknownClientWarnings) return;
    this.#warned.add(address);
    this.#log.warn({ client: address }, 'RADIUS packet from an address in no client network, dropped (warned once per address)');
  }

  #requiresMa(address: string): boolean {
    const policy = this.#options.requireMessageAuthenticator;
    return policy === 'true' || (policy === 'auto' && this.#maClients.has(address));
  }

  /** `announce`: learnt here (not from a sibling), so the other workers are told too. */
  #rememberMaClient(address: string, announce: boolean): void {
    if (this.#options.requireMessageAuthenticator !== 'auto' || this.#maClients.has(address)) return;
    if (this.#maClients.size >= RADIUS_LIMITS.messageAuthenticatorClients) {
      const oldest = this.#maClients.values().next().value;
      if (oldest !== undefined) this.#maClients.delete(oldest);
    }
    this.#maClients.add(address);
    if (announce) this.#options.routing?.announceMaClient(address);
  }
}
