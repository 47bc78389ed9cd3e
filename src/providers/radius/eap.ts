/**
 * EAP over RADIUS (RFC 3579) for the TLS-based methods: EAP-TTLS with inner PAP (RFC 5281), PEAPv0 with inner
 * EAP-GTC and the Result TLV (MS-PEAP), and EAP-TLS (RFC 5216, RFC 9190). Each conversation is tied together by
 * the State attribute and held in a bounded map with an idle expiry. The inner password (TTLS, PEAP) or the
 * client certificate (EAP-TLS) goes through the same flow function as PAP. EAP-MD5 and MSCHAPv2 are never
 * offered: they need the cleartext or NT password, which the core never reveals; a peer asking for them gets
 * our methods proposed instead (or a failure when it has none of them).
 */
import { Buffer } from 'node:buffer';
import type { SecureContext } from 'node:tls';
import { RADIUS_LIMITS } from '../../config/limits.js';
import {
  DEFAULT_FRAGMENT_BYTES,
  EapCode,
  EapDecodeError,
  EapType,
  TlsReassembler,
  compressInnerEap,
  decodeAvps,
  decodeEapResponse,
  decodeTlsPayload,
  decompressInnerEap,
  deriveEapKeys,
  eapFailure,
  eapRequest,
  eapSuccess,
  fragmentBytesFor,
  fragmentTlsMessage,
  gtcResponseOf,
  identityOf,
  isTlsAck,
  nakTypes,
  peapResultOf,
  peapResultRequest,
  tlsAckPayload,
  tlsStartPayload,
  ttlsPapCredentials,
  type EapRequestResponse,
  type TlsMethod,
} from '../../protocol/eap/index.js';
import type { RadiusAttribute } from '../../protocol/radius/index.js';
import { EapTlsEngine, type TlsFlight } from './eap-tls-engine.js';
import type { RadiusRejectReason } from './handler.js';

/** Why an EAP conversation ended in a failure, beyond the flow's and the access check's reasons. */
export type EapRejectReason =
  | 'eap_no_identity'
  | 'eap_no_certificate'
  | 'eap_too_many_conversations'
  | 'eap_unknown_state'
  | 'eap_too_many_rounds'
  | 'eap_no_common_method'
  | 'eap_unexpected_type'
  | 'eap_tls_failed'
  | 'eap_no_client_certificate'
  | 'eap_peap_result_failure';

/** What the flow and the access check decided (the handler's shared function). */
export type EapAuthOutcome = { accepted: true; attributes: readonly RadiusAttribute[] } | { accepted: false; reason: RadiusRejectReason };

export interface EapCredentials {
  readonly username: string;
  /** The inner password (TTLS/PAP, PEAP/GTC); absent for EAP-TLS. */
  readonly password?: string;
  /** EAP-TLS: the client's leaf certificate. */
  readonly clientCertificatePem?: string;
}

export type EapAnswer =
  | { kind: 'challenge'; eap: Buffer; state: Buffer }
  | { kind: 'accept'; eap: Buffer; state: Buffer; msk: Buffer; attributes: readonly RadiusAttribute[]; username: string }
  | { kind: 'reject'; eap: Buffer; reason: RadiusRejectReason; username: string | undefined }
  /** A response that does not belong to the conversation (RFC 3748 section 4.1: silently discarded). */
  | { kind: 'discard' };

const METHOD_TYPE: Readonly<Record<TlsMethod, number>> = { ttls: EapType.Ttls, peap: EapType.Peap, tls: EapType.Tls };
/** Offered in this order; a Nak picks the first of these the peer lists. */
const METHODS: readonly TlsMethod[] = ['ttls', 'peap', 'tls'];
const TLS13_SUCCESS_INDICATION = Buffer.from([0]);

type PeapStage = 'identity' | 'gtc' | 'result';

