/**
 * The HTTP/1.1 client of the core link: a keep-alive connection pool over node:net / node:tls (or a unix socket),
 * the wire format in protocol/http1, a deadline per request, bounded response bodies, AUTHENTIK_INSECURE. Two
 * faces: `request` (raw, every Set-Cookie value, no redirect handling) for the flow executor, and `fetch` with
 * LeanRequest/LeanResponse for openapi-fetch (the WHATWG classes cost as much as the exchange itself).
 *
 * Why not node:http: an uncached bind is eight sequential exchanges with the core, and node:http's
 * ClientRequest/IncomingMessage/stream machinery cost about 0.2 ms of CPU per exchange here, as much as the
 * core's own work. bench/http-client.ts compares the three (global fetch, node:http, this one).
 */
import net from 'node:net';
import tls from 'node:tls';
import { CoreError } from '../errors.js';
import {
  DEFAULT_HTTP1_LIMITS,
  Http1Error,
  ResponseParser,
  serializeRequest,
  type Http1Headers,
  type Http1Limits,
  type Http1Response,
} from '../protocol/http1/codec.js';

export const DEFAULT_MAX_SOCKETS = 64;
/** Below the 5 s idle timeout of common servers (Node, gunicorn), so we rarely reuse a socket being closed. */
export const DEFAULT_FREE_SOCKET_TIMEOUT_MS = 4_000;
export const DEFAULT_MAX_RESPONSE_BYTES = 32 * 1024 * 1024;
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/** Requests waiting for a free connection (per origin) beyond which new ones fail at once. */
export const DEFAULT_MAX_QUEUED = 4_096;

export interface HttpTransportOptions {
  /** AUTHENTIK_INSECURE: do not verify the core's TLS certificate. */
  insecure?: boolean;
  /** Connect every request to this unix socket (the Host header becomes `localhost`). */
  socketPath?: string;
  maxSockets?: number;
  freeSocketTimeoutMs?: number;
  maxResponseBytes?: number;
  /** Requests queued for a connection (per origin). */
  maxQueued?: number;
  /** Deadline of `fetch` calls whose Request carries no signal that fires earlier. */
  requestTimeoutMs?: number;
}

