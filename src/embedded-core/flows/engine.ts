/**
 * The flow executor (`/api/v3/flows/executor/<slug>/`), driven directly by the HTTP server: the plan lives in the
 * session; GET returns the current stage's challenge (stages needing no input complete inside the GET); a stage
 * that completes with stages left answers 302 to the same path and query; the last one answers the
 * xak-flow-redirect challenge; wrong input re-sends the challenge with response_errors; denial cancels the plan
 * with ak-stage-access-denied; an unexpected exception becomes ak-stage-flow-error, never a 500.
 *
 * Policy bindings, as authentik's planner and executor check them: the flow's when the plan is made, with the
 * session's user (a flow that does not pass is "not applicable": access denied); a stage binding's when the plan
 * is made (evaluate_on_plan: the stage is left out) and each time the stage comes up (re_evaluate_policies, with
 * the pending user: the stage is skipped). A failing stage binding never denies by itself; a deny stage bound to
 * a policy does.
 */
import { randomInt, randomUUID } from 'node:crypto';
import type { CoreFlow, CoreOutpost, CoreStage, CoreUser, Directory, Generation } from '../model.js';
import { isEffectiveSuperuser } from '../directory/store.js';
import { preciseNowMs } from '../time.js';
import { policiesPass } from './policies.js';
import { ANONYMOUS_DISPLAY, ChallengeFactory, type ChallengeBody, displayUser, type DisplayUser } from './challenges.js';
import type { FlowPlan } from './plan.js';
import type { Session, SessionStore } from './sessions.js';
import { runStage, type StageContext, type StageOutcome } from './stages.js';

export interface ExecutorRequest {
  method: 'GET' | 'POST';
  flowSlug: string;
  /** The request's query string (with or without the leading '?'), including `query=`. */
  rawQuery: string;
  /** Parsed JSON body of a POST (undefined when the body was empty). */
  body: unknown;
  /** Value of the authentik_session cookie, if any. */
  sessionCookie: string | undefined;
  /** Resolved by the server from X-authentik-outpost-token (null when absent or unknown). */
  outpost: CoreOutpost | null;
  remoteIp: string;
  /** TLS (or trusted X-Forwarded-Proto): the cookie gets Secure and SameSite=None. */
  secure: boolean;
  /** Request path, for the 302 Location (default `/api/v3/flows/executor/<slug>/`; set it behind a sub-path). */
  path?: string;
}

export interface ExecutorResponse {
  status: number;
  body?: unknown;
  location?: string;
  setCookies: string[];
}

type LogFn = (fields: Record<string, unknown>, message: string) => void;
export interface EngineLogger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
}

export interface FlowEngineOptions {
  directory: () => Directory;
  sessions: SessionStore;
  now?: () => number;
  logger?: EngineLogger;
  /** Milliseconds to wait after an unknown identifier; default authentik's random 90-210 ms. Tests pass () => 0. */
  unknownIdentifierDelayMs?: () => number;
}

const NOOP: LogFn = () => undefined;
const SILENT: EngineLogger = { debug: NOOP, info: NOOP, warn: NOOP, error: NOOP };
const NOT_APPLICABLE = 'Flow does not apply to current user.';

/** The authenticated, active user of a session (what check_access and users/me act for), or undefined. */
export function sessionUser(directory: Directory, session: Session | undefined): CoreUser | undefined {
  if (session === undefined || session.userPk === null) return undefined;
  const user = directory.users.get(session.userPk);
  // Django's auth middleware treats inactive users as anonymous.
  if (user === undefined || !user.isActive) return undefined;
  return user;
}

/** Inner query (`query=` parameter, itself a query string) -> parameters; single or double encoding alike. */
export function innerQuery(rawQuery: string): URLSearchParams {
  const outer = new URLSearchParams(rawQuery.startsWith('?') ? rawQuery.slice(1) : rawQuery);
  return new URLSearchParams(outer.get('query') ?? '');
}

/** Only same-site relative redirects are accepted for `next` (authentik refuses absolute URLs). */
function isRelativeUrl(url: string): boolean {
  return url.startsWith('/') && !url.startsWith('//') && !url.startsWith('/\\');
}

