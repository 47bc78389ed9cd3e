/**
 * Placeholder until the embedded default mode lands (the lead replaces this file): without AUTHENTIK_HOST the
 * process starts an embedded core and one outpost per demo token against it.
 */
import type { OutpostConfig } from './config/env.js';
import type { LogRoot } from './observability/log.js';
import type { MetricsRegistry } from './observability/metrics.js';
import type { CoarseTimers } from './util/coarse-timers.js';

export interface EmbeddedDefaultDeps {
  logRoot: LogRoot;
  registry: MetricsRegistry;
  timers: CoarseTimers;
}

export async function startEmbeddedDefault(config: OutpostConfig, deps: EmbeddedDefaultDeps): Promise<{ stop(): Promise<void> }> {
  void config;
  void deps;
  throw new Error('embedded default not available yet');
}
