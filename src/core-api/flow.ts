/**
 * One flow-executor attempt (reference plumbing §2, LDAP §2.3–2.4): its own cookie jar, the outpost-token headers
 * and no Authorization header, manual same-origin redirect following, the challenge solver loop, and the
 * post-flow checks in the same session. A single deadline covers every exchange of the attempt.
 */
import { performance } from 'node:perf_hooks';
import { CORE_API_LIMITS } from '../config/limits.js';
import { CoreError } from '../errors.js';
import { CookieJar } from './cookies.js';
import type { CoreEndpoint } from './host.js';
import type { HttpTransport } from './http-transport.js';
import { FlowSecrets, parseInt32 } from './mfa.js';
import type { CoreGeneration, LdapAccess, LdapProviderConfig, RadiusAccess, RadiusProviderConfig, SessionUserInfo } from './model.js';
import {
  asObject,
  normalizeLdapAccess,
  normalizePolicyResult,
  normalizeRadiusAccess,
  normalizeSessionUser,
} from './normalize.js';
import type { CoreLogger, FlowMetrics } from './options.js';
import type { FlowAttempt, FlowAttemptOptions, FlowCodeRequired, FlowCredentials, FlowOutcome } from './port.js';

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/** 2023.10 challenges carried `type` (removed in 2024.8). */
const LEGACY_CHALLENGE_TYPES = new Set<unknown>(['native', 'shell', 'redirect']);

export interface FlowAttemptDeps {
  transport: HttpTransport;
  endpoint: CoreEndpoint;
  token: string;
  userAgent: string;
  logger: CoreLogger;
  metrics: FlowMetrics | undefined;
  /** The client's current idea of the core generation. */
  generation: () => CoreGeneration;
  /** Called when a challenge proves a 2023.10 core (it carries `type`). */
  observeGeneration: (generation: CoreGeneration) => void;
  /** The core set Secure cookies over plain http (the client warns once, not per attempt). */
  onSecureCookieOverHttp: (cookieNames: string[]) => void;
}

interface Exchange {
  status: number;
  body: Buffer;
}

type JsonObject = Record<string, unknown>;

const NOT_FOUND = Symbol('not found');

/**
 * Go's url.QueryEscape: like encodeURIComponent, but also escapes !'()* and writes space as '+'. Used for both
 * levels of the executor `query` so the URL matches the reference byte for byte.
 */
export function goQueryEscape(value: string): string {
  return encodeURIComponent(value)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');
}

/** Go's url.Values.Encode: keys sorted, `k=v` pairs joined with '&'. */
export function encodeInnerQuery(params: Record<string, string>): string {
  return Object.keys(params)
    .sort()
    .map((k) => `${goQueryEscape(k)}=${goQueryEscape(params[k] ?? '')}`)
    .join('&');
}

/** `<apiBase>/flows/executor/<slug>/?query=<escaped inner query>` (double-encoded, as the reference sends it). */
export function executorUrl(apiBase: string, flowSlug: string, innerQuery: Record<string, string>): URL {
  const inner = encodeInnerQuery(innerQuery);
  return new URL(`${apiBase}/flows/executor/${encodeURIComponent(flowSlug)}/?query=${goQueryEscape(inner)}`);
}

/** The Django session key behind an authentik_session value: the JWT `sid` claim (unverified), else the raw value. */
export function sessionIdFromCookie(value: string): string {
  const parts = value.split('.');
  if (parts.length !== 3 || parts[1] === undefined) return value;
  try {
    const claims: unknown = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    if (typeof claims === 'object' && claims !== null && !Array.isArray(claims)) {
      const sid = (claims as JsonObject)['sid'];
      if (typeof sid === 'string' && sid !== '') return sid;
    }
  } catch {
    // not a JWT after all
  }
  return value;
}

function truncate(text: string): string {
  return text.length > CORE_API_LIMITS.maxErrorDetailChars ? `${text.slice(0, CORE_API_LIMITS.maxErrorDetailChars)}…` : text;
}