interface Conversation {
  readonly state: Buffer;
  readonly provider: number;
  readonly identity: string;
  method: TlsMethod;
  nakAllowed: boolean;
  engine: EapTlsEngine | undefined;
  readonly reassembler: TlsReassembler;
  /** Fragments of the current flight not sent yet. */
  outgoing: Buffer[];
  /** The last request sent and the identifier an answer to it carries. */
  lastRequest: Buffer;
  rounds: number;
  touched: number;
  /** Requests of one conversation run one after the other. */
  queue: Promise<unknown>;
  peap: { stage: PeapStage | undefined; innerId: number; username: string | undefined; outcome: EapAuthOutcome | undefined };
  /** EAP-TLS: the flow's decision, taken when the handshake completes. */
  tlsOutcome: EapAuthOutcome | undefined;
}

export interface EapRequestInput {
  readonly provider: number;
  readonly context: SecureContext | undefined;
  readonly eap: Buffer;
  readonly state: Buffer | undefined;
  readonly framedMtu: number | undefined;
  readonly authenticate: (credentials: EapCredentials) => Promise<EapAuthOutcome>;
  readonly newState: () => Buffer;
}

/** Outcome of one step inside a conversation: a request to send, or the end. */
type End = { end: EapAuthOutcome; username: string | undefined };
type Step = { request: Buffer } | End;
/** Plaintext for the tunnel (none: send only what TLS itself wrote), or the end. */
type TunnelStep = { send: Buffer | undefined } | End;

export class EapServer {
  readonly #conversations = new Map<string, Conversation>();
  readonly #maxConversations: number;
  readonly #idleMs: number;
  readonly #now: () => number;

  constructor(options: { maxConversations?: number; idleMs?: number; now?: () => number } = {}) {
    this.#maxConversations = options.maxConversations ?? RADIUS_LIMITS.eapConversations;
    this.#idleMs = options.idleMs ?? RADIUS_LIMITS.eapIdleMs;
    this.#now = options.now ?? Date.now;
  }

  get size(): number {
    return this.#conversations.size;
  }

