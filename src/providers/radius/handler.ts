/**
 * Answers verified RADIUS requests: PAP and EAP (eap.ts) Access-Requests through the provider's authentication
 * flow and the access check, Accounting-Requests with an Accounting-Response (logged and counted, not forwarded: authentik's
 * core has no accounting API). Every failure of an Access-Request is an Access-Reject (reference §3.4, §3.8); EAP
 * round trips before the end are Access-Challenges. A PAP flow that asks for a TOTP/static code the password did
 * not carry pauses behind an Access-Challenge; the Access-Request answering it with the State continues that run.
 */
import { Buffer } from 'node:buffer';
import type { SecureContext } from 'node:tls';
import type { RadiusProviderConfig } from '../../core-api/model.js';
import type { CoreApi, FlowAttempt } from '../../core-api/port.js';
import type { RadiusClient, RadiusHandler, RadiusRequest } from '../../listeners/radius/server.js';
import type { Logger } from '../../observability/log.js';
import {
  Attr,
  Code,
  RadiusDecodeError,
  RadiusEncodeError,
  decodePacket,
  eapMessageAttributes,
  encodeResponse,
  getAttribute,
  getState,
  integerValue,
  joinEapMessage,
  mppeKeyAttributes,
  newStateValue,
  stateAttribute,
  textAttribute,
  textValue,
  unhideUserPassword,
  type RadiusAttribute,
} from '../../protocol/radius/index.js';
import { eapFailure } from '../../protocol/eap/index.js';
import { EapServer, type EapAuthOutcome, type EapCredentials, type EapRejectReason } from './eap.js';
import type { RadiusMetrics } from './metrics.js';
import { PausedRuns } from './paused-runs.js';

export const RADIUS_OUTPOST_QUERY: Readonly<Record<string, string>> = Object.freeze({ 'goauthentik.io/outpost/radius': 'true' });

/** One provider as the listener sees it: its secret picks it, its config answers. */
export interface RadiusProvider extends RadiusClient {
  readonly config: RadiusProviderConfig;
  /** TLS server context of EAP from the provider's certificate; undefined refuses EAP. */
  readonly eapContext: SecureContext | undefined;
}

/**
 * The reference's reasons (§3.8) plus ours: a request without PAP credentials or with a malformed User-Name or
 * User-Password never reaches the core, reply attributes that do not fit 4,096 octets refuse rather than send a
 * partial Accept, and an MFA challenge's answer with an unknown or expired State, another provider or User-Name,
 * or a challenge when too many runs are paused, is refused.
 */
export type RadiusRejectReason =
  | 'flow_error'
  | 'access_check_fail'
  | 'access_denied'
  | 'attribute_decode_failed'
  | 'attribute_parse_failed'
  | 'unsupported_authentication'
  | 'invalid_request'
  | 'reply_too_large'
  | 'mfa_unknown_state'
  | 'mfa_state_mismatch'
  | 'mfa_too_many_paused'
  | EapRejectReason;

export interface RadiusHandlerDeps {
  api: CoreApi;
  outpostName: () => string;
  /** Whole Access-Request: the flow and the access check. */
  timeoutMs: number;
  logger: Logger;
  metrics: RadiusMetrics;
  /** The State of a new conversation; with several workers it names this worker. By default newStateValue(). */
  newState?: () => Buffer;
}

type AccessOutcome = EapAuthOutcome;

/** An Access-Request's answer before encoding; `reason` is set for rejects only. */
interface AccessReply {
  code: typeof Code.AccessAccept | typeof Code.AccessReject | typeof Code.AccessChallenge;
  attributes: readonly RadiusAttribute[];
  username: string | undefined;
  reason: RadiusRejectReason | undefined;
  /** An EAP round trip before the end: neither logged nor timed. */
  eapRound?: true;
}

