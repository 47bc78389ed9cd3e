/**
 * Answers verified RADIUS requests: PAP Access-Requests through the provider's authentication flow and the
 * access check, Accounting-Requests with an Accounting-Response (logged and counted, not forwarded: authentik's
 * core has no accounting API). Every failure of an Access-Request is an Access-Reject (reference §3.4, §3.8).
 */
import { Buffer } from 'node:buffer';
import type { RadiusProviderConfig } from '../../core-api/model.js';
import type { CoreApi } from '../../core-api/port.js';
import type { RadiusClient, RadiusHandler, RadiusRequest } from '../../listeners/radius/server.js';
import type { Logger } from '../../observability/log.js';
import {
  Attr,
  Code,
  RadiusDecodeError,
  RadiusEncodeError,
  decodePacket,
  encodeResponse,
  getAttribute,
  integerValue,
  textValue,
  unhideUserPassword,
  type RadiusAttribute,
} from '../../protocol/radius/index.js';
import type { RadiusMetrics } from './metrics.js';

export const RADIUS_OUTPOST_QUERY: Readonly<Record<string, string>> = Object.freeze({ 'goauthentik.io/outpost/radius': 'true' });

/** One provider as the listener sees it: its secret picks it, its config answers. */
export interface RadiusProvider extends RadiusClient {
  readonly config: RadiusProviderConfig;
}

/**
 * The reference's reasons (§3.8) plus ours: a request without PAP credentials or with a malformed User-Name or
 * User-Password never reaches the core, and reply
 * attributes that do not fit 4,096 octets refuse rather than send a partial Accept.
 */
export type RadiusRejectReason =
  | 'flow_error'
  | 'access_check_fail'
  | 'access_denied'
  | 'attribute_decode_failed'
  | 'attribute_parse_failed'
  | 'unsupported_authentication'
  | 'invalid_request'
  | 'reply_too_large';

export interface RadiusHandlerDeps {
  api: CoreApi;
  outpostName: () => string;
  /** Whole Access-Request: the flow and the access check. */
  timeoutMs: number;
  logger: Logger;
  metrics: RadiusMetrics;
}

type AccessOutcome = { accepted: true; attributes: readonly RadiusAttribute[] } | { accepted: false; reason: RadiusRejectReason };

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export class RadiusRequestHandler implements RadiusHandler<RadiusProvider> {
  readonly #deps: RadiusHandlerDeps;

  constructor(deps: RadiusHandlerDeps) {
    this.#deps = deps;
  }

  async handle(request: RadiusRequest<RadiusProvider>): Promise<Buffer | undefined> {
    if (request.packet.code === Code.AccountingRequest) return this.#accounting(request);
    if (request.packet.code === Code.AccessRequest) return this.#access(request);
    return undefined;
  }

  async #access(request: RadiusRequest<RadiusProvider>): Promise<Buffer> {
    const { packet, client } = request;
    const started = performance.now();
    const outpostName = this.#deps.outpostName();
    const app = client.config.applicationSlug;
    let username: string | undefined;
    let outcome: AccessOutcome;
    try {
      username = userName(request);
      outcome = await this.#authenticate(request, username);
    } catch (err) {
      if (!(err instanceof RadiusDecodeError)) throw err;
      outcome = { accepted: false, reason: 'invalid_request' };
    }
    const accept = outcome.accepted ? encodeAccept(request, outcome.attributes) : undefined;
    const reason: RadiusRejectReason | undefined = outcome.accepted ? (accept === undefined ? 'reply_too_large' : undefined) : outcome.reason;
    if (reason !== undefined) this.#deps.metrics.rejected.inc({ outpost_name: outpostName, reason, app });
    const answer = accept ?? encodeResponse(packet, Code.AccessReject, [], client.secret);
    const tookMs = performance.now() - started;
    this.#deps.metrics.duration.observe({ outpost_name: outpostName, app }, tookMs / 1000);
    this.#deps.logger.info(
      {
        client: request.source.address,
        id: packet.identifier,
        provider: client.config.name,
        username,
        result: reason === undefined ? 'accept' : 'reject',
        ...(reason === undefined ? {} : { reason }),
        'took-ms': Math.round(tookMs),
      },
      'Radius Request',
    );
    return answer;
  }

  async #authenticate(request: RadiusRequest<RadiusProvider>, username: string | undefined): Promise<AccessOutcome> {
    const { packet, client } = request;
    const hidden = getAttribute(packet, Attr.UserPassword);
    // CHAP, MS-CHAP and EAP carry no User-Password: not supported (yet), refused without asking the core.
    if (username === undefined || hidden === undefined) return { accepted: false, reason: 'unsupported_authentication' };
    const password = unhideUserPassword(hidden, client.secret, packet.authenticator);
    const attempt = this.#deps.api.newFlowAttempt({
      remoteIp: request.source.address,
      innerQuery: RADIUS_OUTPOST_QUERY,
      timeoutMs: this.#deps.timeoutMs,
    });
    const flow = await attempt.execute(client.config.authFlowSlug, {
      username,
      password: password.toString('utf8'),
      mfaSupport: client.config.mfaSupport,
    });
    if (!flow.passed) return { accepted: false, reason: 'flow_error' };
    let access;
    try {
      access = await attempt.checkRadiusAccess(client.config);
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

  #accounting(request: RadiusRequest<RadiusProvider>): Buffer {
    const { packet, client } = request;
    this.#deps.metrics.accounting.inc({ outpost_name: this.#deps.outpostName(), app: client.config.applicationSlug });
    this.#deps.logger.info(
      {
        client: request.source.address,
        id: packet.identifier,
        provider: client.config.name,
        username: optionalText(getAttribute(packet, Attr.UserName)),
        status: optionalInteger(getAttribute(packet, Attr.AcctStatusType)),
        session: optionalText(getAttribute(packet, Attr.AcctSessionId)),
      },
      'Radius Accounting',
    );
    return encodeResponse(packet, Code.AccountingResponse, [], client.secret);
  }
}

/** The signed Access-Accept, or undefined when the reply attributes do not fit one packet. */
function encodeAccept(request: RadiusRequest<RadiusProvider>, attributes: readonly RadiusAttribute[]): Buffer | undefined {
  try {
    return encodeResponse(request.packet, Code.AccessAccept, attributes, request.client.secret);
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
