/**
 * The CoreApi implementation over HTTP: openapi-fetch typed with the 2026.2 schema (2023.10 differences are
 * absorbed by normalize.ts), Bearer token, the outpost User-Agent, a bounded paginator, and flow attempts.
 */
import createClient from 'openapi-fetch';
import { CORE_API_LIMITS } from '../config/limits.js';
import { ConfigError, CoreError } from '../errors.js';
import { USER_AGENT } from '../version.js';
import { HttpFlowAttempt } from './flow.js';
import { parseAuthentikHost, type CoreEndpoint } from './host.js';
import { HttpTransport, type HttpTransportOptions } from './http-transport.js';
import type {
  CertificateInfo,
  CertificatePair,
  CoreGeneration,
  DirectoryGroup,
  DirectoryUser,
  GroupQuery,
  LdapProviderConfig,
  OutpostInfo,
  RadiusProviderConfig,
  RootConfigInfo,
  UserQuery,
} from './model.js';
import {
  normalizeCertificate,
  normalizeCertificateData,
  normalizeGroup,
  normalizeLdapProvider,
  normalizeOutpost,
  normalizePage,
  normalizeRadiusProvider,
  normalizeRootConfig,
  normalizeUser,
  type Page,
  type PageWire,
} from './normalize.js';
import { silentLogger, type CoreLogger, type FlowMetrics } from './options.js';
import type { CoreApi, FlowAttempt, FlowAttemptOptions } from './port.js';
import type { operations, paths } from './schema/v2026.js';

export interface CoreClientOptions {
  /** AUTHENTIK_HOST: http(s)://host[:port][/sub/path] or unix:///path/to/socket. */
  host: string;
  /** AUTHENTIK_TOKEN. */
  token: string;
  /** AUTHENTIK_INSECURE. */
  insecure: boolean;
  /** Reach the core through this proxy (see proxy.ts; ignored for unix sockets). */
  proxy?: URL;
  /** Deadline of each API request (flow attempts carry their own). */
  timeoutMs: number;
  /** page_size of list calls (default 100). */
  pageSize?: number;
  logger?: CoreLogger;
  metrics?: FlowMetrics;
  /** Retries of a failed later page before the whole listing fails (default 3). */
  pageRetries?: number;
  /** Pause before retry n is n times this (default 1000 ms). */
  pageRetryDelayMs?: number;
  /** Pool tuning (maxSockets, freeSocketTimeoutMs, maxResponseBytes). */
  transport?: Pick<HttpTransportOptions, 'maxSockets' | 'freeSocketTimeoutMs' | 'maxResponseBytes'>;
}

export interface CoreClient extends CoreApi {
  readonly endpoint: CoreEndpoint;
  /** Closes the keep-alive sockets once their requests are done; no requests afterwards (shutdown, tests). */
  close(): Promise<void>;
}

export function createCoreClient(options: CoreClientOptions): CoreClient {
  const endpoint = parseAuthentikHost(options.host);
  if (options.token === '') throw new ConfigError('AUTHENTIK_TOKEN', 'not set');
  if (!(options.timeoutMs > 0)) throw new ConfigError('timeoutMs', 'must be a positive number of milliseconds');
  return new HttpCoreClient(endpoint, options);
}

type UsersQuery = NonNullable<operations['core_users_list']['parameters']['query']>;
type GroupsQuery = NonNullable<operations['core_groups_list']['parameters']['query']>;
type PageQuery = { page: number; page_size: number };

class HttpCoreClient implements CoreClient {
  readonly endpoint: CoreEndpoint;
  #currentGeneration: CoreGeneration = '2026.2';
  #warnedSecureCookie = false;
  readonly #transport: HttpTransport;
  readonly #api: ReturnType<typeof createClient<paths>>;
  readonly #logger: CoreLogger;
  readonly #pageSize: number;
  readonly #pageRetries: number;
  readonly #pageRetryDelayMs: number;

  readonly #options: CoreClientOptions;

