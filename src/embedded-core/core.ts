/**
 * The embedded core: an authentik-compatible server (REST API under /api/v3, the outpost WebSocket, the flow
 * executor) over a directory file. One node:http server carries both HTTP and WebSocket on the same port.
 *
 * Bounds: request bodies 1 MiB, headers 16 KiB, header timeout 10 s, request timeout 30 s, keep-alive 5 s.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { basename, dirname, resolve } from 'node:path';
import { connectHost, formatListenAddress, type ListenAddress } from '../lib/listen-address.js';
import { authenticate, tokenDigest, digestsEqual, outpostByToken } from './api/auth.js';
import type { Principal } from './api/auth.js';
import type { ApiContext } from './api/context.js';
import { createExecutorHandler } from './api/flows.js';
import type { FlowExecutor } from './api/flows.js';
import type { ApiRequest, ApiResponse } from './api/http.js';
import { detail, routeNotFound } from './api/http.js';
import { silentLogger } from './api/logger.js';
import type { CoreLogger } from './api/logger.js';
import { createRouter } from './api/router.js';
import { stableUuid } from './api/serialize.js';
import { buildDirectory, loadDirectoryFile } from './directory/loader.js';
import type { CertificateMaterial } from './directory/loader.js';
import type { CertificateSpec } from './directory/types.js';
import { FlowEngine, sessionUser } from './flows/engine.js';
import { SessionStore } from './flows/sessions.js';
import type { CoreUser, Directory } from './model.js';
import { openPki } from './pki.js';
import type { EmbeddedPki } from './pki.js';
import { preciseNowMs } from './time.js';
import { OutpostHub } from './ws.js';
import type { ConnectedInstance } from './ws.js';

export const MAX_BODY_BYTES = 1024 * 1024;

export interface EmbeddedCoreOptions {
  /** Directory file (YAML/JSON). Either this or `directory`. */
  directoryPath?: string;
  /** A DirectoryFile object (already parsed), e.g. from a test. */
  directory?: unknown;
  /** Listen host: '' for every interface (src/lib/listen-address.ts); default 127.0.0.1. */
  host?: string;
  /** 0 = ephemeral. Default 0. */
  port?: number;
  /** Where the CA and generated certificates live (created when absent). */
  certsDir: string;
  /** Overrides core.admin_token of the directory file. */
  adminToken?: string;
  logger?: CoreLogger;
  /** Reload when the directory file changes. */
  watch?: boolean;
  /** Build hash the core reports (outpost health build_hash_should); authentik's is GIT_BUILD_HASH or "". */
  buildHash?: string;
  /** Clock for session and WebSocket state expiry (tests). */
  now?: () => number;
}

export interface EmbeddedCore {
  /** http://host:port/; a wildcard listen address is reached over loopback. */
  readonly url: string;
  /** Where it listens (port 0 resolved). */
  readonly listenAddress: ListenAddress;
  readonly adminToken: string;
  readonly pki: EmbeddedPki;
  directory(): Directory;
  reload(): Promise<void>;
  /** Ends every session of a user and pushes SESSION_END to all outposts; returns how many sessions ended. */
  endUserSessions(username: string): Promise<number>;
  /** TRIGGER_UPDATE to one outpost's instances, or to all; returns how many instances were notified. */
  triggerUpdate(outpostUuid?: string): number;
  connectedOutposts(): ConnectedInstance[];
  /** Attempt query values seen for an outpost instance (tests of reconnect behaviour). */
  instanceAttempts(outpostUuid: string, instanceUuid: string): (string | null)[];
  stop(): Promise<void>;
}