  async handle(input: EapRequestInput): Promise<EapAnswer> {
    this.#sweep();
    let response: EapRequestResponse;
    try {
      response = decodeEapResponse(input.eap);
    } catch (err) {
      if (!(err instanceof EapDecodeError)) throw err;
      return { kind: 'reject', eap: eapFailure(input.eap.length > 1 ? input.eap[1]! : 0), reason: 'invalid_request', username: undefined };
    }
    if (input.state === undefined) return this.#begin(input, response);
    const key = input.state.toString('hex');
    const conversation = this.#conversations.get(key);
    if (conversation === undefined || conversation.provider !== input.provider) {
      return { kind: 'reject', eap: eapFailure(response.identifier), reason: 'eap_unknown_state', username: undefined };
    }
    const run = conversation.queue.then(() => this.#continue(conversation, input, response));
    conversation.queue = run.catch(() => undefined);
    return run;
  }

  /** Drops every conversation (the module stops). */
  clear(): void {
    for (const conversation of this.#conversations.values()) conversation.engine?.destroy();
    this.#conversations.clear();
  }

  #begin(input: EapRequestInput, response: EapRequestResponse): EapAnswer {
    const failure = (reason: RadiusRejectReason, username?: string): EapAnswer => ({ kind: 'reject', eap: eapFailure(response.identifier), reason, username });
    if (response.type !== EapType.Identity) return failure('eap_no_identity');
    let identity: string;
    try {
      identity = identityOf(response);
    } catch {
      return failure('invalid_request');
    }
    if (input.context === undefined) return failure('eap_no_certificate', identity);
    if (this.#conversations.size >= this.#maxConversations) return failure('eap_too_many_conversations', identity);
    const state = input.newState();
    const identifier = nextId(response.identifier);
    const conversation: Conversation = {
      state,
      provider: input.provider,
      identity,
      method: METHODS[0]!,
      nakAllowed: true,
      engine: undefined,
      reassembler: new TlsReassembler(),
      outgoing: [],
      lastRequest: eapRequest(identifier, METHOD_TYPE[METHODS[0]!], tlsStartPayload()),
      rounds: 0,
      touched: this.#now(),
      queue: Promise.resolve(),
      peap: { stage: undefined, innerId: 0, username: undefined, outcome: undefined },
      tlsOutcome: undefined,
    };
    this.#conversations.set(state.toString('hex'), conversation);
    return { kind: 'challenge', eap: conversation.lastRequest, state };
  }

  async #continue(conversation: Conversation, input: EapRequestInput, response: EapRequestResponse): Promise<EapAnswer> {
    const key = conversation.state.toString('hex');
    const lastId = conversation.lastRequest[1]!;
    // A request queued behind the one that ended the conversation, or not answering our last request.
    if (this.#conversations.get(key) !== conversation || response.identifier !== lastId) return { kind: 'discard' };
    conversation.touched = this.#now();
    let step: Step;
    try {
      conversation.rounds += 1;
      step = conversation.rounds > RADIUS_LIMITS.eapMaxRounds ? end(conversation, 'eap_too_many_rounds') : await this.#step(conversation, input, response);
    } catch (err) {
      step = end(conversation, err instanceof EapDecodeError ? 'invalid_request' : 'eap_tls_failed');
    }
    if ('request' in step) {
      conversation.lastRequest = step.request;
      // Moved to the end: the map stays in order of last use for the sweep.
      this.#conversations.delete(key);
      this.#conversations.set(key, conversation);
      return { kind: 'challenge', eap: step.request, state: conversation.state };
    }
    this.#conversations.delete(key);
    const engine = conversation.engine;
    const username = step.username;
    try {
      if (!step.end.accepted || engine === undefined) {
        return { kind: 'reject', eap: eapFailure(response.identifier), reason: step.end.accepted ? 'eap_tls_failed' : step.end.reason, username };
      }
      const { msk } = deriveEapKeys(conversation.method, engine.session);
      return { kind: 'accept', eap: eapSuccess(response.identifier), state: conversation.state, msk, attributes: step.end.attributes, username: username ?? conversation.identity };
    } finally {
      engine?.destroy();
    }
  }

  async #step(conversation: Conversation, input: EapRequestInput, response: EapRequestResponse): Promise<Step> {
    const identifier = nextId(response.identifier);
    const type = METHOD_TYPE[conversation.method];
    if (response.type === EapType.Nak && conversation.nakAllowed) {
      const wanted = nakTypes(response);
      const next = METHODS.find((m) => m !== conversation.method && wanted.includes(METHOD_TYPE[m]));
      if (next === undefined) return end(conversation, 'eap_no_common_method');
      conversation.method = next;
      conversation.nakAllowed = false;
      return { request: eapRequest(identifier, METHOD_TYPE[next], tlsStartPayload()) };
    }
    if (response.type !== type) return end(conversation, 'eap_unexpected_type');
    conversation.nakAllowed = false;
    const payload = decodeTlsPayload(response.data);
    const framing = (data: Buffer): Buffer => eapRequest(identifier, type, data);
    const fragmentBytes = fragmentBytesFor(DEFAULT_FRAGMENT_BYTES, input.framedMtu);
    if (conversation.outgoing.length > 0) {
      if (!isTlsAck(payload)) throw new EapDecodeError('fragment', 'expected an acknowledgement of our fragment');
      return { request: framing(conversation.outgoing.shift()!) };
    }
    let message: Buffer;
    if (isTlsAck(payload) && !conversation.reassembler.inProgress) {
      message = Buffer.alloc(0);
    } else {
      const result = conversation.reassembler.push(response.identifier, payload);
      if (result.status === 'more') return { request: framing(tlsAckPayload()) };
      if (result.status === 'duplicate') return { request: conversation.lastRequest };
      message = result.message;
    }
    if (input.context === undefined) return end(conversation, 'eap_no_certificate');
    conversation.engine ??= new EapTlsEngine(input.context, { requestCert: conversation.method === 'tls' });
    const engine = conversation.engine;
    const flight = await engine.feed(message);
    let records = flight.records;
    if (engine.established) {
      const tunnel = await this.#tunnel(conversation, input, flight);
      if ('end' in tunnel) return tunnel;
      if (tunnel.send !== undefined) records = Buffer.concat([records, (await engine.send(tunnel.send)).records]);
    }
    if (records.length === 0) return end(conversation, 'eap_tls_failed');
    const [first, ...rest] = fragmentTlsMessage(records, fragmentBytes);
    conversation.outgoing = rest;
    return { request: framing(first!) };
  }

  /** After the handshake: the inner method. Returns data to send in the tunnel, or the end. */
  async #tunnel(conversation: Conversation, input: EapRequestInput, flight: TlsFlight): Promise<TunnelStep> {
    const engine = conversation.engine!;
    const plaintext = flight.plaintext;
    switch (conversation.method) {
      case 'ttls': {
        if (plaintext.length === 0) return { send: undefined };
        const credentials = ttlsPapCredentials(decodeAvps(plaintext));
        if (credentials === undefined) return end(conversation, 'unsupported_authentication');
        const outcome = await input.authenticate({ username: credentials.userName, password: credentials.password.toString('utf8') });
        return { end: outcome, username: credentials.userName };
      }
      case 'tls': {
        if (conversation.tlsOutcome !== undefined) return { end: conversation.tlsOutcome, username: conversation.identity };
        const clientCertificatePem = engine.peerCertificatePem();
        if (clientCertificatePem === undefined) return end(conversation, 'eap_no_client_certificate');
        const outcome = await input.authenticate({ username: conversation.identity, clientCertificatePem });
        if (!outcome.accepted) return { end: outcome, username: conversation.identity };
        conversation.tlsOutcome = outcome;
        // RFC 9190 section 2.5: with TLS 1.3 the server confirms the end of the handshake with one octet 0x00.
        return { send: engine.session.getProtocol() === 'TLSv1.3' ? TLS13_SUCCESS_INDICATION : undefined };
      }
      case 'peap':
        return this.#peap(conversation, input, flight);
    }
  }

