/**
 * The LDAP outpost module: providers from the core, their directory snapshots (cached search), the bind caches,
 * the LDAP and LDAPS listeners and TLS certificate choice. The controller drives refresh(); everything else
 * answers from the state the last successful refresh swapped in.
 */
import type { SecureContext } from 'node:tls';
import type { OutpostConfig } from '../../config/env.js';
import { cidrBlockList } from '../../config/env.js';
import { LDAP_LIMITS } from '../../config/limits.js';
import { buildSnapshot } from '../../directory/build.js';
import type { CoreApi } from '../../core-api/port.js';
import { CoreError } from '../../errors.js';
import { generateSelfSigned } from '../../lib/x509.js';
import { LdapListener } from '../../listeners/ldap/server.js';
import { createServerSecureContext } from '../../listeners/tls.js';
import type { Logger } from '../../observability/log.js';
import type { KeyPairMaterial } from '../../outpost/cert-store.js';
import type { ModuleContext, OutpostModule, RefreshContext } from '../../outpost/module.js';
import type { CoarseTimers } from '../../util/coarse-timers.js';
import { PACKAGE_VERSION } from '../../version.js';
import { ResultCode } from '../../protocol/ldap/result-codes.js';
import { bindStateInSnapshot, bindStateOfUser } from './fingerprint.js';
import { LdapRequestHandler } from './handler.js';
import { ldapMetrics } from './metrics.js';
import { LdapProvider } from './provider.js';
import { collectGarbageIfExposed } from '../../util/memory.js';
import type { BindCacheOptions } from './bind-cache.js';
import type { BindShare, SharedBind } from './bind-share.js';
import { LDAP_OUTPOST_QUERY } from './bind.js';

export interface LdapModuleDeps {
  config: OutpostConfig;
  timers: CoarseTimers;
  /** AUTHENTIK_WORKERS > 1: binds verified here are shared with the sibling workers and theirs adopted. */
  bindShare?: BindShare;
}

export class LdapModule implements OutpostModule {
  readonly type = 'ldap' as const;
  readonly #ctx: ModuleContext;
  readonly #deps: LdapModuleDeps;
  readonly #log: Logger;
  readonly #handler: LdapRequestHandler;
  readonly #listener: LdapListener;
  #providers: readonly LdapProvider[] = [];
  #defaultContext: SecureContext | undefined;
  /** The core's key pairs as TLS contexts with the same policy as the default (one per fetched pair). */
  readonly #coreContexts = new WeakMap<KeyPairMaterial, SecureContext>();
  #warmupTimer: { cancel(): void } | undefined;
  #warmupEverySeconds = 0;
  #stopped = false;
  readonly #bound: { mode: 'ldap' | 'ldaps'; address: string; port: number }[] = [];
  readonly #unsubscribeBinds: (() => void) | undefined;