export interface TransportRequest {
  method: string;
  /** Absolute http(s) URL; with a socketPath only its path and query are used. */
  url: string | URL;
  headers?: Record<string, string>;
  body?: Buffer | string;
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface TransportResponse {
  status: number;
  /** Lower-case names; repeated headers joined with ", " except set-cookie (a list). */
  headers: Http1Headers;
  /** Every Set-Cookie header value, in order. */
  setCookie: string[];
  body: Buffer;
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS']);

export class HttpTransport {
  private readonly pools = new Map<string, OriginPool>();
  private readonly socketPath: string | undefined;
  private readonly insecure: boolean;
  private readonly maxSockets: number;
  private readonly maxQueued: number;
  private readonly freeSocketTimeoutMs: number;
  private readonly limits: Http1Limits;
  private readonly requestTimeoutMs: number;

  constructor(options: HttpTransportOptions = {}) {
    this.socketPath = options.socketPath;
    this.insecure = options.insecure === true;
    this.maxSockets = Math.max(1, options.maxSockets ?? DEFAULT_MAX_SOCKETS);
    this.maxQueued = Math.max(0, options.maxQueued ?? DEFAULT_MAX_QUEUED);
    this.freeSocketTimeoutMs = options.freeSocketTimeoutMs ?? DEFAULT_FREE_SOCKET_TIMEOUT_MS;
    this.limits = { ...DEFAULT_HTTP1_LIMITS, maxBodyBytes: options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES };
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  }

  /** One exchange; rejects with CoreError ('transport', 'timeout' or 'unexpected_response' for oversize bodies). */
  async request(req: TransportRequest): Promise<TransportResponse> {
    const url = typeof req.url === 'string' ? new URL(req.url) : req.url;
    const deadline = Date.now() + req.timeoutMs;
    try {
      return await this.once(req, url, req.timeoutMs);
    } catch (err) {
      // A kept-alive socket the server closed just as we reused it: safe to repeat an idempotent request once.
      if (err instanceof StaleSocketError && IDEMPOTENT.has(req.method.toUpperCase())) {
        return await this.once(req, url, Math.max(1, deadline - Date.now()));
      }
      throw err instanceof StaleSocketError ? err.coreError : err;
    }
  }

  /**
   * fetch for openapi-fetch: takes the LeanRequest it builds (or a WHATWG Request) and answers a LeanResponse.
   * Redirects are returned, not followed.
   */
  readonly fetch = async (input: LeanRequest | Request): Promise<LeanResponse> => {
    const headers: Record<string, string> = {};
    input.headers.forEach((value, name) => {
      headers[name] = value;
    });
    let body: Buffer | string | undefined;
    if (input.method !== 'GET' && input.method !== 'HEAD') {
      if (input instanceof LeanRequest) body = input.body ?? undefined;
      else if (input.body !== null) body = Buffer.from(await input.arrayBuffer());
    }
    const res = await this.request({
      method: input.method,
      url: input.url,
      headers,
      ...(body !== undefined ? { body } : {}),
      timeoutMs: this.requestTimeoutMs,
      ...(input.signal !== null ? { signal: input.signal } : {}),
    });
    if (res.status < 200 || res.status > 599) {
      throw new CoreError('http_status', `unexpected HTTP status ${res.status}`, { status: res.status });
    }
    return new LeanResponse(res, input.method === 'HEAD');
  };

  /** Closes idle connections; in-flight requests finish on their own connections, which then close. */
  close(): void {
    for (const pool of this.pools.values()) pool.closeIdle();
  }

  private pool(url: URL): OriginPool {
    const secure = url.protocol === 'https:';
    const key = this.socketPath !== undefined ? `${url.protocol}unix:${this.socketPath}` : `${url.protocol}//${url.host}`;
    let pool = this.pools.get(key);
    if (pool === undefined) {
      const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
      const port = url.port === '' ? (secure ? 443 : 80) : Number(url.port);
      const socketPath = this.socketPath;
      const insecure = this.insecure;
      const connect = (): net.Socket => {
        if (secure) {
          const options: tls.ConnectionOptions = { rejectUnauthorized: !insecure, ALPNProtocols: ['http/1.1'] };
          if (socketPath !== undefined) options.path = socketPath;
          else {
            options.host = hostname;
            options.port = port;
            // SNI carries names only, never addresses (RFC 6066 3).
            if (net.isIP(hostname) === 0) options.servername = hostname;
          }
          return tls.connect(options);
        }
        return socketPath !== undefined ? net.connect({ path: socketPath }) : net.connect({ host: hostname, port });
      };
      pool = new OriginPool(connect, this.maxSockets, this.maxQueued, this.freeSocketTimeoutMs);
      this.pools.set(key, pool);
    }
    return pool;
  }

  private once(req: TransportRequest, url: URL, timeoutMs: number): Promise<TransportResponse> {
    return new Promise<TransportResponse>((resolve, reject) => {
      const secure = url.protocol === 'https:';
      if (!secure && url.protocol !== 'http:') {
        reject(new CoreError('transport', `unsupported URL scheme ${url.protocol}`));
        return;
      }
      const label = `${req.method} ${url.pathname}`;
      if (req.signal?.aborted === true) {
        reject(abortError(req.signal, label));
        return;
      }
      const headers = req.headers ?? {};
      let wire: Buffer;
      try {
        const host = headers['host'] ?? (this.socketPath !== undefined ? 'localhost' : url.host);
        wire = serializeRequest(req.method, `${url.pathname}${url.search}`, host, headers, req.body);
      } catch (err) {
        reject(new CoreError('transport', `${label}: ${err instanceof Error ? err.message : String(err)}`));
        return;
      }

      const pool = this.pool(url);
      let settled = false;
      let connection: Connection | undefined;
      const finish = (err: Error | undefined, value?: TransportResponse): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        req.signal?.removeEventListener('abort', onAbort);
        if (connection === undefined) pool.cancel(waiter);
        if (err !== undefined) {
          // A connection in the middle of an exchange cannot carry another one.
          connection?.destroy();
          reject(err);
        } else if (value !== undefined) {
          resolve(value);
        }
      };
      const onAbort = (): void => finish(abortError(req.signal, label));
      const timer = setTimeout(() => finish(new CoreError('timeout', `${label}: no complete answer within ${timeoutMs} ms`)), timeoutMs);
      req.signal?.addEventListener('abort', onAbort, { once: true });

      const waiter = (conn: Connection | Error): void => {
        if (settled) {
          if (!(conn instanceof Error)) pool.release(conn, true);
          return;
        }
        if (conn instanceof Error) {
          finish(new CoreError('transport', `${label}: ${conn.message}`));
          return;
        }
        connection = conn;
        const reused = conn.served > 0;
        conn.send(wire, new ResponseParser(req.method, this.limits), (err, response) => {
          if (err !== undefined) {
            if (settled) return;
            const core = connectionError(label, err, this.limits);
            // Nothing came back on a socket that had served before: the server closed it while idle.
            finish(reused && err.received === 0 ? new StaleSocketError(core) : core);
            return;
          }
          pool.release(conn, response!.reusable);
          if (!settled) {
            const r = response!;
            finish(undefined, { status: r.status, headers: r.headers, setCookie: r.setCookie, body: r.body });
          }
        });
      };
      pool.acquire(waiter);
    });
  }
}

/**
 * What openapi-fetch builds with `new Request(url, init)` (its `Request` option), holding only what `fetch` above
 * reads: undici's Request validates and copies far more, and its body is a stream.
 */
export class LeanRequest {
  readonly url: string;
  readonly method: string;
  readonly headers: Headers;
  readonly body: string | Buffer | null;
  readonly signal: AbortSignal | null;

