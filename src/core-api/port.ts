/**
 * The narrow interface providers and the outpost controller use to reach the core. The HTTP client
 * (client.ts) implements it; unit tests may use a fake. Every method either returns a value it has
 * checked or rejects with CoreError: callers turn a rejection into a refusal, never into a success.
 */
import type {
  CertificateInfo,
  CertificatePair,
  CoreGeneration,
  DirectoryGroup,
  DirectoryUser,
  GroupQuery,
  LdapAccess,
  LdapProviderConfig,
  OutpostInfo,
  RadiusAccess,
  RadiusProviderConfig,
  RootConfigInfo,
  SessionUserInfo,
  UserQuery,
} from './model.js';

export interface CoreApi {
  /** Detected from the core's answers; '2026.2' until something says otherwise. */
  readonly generation: CoreGeneration;
  /** GET /outposts/instances/ (all pages). The token sees only its own outpost. */
  listOutposts(): Promise<OutpostInfo[]>;
  rootConfig(): Promise<RootConfigInfo>;
  listLdapProviders(): Promise<LdapProviderConfig[]>;
  listRadiusProviders(): Promise<RadiusProviderConfig[]>;
  /** Streams /core/users/?include_groups=true page by page, so large directories never sit in memory twice. */
  forEachUserPage(query: UserQuery, onPage: (users: DirectoryUser[]) => void | Promise<void>): Promise<void>;
  /** Streams /core/groups/?include_users=true&include_children=true&include_parents=true page by page. */
  forEachGroupPage(query: GroupQuery, onPage: (groups: DirectoryGroup[]) => void | Promise<void>): Promise<void>;
  getUser(pk: number): Promise<DirectoryUser>;
  certificate(kpUuid: string): Promise<CertificateInfo>;
  certificatePair(kpUuid: string): Promise<CertificatePair>;
  /** A fresh per-attempt client for the flow executor: its own cookie jar, outpost-token headers. */
  newFlowAttempt(options: FlowAttemptOptions): FlowAttempt;
}

export interface FlowAttemptOptions {
  /** X-authentik-remote-ip: the LDAP client or RADIUS NAS address. */
  remoteIp: string;
  /** Inner query parameters, e.g. { 'goauthentik.io/outpost/ldap': 'true' }. */
  innerQuery: Record<string, string>;
  /** EAP-TLS: PEM of the client's leaf certificate, sent as X-Authentik-Outpost-Certificate. */
  clientCertificatePem?: string;
  /** Whole-attempt deadline in milliseconds (all HTTP exchanges of the flow and the checks after it). */
  timeoutMs: number;
  /** Start with this authentik_session cookie (an unbind flow runs in the bound user's session). */
  sessionCookie?: string;
}

export interface FlowCredentials {
  /** Sent as uid_field to the identification stage. */
  username: string;
  /** The password as typed, possibly with a ';code' suffix. */
  password: string;
  mfaSupport: boolean;
}

export type FlowRefusalReason =
  | 'flow_error' // response_errors, unsupported stage, no compatible authenticator, depth exceeded
  | 'access_denied' // ak-stage-access-denied: the core refused
  | 'core_error'; // transport, timeout, HTTP status, unexpected body

export type FlowOutcome =
  | { passed: true }
  | { passed: false; reason: FlowRefusalReason; detail: string };

/**
 * executeOrPause only: the run waits at authenticator-validate for a TOTP/static code the password did not carry.
 * `passed: false`, so a caller that does not look further refuses.
 */
export interface FlowCodeRequired {
  passed: false;
  reason: 'code_required';
  detail: string;
}

export interface FlowAttempt {
  /** Runs the flow to its end. Never rejects: every failure is a typed refusal. */
  execute(flowSlug: string, credentials: FlowCredentials): Promise<FlowOutcome>;
  /**
   * execute, except that where execute refuses a TOTP/static prompt because the password carried no code (MFA
   * support on), the run pauses and answers `code_required`; resume() continues it. Never rejects.
   */
  executeOrPause(flowSlug: string, credentials: FlowCredentials): Promise<FlowOutcome | FlowCodeRequired>;
  /**
   * Continues the paused run in the same session: `code` answers the waiting prompt, then the rest of the flow.
   * The deadline restarts at timeoutMs for this part and the checks after it. Never rejects; refuses when no run
   * is paused (a run resumes once).
   */
  resume(code: string, timeoutMs: number): Promise<FlowOutcome>;
  /** GET the executor once and ignore the answer (the LDAP warm-up). Never rejects. */
  warmUp(flowSlug: string): Promise<void>;
  /** The post-flow access check in the attempt's session; rejects with CoreError. */
  checkLdapAccess(provider: LdapProviderConfig): Promise<LdapAccess>;
  checkRadiusAccess(provider: RadiusProviderConfig): Promise<RadiusAccess>;
  /** GET /core/users/me/ in the attempt's session; rejects with CoreError. */
  me(): Promise<SessionUserInfo>;
  /** The newest authentik_session cookie value seen, if any. */
  sessionCookie(): string | undefined;
  /** The Django session key behind the cookie (JWT `sid` claim, or the raw value), if any. */
  sessionId(): string | undefined;
}