/** The Reply-Message of an MFA Access-Challenge (the NAS or VPN client shows it when asking for the code). */
export const MFA_CODE_PROMPT = 'Enter your one-time code';

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export class RadiusRequestHandler implements RadiusHandler<RadiusProvider> {
  readonly #deps: RadiusHandlerDeps;
  readonly #eapServer = new EapServer();
  readonly #pausedRuns = new PausedRuns();
  /** The one place States are made: EAP conversations and MFA challenges share their format and routing. */
  readonly #newState: () => Buffer;

  constructor(deps: RadiusHandlerDeps) {
    this.#deps = deps;
    this.#newState = deps.newState ?? (() => newStateValue());
  }

  /** Ends every EAP conversation and paused MFA run (the module stops). */
  close(): void {
    this.#eapServer.clear();
    this.#pausedRuns.clear();
  }

  handle(request: RadiusRequest<RadiusProvider>): Buffer | undefined | Promise<Buffer | undefined> {
    if (request.packet.code === Code.AccountingRequest) return this.#accounting(request);
    if (request.packet.code === Code.AccessRequest) return this.#access(request);
    return undefined;
  }

  async #access(request: RadiusRequest<RadiusProvider>): Promise<Buffer | undefined> {
    const { packet, client } = request;
    const started = performance.now();
    const outpostName = this.#deps.outpostName();
    const app = client.config.applicationSlug;
    let reply: AccessReply | undefined;
    try {
      const eap = joinEapMessage(packet);
      reply = eap === undefined ? await this.#pap(request) : await this.#eap(request, eap);
    } catch (err) {
      if (!(err instanceof RadiusDecodeError)) throw err;
      reply = { code: Code.AccessReject, attributes: [], username: undefined, reason: 'invalid_request' };
    }
    if (reply === undefined) return undefined;
    let answer = encodeReply(request, reply);
    if (answer === undefined) {
      // Only an Accept grows that large; its EAP-Success becomes an EAP-Failure with the same identifier.
      const success = reply.attributes.find((a) => a.type === Attr.EapMessage);
      const attributes = success === undefined ? [] : eapMessageAttributes(eapFailure(success.value[1] ?? 0));
      reply = { code: Code.AccessReject, attributes, username: reply.username, reason: 'reply_too_large' };
      answer = encodeResponse(packet, Code.AccessReject, attributes, client.secret);
    }
    if (reply.eapRound === true) return answer;
    if (reply.reason !== undefined) this.#deps.metrics.rejected.inc({ outpost_name: outpostName, reason: reply.reason, app });
    const tookMs = performance.now() - started;
    this.#deps.metrics.duration.observe({ outpost_name: outpostName, app }, tookMs / 1000);
    this.#deps.logger.info(
      {
        client: request.source.address,
        id: packet.identifier,
        provider: client.config.name,
        username: reply.username,
        result: reply.code === Code.AccessChallenge ? 'challenge' : reply.reason === undefined ? 'accept' : 'reject',
        ...(reply.reason === undefined ? {} : { reason: reply.reason }),
        'took-ms': Math.round(tookMs),
      },
      'Radius Request',
    );
    return answer;
  }

  async #pap(request: RadiusRequest<RadiusProvider>): Promise<AccessReply> {
    const { packet, client } = request;
    const username = userName(request);
    const hidden = getAttribute(packet, Attr.UserPassword);
    // CHAP and MS-CHAP carry no User-Password: not supported, refused without asking the core.
    if (username === undefined || hidden === undefined) return reject('unsupported_authentication', username);
    const password = unhideUserPassword(hidden, client.secret, packet.authenticator).toString('utf8');
    // Outside EAP a State comes only back from our MFA Access-Challenge: the password is the code.
    const state = getState(packet);
    if (state !== undefined) return this.#resumeWithCode(request, state, username, password);

    const attempt = this.#newAttempt(request, undefined);
    const flow = await attempt.executeOrPause(client.config.authFlowSlug, { username, password, mfaSupport: client.config.mfaSupport });
    if (!flow.passed && flow.reason === 'code_required') return this.#challengeForCode(request, attempt, username);
    return papReply(flow.passed ? await this.#checkAccess(attempt, client.config) : { accepted: false, reason: 'flow_error' }, username);
  }

  /** Pauses the run under a fresh State and asks the NAS for the code. */
  #challengeForCode(request: RadiusRequest<RadiusProvider>, attempt: FlowAttempt, username: string): AccessReply {
    const state = this.#newState();
    if (!this.#pausedRuns.add(state, { attempt, provider: request.client.config.pk, username })) return reject('mfa_too_many_paused', username);
    return { code: Code.AccessChallenge, attributes: [textAttribute(Attr.ReplyMessage, MFA_CODE_PROMPT), stateAttribute(state)], username, reason: undefined };
  }

  /** The answer to an MFA challenge: the paused run continues with the code, then the access check. */
  async #resumeWithCode(request: RadiusRequest<RadiusProvider>, state: Buffer, username: string, code: string): Promise<AccessReply> {
    const { client } = request;
    const run = this.#pausedRuns.take(state);
    if (run === undefined) return reject('mfa_unknown_state', username);
    if (run.provider !== client.config.pk || run.username !== username) return reject('mfa_state_mismatch', username);
    const flow = await run.attempt.resume(code, this.#deps.timeoutMs);
    return papReply(flow.passed ? await this.#checkAccess(run.attempt, client.config) : { accepted: false, reason: 'flow_error' }, username);
  }

  /** One EAP round trip: an Access-Challenge with the next request, or the end of the conversation. */
  async #eap(request: RadiusRequest<RadiusProvider>, eap: Buffer): Promise<AccessReply | undefined> {
    const { packet, client } = request;
    const mtu = getAttribute(packet, Attr.FramedMtu);
    const answer = await this.#eapServer.handle({
      provider: client.config.pk,
      context: client.eapContext,
      eap,
      state: getState(packet),
      framedMtu: mtu === undefined ? undefined : integerValue(mtu, 'Framed-MTU'),
      authenticate: (credentials) => this.#authorize(request, credentials),
      newState: this.#newState,
    });
    switch (answer.kind) {
      case 'discard':
        return undefined;
      case 'challenge':
        return {
          code: Code.AccessChallenge,
          attributes: [...eapMessageAttributes(answer.eap), stateAttribute(answer.state)],
          username: undefined,
          reason: undefined,
          eapRound: true,
        };
      case 'reject':
        return { ...reject(answer.reason, answer.username), attributes: eapMessageAttributes(answer.eap) };
      case 'accept':
        return {
          code: Code.AccessAccept,
          attributes: [
            ...eapMessageAttributes(answer.eap),
            ...mppeKeyAttributes(answer.msk, client.secret, packet.authenticator),
            ...answer.attributes,
            stateAttribute(answer.state),
          ],
          username: answer.username,
          reason: undefined,
        };
    }
  }

  /** EAP's path: the provider's flow with these credentials (never paused for a code), then the access check. */
  async #authorize(request: RadiusRequest<RadiusProvider>, credentials: EapCredentials): Promise<AccessOutcome> {
    const { client } = request;
    const attempt = this.#newAttempt(request, credentials.clientCertificatePem);
    const flow = await attempt.execute(client.config.authFlowSlug, {
      username: credentials.username,
      password: credentials.password ?? '',
      mfaSupport: client.config.mfaSupport,
    });
    return flow.passed ? this.#checkAccess(attempt, client.config) : { accepted: false, reason: 'flow_error' };
  }

  #newAttempt(request: RadiusRequest<RadiusProvider>, clientCertificatePem: string | undefined): FlowAttempt {
    return this.#deps.api.newFlowAttempt({
      remoteIp: request.source.address,
      innerQuery: RADIUS_OUTPOST_QUERY,
      timeoutMs: this.#deps.timeoutMs,
      ...(clientCertificatePem === undefined ? {} : { clientCertificatePem }),
    });
  }

  /** After a passed flow: the access check in the attempt's session and the reply attributes it carries. */
  async #checkAccess(attempt: FlowAttempt, provider: RadiusProviderConfig): Promise<AccessOutcome> {
    let access;
    try {
      access = await attempt.checkRadiusAccess(provider);
    } catch {
      return { accepted: false, reason: 'access_check_fail' };
    }
    if (!access.passing) return { accepted: false, reason: 'access_denied' };
    if (access.attributes === null) return { accepted: true, attributes: [] };
    // The core sends a whole RADIUS packet (pyrad's Access-Request), base64; its attributes go into the Accept.
    if (!BASE64.test(access.attributes) || access.attributes.length % 4 !== 0) return { accepted: false, reason: 'attribute_decode_failed' };
    try {
      return { accepted: true, attributes: decodePacket(Buffer.from(access.attributes, 'base64')).attributes };
    } catch {
      return { accepted: false, reason: 'attribute_parse_failed' };
    }
  }

  /**
   * Session boundaries (Start, Stop, Accounting-On/Off) are logged at info; Interim-Updates, the periodic bulk of
   * accounting, at debug (most of the log volume otherwise, and a line costs a third of the answer's CPU). All are
   * counted.
   */
  #accounting(request: RadiusRequest<RadiusProvider>): Buffer {
    const { packet, client } = request;
    const status = optionalInteger(getAttribute(packet, Attr.AcctStatusType));
    const statusName = accountingStatusName(status);
    this.#deps.metrics.accounting.inc({ outpost_name: this.#deps.outpostName(), app: client.config.applicationSlug, status: statusName });
    const log = this.#deps.logger;
    if (statusName === 'interim_update' ? log.isLevelEnabled('debug') : log.isLevelEnabled('info')) {
      const fields = {
        client: request.source.address,
        id: packet.identifier,
        provider: client.config.name,
        username: optionalText(getAttribute(packet, Attr.UserName)),
        status,
        session: optionalText(getAttribute(packet, Attr.AcctSessionId)),
      };
      if (statusName === 'interim_update') log.debug(fields, 'Radius Accounting');
      else log.info(fields, 'Radius Accounting');
    }
    return encodeResponse(packet, Code.AccountingResponse, [], client.secret);
  }
}