  constructor(input: string | URL, init: { method?: string; headers?: ConstructorParameters<typeof Headers>[0]; body?: unknown; signal?: AbortSignal | null } = {}) {
    this.url = String(input);
    this.method = (init.method ?? 'GET').toUpperCase();
    this.headers = init.headers instanceof Headers ? init.headers : new Headers(init.headers);
    const body = init.body;
    if (body === undefined || body === null) this.body = null;
    else if (typeof body === 'string' || Buffer.isBuffer(body)) this.body = body;
    else if (body instanceof Uint8Array) this.body = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    else throw new TypeError('LeanRequest: the body must be a string or bytes');
    this.signal = init.signal ?? null;
  }
}

/** The answer `fetch` gives openapi-fetch: status, ok, headers.get() and the body as text, JSON or bytes. */
export class LeanResponse {
  readonly status: number;
  readonly ok: boolean;
  readonly headers: { get(name: string): string | null; has(name: string): boolean };
  readonly #body: Buffer | null;

  constructor(res: TransportResponse, head: boolean) {
    this.status = res.status;
    this.ok = res.status >= 200 && res.status <= 299;
    const raw = res.headers;
    const get = (name: string): string | null => {
      const value = raw[name.toLowerCase()];
      return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
    };
    this.headers = { get, has: (name) => get(name) !== null };
    this.#body = head || res.status === 204 || res.status === 205 || res.status === 304 ? null : res.body;
  }

  /** Null when the response has no body (HEAD, 204, 205, 304), as in WHATWG. */
  get body(): Buffer | null {
    return this.#body;
  }

  text(): Promise<string> {
    return Promise.resolve(this.#body === null ? '' : this.#body.toString('utf8'));
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text()) as unknown;
  }

  arrayBuffer(): Promise<ArrayBuffer> {
    const body = this.#body ?? Buffer.alloc(0);
    return Promise.resolve(body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength) as ArrayBuffer);
  }
}

class StaleSocketError extends Error {
  constructor(readonly coreError: CoreError) {
    super(coreError.message);
  }
}

