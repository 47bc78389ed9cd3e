/**
 * The listener modules this build can run, by outpost type: LDAP and RADIUS (the controller refuses an outpost of
 * another type, naming the supported ones).
 */
import type { OutpostConfig } from '../config/env.js';
import type { LogRoot } from '../observability/log.js';
import type { MetricsRegistry } from '../observability/metrics.js';
import type { CoarseTimers } from '../util/coarse-timers.js';
import type { ModuleFactories } from '../outpost/module.js';
import { LdapModule } from './ldap/module.js';
import type { BindShare } from './ldap/bind-share.js';
import { RadiusModule } from './radius/module.js';
import type { RadiusRouting } from '../listeners/radius/routing.js';

/** Process-wide things a module may need beyond its ModuleContext. */
export interface ModuleDeps {
  config: OutpostConfig;
  logRoot: LogRoot;
  registry: MetricsRegistry;
  timers: CoarseTimers;
  /** Cluster workers only: verified LDAP binds shared with the sibling workers. */
  bindShare?: BindShare;
  /** Cluster workers only: RADIUS requests routed to the worker holding their conversation. */
  radiusRouting?: RadiusRouting;
}

export function moduleFactories(deps: ModuleDeps): ModuleFactories {
  return {
    ldap: (ctx) => new LdapModule(ctx, { config: deps.config, timers: deps.timers, ...(deps.bindShare !== undefined ? { bindShare: deps.bindShare } : {}) }),
    radius: (ctx) => new RadiusModule(ctx, { config: deps.config, ...(deps.radiusRouting !== undefined ? { routing: deps.radiusRouting } : {}) }),
  };
}