/** Acct-Status-Type (RFC 2866 section 5.1) as a metric label; other values are 'other', none is 'absent'. */
const ACCOUNTING_STATUS: Readonly<Record<number, string>> = { 1: 'start', 2: 'stop', 3: 'interim_update', 7: 'accounting_on', 8: 'accounting_off' };

function accountingStatusName(status: number | undefined): string {
  if (status === undefined) return 'absent';
  return ACCOUNTING_STATUS[status] ?? 'other';
}

function reject(reason: RadiusRejectReason, username: string | undefined): AccessReply {
  return { code: Code.AccessReject, attributes: [], username, reason };
}

function papReply(outcome: AccessOutcome, username: string): AccessReply {
  return outcome.accepted ? { code: Code.AccessAccept, attributes: outcome.attributes, username, reason: undefined } : reject(outcome.reason, username);
}

/** The signed reply, or undefined when its attributes do not fit one packet. */
function encodeReply(request: RadiusRequest<RadiusProvider>, reply: AccessReply): Buffer | undefined {
  try {
    return encodeResponse(request.packet, reply.code, reply.attributes, request.client.secret);
  } catch (err) {
    if (err instanceof RadiusEncodeError) return undefined;
    throw err;
  }
}

/** User-Name as text; undefined when absent or empty (throws RadiusDecodeError when not UTF-8). */
function userName(request: RadiusRequest<RadiusProvider>): string | undefined {
  const value = getAttribute(request.packet, Attr.UserName);
  if (value === undefined || value.length === 0) return undefined;
  return textValue(value, 'User-Name');
}

function optionalText(value: Buffer | undefined): string | undefined {
  if (value === undefined) return undefined;
  try {
    return textValue(value);
  } catch {
    return value.toString('hex');
  }
}

function optionalInteger(value: Buffer | undefined): number | undefined {
  if (value === undefined) return undefined;
  try {
    return integerValue(value);
  } catch {
    return undefined;
  }
}