/** A failed exchange: the cause, and how many response bytes had arrived. */
class ExchangeError extends Error {
  constructor(
    message: string,
    readonly received: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

type Waiter = (connection: Connection | Error) => void;

/** Connections to one origin: LIFO idle list, at most maxSockets open, a bounded FIFO of waiting requests. */
class OriginPool {
  private readonly idle: Connection[] = [];
  private open = 0;
  private readonly waiting: Waiter[] = [];
  /** close() was called: connections close after their exchange instead of idling (until the next request). */
  private closing = false;

  constructor(
    private readonly connect: () => net.Socket,
    private readonly maxSockets: number,
    private readonly maxQueued: number,
    private readonly idleTimeoutMs: number,
  ) {}

  acquire(waiter: Waiter): void {
    this.closing = false;
    const conn = this.takeIdle();
    if (conn !== undefined) return waiter(conn);
    if (this.open < this.maxSockets) return waiter(this.create());
    if (this.waiting.length >= this.maxQueued) return waiter(new Error(`more than ${this.maxQueued} requests waiting for a connection`));
    this.waiting.push(waiter);
  }

  cancel(waiter: Waiter): void {
    const index = this.waiting.indexOf(waiter);
    if (index >= 0) this.waiting.splice(index, 1);
  }

  /** A connection is done with its exchange: hand it to the next waiter, keep it idle, or close it. */
  release(conn: Connection, reusable: boolean): void {
    if (!reusable || conn.closed || this.closing) {
      conn.destroy();
      return;
    }
    const next = this.waiting.shift();
    if (next !== undefined) return next(conn);
    conn.park(this.idleTimeoutMs);
    this.idle.push(conn);
  }

  /** Called once per connection when it closes, whatever the reason. */
  closed(conn: Connection): void {
    this.open--;
    const index = this.idle.indexOf(conn);
    if (index >= 0) this.idle.splice(index, 1);
    // A slot came free: the oldest waiter gets a new connection.
    const next = this.waiting.shift();
    if (next !== undefined) next(this.create());
  }

  closeIdle(): void {
    this.closing = true;
    for (const conn of this.idle.splice(0)) conn.destroy();
  }

  private takeIdle(): Connection | undefined {
    for (let conn = this.idle.pop(); conn !== undefined; conn = this.idle.pop()) {
      if (!conn.closed) {
        conn.unpark();
        return conn;
      }
    }
    return undefined;
  }

  private create(): Connection {
    this.open++;
    let socket: net.Socket;
    try {
      socket = this.connect();
    } catch (err) {
      // Synchronous connect failures (bad options) still go through the close path once.
      socket = new net.Socket();
      const conn = new Connection(socket, this);
      queueMicrotask(() => conn.fail(err instanceof Error ? err : new Error(String(err))));
      return conn;
    }
    return new Connection(socket, this);
  }
}

type ExchangeCallback = (err: ExchangeError | undefined, response?: Http1Response) => void;

/** One socket: at most one exchange at a time; its bytes go to that exchange's parser. */
class Connection {
  closed = false;
  /** Exchanges completed on this connection (0: fresh). */
  served = 0;
  private parser: ResponseParser | null = null;
  private callback: ExchangeCallback | null = null;
  private idleTimer: NodeJS.Timeout | undefined;
  private closeReported = false;

  constructor(
    private readonly socket: net.Socket,
    private readonly pool: OriginPool,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => this.onEnd());
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.onClose());
  }

  send(bytes: Buffer, parser: ResponseParser, callback: ExchangeCallback): void {
    this.parser = parser;
    this.callback = callback;
    this.socket.write(bytes);
  }

  /** Idle in the pool: does not keep the process alive, and closes after `timeoutMs`. */
  park(timeoutMs: number): void {
    this.socket.unref();
    this.idleTimer = setTimeout(() => this.destroy(), timeoutMs);
    this.idleTimer.unref();
  }

  unpark(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    this.socket.ref();
  }

  destroy(): void {
    if (!this.socket.destroyed) this.socket.destroy();
    this.markClosed();
  }

  fail(err: Error): void {
    this.complete(new ExchangeError(err.message, this.parser?.received ?? 0, { cause: err }));
    this.destroy();
  }

  private onData(chunk: Buffer): void {
    const parser = this.parser;
    if (parser === null) {
      // Bytes nobody asked for: the stream is out of step, so the connection is not reused.
      this.destroy();
      return;
    }
    let step;
    try {
      step = parser.push(chunk);
    } catch (err) {
      this.fail(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    if (step.done) {
      this.served++;
      const callback = this.callback;
      this.parser = null;
      this.callback = null;
      callback?.(undefined, step.response);
    }
  }

  private onEnd(): void {
    const parser = this.parser;
    if (parser !== null) {
      try {
        const step = parser.end();
        if (step.done) {
          this.served++;
          const callback = this.callback;
          this.parser = null;
          this.callback = null;
          callback?.(undefined, { ...step.response, reusable: false });
        }
      } catch (err) {
        this.fail(err instanceof Error ? err : new Error(String(err)));
        return;
      }
    }
    this.destroy();
  }

  private onClose(): void {
    this.complete(new ExchangeError('connection closed', this.parser?.received ?? 0));
    this.markClosed();
  }

  private complete(err: ExchangeError): void {
    const callback = this.callback;
    this.parser = null;
    this.callback = null;
    callback?.(err);
  }

  private markClosed(): void {
    this.closed = true;
    clearTimeout(this.idleTimer);
    if (this.closeReported) return;
    this.closeReported = true;
    this.pool.closed(this);
  }
}

function connectionError(label: string, err: ExchangeError, limits: Http1Limits): CoreError {
  const cause = err.cause;
  if (cause instanceof Http1Error && cause.kind === 'oversize') return oversize(label, limits.maxBodyBytes);
  if (cause instanceof Http1Error && cause.kind === 'protocol') return new CoreError('unexpected_response', `${label}: ${cause.message}`, { cause });
  return transportError(label, cause ?? err);
}

function transportError(label: string, err: unknown): CoreError {
  if (err instanceof CoreError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const message = err instanceof Error ? err.message : String(err);
  return new CoreError('transport', `${label}: ${code ?? message}`, { cause: err });
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