  constructor(ctx: ModuleContext, deps: LdapModuleDeps) {
    this.#ctx = ctx;
    this.#deps = deps;
    this.#log = ctx.logger;
    const metrics = ldapMetrics(ctx.registry);
    this.#handler = new LdapRequestHandler({
      api: ctx.api,
      providers: () => this.#providers,
      outpostName: () => ctx.outpost.name,
      requireTls: deps.config.ldap.requireTls,
      bindTimeoutMs: Math.min(LDAP_LIMITS.bindTimeoutMs, Math.max(deps.config.coreTimeoutMs, 1000) * 3),
      pageSize: deps.config.ldap.pageSize,
      vendorVersion: `ak-outpost ${PACKAGE_VERSION}`,
      logger: ctx.logRoot.child('authentik.outpost.ldap'),
      metrics,
    });
    this.#listener = new LdapListener({
      handler: this.#handler,
      logger: ctx.logRoot.child('authentik.outpost.ldap.listener'),
      trustedProxies: cidrBlockList(deps.config.listen.trustedProxyCidrs),
      selectCertificate: (servername) => this.#selectCertificate(servername),
    });
    this.#unsubscribeBinds = deps.bindShare?.subscribe((bind) => this.#adoptBind(bind));
  }

  get providers(): readonly LdapProvider[] {
    return this.#providers;
  }

  /** Where the listeners actually listen (port 0 resolved). */
  get boundAddresses(): readonly { mode: 'ldap' | 'ldaps'; address: string; port: number }[] {
    return this.#bound;
  }

  get listener(): LdapListener {
    return this.#listener;
  }

  async refresh(ctx: RefreshContext): Promise<void> {
    const configs = await ctx.api.listLdapProviders();
    if (configs.length === 0) throw new Error('no ldap provider defined');
    const previous = new Map(this.#providers.map((p) => [p.config.pk, p]));
    const next = configs.map((c) => new LdapProvider(c, previous.get(c.pk), this.#bindCacheOptions(c.pk)));
    const certificates = new Set<string>();
    for (const p of next) if (p.config.certificate !== null) certificates.add(p.config.certificate);
    const pairs = await Promise.all([...certificates].map((uuid) => this.#ctx.certificates.get(uuid)));
    for (const pair of pairs) if (pair !== undefined) this.#contextOf(pair);
    this.#ctx.certificates.retain(certificates);

    let firstLoad = false;
    for (const p of next) {
      if (p.config.searchMode !== 'cached') continue;
      firstLoad ||= p.snapshot === undefined;
      await this.#loadSnapshot(ctx.api, p);
    }
    this.#providers = next;
    // Only after a first load: a full collection of a large heap pauses everything, which nobody waits on yet.
    if (firstLoad && this.#providers.length > 0) collectGarbageIfExposed();
    await Promise.all(next.map((p) => this.#recheckBindCache(ctx.api, p)));
    this.#scheduleWarmup(ctx.rootConfig.cacheTimeoutFlows);
  }

  async #loadSnapshot(api: CoreApi, provider: LdapProvider): Promise<void> {
    const log = this.#log.child({ provider: provider.name });
    const started = performance.now();
    try {
      provider.snapshot = await buildSnapshot(api, provider.config, {
        pageSize: this.#deps.config.ldap.pageSize,
        // Unchanged values share the live snapshot's strings, and the build paces itself while it serves.
        ...(provider.snapshot !== undefined ? { previous: provider.snapshot } : {}),
        onProgress: (p) => {
          if (p.phase === 'users') log.info({ users: p.users, groups: p.groups }, 'Loading directory');
        },
      });
      log.info(
        { users: provider.snapshot.userCount, groups: provider.snapshot.groupCount, 'took-ms': Math.round(performance.now() - started) },
        'Directory loaded',
      );
    } catch (err) {
      // The previous snapshot (if any) keeps serving; without one, searches answer unavailable.
      log.warn({ error: errorText(err), kept: provider.snapshot !== undefined }, 'Failed to load directory, keeping the previous one');
    }
  }

  /**
   * Drops cached binds whose user changed (password date, active flag, groups) since they were cached, and every
   * bind cached while the core showed no password change date (2023.10): those may be stale after any refresh.
   */
  async #recheckBindCache(api: CoreApi, provider: LdapProvider): Promise<void> {
    const cache = provider.bindCache;
    if (cache === undefined || cache.size === 0) return;
    const blind = cache.dropWhere((e) => !e.passwordChangesVisible);
    if (blind > 0) this.#log.info({ provider: provider.name, dropped: blind }, 'Dropped cached binds: this core does not show password changes');
    if (cache.size === 0) return;
    let dropped: number;
    if (provider.snapshot !== undefined) {
      const snapshot = provider.snapshot;
      dropped = cache.dropWhere((e) => bindStateInSnapshot(snapshot, e.userPk)?.fingerprint !== e.fingerprint);
    } else {
      const users = [...cache.users()];
      if (users.length > LDAP_LIMITS.maxBindCacheRechecks) {
        dropped = cache.size;
        cache.clear();
      } else {
        const current = new Map<number, string | undefined>();
        let next = 0;
        const worker = async (): Promise<void> => {
          while (next < users.length) {
            const pk = users[next++]!;
            try {
              current.set(pk, bindStateOfUser(await api.getUser(pk)).fingerprint);
            } catch (err) {
              if (!(err instanceof CoreError)) throw err;
              current.set(pk, undefined); // unknown now: drop rather than trust
            }
          }
        };
        await Promise.all(Array.from({ length: LDAP_LIMITS.bindCacheRecheckConcurrency }, worker));
        dropped = cache.dropWhere((e) => current.get(e.userPk) !== e.fingerprint);
      }
    }
    if (dropped > 0) this.#log.info({ provider: provider.name, dropped }, 'Dropped cached binds of changed users');
  }

  #scheduleWarmup(everySeconds: number): void {
    if (everySeconds === this.#warmupEverySeconds && this.#warmupTimer !== undefined) return;
    this.#warmupTimer?.cancel();
    this.#warmupEverySeconds = everySeconds;
    if (this.#stopped || !(everySeconds > 0)) return;
    const run = (): void => {
      void this.#warmup();
      this.#warmupTimer = this.#deps.timers.setTimeout(run, everySeconds * 1000);
    };
    run();
  }

  /** authentik's flow warm-up: one executor GET per provider so the core caches the flow plan. */
  async #warmup(): Promise<void> {
    const query = { ...LDAP_OUTPOST_QUERY, 'goauthentik.io/outpost/ldap-warmup': 'true' };
    await Promise.all(
      this.#providers.map((p) =>
        this.#ctx.api.newFlowAttempt({ remoteIp: '127.0.0.1', innerQuery: query, timeoutMs: this.#deps.config.coreTimeoutMs }).warmUp(p.config.bindFlowSlug),
      ),
    );
  }

  async start(): Promise<void> {
    const pair = await generateSelfSigned({ commonName: 'authentik default certificate', organization: 'authentik', sans: ['*'] });
    this.#defaultContext = createServerSecureContext({ key: pair.privateKeyPem, cert: pair.certificatePem });
    const listen = this.#deps.config.listen;
    for (const [mode, list] of [['ldap', listen.ldap], ['ldaps', listen.ldaps]] as const) {
      for (const a of list) {
        const bound = await this.#listener.listen({ host: a.host, port: a.port, mode });
        this.#bound.push({ mode, address: bound.address, port: bound.port });
      }
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#unsubscribeBinds?.();
    this.#warmupTimer?.cancel();
    await this.#listener.close();
    await this.#handler.drain();
  }

  #bindCacheOptions(providerPk: number): BindCacheOptions {
    const options: BindCacheOptions = { maxEntries: LDAP_LIMITS.maxCachedBindSessions, ttlMs: LDAP_LIMITS.bindCacheTtlMs };
    const share = this.#deps.bindShare;
    if (share !== undefined) {
      options.key = share.key;
      options.onStore = (digest, entry) => share.publish({ providerPk, digest, entry });
    }
    return options;
  }

  /** A bind a sibling worker verified; skipped when this worker's directory shows the user changed since. */
  #adoptBind(bind: SharedBind): void {
    const provider = this.#providers.find((p) => p.config.pk === bind.providerPk);
    const cache = provider?.bindCache;
    if (provider === undefined || cache === undefined || this.#stopped) return;
    if (provider.snapshot !== undefined) {
      const current = bindStateInSnapshot(provider.snapshot, bind.entry.userPk);
      if (current === undefined || current.fingerprint !== bind.entry.fingerprint) return;
    }
    cache.adopt(bind.digest, bind.entry);
  }

  onSessionEnd(sessionId: string): void {
    for (const p of this.#providers) p.bindCache?.dropWhere((e) => e.sessionHash === sessionId);
    const closed = this.#handler.endSession(sessionId, { resultCode: ResultCode.strongerAuthRequired, diagnosticMessage: 'session ended' });
    if (closed > 0) this.#log.info({ connections: closed }, 'Closed connections of an ended session');
  }

  /** SNI against tls_server_name, then the providers' single certificate, then the generated default. */
  #selectCertificate(servername: string | undefined): SecureContext {
    const certs = this.#ctx.certificates;
    if (servername !== undefined && servername !== '') {
      const wanted = servername.toLowerCase();
      for (const p of this.#providers) {
        if (p.config.certificate !== null && p.config.tlsServerName.toLowerCase() === wanted) {
          const pair = certs.cached(p.config.certificate);
          if (pair !== undefined) return this.#contextOf(pair);
        }
      }
    }
    const distinct = new Set<string>();
    for (const p of this.#providers) if (p.config.certificate !== null) distinct.add(p.config.certificate);
    if (distinct.size === 1) {
      const pair = certs.cached([...distinct][0]!);
      if (pair !== undefined) return this.#contextOf(pair);
    }
    if (this.#defaultContext === undefined) throw new Error('LDAP TLS is not ready');
    return this.#defaultContext;
  }

  #contextOf(pair: KeyPairMaterial): SecureContext {
    let context = this.#coreContexts.get(pair);
    if (context === undefined) {
      context = createServerSecureContext({ key: pair.privateKeyPem, cert: pair.certificatePem });
      this.#coreContexts.set(pair, context);
    }
    return context;
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
