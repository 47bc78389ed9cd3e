/**
 * Every cap of the outpost in one place: timeouts, counts, queue and buffer sizes, decoder bounds. Values are
 * constants, not configuration: changing one is a code change with a reason. Times are milliseconds unless the
 * name says otherwise; sizes are bytes unless the name says otherwise.
 *
 * This module imports nothing, so the pure codecs in src/protocol take their defaults from it without reaching
 * configuration or I/O (test/architecture.test.ts). Elsewhere: the core HTTP client's own caps
 * (src/core-api/http-transport.ts, src/protocol/http1/codec.ts), the embedded core's (a separate product), and
 * sizes that only tune how work is batched (write batches, chunk and slab sizes, the build's time slices).
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
  /**
   * Messages for one worker (a RADIUS datagram routed to the worker holding its EAP conversation) written to a
   * process channel and not yet flushed, per hop (sending worker, primary to each worker); more are dropped and counted.
   */
  workerRelaysInFlight: 256,
  /** Octets queued on one direct link between two workers (routed RADIUS datagrams); beyond, the channel is used. */
  workerLinkQueueBytes: 1024 * 1024,
  /** A link not up (refused, closed) is not dialled again for this long; the channel carries its datagrams meanwhile. */
  workerLinkRetryMs: 1_000,
  /** An incoming link must prove the key within this time. */
  workerLinkAuthTimeoutMs: 2_000,
});

/** Validation of the environment (src/config/env.ts). */
export const ENV_LIMITS = Object.freeze({
  /** Entries of one comma-separated list (listen addresses, trusted proxy CIDRs). */
  maxListEntries: 64,
  /** A `file://` indirection (AUTHENTIK_TOKEN) larger than this is not read. */
  maxIndirectFileBytes: 64 * 1024,
  maxTokenLength: 4_096,
});

