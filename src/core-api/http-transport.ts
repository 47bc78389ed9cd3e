/**
 * The HTTP client of the core link, over undici: one keep-alive pool to the core's origin (TCP, TLS or a unix
 * socket), or a CONNECT tunnel through a proxy (HTTP_PROXY/HTTPS_PROXY, see proxy.ts). This layer adds what
 * undici leaves to its caller: one deadline per request, a bound on queued requests and on response header
 * lines, a single retry of an idempotent request on a kept-alive socket the core closed, and CoreError for
 * every failure. Two faces: `request` (raw, every Set-Cookie value, no redirect handling) for the flow
 * executor, and `fetch` (WHATWG Request in, Response out) for openapi-fetch.
 */
import { Pool, ProxyAgent, type Dispatcher } from 'undici';
import { CORE_API_LIMITS } from '../config/limits.js';
import { CoreError } from '../errors.js';


export interface HttpTransportOptions {
  /** AUTHENTIK_INSECURE: do not verify the core's TLS certificate. */
  insecure?: boolean;
  /** Connect every request to this unix socket (the origin is then `http://localhost`). */
  socketPath?: string;
  /** Reach the core through this http(s) proxy with CONNECT (ignored with a socketPath). */
  proxy?: URL;
  maxSockets?: number;
  freeSocketTimeoutMs?: number;
  maxResponseBytes?: number;
  /** Requests queued for a connection. */
  maxQueued?: number;
  /** Deadline of `fetch` calls whose Request carries no signal that fires earlier. */
  requestTimeoutMs?: number;
}

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const;

