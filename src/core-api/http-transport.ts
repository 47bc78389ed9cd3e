/**
 * A small HTTP/1.1 client for talking to the core: node:http/node:https with one keep-alive agent per transport,
 * a deadline per request, bounded response bodies, AUTHENTIK_INSECURE and unix-socket hosts. Two faces: `request`
 * (raw, every Set-Cookie value, no redirect handling) for the flow executor, and `fetch` (WHATWG-compatible) for
 * openapi-fetch. Chosen over the global fetch after bench/http-client.ts (figures in the report of that bench).
 */
import http from 'node:http';
import https from 'node:https';
import { CoreError } from '../errors.js';

export const DEFAULT_MAX_SOCKETS = 64;
/** Below the 5 s idle timeout of common servers (Node, gunicorn), so we rarely reuse a socket being closed. */
export const DEFAULT_FREE_SOCKET_TIMEOUT_MS = 4_000;
export const DEFAULT_MAX_RESPONSE_BYTES = 32 * 1024 * 1024;
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

export interface HttpTransportOptions {
  /** AUTHENTIK_INSECURE: do not verify the core's TLS certificate. */
  insecure?: boolean;
  /** Connect every request to this unix socket (the Host header becomes `localhost`). */
  socketPath?: string;
  maxSockets?: number;
  freeSocketTimeoutMs?: number;
  maxResponseBytes?: number;
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
  headers: http.IncomingHttpHeaders;
  /** Every Set-Cookie header value, in order. */
  setCookie: string[];
  body: Buffer;
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS']);

export class HttpTransport {
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;
  private readonly socketPath: string | undefined;
  private readonly maxResponseBytes: number;
  private readonly requestTimeoutMs: number;

  constructor(options: HttpTransportOptions = {}) {
    const agentOptions = {
      keepAlive: true,
      maxSockets: options.maxSockets ?? DEFAULT_MAX_SOCKETS,
      maxFreeSockets: options.maxSockets ?? DEFAULT_MAX_SOCKETS,
      // The agent applies this to idle (free) sockets; in-flight requests set their own timeout.
      timeout: options.freeSocketTimeoutMs ?? DEFAULT_FREE_SOCKET_TIMEOUT_MS,
      scheduling: 'lifo' as const,
    };
    this.httpAgent = new http.Agent(agentOptions);
    this.httpsAgent = new https.Agent({ ...agentOptions, rejectUnauthorized: options.insecure !== true });
    this.socketPath = options.socketPath;
    this.maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  }

  /** One exchange; rejects with CoreError ('transport', 'timeout' or 'unexpected_response' for oversize bodies). */
  async request(req: TransportRequest): Promise<TransportResponse> {
    const url = typeof req.url === 'string' ? new URL(req.url) : req.url;
    try {
      return await this.once(req, url);
    } catch (err) {
      // A kept-alive socket the server closed just as we reused it: safe to repeat an idempotent request once.
      if (err instanceof StaleSocketError && IDEMPOTENT.has(req.method.toUpperCase())) {
        return await this.once(req, url);
      }
      throw err instanceof StaleSocketError ? err.coreError : err;
    }
  }

  /** WHATWG fetch over this transport, for openapi-fetch. Redirects are returned, not followed. */
  readonly fetch = async (input: Request): Promise<Response> => {
    const headers: Record<string, string> = {};
    input.headers.forEach((value, name) => {
      headers[name] = value;
    });
    let body: Buffer | undefined;
    if (input.method !== 'GET' && input.method !== 'HEAD' && input.body !== null) {
      body = Buffer.from(await input.arrayBuffer());
    }
    const res = await this.request({
      method: input.method,
      url: input.url,
      headers,
      ...(body !== undefined ? { body } : {}),
      timeoutMs: this.requestTimeoutMs,
      signal: input.signal,
    });
    if (res.status < 200 || res.status > 599) {
      throw new CoreError('http_status', `unexpected HTTP status ${res.status}`, { status: res.status });
    }
    const responseHeaders = new Headers();
    for (const [name, value] of Object.entries(res.headers)) {
      if (value === undefined) continue;
      if (Array.isArray(value)) for (const v of value) responseHeaders.append(name, v);
      else responseHeaders.append(name, value);
    }
    const nullBody = input.method === 'HEAD' || res.status === 204 || res.status === 205 || res.status === 304;
    return new Response(nullBody ? null : res.body, { status: res.status, headers: responseHeaders });
  };

  /** Closes idle sockets and refuses nothing: in-flight requests finish on their own sockets. */
  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  private once(req: TransportRequest, url: URL): Promise<TransportResponse> {
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
      const headers: http.OutgoingHttpHeaders = { ...req.headers };
      if (req.body !== undefined) headers['content-length'] = Buffer.byteLength(req.body);
      const options: https.RequestOptions = {
        method: req.method,
        agent: secure ? this.httpsAgent : this.httpAgent,
        path: `${url.pathname}${url.search}`,
        headers,
        timeout: req.timeoutMs,
      };
      if (this.socketPath !== undefined) {
        options.socketPath = this.socketPath;
        if (headers['host'] === undefined) headers['host'] = 'localhost';
      } else {
        options.hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
        options.port = url.port === '' ? (secure ? 443 : 80) : Number(url.port);
        if (secure) options.servername = options.hostname;
      }

      let settled = false;
      const finish = (err: Error | undefined, value?: TransportResponse): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        req.signal?.removeEventListener('abort', onAbort);
        if (err !== undefined) {
          request.destroy();
          reject(err);
        } else if (value !== undefined) {
          resolve(value);
        }
      };
      const onAbort = (): void => finish(abortError(req.signal, label));
      const timer = setTimeout(
        () => finish(new CoreError('timeout', `${label}: no complete answer within ${req.timeoutMs} ms`)),
        req.timeoutMs,
      );
      req.signal?.addEventListener('abort', onAbort, { once: true });

      const request = (secure ? https : http).request(options, (res) => {
        const status = res.statusCode ?? 0;
        const declared = Number(res.headers['content-length'] ?? '0');
        if (declared > this.maxResponseBytes) {
          finish(oversize(label, this.maxResponseBytes));
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > this.maxResponseBytes) {
            finish(oversize(label, this.maxResponseBytes));
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => {
          const setCookie = res.headers['set-cookie'] ?? [];
          finish(undefined, { status, headers: res.headers, setCookie, body: Buffer.concat(chunks, size) });
        });
        res.on('error', (err) => finish(transportError(label, err)));
        res.on('aborted', () => finish(new CoreError('transport', `${label}: connection closed mid-response`)));
      });
      request.on('timeout', () => {
        finish(new CoreError('timeout', `${label}: socket idle for ${req.timeoutMs} ms`));
      });
      request.on('error', (err: NodeJS.ErrnoException) => {
        const core = transportError(label, err);
        const stale = request.reusedSocket && (err.code === 'ECONNRESET' || err.code === 'EPIPE');
        finish(stale ? new StaleSocketError(core) : core);
      });
      if (req.body !== undefined) request.end(req.body);
      else request.end();
    });
  }
}

class StaleSocketError extends Error {
  constructor(readonly coreError: CoreError) {
    super(coreError.message);
  }
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
