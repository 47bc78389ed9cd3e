/**
 * An in-memory CoreApi for unit tests. State is public and mutable: set outposts, providers, users, groups,
 * passwords and key pairs, then hand the fake to the code under test. Every call is counted; failures can be
 * queued per method (failNext) and calls can be held until released (block). Results are copies, so code under
 * test cannot change the fake's state by mutating them.
 */
import { createHash } from 'node:crypto';
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
} from '../../src/core-api/model.js';
import type {
  CoreApi,
  FlowAttempt,
  FlowAttemptOptions,
  FlowCodeRequired,
  FlowCredentials,
  FlowOutcome,
} from '../../src/core-api/port.js';
import { CoreError } from '../../src/errors.js';

export type FakeMethod =
  | 'listOutposts'
  | 'rootConfig'
  | 'listLdapProviders'
  | 'listRadiusProviders'
  | 'forEachUserPage'
  | 'forEachGroupPage'
  | 'getUser'
  | 'certificate'
  | 'certificatePair'
  | 'execute'
  | 'resume'
  | 'warmUp'
  | 'checkLdapAccess'
  | 'checkRadiusAccess'
  | 'me';

export interface FlowRun {
  flowSlug: string;
  username: string;
  remoteIp: string;
  innerQuery: Record<string, string>;
  clientCertificatePem: string | undefined;
  outcome: FlowOutcome | FlowCodeRequired;
}

export function fakeOutpost(overrides: Partial<OutpostInfo> = {}): OutpostInfo {
  return {
    pk: '23470845-7263-4fe3-bd79-ec1d7bf77d77',
    name: 'test-outpost',
    type: 'ldap',
    providers: [1],
    refreshIntervalS: 300,
    logLevel: undefined,
    managed: null,
    ...overrides,
  };
}

export function fakeLdapProvider(overrides: Partial<LdapProviderConfig> = {}): LdapProviderConfig {
  return {
    pk: 1,
    name: 'ldap-provider',
    baseDn: 'DC=ldap,DC=goauthentik,DC=io',
    bindFlowSlug: 'default-authentication-flow',
    unbindFlowSlug: 'default-invalidation-flow',
    applicationSlug: 'ldap-app',
    certificate: null,
    tlsServerName: '',
    uidStartNumber: 2000,
    gidStartNumber: 4000,
    searchMode: 'direct',
    bindMode: 'direct',
    mfaSupport: true,
    searchGroup: null,
    ...overrides,
  };
}

export function fakeRadiusProvider(overrides: Partial<RadiusProviderConfig> = {}): RadiusProviderConfig {
  return {
    pk: 2,
    name: 'radius-provider',
    applicationSlug: 'radius-app',
    authFlowSlug: 'default-authentication-flow',
    clientNetworks: '0.0.0.0/0,::/0',
    sharedSecret: 'radius-shared-secret',
    mfaSupport: true,
    certificate: null,
    ...overrides,
  };
}

export function fakeUser(overrides: Partial<DirectoryUser> & { pk: number; username: string }): DirectoryUser {
  return {
    name: overrides.username,
    isActive: true,
    isSuperuser: false,
    email: `${overrides.username}@example.org`,
    uid: createHash('sha256').update(`${overrides.pk}-fake-install`).digest('hex'),
    attributes: {},
    groups: [],
    dateJoined: '2024-01-01T00:00:00Z',
    lastUpdated: '2024-01-01T00:00:00Z',
    passwordChangeDate: '2024-01-01T00:00:00Z',
    ...overrides,
  };
}

export function fakeGroup(overrides: Partial<DirectoryGroup> & { pk: string; name: string }): DirectoryGroup {
  return {
    numPk: 1000,
    isSuperuser: false,
    attributes: {},
    users: [],
    parents: [],
    children: [],
    ...overrides,
  };
}

/** `password;code` split the way the reference does for mfa_support (a 6- or 8-digit code after the last ';'). */
export function splitMfaSuffix(password: string): { password: string; code: string } {
  const i = password.lastIndexOf(';');
  if (i < 0) return { password, code: '' };
  const code = password.slice(i + 1);
  if ((code.length === 6 || code.length === 8) && /^[+-]?[0-9]+$/.test(code)) return { password: password.slice(0, i), code };
  return { password, code: '' };
}

