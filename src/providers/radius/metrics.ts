/** The reference's RADIUS metrics (§3.9) and ours for what it does not count (drops, accounting). */
import type { Counter, Histogram, MetricsRegistry } from '../../observability/metrics.js';

export interface RadiusMetrics {
  duration: Histogram<'outpost_name' | 'app'>;
  rejected: Counter<'outpost_name' | 'reason' | 'app'>;
  dropped: Counter<'outpost_name' | 'service' | 'reason'>;
  accounting: Counter<'outpost_name' | 'app' | 'status'>;
  forwarded: Counter<'outpost_name' | 'service' | 'path'>;
}

export function radiusMetrics(registry: MetricsRegistry): RadiusMetrics {
  return {
    duration: registry.histogram({
      name: 'authentik_outpost_radius_request_duration_seconds',
      help: 'RADIUS request latencies in seconds',
      labelNames: ['outpost_name', 'app'],
    }),
    rejected: registry.counter({
      name: 'authentik_outpost_radius_requests_rejected_total',
      help: 'Total number of rejected requests',
      labelNames: ['outpost_name', 'reason', 'app'],
    }),
    dropped: registry.counter({
      name: 'ak_outpost_radius_packets_dropped_total',
      help: 'RADIUS datagrams dropped without an answer, by reason',
      labelNames: ['outpost_name', 'service', 'reason'],
    }),
    accounting: registry.counter({
      name: 'ak_outpost_radius_accounting_requests_total',
      help: 'Accounting-Requests answered (not forwarded to the core), by Acct-Status-Type',
      labelNames: ['outpost_name', 'app', 'status'],
    }),
    forwarded: registry.counter({
      name: 'ak_outpost_radius_packets_forwarded_total',
      help: 'Access-Requests routed to the worker owning them (AUTHENTIK_WORKERS > 1), by path: a direct link or the supervisor',
      labelNames: ['outpost_name', 'service', 'path'],
    }),
  };
}
