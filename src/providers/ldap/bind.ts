/**
 * Simple bind: DN rules, the provider's authentication flow on the core, the access check, the cached bind.
 * Result codes follow authentik's outpost where clients depend on them (49 wrong credentials, 50 no provider or
 * no access); every core failure is a refusal (operationsError or unavailable), never a success.
 */
import { createHash } from 'node:crypto';
import { LDAP_LIMITS } from '../../config/limits.js';
import type { CoreApi, FlowOutcome } from '../../core-api/port.js';
import { CoreError } from '../../errors.js';
import type { LdapConnectionView } from '../../listeners/ldap/handler.js';
import { normalizedRdns, tryParseDn } from '../../protocol/ldap/dn.js';
import type { BindRequest } from '../../protocol/ldap/messages.js';
import { ResultCode } from '../../protocol/ldap/result-codes.js';
import type { LdapAuthState } from './auth-state.js';
import { bindStateInSnapshot, bindStateOfUser, type UserBindState } from './fingerprint.js';
import { depthBelow, routeByDn, type LdapProvider } from './provider.js';

export const LDAP_OUTPOST_QUERY: Readonly<Record<string, string>> = Object.freeze({ 'goauthentik.io/outpost/ldap': 'true' });

/** Why a bind was refused: the reference's metric reasons plus ours (invalid_dn, tls_required, ...). */
export type BindRejectReason =
  | 'no_provider'
  | 'invalid_dn'
  | 'flow_error'
  | 'invalid_credentials'
  | 'access_denied'
  | 'access_check_fail'
  | 'user_info_fail'
  | 'tls_required'
  | 'unsupported';

export interface BindOutcome {
  resultCode: number;
  diagnosticMessage: string;
  /** Set on success. */
  state?: LdapAuthState;
  reason?: BindRejectReason;
  provider?: LdapProvider;
  /** Served from the bind cache. */
  cached?: boolean;
}

export interface BindDeps {
  api: CoreApi;
  providers: readonly LdapProvider[];
  /** Remembers resolved bind DNs (optional: without it every bind parses its DN). */
  targets?: BindTargetMemo;
  requireTls: boolean;
  timeoutMs: number;
}

const refuse = (resultCode: number, reason: BindRejectReason, diagnosticMessage: string, provider?: LdapProvider): BindOutcome => ({
  resultCode,
  reason,
  diagnosticMessage,
  ...(provider !== undefined ? { provider } : {}),
});

export function sessionHashOf(sessionId: string | undefined): string | undefined {
  return sessionId === undefined ? undefined : createHash('sha256').update(sessionId).digest('hex');
}

/**
 * The username of a bind DN, or undefined when the DN is not one a user may bind with. Only
 * `cn=<name>,ou=users,<base>` and `cn=<name>,<base>` bind (authentik accepted any path, its issue #25394).
 */
export function bindUsername(provider: LdapProvider, rdns: readonly string[], dn: ReturnType<typeof tryParseDn>): string | undefined {
  if (dn === null) return undefined;
  const depth = depthBelow(provider, rdns);
  if (depth !== 1 && depth !== 2) return undefined;
  const first = dn[0];
  if (first === undefined || first.length !== 1 || first[0]!.type.toLowerCase() !== 'cn') return undefined;
  if (depth === 2 && rdns[1] !== 'ou=users') return undefined;
  const username = first[0]!.value;
  return username === '' ? undefined : username;
}

/** Where a bind DN goes, or the refusal of a DN no user may bind with. */
export type BindTarget = { provider: LdapProvider; username: string; normalizedDn: string } | BindOutcome;

/** The DN rules: parse, route by the longest base, then the allowed paths. */
export function bindTarget(name: string, providers: readonly LdapProvider[]): BindTarget {
  const dn = tryParseDn(name);
  if (dn === null) return refuse(ResultCode.invalidDNSyntax, 'invalid_dn', 'invalid DN syntax');
  const rdns = normalizedRdns(dn);
  const provider = routeByDn(providers, rdns);
  if (provider === undefined) return refuse(ResultCode.insufficientAccessRights, 'no_provider', 'no provider for this DN');
  const username = bindUsername(provider, rdns, dn);
  if (username === undefined) {
    return refuse(ResultCode.invalidCredentials, 'invalid_dn', 'bind DN must be cn=<user>,ou=users,<base> or cn=<user>,<base>', provider);
  }
  return { provider, username, normalizedDn: rdns.join(',') };
}

/**
 * Bind DNs already resolved against the current providers: clients (service accounts, NAS boxes) bind with the same
 * few DNs over and over, and parsing and routing was a tenth of a cached bind. Cleared when the providers change
 * and when full. Results are shared, never mutated.
 */
export class BindTargetMemo {
  readonly #max: number;
  readonly #targets = new Map<string, BindTarget>();
  #providers: readonly LdapProvider[] | undefined;

  constructor(maxEntries: number) {
    this.#max = maxEntries;
  }

  get size(): number {
    return this.#targets.size;
  }