  async #peap(conversation: Conversation, input: EapRequestInput, flight: TlsFlight): Promise<TunnelStep> {
    const peap = conversation.peap;
    const plaintext = flight.plaintext;
    const innerRequest = (type: number, data: Buffer): Buffer => {
      peap.innerId = nextId(peap.innerId);
      return compressInnerEap({ code: EapCode.Request, identifier: peap.innerId, type, data });
    };
    if (peap.stage === undefined) {
      if (plaintext.length > 0) return end(conversation, 'invalid_request');
      // The end of the handshake goes alone: wpa_supplicant misreads phase 2 data in the Finished message.
      if (flight.records.length > 0) return { send: undefined };
      peap.stage = 'identity';
      return { send: innerRequest(EapType.Identity, Buffer.alloc(0)) };
    }
    if (plaintext.length === 0) return { send: undefined };
    if (peap.stage === 'result') {
      const confirmed = peapResultOf(plaintext) === 'success';
      const outcome = peap.outcome!;
      return { end: confirmed || !outcome.accepted ? outcome : { accepted: false, reason: 'eap_peap_result_failure' }, username: peap.username };
    }
    const inner = decompressInnerEap(plaintext, { code: EapCode.Response, identifier: peap.innerId });
    if (peap.stage === 'identity') {
      if (inner.type !== EapType.Identity) return end(conversation, 'eap_unexpected_type');
      peap.username = identityOf(inner);
      peap.stage = 'gtc';
      return { send: innerRequest(EapType.Gtc, Buffer.from('Password: ', 'utf8')) };
    }
    // A Nak of GTC (MSCHAPv2 wanted) ends here: no other inner method can reach the flow.
    if (inner.type !== EapType.Gtc) return end(conversation, 'unsupported_authentication', peap.username);
    const outcome = await input.authenticate({ username: peap.username ?? conversation.identity, password: gtcResponseOf(inner).toString('utf8') });
    peap.outcome = outcome;
    peap.stage = 'result';
    peap.innerId = nextId(peap.innerId);
    return { send: peapResultRequest(peap.innerId, outcome.accepted) };
  }

  /** Drops idle conversations (the map is in order of last use). */
  #sweep(): void {
    const oldest = this.#now() - this.#idleMs;
    for (const [key, conversation] of this.#conversations) {
      if (conversation.touched > oldest) break;
      conversation.engine?.destroy();
      this.#conversations.delete(key);
    }
  }
}

function end(conversation: Conversation, reason: RadiusRejectReason, username?: string): End {
  return { end: { accepted: false, reason }, username: username ?? conversation.identity };
}

function nextId(identifier: number): number {
  return (identifier + 1) & 0xff;
}