function refusal(reason: 'flow_error' | 'access_denied' | 'core_error', detail: string): FlowOutcome {
  return { passed: false, reason, detail: truncate(detail) };
}

/** The first `response_errors` entry as "<field>: <message>", if any. */
function firstResponseError(challenge: JsonObject): string | undefined {
  const errors = challenge['response_errors'];
  if (typeof errors !== 'object' || errors === null || Array.isArray(errors)) return undefined;
  for (const [field, list] of Object.entries(errors as JsonObject)) {
    if (!Array.isArray(list)) continue;
    for (const entry of list) {
      const message = typeof entry === 'object' && entry !== null ? (entry as JsonObject)['string'] : entry;
      return `${field}: ${typeof message === 'string' ? message : 'invalid'}`;
    }
  }
  return undefined;
}

/** No device the outpost can answer for: no code for TOTP/static, no Duo, or only other classes. */
const NO_CODE_REFUSAL = refusal('flow_error', 'no compatible authenticator class found');

/** `codeMissing`: a TOTP/static prompt the answers have no code for. */
type Answer = { body: JsonObject } | { refusal: FlowOutcome } | { codeMissing: true };

/** A flow run at a challenge: where the solver loop goes on from (after a pause, too). */
interface FlowRun {
  flowSlug: string;
  url: URL;
  username: string;
  challenge: JsonObject;
  /** Answers POSTed so far (bounded by maxChallengePosts over the whole run). */
  posts: number;
}

/** How a part of a run ends: the flow's outcome, or waiting at a code prompt. */
type Step = FlowOutcome | { waiting: FlowRun };

export class HttpFlowAttempt implements FlowAttempt {
  readonly #jar = new CookieJar();
  readonly #secrets = new FlowSecrets();
  #deadline: number;
  #timeoutMs: number;
  /** Set by executeOrPause, taken by resume. */
  #paused: FlowRun | undefined;
  readonly #apiBase: URL;

  readonly #deps: FlowAttemptDeps;
  readonly #options: FlowAttemptOptions;

  constructor(
    deps: FlowAttemptDeps,
    options: FlowAttemptOptions,
  ) {
    this.#deps = deps;
    this.#options = options;
    this.#timeoutMs = options.timeoutMs;
    this.#deadline = Date.now() + options.timeoutMs;
    this.#apiBase = new URL(deps.endpoint.apiBase);
    if (options.sessionCookie !== undefined && options.sessionCookie !== '') {
      this.#jar.set(this.#apiBase, 'authentik_session', options.sessionCookie);
    }
  }

  async execute(flowSlug: string, credentials: FlowCredentials): Promise<FlowOutcome> {
    const step = await this.#guarded(flowSlug, () => this.#start(flowSlug, credentials));
    return 'waiting' in step ? NO_CODE_REFUSAL : step;
  }

  async executeOrPause(flowSlug: string, credentials: FlowCredentials): Promise<FlowOutcome | FlowCodeRequired> {
    const step = await this.#guarded(flowSlug, () => this.#start(flowSlug, credentials));
    if (!('waiting' in step)) return step;
    if (!credentials.mfaSupport) return NO_CODE_REFUSAL;
    this.#paused = step.waiting;
    return { passed: false, reason: 'code_required', detail: 'the flow waits for a one-time code' };
  }

  async resume(code: string, timeoutMs: number): Promise<FlowOutcome> {
    const paused = this.#paused;
    this.#paused = undefined;
    if (paused === undefined) return refusal('flow_error', 'no flow run waits for a code');
    this.#timeoutMs = timeoutMs;
    this.#deadline = Date.now() + timeoutMs;
    this.#secrets.setCode(code);
    const step = await this.#guarded(paused.flowSlug, () => this.#solve(paused));
    return 'waiting' in step ? NO_CODE_REFUSAL : step;
  }