export class FakeCore implements CoreApi {
  generation: CoreGeneration = '2026.2';
  outposts: OutpostInfo[] = [fakeOutpost()];
  root: RootConfigInfo = { cacheTimeoutFlows: 300 };
  ldapProviders: LdapProviderConfig[] = [];
  radiusProviders: RadiusProviderConfig[] = [];
  users: DirectoryUser[] = [];
  groups: DirectoryGroup[] = [];
  /** Key pairs by uuid. */
  certificates = new Map<string, CertificatePair>();
  /** username -> password */
  passwords = new Map<string, string>();
  /** username -> the valid MFA code; users listed here need one. */
  mfaCodes = new Map<string, string>();
  /** Known flow slugs; when empty every slug exists. */
  flows = new Set<string>();
  /** Users whose flow ends in ak-stage-access-denied even with the right password. */
  flowDenied = new Set<string>();
  ldapAccess: (providerPk: number, user: DirectoryUser) => LdapAccess = () => ({ passing: true, hasSearchPermission: false });
  radiusAccess: (providerPk: number, user: DirectoryUser) => RadiusAccess = () => ({ passing: true, attributes: null });
  /** Added to every call. */
  latencyMs = 0;

  readonly calls: Record<FakeMethod, number> = {
    listOutposts: 0, rootConfig: 0, listLdapProviders: 0, listRadiusProviders: 0, forEachUserPage: 0,
    forEachGroupPage: 0, getUser: 0, certificate: 0, certificatePair: 0, execute: 0, resume: 0, warmUp: 0,
    checkLdapAccess: 0, checkRadiusAccess: 0, me: 0,
  };
  readonly flowRuns: FlowRun[] = [];
  readonly warmUps: string[] = [];
  /** Session id (what SESSION_END hashes) -> username, for flows that passed. */
  readonly sessions = new Map<string, string>();
  /** Every user/group query received, in order. */
  readonly userQueries: UserQuery[] = [];
  readonly groupQueries: GroupQuery[] = [];

  readonly #failures = new Map<FakeMethod, unknown[]>();
  readonly #gates = new Map<FakeMethod, Promise<void>>();
  #sessionCounter = 0;

  /** The next `times` calls of method reject with error (a CoreError transport failure by default). */
  failNext(method: FakeMethod, error: unknown = new CoreError('transport', `fake: ${method} failed`), times = 1): void {
    const queue = this.#failures.get(method) ?? [];
    for (let i = 0; i < times; i++) queue.push(error);
    this.#failures.set(method, queue);
  }

