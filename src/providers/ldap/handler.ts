/**
 * The LDAP provider layer's entry point: one call per operation from the listener. Routes binds, searches,
 * compares and extended operations; refuses writes. Logs and metrics per operation like the reference.
 */
import { randomUUID } from 'node:crypto';
import type { CoreApi } from '../../core-api/port.js';
import type { LdapConnectionView, LdapHandler, LdapLogger, ResponseSink } from '../../listeners/ldap/handler.js';
import type { LdapMessage, OpOf } from '../../protocol/ldap/messages.js';
import { Oid } from '../../protocol/ldap/oids.js';
import { ResultCode } from '../../protocol/ldap/result-codes.js';
import { LDAP_LIMITS } from '../../config/limits.js';
import { authStateOf } from './auth-state.js';
import { BindTargetMemo, LDAP_OUTPOST_QUERY, simpleBind, type BindOutcome } from './bind.js';
import type { LdapMetrics, LdapRequestType } from './metrics.js';
import type { LdapProvider } from './provider.js';
import { SessionConnections } from './sessions.js';
import { compareOperation, PagedSearches, searchOperation, type SearchDeps } from './search.js';

/** The promise of every operation answered synchronously (shared: settling it costs nothing). */
const DONE: Promise<void> = Promise.resolve();

export interface LdapHandlerDeps {
  api: CoreApi;
  providers: () => readonly LdapProvider[];
  outpostName: () => string;
  requireTls: boolean;
  bindTimeoutMs: number;
  /** Page size of core list calls (direct search). */
  pageSize: number;
  vendorVersion: string;
  logger: LdapLogger;
  metrics: LdapMetrics;
}

export class LdapRequestHandler implements LdapHandler {
  readonly #deps: LdapHandlerDeps;
  readonly #sessions = new SessionConnections();
  readonly #paged = new WeakMap<LdapConnectionView, PagedSearches>();
  readonly #unbinds = new Set<Promise<void>>();
  readonly #bindTargets = new BindTargetMemo(LDAP_LIMITS.bindTargetMemoEntries);

  constructor(deps: LdapHandlerDeps) {
    this.#deps = deps;
  }

  /** Not async: operations answered without waiting (a cached bind) return the shared settled promise. */
  handle(msg: LdapMessage, conn: LdapConnectionView, out: ResponseSink): Promise<void> {
    const op = msg.op;
    // RFC 4511 4.1.11: a critical control we do not implement fails the operation.
    const unknownCritical = msg.controls.find((c) => c.criticality && !(op.kind === 'SearchRequest' && c.type === Oid.pagedResults));
    if (unknownCritical !== undefined) {
      out.done(ResultCode.unavailableCriticalExtension, { diagnosticMessage: `critical control ${unknownCritical.type} is not supported` });
      return DONE;
    }
    switch (op.kind) {
      case 'BindRequest':
        return this.#bind(op, conn, out);
      case 'SearchRequest':
        return this.#observe('search', () => searchOperation(op, msg.controls, conn, out, this.#searchDeps(conn)));
      case 'CompareRequest':
        return this.#observe('compare', () => compareOperation(op, conn, out, this.#searchDeps(conn)));
      case 'ExtendedRequest':
        return this.#extended(op, conn, out);
      case 'ModifyRequest':
      case 'AddRequest':
      case 'DelRequest':
      case 'ModifyDNRequest':
        out.done(ResultCode.unwillingToPerform, { diagnosticMessage: 'this directory is read-only' });
        return DONE;
      default:
        out.done(ResultCode.protocolError, { diagnosticMessage: `unexpected ${op.kind}` });
        return DONE;
    }
  }

  onClose(conn: LdapConnectionView): void {
    this.#sessions.untrack(conn);
    this.#paged.delete(conn);
    this.#runUnbindFlow(conn);
  }

  /** Closes the connections bound in a core session (SESSION_END); returns how many. */
  endSession(sessionHash: string, notice: { resultCode: number; diagnosticMessage: string }): number {
    const conns = this.#sessions.take(sessionHash);
    for (const conn of conns) conn.close('session ended', notice);
    return conns.length;
  }