  /** Runs part of the flow; a throw (transport, timeout, HTTP status, unexpected body) becomes core_error. */
  async #guarded(flowSlug: string, part: () => Promise<Step>): Promise<Step> {
    try {
      return await part();
    } catch (err) {
      const detail = err instanceof CoreError ? err.message : `internal error: ${err instanceof Error ? err.message : String(err)}`;
      this.#deps.logger.debug({ flow: flowSlug, error: detail }, 'flow executor failed');
      return refusal('core_error', detail);
    }
  }

  async warmUp(flowSlug: string): Promise<void> {
    try {
      const url = executorUrl(this.#deps.endpoint.apiBase, flowSlug, this.#options.innerQuery);
      const res = await this.#exchange('GET', url, undefined);
      this.#deps.logger.debug({ flow: flowSlug, status: res.status }, 'flow warm-up done');
    } catch (err) {
      this.#deps.logger.debug({ flow: flowSlug, error: err instanceof Error ? err.message : String(err) }, 'flow warm-up failed');
    }
  }

  async checkLdapAccess(provider: LdapProviderConfig): Promise<LdapAccess> {
    const legacy = provider.searchGroup !== null || this.#deps.generation() === '2023.10';
    if (!legacy) {
      const path = `/outposts/ldap/${provider.pk}/check_access/?app_slug=${goQueryEscape(provider.applicationSlug)}`;
      const body = await this.#getJson(path, 'ldap check_access', true);
      if (body !== NOT_FOUND) return normalizeLdapAccess(body);
      this.#deps.logger.debug({ provider: provider.name }, 'ldap check_access not found, using the 2023.10 endpoint');
    }
    const passing = await this.#legacyAppAccess(provider.applicationSlug);
    if (!passing || provider.searchGroup === null) return { passing, hasSearchPermission: false };
    // 2023.10: search permission = the search group among the user's direct groups.
    const searchGroup = provider.searchGroup.toLowerCase();
    const me = await this.me();
    return { passing, hasSearchPermission: me.groups.some((g) => g.pk.toLowerCase() === searchGroup) };
  }

  async checkRadiusAccess(provider: RadiusProviderConfig): Promise<RadiusAccess> {
    if (this.#deps.generation() !== '2023.10') {
      const path = `/outposts/radius/${provider.pk}/check_access/?app_slug=${goQueryEscape(provider.applicationSlug)}`;
      const body = await this.#getJson(path, 'radius check_access', true);
      if (body !== NOT_FOUND) return normalizeRadiusAccess(body);
      this.#deps.logger.debug({ provider: provider.name }, 'radius check_access not found, using the 2023.10 endpoint');
    }
    return { passing: await this.#legacyAppAccess(provider.applicationSlug), attributes: null };
  }

  async me(): Promise<SessionUserInfo> {
    return normalizeSessionUser(await this.#getJson('/core/users/me/', 'users/me', false));
  }

  sessionCookie(): string | undefined {
    return this.#jar.get('authentik_session');
  }

  sessionId(): string | undefined {
    const cookie = this.sessionCookie();
    return cookie === undefined ? undefined : sessionIdFromCookie(cookie);
  }

  // ---- the solver loop ----

  async #start(flowSlug: string, credentials: FlowCredentials): Promise<Step> {
    this.#secrets.set(credentials.password, credentials.mfaSupport);
    const url = executorUrl(this.#deps.endpoint.apiBase, flowSlug, this.#options.innerQuery);
    const started = performance.now();
    const challenge = await this.#challenge('GET', url, undefined);
    this.#deps.metrics?.flowGet(componentLabel(challenge), flowSlug, (performance.now() - started) / 1000);
    return this.#solve({ flowSlug, url, username: credentials.username, challenge, posts: 0 });
  }

  /** The solver loop from `run.challenge` on, until the flow ends or waits for a code. */
  async #solve(run: FlowRun): Promise<Step> {
    const { logger, metrics } = this.#deps;
    const { flowSlug, url } = run;
    for (let { challenge, posts } = run; ; ) {
      const component = typeof challenge['component'] === 'string' ? challenge['component'] : undefined;
      const legacyType = LEGACY_CHALLENGE_TYPES.has(challenge['type']) ? (challenge['type'] as string) : undefined;
      if (legacyType !== undefined) this.#deps.observeGeneration('2023.10');
      logger.debug({ flow: flowSlug, component: component ?? legacyType ?? '' }, 'flow challenge');

      const responseError = firstResponseError(challenge);
      if (responseError !== undefined) return refusal('flow_error', `flow error ${responseError}`);
      if (component === 'ak-stage-access-denied') {
        const message = typeof challenge['error_message'] === 'string' ? `: ${challenge['error_message']}` : '';
        return refusal('access_denied', `access denied${message}`);
      }
      // 2026: the redirect component; 2023.10: any challenge of type "redirect".
      if (component === 'xak-flow-redirect' || legacyType === 'redirect') return { passed: true };
      if (component === undefined) {
        return refusal('core_error', 'flow executor answered a challenge without component');
      }

      const answer = this.#answer(component, challenge, run.username);
      if ('refusal' in answer) return answer.refusal;
      if ('codeMissing' in answer) return { waiting: { flowSlug, url, username: run.username, challenge, posts } };
      if (posts >= CORE_API_LIMITS.maxChallengePosts) return refusal('flow_error', 'exceeded stage recursion depth');
      posts++;

      logger.debug({ flow: flowSlug, component }, 'flow answer');
      const started = performance.now();
      challenge = await this.#challenge('POST', url, JSON.stringify(answer.body));
      metrics?.flowPost(component, flowSlug, (performance.now() - started) / 1000);
    }
  }

  #answer(component: string, challenge: JsonObject, username: string): Answer {
    switch (component) {
      case 'ak-stage-identification':
        // The password always rides along: identification stages may embed the password field.
        return { body: { component, uid_field: username, password: this.#secrets.password } };
      case 'ak-stage-password':
        return { body: { component, password: this.#secrets.password } };
      case 'ak-stage-user-login':
        return { body: { component, remember_me: true } };
      case 'ak-stage-authenticator-validate':
        return this.#answerAuthenticator(challenge);
      default:
        return { refusal: refusal('flow_error', `unsupported challenge type ${component}`) };
    }
  }

  #answerAuthenticator(challenge: JsonObject): Answer {
    const devices = Array.isArray(challenge['device_challenges']) ? challenge['device_challenges'] : [];
    let selected: JsonObject | undefined;
    let code: string | undefined;
    let duo: number | undefined;
    let codeDeviceOffered = false;
    for (const entry of devices) {
      if (typeof entry !== 'object' || entry === null) continue;
      const device = entry as JsonObject;
      const deviceClass = device['device_class'];
      if (deviceClass === 'duo') {
        // Duo wins over an earlier selection (reference behaviour).
        const id = typeof device['device_uid'] === 'string' ? parseInt32(device['device_uid']) : undefined;
        if (id === undefined) return { refusal: refusal('flow_error', 'failed to convert duo device id to int') };
        selected = device;
        duo = id;
      } else if (deviceClass === 'static' || deviceClass === 'totp') {
        codeDeviceOffered = true;
        if (selected === undefined && this.#secrets.code !== '') {
          selected = device;
          code = this.#secrets.code;
        }
      }
    }
    // Without a selection the code is empty whenever a TOTP/static device was offered.
    if (selected === undefined) return codeDeviceOffered ? { codeMissing: true } : { refusal: NO_CODE_REFUSAL };
    const body: JsonObject = {
      component: 'ak-stage-authenticator-validate',
      // Echo the device challenge as received (only the fields of DeviceChallengeRequest).
      selected_challenge: {
        device_class: selected['device_class'],
        device_uid: selected['device_uid'],
        challenge: selected['challenge'] ?? {},
        last_used: selected['last_used'] ?? null,
      },
    };
    if (code !== undefined) body['code'] = code;
    if (duo !== undefined) body['duo'] = duo;
    return { body };
  }

  // ---- HTTP in the attempt's session ----

  #headers(withJsonBody: boolean): Record<string, string> {
    const headers: Record<string, string> = {
      'user-agent': this.#deps.userAgent,
      accept: 'application/json',
      'x-authentik-outpost-token': this.#deps.token,
      'x-authentik-remote-ip': this.#options.remoteIp,
    };
    if (this.#options.clientCertificatePem !== undefined) {
      headers['x-authentik-outpost-certificate'] = encodeURIComponent(this.#options.clientCertificatePem);
    }
    if (withJsonBody) headers['content-type'] = 'application/json';
    return headers;
  }

  /** One exchange with manual redirects: cookies stored from every hop, same origin only, at most 10 hops. */
  async #exchange(method: 'GET' | 'POST', url: URL, body: string | undefined): Promise<Exchange> {
    let current = url;
    let currentMethod = method;
    let currentBody = body;
    for (let hop = 0; ; hop++) {
      const remaining = this.#deadline - Date.now();
      if (remaining <= 0) throw new CoreError('timeout', `flow attempt exceeded its ${this.#timeoutMs} ms deadline`);
      const headers = this.#headers(currentBody !== undefined);
      const cookie = this.#jar.header(current);
      if (cookie !== undefined) headers['cookie'] = cookie;
      const res = await this.#deps.transport.request({
        method: currentMethod,
        url: current,
        headers,
        ...(currentBody !== undefined ? { body: currentBody } : {}),
        timeoutMs: remaining,
      });
      const stored = this.#jar.storeFromResponse(current, res.setCookie);
      if (stored.secureOverHttp.length > 0) this.#deps.onSecureCookieOverHttp(stored.secureOverHttp);
      if (!REDIRECT_STATUSES.has(res.status)) return { status: res.status, body: res.body };

      const location = res.headers.location;
      if (typeof location !== 'string' || location === '') {
        throw new CoreError('http_status', `${currentMethod} ${current.pathname}: HTTP ${res.status} without Location`, { status: res.status });
      }
      if (hop >= CORE_API_LIMITS.maxRedirects) throw new CoreError('http_status', `stopped after ${CORE_API_LIMITS.maxRedirects} redirects`, { status: res.status });
      let next: URL;
      try {
        next = new URL(location, current);
      } catch {
        throw new CoreError('unexpected_response', 'redirect with an invalid Location');
      }
      if (next.origin !== current.origin) {
        throw new CoreError('unexpected_response', `redirect to another origin (${next.origin}) refused`);
      }
      if (res.status <= 303 && currentMethod === 'POST') {
        currentMethod = 'GET';
        currentBody = undefined;
      }
      current = next;
    }
  }

  /** An executor exchange that must end in 2xx JSON. */
  async #challenge(method: 'GET' | 'POST', url: URL, body: string | undefined): Promise<JsonObject> {
    const res = await this.#exchange(method, url, body);
    if (res.status < 200 || res.status > 299) {
      throw new CoreError('http_status', `${method} flow executor: HTTP ${res.status}`, { status: res.status });
    }
    return asObject(parseJson(res.body, 'flow executor'), 'flow executor challenge');
  }

  /** GET an API path in the attempt's session; 2xx -> JSON, 404 -> NOT_FOUND when allowed, else CoreError. */
  async #getJson(path: string, what: string, allowNotFound: boolean): Promise<unknown> {
    const res = await this.#exchange('GET', new URL(`${this.#deps.endpoint.apiBase}${path}`), undefined);
    if (res.status === 404 && allowNotFound) return NOT_FOUND;
    if (res.status < 200 || res.status > 299) {
      throw new CoreError('http_status', `${what}: HTTP ${res.status}`, { status: res.status });
    }
    return parseJson(res.body, what);
  }

  async #legacyAppAccess(applicationSlug: string): Promise<boolean> {
    const what = 'application check_access';
    const body = await this.#getJson(`/core/applications/${encodeURIComponent(applicationSlug)}/check_access/`, what, false);
    return normalizePolicyResult(body, what);
  }
}

function parseJson(body: Buffer, what: string): unknown {
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    throw new CoreError('unexpected_response', `${what}: body is not JSON`);
  }
}

function componentLabel(challenge: JsonObject): string {
  const c = challenge['component'];
  return typeof c === 'string' ? c : typeof challenge['type'] === 'string' ? `type:${challenge['type']}` : 'unknown';
}