/** REST calls and flow runs against the core (src/core-api). */
export const CORE_API_LIMITS = Object.freeze({
  /** Page size of list calls that do not ask for one (AUTHENTIK_LDAP__PAGE_SIZE sets the directory's). */
  pageSizeDefault: 100,
  /** Largest page size asked for, also the ceiling of AUTHENTIK_LDAP__PAGE_SIZE. */
  pageSizeMax: 1_000,
  /** Retries of a failed later page before the whole listing fails; retry n waits n × pageRetryDelayMs. */
  pageRetries: 3,
  pageRetryDelayMs: 1_000,
  /** A core that keeps answering `next > 0` must not keep us paging forever. */
  maxPages: 100_000,
  /** POSTs per flow attempt; one more challenge needing an answer ends the flow ("exceeded stage recursion depth"). */
  maxChallengePosts: 10,
  maxRedirects: 10,
  /** Characters of a refusal's detail kept (the rest is cut). */
  maxErrorDetailChars: 200,
  /** HTTP connections to one core (undici pool). */
  maxSockets: 64,
  /** Below the 5 s idle timeout of common servers (Node, gunicorn), so we rarely reuse a socket being closed. */
  idleSocketTimeoutMs: 4_000,
  maxResponseBytes: 32 * 1024 * 1024,
  /** A request's deadline when the caller gives none (AUTHENTIK_CORE_TIMEOUT_MS sets the outpost's). */
  requestTimeoutDefaultMs: 30_000,
  /** Requests waiting for a free connection beyond which new ones fail at once. */
  maxQueuedRequests: 4_096,
  maxHeaderBytes: 64 * 1024,
  maxHeaderLines: 256,
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
  /** Unsent bytes beyond this mean the core is not reading: the link is treated as dead. */
  maxUnsentBytes: 256 * 1024,
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

/**
 * Decoding LDAP input (src/protocol/ldap, through DecodeLimits). Every cap is checked before the work it bounds
 * (allocation, recursion, iteration), so a hostile peer cannot make the decoder do more than these allow.
 */
export const LDAP_DECODE_LIMITS = Object.freeze({
  /** One LDAPMessage, whole frame; the framer rejects a larger declared length up front. */
  maxMessageBytes: 1024 * 1024,
  /** Deepest BER nesting: a filter of maxFilterDepth sits under LDAPMessage and SearchRequest, plus item levels. */
  maxBerDepth: 80,
  /** Deepest nesting of and/or/not in a search filter. */
  maxFilterDepth: 64,
  /** Nodes (operators and items) in one search filter; each is evaluated for every entry a search scans. */
  maxFilterNodes: 1_024,
  /** Attributes in a SearchRequest selection, AddRequest or ModifyRequest. */
  maxAttributes: 256,
  maxControls: 32,
  /** One value (attribute value, assertion value, password, control value, cookie). */
  maxValueBytes: 256 * 1024,
});

/** LDAP listener and provider (listener and provider options may override them, as tests do). */
export const LDAP_LIMITS = Object.freeze({
  /** Operations received and not yet answered on one connection; reading pauses beyond it. */
  maxPendingOpsPerConnection: 32,
  maxConnections: 10_000,
  /** Connections from one client address. */
  maxConnectionsPerIp: 512,
  /** A connection with no request for this long is closed. */
  idleTimeoutMs: 10 * 60_000,
  /** TLS handshake (LDAPS or StartTLS) must finish within this. */
  tlsHandshakeTimeoutMs: 10_000,
  /** Bytes a client may send between our StartTLS response and the TLS wrap (its ClientHello). */
  maxStartTlsStashBytes: 64 * 1024,
  /** PROXY protocol header must arrive within this. */
  proxyHeaderTimeoutMs: 5_000,
  /** A whole PROXY v2 header; the spec allows 16 + 65535, TLVs from load balancers are far smaller. */
  maxProxyHeaderBytes: 4_096,
  maxProxyTlvs: 64,
  /** After we end our side, the peer gets this long to close before the socket is destroyed. */
  lingerMs: 2_000,
  /** Closing a listener: how long running operations may finish before connections are destroyed. */
  closeTimeoutMs: 5_000,
  /** Whole bind: every flow exchange and the access check (also at most 3 × AUTHENTIK_CORE_TIMEOUT_MS). */
  bindTimeoutMs: 30_000,
  /** Bytes queued on a socket before the writer waits for drain. */
  maxWriteBufferBytes: 4 * 1024 * 1024,
  /** Cached bind mode: sessions kept per provider. */
  maxCachedBindSessions: 100_000,
  /** Bind DNs remembered with their provider and username (cleared when full). */
  bindTargetMemoEntries: 4_096,
  /** Longest bind DN remembered; longer ones are parsed every time (bounds the memo's memory). */
  bindTargetMemoMaxDnLength: 512,
  /**
   * Cached bind mode: a cached success is reused at most this long (also when the core's session cookie has no
   * expiry, which authentik's default login stage issues), so a changed password stops working within it.
   */
  bindCacheTtlMs: 5 * 60_000,
  /**
   * Direct-search providers re-check each cached user with the core per refresh, up to this many users; with
   * more, every cached bind is dropped instead.
   */
  maxBindCacheRechecks: 200,
  bindCacheRecheckConcurrency: 4,
  /** AUTHENTIK_WORKERS: a bind shared by a sibling worker with a longer name, digest or session hash is ignored. */
  maxSharedBindText: 1_024,
  maxSharedBindFingerprint: 64 * 1024,
  /** Paged-results state kept per connection (RFC 2696 cookies); the oldest is dropped beyond it. */
  maxPagedSearchesPerConnection: 8,
  /** Unbind flows running at once; more are skipped (the core session then expires on its own). */
  maxConcurrentUnbindFlows: 64,
});

/** RADIUS listener and provider (src/listeners/radius, src/providers/radius). */
export const RADIUS_LIMITS = Object.freeze({
  /** Largest datagram read (RFC 2865 section 3); longer ones are dropped. */
  maxDatagramBytes: 4_096,
  /**
   * Kernel receive buffer asked for each RADIUS socket (Linux caps it at net.core.rmem_max). The default of about
   * 208 KiB holds some 270 small datagrams: a burst from many NASes (a controller re-authenticating its clients
   * after a restart) was dropped by the kernel before the outpost saw it.
   */
  receiveBufferBytes: 4 * 1024 * 1024,
  /** Requests being answered at once per outpost; more are dropped (the NAS retransmits) and counted. */
  maxRequestsInProgress: 1_024,
  /** Answers kept for retransmissions (RFC 5080 section 2.2.2), keyed by source, Identifier and authenticator. */
  duplicateCacheMs: 5_000,
  duplicateCacheEntries: 16_384,
  /** Client addresses remembered as sending Message-Authenticator (policy 'auto'); the oldest is forgotten beyond. */
  messageAuthenticatorClients: 65_536,
  /** Source addresses in no client network warned about per refresh (each once); the rest are only counted. */
  unknownClientWarnings: 1_024,
  /** Whole Access-Request: every flow exchange and the access check (also at most 3 × AUTHENTIK_CORE_TIMEOUT_MS). */
  accessTimeoutMs: 30_000,
  /** EAP conversations (keyed by State) held at once; a new one beyond is refused with EAP-Failure. */
  eapConversations: 4_096,
  /** An EAP conversation idle this long is dropped (the NAS gave up long before: its timeouts are seconds). */
  eapIdleMs: 60_000,
  /** Round trips of one EAP conversation; TTLS with a 16 KiB certificate chain needs about 25. */
  eapMaxRounds: 64,
  /** Flow runs paused at an MFA Access-Challenge (keyed by State); a new one beyond is refused with Access-Reject. */
  mfaPausedRuns: 4_096,
  /** A paused run not resumed within this long is dropped (the user types a code; NAS challenge timeouts are longer). */
  mfaPausedRunMs: 60_000,
});

/** The directory model (src/directory): memory kept beside the entries, and how deep attribute values nest. */
export const DIRECTORY_LIMITS = Object.freeze({
  /** Encoded `*` entries kept per snapshot; the rest are encoded per request. */
  preEncodeBytes: 64 * 1024 * 1024,
  /** In-chain (1.2.840.113556.1.4.1941) results memoized per snapshot: targets, and member ids over all. */
  inChainMemoEntries: 256,
  inChainMemoIds: 1_000_000,
  /** Views of users without search permission (one per user), memoized per snapshot. */
  restrictedViewMemoEntries: 1_024,
  /** Normalized forms of DNs not spelled as indexed (mostly search bases), per snapshot; cleared when full. */
  baseKeyMemoEntries: 256,
  /** Custom attribute values nested deeper than this are kept as JSON text. */
  maxAttributeNesting: 8,
});
