/**
 * The RADIUS outpost module: providers from the core, the client table their client_networks make, and the
 * authentication and accounting sockets, and the TLS contexts of EAP from the providers' certificates. A failed refresh keeps the previous providers (the controller retries).
 */
import { Buffer } from 'node:buffer';
import type { SecureContext } from 'node:tls';
import { createServerSecureContext } from '../../listeners/tls.js';
import type { OutpostConfig } from '../../config/env.js';
import { RADIUS_LIMITS } from '../../config/limits.js';
import { buildClientTable, type ClientTable } from '../../listeners/radius/clients.js';
import type { RadiusRouting } from '../../listeners/radius/routing.js';
import { RadiusListener, type BoundRadiusSocket } from '../../listeners/radius/server.js';
import type { Logger } from '../../observability/log.js';
import type { ModuleContext, OutpostModule, RefreshContext } from '../../outpost/module.js';
import { newStateValue } from '../../protocol/radius/index.js';
import { RadiusRequestHandler, type RadiusProvider } from './handler.js';
import { radiusMetrics } from './metrics.js';

export interface RadiusModuleDeps {
  config: OutpostConfig;
  /** AUTHENTIK_WORKERS > 1: States name this worker, and requests with another worker's State go there. */
  routing?: RadiusRouting;
}

export class RadiusModule implements OutpostModule {
  readonly type = 'radius' as const;
  readonly #ctx: ModuleContext;
  readonly #deps: RadiusModuleDeps;
  readonly #log: Logger;
  readonly #listener: RadiusListener<RadiusProvider>;
  readonly #handler: RadiusRequestHandler;
  #providers: readonly RadiusProvider[] = [];
  #clients: ClientTable<RadiusProvider> = buildClientTable<RadiusProvider>([]);

  constructor(ctx: ModuleContext, deps: RadiusModuleDeps) {
    this.#ctx = ctx;
    this.#deps = deps;
    this.#log = ctx.logger;
    const metrics = radiusMetrics(ctx.registry);
    const outpostName = (): string => ctx.outpost.name;
    const handler = (this.#handler = new RadiusRequestHandler({
      api: ctx.api,
      outpostName,
      timeoutMs: Math.min(RADIUS_LIMITS.accessTimeoutMs, Math.max(deps.config.coreTimeoutMs, 1000) * 3),
      logger: ctx.logRoot.child('authentik.outpost.radius'),
      metrics,
      newState: () => newStateValue(deps.routing?.slot),
    }));
    this.#listener = new RadiusListener<RadiusProvider>({
      handler,
      clients: () => this.#clients,
      requireMessageAuthenticator: deps.config.radius.requireMessageAuthenticator,
      logger: ctx.logRoot.child('authentik.outpost.radius.listener'),
      onDrop: (reason, service) => metrics.dropped.inc({ outpost_name: outpostName(), service, reason }),
      onForward: (service, path) => metrics.forwarded.inc({ outpost_name: outpostName(), service, path }),
      ...(deps.routing !== undefined ? { routing: deps.routing } : {}),
    });
  }

  get providers(): readonly RadiusProvider[] {
    return this.#providers;
  }

  /** Where the sockets actually listen (port 0 resolved). */
  get boundSockets(): readonly BoundRadiusSocket[] {
    return this.#listener.boundSockets;
  }

  async refresh(ctx: RefreshContext): Promise<void> {
    const configs = await ctx.api.listRadiusProviders();
    const certificates = new Set<string>();
    for (const c of configs) if (c.certificate !== null) certificates.add(c.certificate);
    const contexts = new Map<string, SecureContext>();
    for (const uuid of certificates) {
      const pair = await this.#ctx.certificates.get(uuid);
      if (pair === undefined) continue;
      try {
        contexts.set(uuid, createServerSecureContext({ cert: pair.certificatePem, key: pair.privateKeyPem }));
      } catch (err) {
        this.#log.warn({ kp: uuid, err: err instanceof Error ? err.message : String(err) }, 'Certificate unusable for EAP');
      }
    }
    this.#ctx.certificates.retain(certificates);
    const providers: RadiusProvider[] = configs.map((config) => ({
      config,
      // Encoded once per refresh: the MD5 and HMAC-MD5 of every packet read the secret as bytes.
      secret: Buffer.from(config.sharedSecret, 'utf8'),
      eapContext: config.certificate === null ? undefined : contexts.get(config.certificate),
    }));
    const clients = buildClientTable(providers.map((p) => ({ pk: p.config.pk, clientNetworks: p.config.clientNetworks, value: p })));
    if (clients.invalid.length > 0) this.#log.warn({ entries: clients.invalid }, 'Skipped client_networks entries that are not networks');
    for (const p of providers) {
      if (p.config.sharedSecret === '') this.#log.warn({ provider: p.config.name }, 'Provider without a shared secret');
    }
    this.#providers = providers;
    this.#clients = clients;
    this.#log.info({ providers: providers.length }, 'Loaded RADIUS providers');
  }

  async start(): Promise<void> {
    const listen = this.#deps.config.listen;
    for (const [service, list] of [['authentication', listen.radius], ['accounting', listen.radiusAccounting]] as const) {
      for (const a of list) {
        const bound = await this.#listener.listen(a.host, a.port, service);
        this.#log.info({ service, listen: `${bound.address}:${bound.port}` }, 'Starting RADIUS server');
      }
    }
  }

  async stop(): Promise<void> {
    await this.#listener.close();
    this.#handler.close();
  }
}