export class FlowEngine {
  readonly #directory: () => Directory;
  readonly #sessions: SessionStore;
  readonly #now: () => number;
  readonly #log: EngineLogger;
  readonly #delayMs: () => number;
  readonly #factories: Record<Generation, ChallengeFactory> = {
    '2023.10': new ChallengeFactory('2023.10'),
    '2026.2': new ChallengeFactory('2026.2'),
  };
  /** Requests on one session run one at a time (a flow is a sequence; concurrent POSTs must not interleave). */
  readonly #locks = new WeakMap<Session, Promise<void>>();

  constructor(options: FlowEngineOptions) {
    this.#directory = options.directory;
    this.#sessions = options.sessions;
    this.#now = options.now ?? preciseNowMs;
    this.#log = options.logger ?? SILENT;
    this.#delayMs = options.unknownIdentifierDelayMs ?? (() => 30 * randomInt(3, 8));
  }

  async handle(req: ExecutorRequest): Promise<ExecutorResponse> {
    const directory = this.#directory();
    const flow = directory.flows.get(req.flowSlug);
    if (flow === undefined) return { status: 404, body: { detail: 'Not found.' }, setCookies: [] };
    const found = this.#sessions.fromCookie(req.sessionCookie);
    if (found === undefined) return this.#execute(req, directory, flow, undefined);
    return this.#withLock(found, () => {
      // The previous request on this session may have ended it (user_logout).
      const live = this.#sessions.get(found.key) === found ? found : undefined;
      return this.#execute(req, directory, flow, live);
    });
  }

  async #withLock<T>(session: Session, fn: () => Promise<T>): Promise<T> {
    const previous = this.#locks.get(session) ?? Promise.resolve();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const current = previous.then(() => gate);
    this.#locks.set(session, current);
    await previous;
    try {
      return await fn();
    } finally {
      release();
      if (this.#locks.get(session) === current) this.#locks.delete(session);
    }
  }

  async #execute(req: ExecutorRequest, directory: Directory, flow: CoreFlow, initial: Session | undefined): Promise<ExecutorResponse> {
    const run = new Run(this.#sessions, initial);
    const factory = this.#factories[directory.settings.generation];
    const query = innerQuery(req.rawQuery);
    let response: ExecutorResponse;
    try {
      response = await this.#dispatch(req, directory, flow, factory, run, query);
    } catch (err) {
      response = this.#flowError(factory, req, flow, err);
    }
    response.setCookies = run.cookies(req);
    return response;
  }

  async #dispatch(
    req: ExecutorRequest,
    directory: Directory,
    flow: CoreFlow,
    factory: ChallengeFactory,
    run: Run,
    query: URLSearchParams,
  ): Promise<ExecutorResponse> {
    let plan = run.session?.plan;
    if (plan !== undefined && plan.flowPk !== flow.pk) {
      // A plan for another flow is dropped, like authentik does.
      run.session!.plan = undefined;
      plan = undefined;
    }
    if (plan === undefined) {
      const user = sessionUser(directory, run.session);
      if (!authenticationAllows(flow, directory, user, req.outpost) || !policiesPass(directory, flow.policies, user)) {
        // An authenticated user hitting an authentication flow that does not apply to them is simply done.
        if (flow.designation === 'authentication' && user !== undefined) return this.#flowDone(factory, flow, run, query, displayUser(user));
        this.#log.info({ flow: flow.slug, authentication: flow.authentication }, 'flow not applicable');
        return ok200(factory.accessDenied(flow, displayUser(user), NOT_APPLICABLE));
      }
      const stages = flow.stages.filter((s) => !s.binding.evaluateOnPlan || policiesPass(directory, s.binding.policies, user));
      // authentik's EmptyFlowException: the executor finishes the flow at once.
      if (stages.length === 0) return this.#flowDone(factory, flow, run, query, displayUser(user));
      plan = {
        flowPk: flow.pk,
        flowSlug: flow.slug,
        stages,
        context: { remoteIp: req.remoteIp, passwordFailures: 0 },
      };
      if (req.outpost !== null) plan.context.outpost = { instance: { uuid: req.outpost.uuid, name: req.outpost.name, type: req.outpost.type } };
      const session = run.ensureSession();
      session.plan = plan;
      session.lastIp = req.remoteIp;
    }
    const stage = this.#currentStage(directory, plan, run);
    if (stage === undefined) return this.#flowDone(factory, flow, run, query, this.#display(directory, plan, run));

    const activePlan = plan;
    const ctx: StageContext = {
      directory,
      generation: directory.settings.generation,
      flow,
      plan: activePlan,
      factory,
      sessions: this.#sessions,
      nowMs: this.#now(),
      remoteIp: req.remoteIp,
      session: () => run.ensureSession(),
      replaceSession: (session) => run.replace(session),
      pendingUser: () => (activePlan.context.pendingUserPk === undefined ? undefined : directory.users.get(activePlan.context.pendingUserPk)),
      display: () => this.#display(directory, activePlan, run),
      unknownIdentifierDelay: () => delay(this.#delayMs()),
    };
    let outcome: StageOutcome;
    try {
      outcome = await runStage(stage, ctx, req.method, req.body);
    } catch (err) {
      return this.#flowError(factory, req, flow, err, stage.kind);
    }
    switch (outcome.kind) {
      case 'challenge':
        return ok200(outcome.body);
      case 'error':
        return this.#flowError(factory, req, flow, new Error(outcome.reason), stage.kind);
      case 'invalid': {
        const shown = this.#display(directory, activePlan, run);
        run.cancelPlan();
        this.#log.info({ flow: flow.slug, stage: stage.kind }, 'stage invalid, flow cancelled');
        return ok200(factory.accessDenied(flow, shown, outcome.message));
      }
      case 'ok': {
        activePlan.stages.shift();
        if (activePlan.stages.length > 0) {
          const rawQuery = req.rawQuery.startsWith('?') ? req.rawQuery.slice(1) : req.rawQuery;
          const path = req.path ?? `/api/v3/flows/executor/${encodeURIComponent(flow.slug)}/`;
          return { status: 302, location: rawQuery === '' ? path : `${path}?${rawQuery}`, setCookies: [] };
        }
        return this.#flowDone(factory, flow, run, query, this.#display(directory, activePlan, run));
      }
    }
  }

  /**
   * authentik's FlowPlan.next(): the first stage whose binding still passes (re_evaluate_policies, checked for
   * the pending user, else the session's user, on every request); stages that fail are dropped from the plan.
   */
  #currentStage(directory: Directory, plan: FlowPlan, run: Run): CoreStage | undefined {
    for (let stage = plan.stages[0]; stage !== undefined; stage = plan.stages[0]) {
      if (!stage.binding.reEvaluatePolicies) return stage;
      const pending = plan.context.pendingUserPk === undefined ? undefined : directory.users.get(plan.context.pendingUserPk);
      if (policiesPass(directory, stage.binding.policies, pending ?? sessionUser(directory, run.session))) return stage;
      this.#log.debug({ flow: plan.flowSlug, stage: stage.name }, 'stage binding failed re-evaluation, stage skipped');
      plan.stages.shift();
    }
    return undefined;
  }

  /** All stages passed: cancel the plan and redirect to `next` (relative only) or "/". */
  #flowDone(factory: ChallengeFactory, flow: CoreFlow, run: Run, query: URLSearchParams, shown: DisplayUser): ExecutorResponse {
    run.cancelPlan();
    const next = query.get('next');
    if (next === null || next === '') return ok200(factory.redirect('/'));
    if (!isRelativeUrl(next)) return ok200(factory.accessDenied(flow, shown, 'Invalid next URL'));
    return ok200(factory.redirect(next));
  }

  #flowError(factory: ChallengeFactory, req: ExecutorRequest, flow: CoreFlow, err: unknown, stage?: string): ExecutorResponse {
    const requestId = randomUUID().replace(/-/g, '');
    const message = err instanceof Error ? err.message : String(err);
    this.#log.error({ flow: flow.slug, stage, method: req.method, request_id: requestId, err: message }, 'exception during flow execution');
    return ok200(factory.flowError(requestId));
  }

  /** authentik's get_pending_user(for_display): the plan's pending user, else the session user, else "". */
  #display(directory: Directory, plan: FlowPlan, run: Run): DisplayUser {
    const pk = plan.context.pendingUserPk;
    const pending = pk === undefined ? undefined : directory.users.get(pk);
    if (pending !== undefined) return displayUser(pending);
    const user = sessionUser(directory, run.session);
    return user === undefined ? ANONYMOUS_DISPLAY : displayUser(user);
  }
}