  /** Calls of method wait until the returned function is called. */
  block(method: FakeMethod): () => void {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.#gates.set(method, gate);
    return () => {
      if (this.#gates.get(method) === gate) this.#gates.delete(method);
      release();
    };
  }

  /** Counts the call, waits for latency and gates, throws a queued failure. */
  async enter(method: FakeMethod): Promise<void> {
    this.calls[method] += 1;
    if (this.latencyMs > 0) await new Promise((r) => setTimeout(r, this.latencyMs));
    const gate = this.#gates.get(method);
    if (gate !== undefined) await gate;
    const queue = this.#failures.get(method);
    if (queue !== undefined && queue.length > 0) throw queue.shift();
  }

  async listOutposts(): Promise<OutpostInfo[]> {
    await this.enter('listOutposts');
    return structuredClone(this.outposts);
  }

  async rootConfig(): Promise<RootConfigInfo> {
    await this.enter('rootConfig');
    return structuredClone(this.root);
  }

  async listLdapProviders(): Promise<LdapProviderConfig[]> {
    await this.enter('listLdapProviders');
    return structuredClone(this.ldapProviders);
  }

  async listRadiusProviders(): Promise<RadiusProviderConfig[]> {
    await this.enter('listRadiusProviders');
    return structuredClone(this.radiusProviders);
  }

  async forEachUserPage(query: UserQuery, onPage: (users: DirectoryUser[]) => void | Promise<void>): Promise<void> {
    await this.enter('forEachUserPage');
    this.userQueries.push(structuredClone(query));
    const matches = this.users.filter((u) => {
      if (query.username !== undefined && u.username !== query.username) return false;
      if (query.name !== undefined && u.name !== query.name) return false;
      if (query.email !== undefined && u.email !== query.email) return false;
      if (query.groupsByName !== undefined && !u.groups.some((g) => query.groupsByName?.includes(g.name))) return false;
      return true;
    });
    await pages(matches, query.pageSize, onPage);
  }

  async forEachGroupPage(query: GroupQuery, onPage: (groups: DirectoryGroup[]) => void | Promise<void>): Promise<void> {
    await this.enter('forEachGroupPage');
    this.groupQueries.push(structuredClone(query));
    const matches = this.groups.filter((g) => {
      if (query.name !== undefined && g.name !== query.name) return false;
      if (query.membersByUsername !== undefined && !g.users.some((u) => query.membersByUsername?.includes(u.username))) return false;
      if (query.membersByPk !== undefined && !g.users.some((u) => query.membersByPk?.includes(u.pk))) return false;
      return true;
    });
    await pages(matches, query.pageSize, onPage);
  }

  async getUser(pk: number): Promise<DirectoryUser> {
    await this.enter('getUser');
    const user = this.users.find((u) => u.pk === pk);
    if (user === undefined) throw new CoreError('http_status', `fake: user ${pk} not found`, { status: 404 });
    return structuredClone(user);
  }

  async certificate(kpUuid: string): Promise<CertificateInfo> {
    await this.enter('certificate');
    const pair = this.certificates.get(kpUuid);
    if (pair === undefined) throw new CoreError('http_status', `fake: key pair ${kpUuid} not found`, { status: 404 });
    return { fingerprintSha256: pair.fingerprintSha256 };
  }

  async certificatePair(kpUuid: string): Promise<CertificatePair> {
    await this.enter('certificatePair');
    const pair = this.certificates.get(kpUuid);
    if (pair === undefined) throw new CoreError('http_status', `fake: key pair ${kpUuid} not found`, { status: 404 });
    return structuredClone(pair);
  }

  newFlowAttempt(options: FlowAttemptOptions): FlowAttempt {
    return new FakeFlowAttempt(this, options);
  }

  /** Records a passed flow and returns its session id. */
  newSession(username: string): string {
    this.#sessionCounter += 1;
    const id = `fake-session-${this.#sessionCounter}`;
    this.sessions.set(id, username);
    return id;
  }

  /** What SESSION_END carries for a session: hex SHA-256 of the session key. */
  static sessionEndId(sessionId: string): string {
    return createHash('sha256').update(sessionId).digest('hex');
  }
}

async function pages<T>(items: T[], pageSize: number | undefined, onPage: (page: T[]) => void | Promise<void>): Promise<void> {
  const size = Math.max(1, pageSize ?? 100);
  if (items.length === 0) {
    await onPage([]);
    return;
  }
  for (let i = 0; i < items.length; i += size) await onPage(structuredClone(items.slice(i, i + size)));
}

class FakeFlowAttempt implements FlowAttempt {
  readonly #core: FakeCore;
  readonly #options: FlowAttemptOptions;
  #user: DirectoryUser | undefined;
  #sessionId: string | undefined;
  /** executeOrPause paused here; resume() takes it. */
  #waiting: { flowSlug: string; user: DirectoryUser } | undefined;

  constructor(core: FakeCore, options: FlowAttemptOptions) {
    this.#core = core;
    this.#options = options;
    const existing = options.sessionCookie;
    if (existing !== undefined) {
      const username = core.sessions.get(existing);
      if (username !== undefined) {
        this.#sessionId = existing;
        this.#user = core.users.find((u) => u.username === username);
      }
    }
  }

  async execute(flowSlug: string, credentials: FlowCredentials): Promise<FlowOutcome> {
    const outcome = await this.#recorded(flowSlug, credentials.username, 'execute', () => this.#run(flowSlug, credentials, false));
    return outcome.passed || outcome.reason !== 'code_required' ? outcome : { passed: false, reason: 'flow_error', detail: 'no code' };
  }

  executeOrPause(flowSlug: string, credentials: FlowCredentials): Promise<FlowOutcome | FlowCodeRequired> {
    return this.#recorded(flowSlug, credentials.username, 'execute', () => this.#run(flowSlug, credentials, true));
  }