export interface TransportRequest {
  method: (typeof METHODS)[number];
  /** Absolute URL on the transport's origin. */
  url: string | URL;
  headers?: Record<string, string>;
  body?: Buffer | string;
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface TransportResponse {
  status: number;
  /** Lower-case names; repeated headers joined with ", " (Set-Cookie is in `setCookie`). */
  headers: Record<string, string>;
  /** Every Set-Cookie header value, in order. */
  setCookie: string[];
  body: Buffer;
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS']);
/** A kept-alive socket closed under a request that got no answer yet. */
const STALE_SOCKET_CODES = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE']);
const NO_BODY_STATUSES = new Set([204, 205, 304]);

export class HttpTransport {
  /** `scheme://host[:port]` every request must be on. */
  readonly origin: string;
  readonly #dispatcher: Dispatcher;
  readonly #limit: number;
  readonly #maxQueued: number;
  readonly #maxResponseBytes: number;
  readonly #requestTimeoutMs: number;
  #inFlight = 0;

  constructor(origin: string, options: HttpTransportOptions = {}) {
    this.origin = options.socketPath !== undefined ? 'http://localhost' : new URL(origin).origin;
    const maxSockets = Math.max(1, options.maxSockets ?? CORE_API_LIMITS.maxSockets);
    this.#maxQueued = Math.max(0, options.maxQueued ?? CORE_API_LIMITS.maxQueuedRequests);
    this.#limit = maxSockets + this.#maxQueued;
    this.#maxResponseBytes = options.maxResponseBytes ?? CORE_API_LIMITS.maxResponseBytes;
    this.#requestTimeoutMs = options.requestTimeoutMs ?? CORE_API_LIMITS.requestTimeoutDefaultMs;
    const tls = { rejectUnauthorized: options.insecure !== true };
    const pool = {
      connections: maxSockets,
      keepAliveTimeout: options.freeSocketTimeoutMs ?? CORE_API_LIMITS.idleSocketTimeoutMs,
      maxResponseSize: this.#maxResponseBytes,
      maxHeaderSize: CORE_API_LIMITS.maxHeaderBytes,
    };
    if (options.socketPath !== undefined) {
      this.#dispatcher = new Pool(this.origin, { ...pool, connect: { socketPath: options.socketPath } });
    } else if (options.proxy !== undefined) {
      this.#dispatcher = new ProxyAgent({ ...pool, uri: options.proxy.href, requestTls: tls });
    } else {
      this.#dispatcher = new Pool(this.origin, { ...pool, connect: tls });
    }
  }

  /** One exchange; rejects with CoreError ('transport', 'timeout' or 'unexpected_response'). */
  async request(req: TransportRequest): Promise<TransportResponse> {
    const url = typeof req.url === 'string' ? new URL(req.url) : req.url;
    const label = `${req.method} ${url.pathname}`;
    if (url.origin !== this.origin) throw new CoreError('transport', `${label}: ${url.origin} is not the core's origin`);
    if (this.#inFlight >= this.#limit) throw new CoreError('transport', `${label}: more than ${this.#maxQueued} requests waiting for a connection`);
    const deadline = Date.now() + req.timeoutMs;
    this.#inFlight++;
    try {
      try {
        return await this.#once(req, url, label, req.timeoutMs);
      } catch (err) {
        // The socket closed before any answer, typically a kept-alive one the core closed while idle: an
        // idempotent request is repeated once, on another socket.
        if (!(err instanceof StaleSocketError)) throw err;
        if (!IDEMPOTENT.has(req.method)) throw err.coreError;
        return await this.#once(req, url, label, Math.max(1, deadline - Date.now())).catch((again: unknown) => {
          throw again instanceof StaleSocketError ? again.coreError : again;
        });
      }
    } finally {
      this.#inFlight--;
    }
  }

  /** fetch for openapi-fetch. Redirects are returned, not followed. */
  readonly fetch = async (input: Request): Promise<Response> => {
    const headers: Record<string, string> = {};
    input.headers.forEach((value, name) => {
      headers[name] = value;
    });
    const method = input.method.toUpperCase();
    if (!isMethod(method)) throw new CoreError('transport', `unsupported method ${method}`);
    const body = method !== 'GET' && method !== 'HEAD' && input.body !== null ? Buffer.from(await input.arrayBuffer()) : undefined;
    const res = await this.request({
      method,
      url: input.url,
      headers,
      ...(body !== undefined ? { body } : {}),
      timeoutMs: this.#requestTimeoutMs,
      signal: input.signal,
    });
    if (res.status < 200 || res.status > 599) {
      throw new CoreError('http_status', `unexpected HTTP status ${res.status}`, { status: res.status });
    }
    return new BufferedResponse(res, input.url, method === 'HEAD' || NO_BODY_STATUSES.has(res.status));
  };

  /** Closes the connections once their requests are done; the transport takes no new requests afterwards. */
  close(): Promise<void> {
    // Closing twice is not an error worth a rejection nobody awaits.
    return this.#dispatcher.close().catch(() => undefined);
  }

  #once(req: TransportRequest, url: URL, label: string, timeoutMs: number): Promise<TransportResponse> {
    return new Promise<TransportResponse>((resolve, reject) => {
      const signal = req.signal;
      if (signal?.aborted === true) {
        reject(abortError(signal, label));
        return;
      }
      let controller: Dispatcher.DispatchController | undefined;
      /** An error (deadline, abort) before undici started the request: it is aborted when its turn comes. */
      let pendingAbort: Error | undefined;
      let settled = false;
      let responded = false;
      let status = 0;
      let headers: Record<string, string> = {};
      let setCookie: string[] = [];
      const chunks: Buffer[] = [];
      const finish = (err: Error | undefined, value?: TransportResponse): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (err === undefined) {
          if (value !== undefined) resolve(value);
          return;
        }
        // Aborting a started exchange makes undici close its socket, which cannot carry another one.
        if (controller === undefined) pendingAbort = err;
        else if (!controller.aborted) controller.abort(err);
        reject(err);
      };
      const onAbort = (): void => finish(abortError(signal, label));
      const timer = setTimeout(() => finish(new CoreError('timeout', `${label}: no complete answer within ${timeoutMs} ms`)), timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });

      const handler: Dispatcher.DispatchHandler = {
        onRequestStart: (c) => {
          controller = c;
          if (pendingAbort !== undefined) c.abort(pendingAbort);
        },
        onResponseStart: (c, statusCode, raw) => {
          responded = true;
          if (statusCode < 200) return;
          status = statusCode;
          let lines = 0;
          headers = {};
          setCookie = [];
          for (const [name, value] of Object.entries(raw)) {
            if (value === undefined) continue;
            const values = typeof value === 'string' ? [value] : value;
            lines += values.length;
            if (name === 'set-cookie') setCookie = values;
            else headers[name] = values.join(', ');
          }
          if (lines > CORE_API_LIMITS.maxHeaderLines) {
            c.abort(new CoreError('unexpected_response', `${label}: more than ${CORE_API_LIMITS.maxHeaderLines} header lines`));
            return;
          }
          const declared = Number(headers['content-length']);
          if (declared > this.#maxResponseBytes) c.abort(oversize(label, this.#maxResponseBytes));
        },
        onResponseData: (_c, chunk) => {
          chunks.push(chunk);
        },
        onResponseEnd: () => {
          const only = chunks.length === 1 ? chunks[0] : undefined;
          finish(undefined, { status, headers, setCookie, body: only ?? Buffer.concat(chunks) });
        },
        onResponseError: (_c, err) => {
          const core = coreError(label, err, this.#maxResponseBytes);
          finish(!responded && isStaleSocket(err) ? new StaleSocketError(core) : core);
        },
      };
      const body = req.body ?? null;
      this.#dispatcher.dispatch(
        { origin: this.origin, path: `${url.pathname}${url.search}`, method: req.method, headers: req.headers ?? {}, body },
        handler,
      );
    });
  }
}