const TOKEN_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** authentik-style API key: 64 alphanumerics, no modulo bias. */
export function generateToken(length = 64): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248) out += TOKEN_CHARS[byte % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

class BodyTooLarge extends Error {}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolveBody, reject) => {
    const declared = Number(req.headers['content-length'] ?? '0');
    if (Number.isFinite(declared) && declared > limit) {
      reject(new BodyTooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new BodyTooLarge());
        req.pause();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolveBody(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function writeResponse(res: ServerResponse, response: ApiResponse, head: boolean): void {
  const headers: Record<string, string | string[]> = { ...(response.headers ?? {}) };
  let payload: Buffer | undefined;
  if (response.rawJson !== undefined) {
    headers['content-type'] = 'application/json';
    payload = Buffer.from(response.rawJson, 'utf8');
  } else if (response.text) {
    headers['content-type'] = response.text.contentType;
    payload = Buffer.from(response.text.data, 'utf8');
  } else if (response.body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = Buffer.from(JSON.stringify(response.body), 'utf8');
  }
  headers['content-length'] = String(payload?.length ?? 0);
  res.writeHead(response.status, headers);
  res.end(head ? undefined : payload);
}

/** Decodes the path below /api/v3 segment by segment; null when malformed. */
function apiPath(pathname: string): string | null {
  if (!pathname.startsWith('/api/v3/')) return null;
  try {
    return pathname
      .slice('/api/v3'.length)
      .split('/')
      .map((segment) => decodeURIComponent(segment))
      .join('/');
  } catch {
    return null;
  }
}

export async function startEmbeddedCore(options: EmbeddedCoreOptions): Promise<EmbeddedCore> {
  const logger = options.logger ?? silentLogger;
  const now = options.now ?? preciseNowMs;
  if (options.directoryPath === undefined && options.directory === undefined) {
    throw new TypeError('startEmbeddedCore: directoryPath or directory is required');
  }
  const pki = openPki(options.certsDir);
  const resolveCertificate = async (spec: CertificateSpec): Promise<CertificateMaterial> => pki.resolveCertificate(spec);
  const directoryPath = options.directoryPath !== undefined ? resolve(options.directoryPath) : undefined;

  const load = (previous?: Directory): Promise<Directory> =>
    directoryPath !== undefined
      ? loadDirectoryFile(directoryPath, { resolveCertificate, ...(previous ? { previous } : {}) })
      : buildDirectory(options.directory, { baseDir: process.cwd(), resolveCertificate, ...(previous ? { previous } : {}) });

  let current = await load();
  // The option wins; otherwise the file's core.admin_token, re-read on every reload.
  const adminToken = (): string => options.adminToken ?? current.settings.adminToken;
  if (adminToken() === '') throw new TypeError('startEmbeddedCore: the admin token must not be empty');
  let adminCache = { token: adminToken(), digest: tokenDigest(adminToken()) };
  const adminDigest = (): Buffer => {
    if (adminCache.token !== adminToken()) adminCache = { token: adminToken(), digest: tokenDigest(adminToken()) };
    return adminCache.digest;
  };

  const hub = new OutpostHub({
    logger,
    now,
    mayView: (token, outpostUuid) => {
      const outpost = current.outposts.get(outpostUuid);
      if (!outpost) return false;
      if (digestsEqual(tokenDigest(token), adminDigest())) return true;
      return outpostByToken(current, token)?.uuid === outpost.uuid;
    },
  });
  const sessions = new SessionStore({
    signingKey: randomBytes(48),
    now,
    // Logout, expiry and eviction: outposts drop their bound connections (authentik broadcasts to all).
    onSessionEnd: (key) => hub.sessionEnd(key),
  });
  const engine: FlowExecutor = new FlowEngine({ directory: () => current, sessions, logger, now });

  const reloadOnce = async (): Promise<void> => {
    const previous = current;
    const loaded = await load(previous);
    current = loaded;
    for (const uuid of previous.outposts.keys()) if (!loaded.outposts.has(uuid)) hub.disconnectOutpost(uuid);
    const notified = hub.triggerUpdate();
    logger.info({ outposts: loaded.outposts.size, users: loaded.users.size, notified }, 'directory reloaded');
  };
  // One reload at a time; requests arriving meanwhile share a single follow-up reload (bounded, and it still
  // sees every change made before it started).
  let running: Promise<void> | null = null;
  let queued: Promise<void> | null = null;
  const reload = (): Promise<void> => {
    if (queued) return queued;
    const start = (): Promise<void> => {
      const run = reloadOnce().finally(() => {
        if (running === run) running = null;
      });
      running = run;
      return run;
    };
    if (!running) return start();
    const follow = running
      .catch(() => undefined)
      .then(() => {
        queued = null;
        return start();
      });
    queued = follow;
    return follow;
  };

  const endUserSessions = async (username: string): Promise<number> => {
    const user = current.userByUsername(username);
    if (!user) return 0;
    const keys = sessions.endSessionsOfUser(user.pk);
    for (const key of keys) hub.sessionEnd(key);
    logger.info({ user: user.pk, sessions: keys.length }, 'user sessions ended');
    return keys.length;
  };

  const ctx: ApiContext = {
    directory: () => current,
    hub,
    logger,
    version: () => current.settings.version,
    buildHash: options.buildHash ?? '',
    newToken: () => generateToken(),
    reload,
    endUserSessions,
    endSessionByUuid: (uuid) => {
      const session = sessions.authenticatedSessions().find((s) => stableUuid('authenticated-session', s.key) === uuid);
      if (!session || !sessions.endSession(session.key)) return false;
      hub.sessionEnd(session.key);
      return true;
    },
    listSessions: () =>
      sessions.authenticatedSessions().map((s) => ({
        uuid: stableUuid('authenticated-session', s.key),
        userPk: s.userPk,
        lastIp: s.lastIp,
        authenticatedAt: s.authenticatedAt,
      })),
  };

  const route = createRouter({
    ctx,
    executor: createExecutorHandler({ engine: () => engine, directory: () => current, logger }),
  });

  const sessionLookup = (cookieValue: string): { user: CoreUser; sessionKey: string } | null => {
    const session = sessions.fromCookie(cookieValue);
    if (!session) return null;
    const user = sessionUser(current, session);
    return user ? { user, sessionKey: session.key } : null;
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://core.invalid');
    const head = req.method === 'HEAD';
    if (url.pathname === '/-/health/live/' || url.pathname === '/-/health/ready/') {
      writeResponse(res, { status: 204 }, head);
      return;
    }
    const path = apiPath(url.pathname);
    if (path === null) {
      req.resume();
      writeResponse(res, routeNotFound(), head);
      return;
    }
    let raw: Buffer;
    try {
      raw = await readBody(req, MAX_BODY_BYTES);
    } catch (err) {
      if (err instanceof BodyTooLarge) {
        res.setHeader('connection', 'close');
        writeResponse(res, detail(413, 'Request body too large.'), head);
        return;
      }
      throw err;
    }
    let body: unknown;
    if (raw.length > 0) {
      const contentType = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
      if (contentType !== 'application/json' && contentType !== '') {
        writeResponse(res, detail(415, `Unsupported media type "${contentType}" in request.`), head);
        return;
      }
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch (err) {
        writeResponse(res, detail(400, `JSON parse error - ${(err as Error).message}`), head);
        return;
      }
    }
    const principal: Principal = authenticate(req.headers, { directory: current, adminTokenDigest: adminDigest(), sessionLookup });
    const apiReq: ApiRequest = {
      method: (req.method ?? 'GET').toUpperCase(),
      path,
      rawPath: url.pathname,
      query: url.searchParams,
      rawQuery: url.search.startsWith('?') ? url.search.slice(1) : url.search,
      headers: req.headers,
      body,
      remoteAddress: req.socket.remoteAddress ?? '',
      principal,
      generation: current.settings.generation,
    };
    const response = await route(apiReq);
    if (response.status >= 500) logger.error({ method: apiReq.method, path }, 'request failed');
    writeResponse(res, response, head);
  }

  const server: Server = createServer(
    { maxHeaderSize: 16 * 1024, requestTimeout: 30_000, headersTimeout: 10_000, keepAliveTimeout: 5_000 },
    (req, res) => {
      handle(req, res).catch((err: unknown) => {
        logger.error({ err: err instanceof Error ? err.message : String(err), path: (req.url ?? '').split('?')[0] }, 'unhandled error');
        if (!res.headersSent) writeResponse(res, detail(500, 'A server error occurred.'), false);
        else res.destroy();
      });
    },
  );
  server.on('upgrade', (req: IncomingMessage, socket, head: Buffer) => {
    const pathname = new URL(req.url ?? '/', 'http://core.invalid').pathname;
    if (!OutpostHub.handles(pathname)) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      socket.destroy();
      return;
    }
    hub.handleUpgrade(req, socket, head);
  });
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    socket.destroy();
  });

  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen({ port: options.port ?? 0, ...(host !== '' ? { host } : {}) }, () => {
      server.off('error', reject);
      resolveListen();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const listenAddress: ListenAddress = Object.freeze({ host, port });
  const url = `http://${formatListenAddress({ host: connectHost(host), port })}/`;
  logger.info({ listen: formatListenAddress(listenAddress), url, generation: current.settings.generation, outposts: current.outposts.size }, 'embedded core listening');

  let watcher: FSWatcher | undefined;
  if (options.watch === true && directoryPath !== undefined) {
    let timer: NodeJS.Timeout | undefined;
    const file = basename(directoryPath);
    // Watch the folder: editors replace the file rather than writing it in place.
    watcher = watch(dirname(directoryPath), (_event, name) => {
      if (name !== null && name !== file) return;
      clearTimeout(timer);
      timer = setTimeout(() => {
        reload().catch((err: unknown) => logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'directory reload failed'));
      }, 200);
    });
    watcher.on('error', (err) => logger.warn({ err: err.message }, 'directory watch failed'));
  }

  let stopped: Promise<void> | undefined;
  return {
    url,
    listenAddress,
    get adminToken() {
      return adminToken();
    },
    pki,
    directory: () => current,
    reload,
    endUserSessions,
    triggerUpdate: (outpostUuid) => hub.triggerUpdate(outpostUuid),
    connectedOutposts: () => hub.connected(),
    instanceAttempts: (outpostUuid, instanceUuid) => hub.attemptsOf(outpostUuid, instanceUuid),
    stop: () => {
      stopped ??= (async () => {
        watcher?.close();
        await hub.close();
        await new Promise<void>((resolveClose) => {
          server.close(() => resolveClose());
          server.closeAllConnections();
        });
      })();
      return stopped;
    },
  };
}