  resolve(name: string, providers: readonly LdapProvider[]): BindTarget {
    if (providers !== this.#providers) {
      this.#targets.clear();
      this.#providers = providers;
    }
    let target = this.#targets.get(name);
    if (target === undefined) {
      target = bindTarget(name, providers);
      if (name.length <= LDAP_LIMITS.bindTargetMemoMaxDnLength) {
        if (this.#targets.size >= this.#max) this.#targets.clear();
        this.#targets.set(name, target);
      }
    }
    return target;
  }
}

/**
 * Answers synchronously when no core call is needed (refusals by rule, anonymous, a cache hit), so the hot path
 * of a cached bind costs no promise; otherwise returns the flow's promise.
 */
export function simpleBind(req: BindRequest, password: Buffer, conn: LdapConnectionView, deps: BindDeps): BindOutcome | Promise<BindOutcome> {
  // An anonymous bind carries no secret and may read only the RootDSE: allow it on plain LDAP, or `ldapsearch -x`
  // could not even discover StartTLS there. Anything with a name or a password needs TLS.
  const anonymous = req.name === '' && password.length === 0;
  if (deps.requireTls && !conn.tls.secure && !anonymous) {
    return refuse(ResultCode.confidentialityRequired, 'tls_required', 'TLS is required: use StartTLS or LDAPS before binding');
  }
  if (req.name === '') {
    if (password.length === 0) return { resultCode: ResultCode.success, diagnosticMessage: '' }; // anonymous
    return refuse(ResultCode.unwillingToPerform, 'invalid_dn', 'a password needs a bind DN');
  }
  if (password.length === 0) {
    // RFC 4513 5.1.2: an unauthenticated bind (DN, no password) is refused by default.
    return refuse(ResultCode.unwillingToPerform, 'invalid_credentials', 'unauthenticated bind (DN without password) is not allowed');
  }
  const target = deps.targets?.resolve(req.name, deps.providers) ?? bindTarget(req.name, deps.providers);
  if ('resultCode' in target) return target;
  const { provider, username, normalizedDn } = target;

  const cache = provider.bindCache;
  if (cache !== undefined) {
    const hit = cache.get(normalizedDn, password);
    if (hit !== undefined) {
      return {
        resultCode: ResultCode.success,
        diagnosticMessage: '',
        provider,
        cached: true,
        state: {
          providerPk: provider.config.pk,
          dn: req.name,
          normalizedDn,
          userPk: hit.userPk,
          username: hit.username,
          canSearch: hit.canSearch,
          sessionHash: hit.sessionHash,
          sessionCookie: undefined,
        },
      };
    }
  }

  return flowBind(req, password, conn, deps, { provider, username, normalizedDn });
}

/** The bind through the core: the provider's flow, the access check, the user, then the cache. */
async function flowBind(
  req: BindRequest,
  password: Buffer,
  conn: LdapConnectionView,
  deps: BindDeps,
  target: { provider: LdapProvider; username: string; normalizedDn: string },
): Promise<BindOutcome> {
  const { provider, username, normalizedDn } = target;
  const cache = provider.bindCache;
  const attempt = deps.api.newFlowAttempt({ remoteIp: conn.peer.address, innerQuery: LDAP_OUTPOST_QUERY, timeoutMs: deps.timeoutMs });
  const outcome: FlowOutcome = await attempt.execute(provider.config.bindFlowSlug, {
    username,
    password: password.toString('utf8'),
    mfaSupport: provider.config.mfaSupport,
  });
  if (!outcome.passed) {
    if (outcome.reason === 'core_error') {
      return refuse(ResultCode.unavailable, 'flow_error', 'authentication backend unavailable', provider);
    }
    return refuse(
      ResultCode.invalidCredentials,
      outcome.reason === 'access_denied' ? 'invalid_credentials' : 'flow_error',
      'invalid credentials',
      provider,
    );
  }

  let access;
  try {
    access = await attempt.checkLdapAccess(provider.config);
  } catch {
    return refuse(ResultCode.operationsError, 'access_check_fail', 'access check failed', provider);
  }
  if (!access.passing) return refuse(ResultCode.insufficientAccessRights, 'access_denied', 'access denied', provider);

  let user;
  try {
    user = await attempt.me();
  } catch {
    return refuse(ResultCode.operationsError, 'user_info_fail', 'failed to get user info', provider);
  }

  const sessionHash = sessionHashOf(attempt.sessionId());
  const state: LdapAuthState = {
    providerPk: provider.config.pk,
    dn: req.name,
    normalizedDn,
    userPk: user.pk,
    username: user.username,
    canSearch: access.hasSearchPermission,
    sessionHash,
    sessionCookie: attempt.sessionCookie(),
  };

  if (cache !== undefined) {
    let current: UserBindState | undefined;
    if (provider.snapshot !== undefined) current = bindStateInSnapshot(provider.snapshot, user.pk);
    if (current === undefined) {
      try {
        current = bindStateOfUser(await deps.api.getUser(user.pk));
      } catch (err) {
        // Without a baseline the entry could outlive a password change: don't cache, still a valid bind.
        if (!(err instanceof CoreError)) throw err;
      }
    }
    if (current !== undefined) {
      cache.set(normalizedDn, password, {
        userPk: user.pk,
        username: user.username,
        canSearch: access.hasSearchPermission,
        sessionHash,
        fingerprint: current.fingerprint,
        passwordChangesVisible: current.passwordChangesVisible,
      });
    }
  }
  return { resultCode: ResultCode.success, diagnosticMessage: '', provider, state };
}