  async resume(code: string): Promise<FlowOutcome> {
    const waiting = this.#waiting;
    this.#waiting = undefined;
    if (waiting === undefined) return { passed: false, reason: 'flow_error', detail: 'no flow run waits for a code' };
    const outcome = await this.#recorded(waiting.flowSlug, waiting.user.username, 'resume', () => this.#pass(waiting.user, code));
    return outcome.passed || outcome.reason !== 'code_required' ? outcome : { passed: false, reason: 'flow_error', detail: 'no code' };
  }

  async #recorded(
    flowSlug: string,
    username: string,
    method: 'execute' | 'resume',
    run: () => FlowOutcome | FlowCodeRequired,
  ): Promise<FlowOutcome | FlowCodeRequired> {
    let outcome: FlowOutcome | FlowCodeRequired;
    try {
      await this.#core.enter(method);
      outcome = run();
    } catch (err) {
      outcome = { passed: false, reason: 'core_error', detail: err instanceof Error ? err.message : String(err) };
    }
    this.#core.flowRuns.push({
      flowSlug,
      username,
      remoteIp: this.#options.remoteIp,
      innerQuery: { ...this.#options.innerQuery },
      clientCertificatePem: this.#options.clientCertificatePem,
      outcome,
    });
    return outcome;
  }

  #run(flowSlug: string, credentials: FlowCredentials, pausable: boolean): FlowOutcome | FlowCodeRequired {
    const core = this.#core;
    if (core.flows.size > 0 && !core.flows.has(flowSlug)) return { passed: false, reason: 'flow_error', detail: 'Flow does not exist' };
    const user = core.users.find((u) => u.username === credentials.username || u.email === credentials.username);
    const failed: FlowOutcome = { passed: false, reason: 'flow_error', detail: 'Failed to authenticate.' };
    if (user === undefined || !user.isActive) return failed;
    const expected = core.passwords.get(user.username);
    const mfa = core.mfaCodes.get(user.username);
    let password = credentials.password;
    let code = '';
    if (mfa !== undefined) {
      if (credentials.mfaSupport) ({ password, code } = splitMfaSuffix(credentials.password));
      else code = credentials.password;
    }
    if (expected === undefined || password !== expected) return { passed: false, reason: 'flow_error', detail: 'Invalid password' };
    if (mfa !== undefined && code === '' && pausable && credentials.mfaSupport) {
      this.#waiting = { flowSlug, user };
      return { passed: false, reason: 'code_required', detail: 'waiting for a code' };
    }
    return this.#pass(user, mfa === undefined ? undefined : code);
  }

  /** After the password: the MFA code (when the user needs one), the flow's own denial, then the session. */
  #pass(user: DirectoryUser, code: string | undefined): FlowOutcome {
    const core = this.#core;
    const mfa = core.mfaCodes.get(user.username);
    if (mfa !== undefined && code !== mfa) return { passed: false, reason: 'flow_error', detail: 'Invalid Token' };
    if (core.flowDenied.has(user.username)) return { passed: false, reason: 'access_denied', detail: 'Flow does not apply to current user.' };
    this.#user = user;
    this.#sessionId = core.newSession(user.username);
    return { passed: true };
  }

  async warmUp(flowSlug: string): Promise<void> {
    try {
      await this.#core.enter('warmUp');
      this.#core.warmUps.push(flowSlug);
    } catch {
      // never rejects
    }
  }

  async checkLdapAccess(provider: LdapProviderConfig): Promise<LdapAccess> {
    await this.#core.enter('checkLdapAccess');
    return this.#core.ldapAccess(provider.pk, this.#requireUser());
  }

  async checkRadiusAccess(provider: RadiusProviderConfig): Promise<RadiusAccess> {
    await this.#core.enter('checkRadiusAccess');
    return this.#core.radiusAccess(provider.pk, this.#requireUser());
  }

  async me(): Promise<SessionUserInfo> {
    await this.#core.enter('me');
    const user = this.#requireUser();
    return { pk: user.pk, username: user.username, groups: structuredClone(user.groups) };
  }

  sessionCookie(): string | undefined {
    return this.#sessionId;
  }

  sessionId(): string | undefined {
    return this.#sessionId;
  }

  #requireUser(): DirectoryUser {
    if (this.#user === undefined) throw new CoreError('http_status', 'fake: not authenticated', { status: 403 });
    return structuredClone(this.#user);
  }
}
