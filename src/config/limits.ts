/**
 * Every runtime cap in one place: timeouts, connection counts, queue and buffer sizes. Values are constants, not
 * configuration: changing one is a code change with a reason. Times are milliseconds unless the name says
 * otherwise; sizes are bytes unless the name says otherwise.
 */

/** Outpost control plane: talking to the core, refreshing, the event link. */
export const CONTROL_LIMITS = Object.freeze({
  /** Delay between attempts to list the outpost at start-up (reference: 3 s, forever). */
  startupRetryMs: 3_000,
  /** Default per-request timeout towards the core (AUTHENTIK_CORE_TIMEOUT_MS overrides it). */
  coreTimeoutMsDefault: 10_000,
  coreTimeoutMsMin: 100,
  coreTimeoutMsMax: 300_000,
  /** refresh_interval_s: <= 0 means the default, values below the minimum are raised (reference). */
  refreshIntervalDefaultS: 300,
  refreshIntervalMinS: 30,
  /** Our ceiling, so a typo in the core cannot park refreshes for weeks (and setTimeout stays in range). */
  refreshIntervalMaxS: 86_400,
  /** TRIGGER_UPDATE waits a random whole number of seconds in [0, max] so replicas do not refresh together. */
  reloadOffsetMaxS: 9,
  /** Graceful stop of the modules (draining listeners) before giving up on them. */
  stopTimeoutMs: 10_000,
  /** Key pairs kept by the certificate store. */
  certificateCacheEntries: 256,
  /** AUTHENTIK_WORKERS: most worker processes (each holds its own directory copy). */
  maxWorkers: 16,
  /** A worker that exits is forked again after this delay, doubling per crash up to the maximum. */
  workerRestartInitialMs: 1_000,
  workerRestartMaxMs: 30_000,
  /** A worker that ran this long resets the restart delay. */
  workerStableAfterMs: 60_000,
  /** How long the primary waits for a worker's metrics answer before leaving it out of a scrape. */
  workerMetricsTimeoutMs: 2_000,
});

/** WebSocket event link to the core (reference §1.6). */
export const EVENT_LINK_LIMITS = Object.freeze({
  handshakeTimeoutMs: 10_000,
  helloIntervalMs: 10_000,
  /** No frame at all (the core ACKs every HELLO) for this long means the link is dead. */
  silenceTimeoutMs: 35_000,
  backoffInitialMs: 1_000,
  backoffMaxMs: 300_000,
  /** A connection that stayed up this long resets the back-off to its initial step. */
  stableAfterMs: 30_000,
  /** Largest frame accepted from the core. */
  maxPayloadBytes: 1024 * 1024,
  /** Waiting for the core's close frame after we sent ours. */
  closeTimeoutMs: 2_000,
  /** SESSION_END session ids are hex SHA-256 (64 chars); anything much longer is ignored. */
  sessionIdMaxLength: 256,
});

/** Metrics and health HTTP server, healthcheck client, metric registry. */
export const METRICS_LIMITS = Object.freeze({
  /** New label sets beyond this many per metric are dropped (and counted). */
  maxSeriesPerMetric: 10_000,
  serverMaxConnections: 64,
  requestTimeoutMs: 10_000,
  headersTimeoutMs: 5_000,
  keepAliveTimeoutMs: 5_000,
  maxHeaderBytes: 16 * 1024,
  /** Each probe (unix socket, then TCP) of `healthcheck`. */
  healthcheckTimeoutMs: 3_000,
  /** Refresh period of the shared coarse clock. */
  coarseClockResolutionMs: 250,
});

/** LDAP listener and provider (starting values; the LDAP module may ask for different ones). */
export const LDAP_LIMITS = Object.freeze({
  /** One LDAPMessage, whole frame; binds and searches are small, 1 MiB is generous. */
  maxMessageBytes: 1024 * 1024,
  /** Bytes buffered from a client before a frame is complete or consumed. */
  maxReadBufferBytes: 2 * 1024 * 1024,
  maxBerDepth: 64,
  maxFilterDepth: 64,
  /** Filter nodes in one search filter. */
  maxFilterNodes: 4_096,
  /** Operations received and not yet answered on one connection; reading pauses beyond it. */
  maxPendingOpsPerConnection: 32,
  maxConnections: 10_000,
  /** Connections from one client address. */
  maxConnectionsPerIp: 512,
  /** A connection with no request for this long is closed. */
  idleTimeoutMs: 10 * 60_000,
  /** TLS handshake (LDAPS or StartTLS) must finish within this. */
  tlsHandshakeTimeoutMs: 10_000,
  /** PROXY protocol header must arrive within this. */
  proxyHeaderTimeoutMs: 5_000,
  /** Whole bind: every flow exchange and the access check. */
  bindTimeoutMs: 30_000,
  /** Entries one search may return before sizeLimitExceeded. */
  maxSearchEntries: 100_000,
  /** Bytes queued on a socket before the writer waits for drain. */
  maxWriteBufferBytes: 4 * 1024 * 1024,
  /** Cached bind mode: sessions kept per provider. */
  maxCachedBindSessions: 100_000,
  /** Bind DNs remembered with their provider and username (DNs up to 512 characters; cleared when full). */
  bindTargetMemoEntries: 4_096,
  /**
   * Cached bind mode: a cached success is reused at most this long (also when the core's session cookie has no
   * expiry, which authentik's default login stage issues), so a changed password stops working within it.
   */
  bindCacheTtlMs: 5 * 60_000,
  /** Paged-results state kept per connection (RFC 2696 cookies); the oldest is dropped beyond it. */
  maxPagedSearchesPerConnection: 8,
  /** Unbind flows running at once; more are skipped (the core session then expires on its own). */
  maxConcurrentUnbindFlows: 64,
});

/** RADIUS listener, provider and EAP (starting values; the RADIUS module may ask for different ones). */
export const RADIUS_LIMITS = Object.freeze({
  /** RFC 2865 maximum packet length. */
  maxPacketBytes: 4_096,
  /** Requests being processed at once; further packets are dropped (the NAS retransmits). */
  maxInFlight: 1_024,
  /** Requests in flight from one source address. */
  maxInFlightPerSource: 64,
  /** Replies remembered to answer retransmissions of the same (source, identifier, authenticator). */
  replyCacheEntries: 16_384,
  replyCacheTtlMs: 30_000,
  /** Whole authentication: every flow exchange and the access check. NAS timeouts are usually 5-30 s. */
  authTimeoutMs: 20_000,
  /** EAP conversations kept per provider, and how long an idle one lives. */
  maxEapSessions: 4_096,
  eapSessionTtlMs: 60_000,
  /** Reassembled EAP-TLS message from the client. */
  maxEapMessageBytes: 64 * 1024,
  /** EAP-TLS fragment we send (fits one RADIUS packet with room for other attributes). */
  eapFragmentBytes: 1_000,
  /** Round trips of one EAP conversation before it is refused. */
  maxEapRounds: 64,
});
