/** The reference's LDAP request metrics. */
import type { Counter, Histogram, MetricsRegistry } from '../../observability/metrics.js';

export type LdapRequestType = 'bind' | 'search' | 'unbind' | 'compare' | 'extended';

export interface LdapMetrics {
  duration: Histogram<'outpost_name' | 'type' | 'app'>;
  rejected: Counter<'outpost_name' | 'type' | 'reason' | 'app'>;
}

export function ldapMetrics(registry: MetricsRegistry): LdapMetrics {
  return {
    duration: registry.histogram({
      name: 'authentik_outpost_ldap_request_duration_seconds',
      help: 'LDAP request latencies in seconds',
      labelNames: ['outpost_name', 'type', 'app'],
    }),
    rejected: registry.counter({
      name: 'authentik_outpost_ldap_requests_rejected_total',
      help: 'Total number of rejected requests',
      labelNames: ['outpost_name', 'type', 'reason', 'app'],
    }),
  };
}