/**
 * The Response `fetch` gives openapi-fetch: the body is already complete in memory, so text() and json() decode
 * the buffer directly. undici's Response wraps it in a WHATWG stream first, which nearly doubled the client's CPU
 * for a directory load (README, "Dependencies and why").
 */
class BufferedResponse implements Response {
  readonly headers: Headers;
  readonly ok: boolean;
  readonly status: number;
  readonly statusText = '';
  readonly type: Response['type'] = 'basic';
  readonly redirected = false;
  readonly #response: TransportResponse;
  readonly #body: Buffer | null;
  #used = false;

  constructor(
    response: TransportResponse,
    readonly url: string,
    empty: boolean,
  ) {
    this.#response = response;
    this.status = response.status;
    this.ok = response.status >= 200 && response.status <= 299;
    this.headers = new Headers(response.headers);
    for (const cookie of response.setCookie) this.headers.append('set-cookie', cookie);
    this.#body = empty ? null : response.body;
  }

  /** A stream over the buffered bytes (openapi-fetch reads it only with parseAs 'stream', which we do not use). */
  get body(): ReadableStream<Uint8Array> | null {
    return this.#body === null ? null : new Blob([this.#body]).stream();
  }

  get bodyUsed(): boolean {
    return this.#used;
  }

  async text(): Promise<string> {
    return this.#take().toString('utf8');
  }

  async json(): Promise<unknown> {
    return JSON.parse(this.#take().toString('utf8')) as unknown;
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    const bytes = this.#take();
    const copy = new ArrayBuffer(bytes.byteLength);
    new Uint8Array(copy).set(bytes);
    return copy;
  }

  async blob(): Promise<Blob> {
    return new Blob([this.#take()]);
  }

  async formData(): Promise<FormData> {
    throw new TypeError('the core answers JSON, not form data');
  }

  clone(): BufferedResponse {
    if (this.#used) throw new TypeError('body already used');
    return new BufferedResponse(this.#response, this.url, this.#body === null);
  }

  #take(): Buffer {
    if (this.#used) throw new TypeError('body already used');
    this.#used = true;
    return this.#body ?? Buffer.alloc(0);
  }
}

function isMethod(method: string): method is TransportRequest['method'] {
  return (METHODS as readonly string[]).includes(method);
}

class StaleSocketError extends Error {
  constructor(readonly coreError: CoreError) {
    super(coreError.message);
  }
}

function errorCode(err: Error): string | undefined {
  const code: unknown = (err as NodeJS.ErrnoException).code;
  return typeof code === 'string' ? code : undefined;
}

function isStaleSocket(err: Error): boolean {
  const code = errorCode(err);
  return code !== undefined && STALE_SOCKET_CODES.has(code);
}

function coreError(label: string, err: Error, maxResponseBytes: number): CoreError {
  if (err instanceof CoreError) return err;
  const code = errorCode(err);
  if (code === 'UND_ERR_RES_EXCEEDED_MAX_SIZE') return oversize(label, maxResponseBytes);
  if (code === 'UND_ERR_HEADERS_OVERFLOW') return new CoreError('unexpected_response', `${label}: response headers larger than ${CORE_API_LIMITS.maxHeaderBytes} bytes`, { cause: err });
  if (code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH' || code?.startsWith('HPE_') === true) return new CoreError('unexpected_response', `${label}: ${err.message}`, { cause: err });
  return new CoreError('transport', `${label}: ${code ?? err.message}`, { cause: err });
}

function abortError(signal: AbortSignal | undefined, label: string): CoreError {
  const reason: unknown = signal?.reason;
  if (reason instanceof CoreError) return reason;
  const isTimeout = reason instanceof Error && reason.name === 'TimeoutError';
  return new CoreError(isTimeout ? 'timeout' : 'transport', `${label}: aborted${isTimeout ? ' (deadline)' : ''}`);
}

function oversize(label: string, limit: number): CoreError {
  return new CoreError('unexpected_response', `${label}: response body larger than ${limit} bytes`);
}