  constructor(
    endpoint: CoreEndpoint,
    options: CoreClientOptions,
  ) {
    this.#options = options;
    this.endpoint = endpoint;
    this.#logger = options.logger ?? silentLogger;
    this.#pageSize = clampPageSize(options.pageSize ?? CORE_API_LIMITS.pageSizeDefault);
    this.#pageRetries = Math.max(0, options.pageRetries ?? CORE_API_LIMITS.pageRetries);
    this.#pageRetryDelayMs = Math.max(0, options.pageRetryDelayMs ?? CORE_API_LIMITS.pageRetryDelayMs);
    this.#transport = new HttpTransport(endpoint.origin, {
      ...options.transport,
      insecure: options.insecure,
      ...(endpoint.socketPath !== undefined ? { socketPath: endpoint.socketPath } : {}),
      ...(options.proxy !== undefined ? { proxy: options.proxy } : {}),
      requestTimeoutMs: options.timeoutMs,
    });
    this.#api = createClient<paths>({
      baseUrl: endpoint.apiBase,
      fetch: this.#transport.fetch,
      headers: {
        Authorization: `Bearer ${options.token}`,
        'User-Agent': USER_AGENT,
        Accept: 'application/json',
      },
    });
  }

  get generation(): CoreGeneration {
    return this.#currentGeneration;
  }

  close(): Promise<void> {
    return this.#transport.close();
  }

  async listOutposts(): Promise<OutpostInfo[]> {
    const out: OutpostInfo[] = [];
    let legacy = false;
    await this.#paginate('outposts', (page) => this.#call('outposts', () => this.#api.GET('/outposts/instances/', { params: { query: page } })), (results) => {
      for (const item of results) {
        const normalized = normalizeOutpost(item);
        legacy ||= normalized.generation === '2023.10';
        out.push(normalized.info);
      }
    });
    if (out.length > 0) this.#observeGeneration(legacy ? '2023.10' : '2026.2');
    return out;
  }

  async rootConfig(): Promise<RootConfigInfo> {
    return normalizeRootConfig(await this.#call('root config', () => this.#api.GET('/root/config/')));
  }

  async listLdapProviders(): Promise<LdapProviderConfig[]> {
    const out: LdapProviderConfig[] = [];
    let legacy = false;
    await this.#paginate('ldap providers', (page) => this.#call('ldap providers', () => this.#api.GET('/outposts/ldap/', { params: { query: page } })), (results) => {
      for (const item of results) {
        const normalized = normalizeLdapProvider(item);
        legacy ||= normalized.generation === '2023.10';
        out.push(normalized.config);
      }
    });
    if (legacy) this.#observeGeneration('2023.10');
    return out;
  }

  async listRadiusProviders(): Promise<RadiusProviderConfig[]> {
    const out: RadiusProviderConfig[] = [];
    await this.#paginate('radius providers', (page) => this.#call('radius providers', () => this.#api.GET('/outposts/radius/', { params: { query: page } })), (results) => {
      for (const item of results) out.push(normalizeRadiusProvider(item));
    });
    return out;
  }

  async forEachUserPage(query: UserQuery, onPage: (users: DirectoryUser[]) => void | Promise<void>): Promise<void> {
    const includeGroups = query.includeGroups ?? true;
    // 2023.10 cores ignore include_groups and always send groups_obj; `groups` (pks) is read then anyway.
    const filters: UsersQuery = { include_groups: includeGroups };
    if (query.username !== undefined) filters.username = query.username;
    if (query.name !== undefined) filters.name = query.name;
    if (query.email !== undefined) filters.email = query.email;
    if (query.groupsByName !== undefined && query.groupsByName.length > 0) filters.groups_by_name = query.groupsByName;
    const membership = { pksOnly: !includeGroups };
    await this.#paginate(
      'users',
      (page) => this.#call('users', () => this.#api.GET('/core/users/', { params: { query: { ...filters, ...page } } })),
      (results) => onPage(normalizeAll(results, (item) => normalizeUser(item, membership))),
      query.pageSize,
      query.readAhead,
    );
  }

  async forEachGroupPage(query: GroupQuery, onPage: (groups: DirectoryGroup[]) => void | Promise<void>): Promise<void> {
    const includeUsers = query.includeUsers ?? true;
    // 2023.10 cores ignore the include_* parameters they do not know (and always send users_obj).
    const filters: GroupsQuery = { include_users: includeUsers, include_children: true, include_parents: true };
    if (query.name !== undefined) filters.name = query.name;
    if (query.membersByUsername !== undefined && query.membersByUsername.length > 0) {
      filters.members_by_username = query.membersByUsername;
    }
    if (query.membersByPk !== undefined && query.membersByPk.length > 0) filters.members_by_pk = query.membersByPk;
    const membership = { pksOnly: !includeUsers };
    await this.#paginate(
      'groups',
      (page) => this.#call('groups', () => this.#api.GET('/core/groups/', { params: { query: { ...filters, ...page } } })),
      (results) => onPage(normalizeAll(results, (item) => normalizeGroup(item, membership))),
      query.pageSize,
      query.readAhead,
    );
  }

  async getUser(pk: number): Promise<DirectoryUser> {
    if (!Number.isSafeInteger(pk)) throw new CoreError('unexpected_response', `invalid user pk ${pk}`);
    const body = await this.#call(`user ${pk}`, () =>
      this.#api.GET('/core/users/{id}/', { params: { path: { id: pk } } }),
    );
    return normalizeUser(body);
  }

  async certificate(kpUuid: string): Promise<CertificateInfo> {
    const body = await this.#call('certificate', () =>
      this.#api.GET('/crypto/certificatekeypairs/{kp_uuid}/', { params: { path: { kp_uuid: kpUuid } } }),
    );
    return normalizeCertificate(body);
  }

  async certificatePair(kpUuid: string): Promise<CertificatePair> {
    const path = { kp_uuid: kpUuid };
    const [info, cert, key] = await Promise.all([
      this.certificate(kpUuid),
      this.#call('certificate data', () =>
        this.#api.GET('/crypto/certificatekeypairs/{kp_uuid}/view_certificate/', { params: { path } }),
      ),
      this.#call('private key data', () =>
        this.#api.GET('/crypto/certificatekeypairs/{kp_uuid}/view_private_key/', { params: { path } }),
      ),
    ]);
    const certificatePem = normalizeCertificateData(cert, 'certificate data');
    if (certificatePem === '') throw new CoreError('unexpected_response', 'certificate data: empty certificate');
    return {
      fingerprintSha256: info.fingerprintSha256,
      certificatePem,
      privateKeyPem: normalizeCertificateData(key, 'private key data'),
    };
  }

  newFlowAttempt(options: FlowAttemptOptions): FlowAttempt {
    return new HttpFlowAttempt(
      {
        transport: this.#transport,
        endpoint: this.endpoint,
        token: this.#options.token,
        userAgent: USER_AGENT,
        logger: this.#logger,
        metrics: this.#options.metrics,
        generation: () => this.#currentGeneration,
        observeGeneration: (generation) => this.#observeGeneration(generation),
        onSecureCookieOverHttp: (names) => this.#warnSecureCookieOnce(names),
      },
      options,
    );
  }

  // ---- internals ----

  #warnSecureCookieOnce(cookieNames: string[]): void {
    if (this.#warnedSecureCookie) return;
    this.#warnedSecureCookie = true;
    this.#logger.warn(
      { cookies: cookieNames },
      'the core set Secure cookies over plain http; they are not sent back, so flows restart (use https in AUTHENTIK_HOST or fix X-Forwarded-Proto at the proxy)',
    );
  }

  #observeGeneration(generation: CoreGeneration): void {
    if (generation === this.#currentGeneration) return;
    this.#logger.info({ generation }, 'core generation detected');
    this.#currentGeneration = generation;
  }

  /** Runs one openapi-fetch call and returns its typed JSON body; every failure becomes a CoreError. */
  async #call<T>(what: string, run: () => Promise<{ data?: T; response: Response }>): Promise<T> {
    let result: { data?: T; response: Response };
    try {
      result = await run();
    } catch (err) {
      if (err instanceof CoreError) throw err;
      if (err instanceof SyntaxError) throw new CoreError('unexpected_response', `${what}: body is not JSON`);
      throw new CoreError('transport', `${what}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    const { response } = result;
    if (!response.ok) {
      throw new CoreError('http_status', `${what}: HTTP ${response.status}`, { status: response.status });
    }
    if (result.data === undefined) throw new CoreError('unexpected_response', `${what}: empty body`);
    return result.data;
  }

  /**
   * page=1.. with page_size, while pagination.next > 0. Page 1 failing fails at once; a later page is retried up
   * to pageRetries times (the reference retries forever) and then fails the whole listing. With `readAhead`, the
   * next page is requested before `onPage` runs on the current one.
   */
  async #paginate<T>(
    what: string,
    fetchPage: (query: PageQuery) => Promise<PageWire<T>>,
    onPage: (results: T[]) => void | Promise<void>,
    pageSize: number = this.#pageSize,
    readAhead = false,
  ): Promise<void> {
    const size = clampPageSize(pageSize);
    const load = async (page: number): Promise<Page<T>> => {
      for (let attempt = 0; ; attempt++) {
        try {
          return normalizePage(await fetchPage({ page, page_size: size }), what);
        } catch (err) {
          const retryable = err instanceof CoreError && err.kind !== 'unexpected_response';
          if (page === 1 || !retryable || attempt >= this.#pageRetries) throw withPage(err, what, page);
          this.#logger.warn({ list: what, page, attempt: attempt + 1, error: err.message }, 'listing page failed, retrying');
          await delay(this.#pageRetryDelayMs * (attempt + 1));
        }
      }
    };
    let current = load(1);
    for (let page = 1; page <= CORE_API_LIMITS.maxPages; page++) {
      const { results, next } = await current;
      const more = next > 0 && page < CORE_API_LIMITS.maxPages;
      if (more && readAhead) {
        current = load(page + 1);
        // Observed now, awaited after onPage: a failure while onPage runs is not an unhandled rejection.
        current.catch(() => undefined);
      }
      await onPage(results);
      if (next <= 0) return;
      if (more && !readAhead) current = load(page + 1);
    }
    throw new CoreError('unexpected_response', `${what}: more than ${CORE_API_LIMITS.maxPages} pages`);
  }
}

/**
 * Normalizes a page's items, dropping each raw item as it goes: while the caller works through a large page,
 * the raw JSON objects are then garbage already and young-generation collections do not promote them.
 */
function normalizeAll<T, R>(results: (T | undefined)[], normalize: (item: T) => R): R[] {
  const out = new Array<R>(results.length);
  for (let i = 0; i < results.length; i++) {
    const item = results[i];
    results[i] = undefined;
    if (item === undefined) throw new CoreError('unexpected_response', 'list item missing');
    out[i] = normalize(item);
  }
  return out;
}

function clampPageSize(size: number): number {
  return Number.isSafeInteger(size) && size > 0 ? Math.min(size, CORE_API_LIMITS.pageSizeMax) : CORE_API_LIMITS.pageSizeDefault;
}

function withPage(err: unknown, what: string, page: number): CoreError {
  if (err instanceof CoreError) {
    return new CoreError(err.kind, `${what} page ${page}: ${err.message}`, {
      ...(err.status !== undefined ? { status: err.status } : {}),
      cause: err,
    });
  }
  return new CoreError('unexpected_response', `${what} page ${page}: ${String(err)}`, { cause: err });
}

function delay(ms: number): Promise<void> {
  return ms <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, ms));
}