  /** Waits for unbind flows still running (shutdown). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.#unbinds]);
  }

  #searchDeps(conn: LdapConnectionView): SearchDeps {
    let paged = this.#paged.get(conn);
    if (paged === undefined) this.#paged.set(conn, (paged = new PagedSearches(LDAP_LIMITS.maxPagedSearchesPerConnection)));
    return {
      api: this.#deps.api,
      providers: this.#deps.providers(),
      pageSize: this.#deps.pageSize,
      vendorVersion: this.#deps.vendorVersion,
      paged,
      logger: this.#deps.logger,
      reject: (reason, app) => this.#deps.metrics.rejected.inc({ outpost_name: this.#deps.outpostName(), type: 'search', reason, app }),
    };
  }

  async #observe(type: LdapRequestType, run: () => Promise<string>): Promise<void> {
    const started = performance.now();
    const app = await run();
    this.#deps.metrics.duration.observe({ outpost_name: this.#deps.outpostName(), type, app }, (performance.now() - started) / 1000);
  }

  #bind(op: OpOf<'BindRequest'>, conn: LdapConnectionView, out: ResponseSink): Promise<void> {
    const started = performance.now();
    // RFC 4511 4.2.1: the connection is anonymous while a bind is in progress and after a failed one.
    this.#sessions.untrack(conn);
    conn.boundDn = '';
    conn.authState = null;
    if (op.version !== 3) {
      out.done(ResultCode.protocolError, { diagnosticMessage: 'only LDAPv3 is supported' });
      return DONE;
    }
    if (op.auth.type !== 'simple') {
      out.done(ResultCode.authMethodNotSupported, { diagnosticMessage: 'SASL is not supported; use a simple bind' });
      return DONE;
    }
    const outcome = simpleBind(op, op.auth.password, conn, {
      api: this.#deps.api,
      providers: this.#deps.providers(),
      targets: this.#bindTargets,
      requireTls: this.#deps.requireTls,
      timeoutMs: this.#deps.bindTimeoutMs,
    });
    if (outcome instanceof Promise) return outcome.then((o) => this.#bound(op, conn, out, o, started));
    this.#bound(op, conn, out, outcome, started);
    return DONE;
  }

  /** Applies and answers a bind outcome, then metrics and log. */
  #bound(op: OpOf<'BindRequest'>, conn: LdapConnectionView, out: ResponseSink, outcome: BindOutcome, started: number): void {
    const app = outcome.provider?.app ?? '';
    const outpostName = this.#deps.outpostName();
    if (outcome.state !== undefined) {
      conn.boundDn = outcome.state.dn;
      conn.authState = outcome.state;
      if (outcome.state.sessionHash !== undefined) this.#sessions.track(outcome.state.sessionHash, conn);
    } else if (outcome.reason !== undefined) {
      this.#deps.metrics.rejected.inc({ outpost_name: outpostName, type: 'bind', reason: outcome.reason, app });
    }
    out.done(outcome.resultCode, { diagnosticMessage: outcome.diagnosticMessage });
    const tookMs = performance.now() - started;
    this.#deps.metrics.duration.observe({ outpost_name: outpostName, type: 'bind', app }, tookMs / 1000);
    // Binds served from the cache log at debug: at tens of thousands per second a line each would dominate.
    const logger = this.#deps.logger;
    if (outcome.cached === true && logger.isLevelEnabled?.('debug') === false) return;
    const logAt = outcome.cached === true ? logger.debug : logger.info;
    logAt.call(
      logger,
      {
        bindDN: op.name.toLowerCase(),
        requestId: randomUUID(),
        client: conn.peer.address,
        'took-ms': Math.round(tookMs),
        resultCode: outcome.resultCode,
        ...(outcome.reason !== undefined ? { reason: outcome.reason } : {}),
        ...(outcome.cached === true ? { cached: true } : {}),
      },
      outcome.cached === true ? 'Bind request (authenticated from session)' : 'Bind request',
    );
  }

  async #extended(op: OpOf<'ExtendedRequest'>, conn: LdapConnectionView, out: ResponseSink): Promise<void> {
    if (op.requestName === Oid.whoAmI) {
      const state = authStateOf(conn.authState);
      // RFC 4532: "dn:<DN>" for an authenticated client, empty for anonymous.
      out.done(ResultCode.success, { responseValue: Buffer.from(state === undefined ? '' : `dn:${state.dn}`, 'utf8') });
      return;
    }
    out.done(ResultCode.protocolError, { diagnosticMessage: `unsupported extended operation ${op.requestName}` });
  }

  /** authentik's unbind: the provider's invalidation flow in the user's session (direct bind mode only). */
  #runUnbindFlow(conn: LdapConnectionView): void {
    const state = authStateOf(conn.authState);
    if (state === undefined || state.sessionCookie === undefined) return;
    const provider = this.#deps.providers().find((p) => p.config.pk === state.providerPk);
    const slug = provider?.config.unbindFlowSlug;
    // Cached binds share one core session; ending it would end every cached bind of that user.
    if (provider === undefined || slug === null || slug === undefined || provider.bindCache !== undefined) return;
    if (this.#unbinds.size >= LDAP_LIMITS.maxConcurrentUnbindFlows) return;
    const attempt = this.#deps.api.newFlowAttempt({
      remoteIp: conn.peer.address,
      innerQuery: LDAP_OUTPOST_QUERY,
      timeoutMs: this.#deps.bindTimeoutMs,
      sessionCookie: state.sessionCookie,
    });
    const started = performance.now();
    const run = attempt.execute(slug, { username: state.username, password: '', mfaSupport: false }).then((outcome) => {
      this.#deps.metrics.duration.observe({ outpost_name: this.#deps.outpostName(), type: 'unbind', app: provider.app }, (performance.now() - started) / 1000);
      if (!outcome.passed) this.#deps.logger.debug({ provider: provider.name, reason: outcome.reason }, 'Unbind flow did not complete');
    });
    const tracked = run.finally(() => this.#unbinds.delete(tracked));
    this.#unbinds.add(tracked);
  }
}