/** The flow's `authentication` requirement, checked when a plan is made (authentik's FlowPlanner). */
function authenticationAllows(flow: CoreFlow, directory: Directory, user: CoreUser | undefined, outpost: CoreOutpost | null): boolean {
  switch (flow.authentication) {
    case 'none':
      return true;
    case 'require_authenticated':
      return user !== undefined;
    case 'require_unauthenticated':
      return user === undefined;
    case 'require_superuser':
      return user !== undefined && isEffectiveSuperuser(directory, user);
    case 'require_outpost':
      return outpost !== null;
  }
}

function ok200(body: ChallengeBody): ExecutorResponse {
  return { status: 200, body, setCookies: [] };
}

function delay(ms: number): Promise<void> {
  return ms <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, ms));
}

/** Per-request session bookkeeping and the Set-Cookie decision (Django's SessionMiddleware). */
class Run {
  session: Session | undefined;

  readonly #sessions: SessionStore;

  constructor(
    sessions: SessionStore,
    initial: Session | undefined,
  ) {
    this.#sessions = sessions;
    this.session = initial;
  }

  ensureSession(): Session {
    this.session ??= this.#sessions.create();
    return this.session;
  }

  replace(session: Session): void {
    this.session = session;
  }

  cancelPlan(): void {
    if (this.session !== undefined) this.session.plan = undefined;
  }

  /**
   * A session holding a plan or a user gets its cookie (re)set, with a sliding expiry; an empty one is dropped,
   * and the client's cookie cleared if it sent one.
   */
  cookies(req: ExecutorRequest): string[] {
    const hadCookie = req.sessionCookie !== undefined && req.sessionCookie !== '';
    const session = this.session;
    if (session !== undefined && (session.plan !== undefined || session.userPk !== null)) {
      this.#sessions.touch(session);
      return [this.#sessions.setCookieHeader(session, { secure: req.secure })];
    }
    if (session !== undefined) this.#sessions.discard(session);
    return hadCookie ? [this.#sessions.clearCookieHeader({ secure: req.secure })] : [];
  }
}
