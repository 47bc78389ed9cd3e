/**
 * The outpost WebSocket, `/ws/outpost/<outpost uuid>/` (reference §1.6, §5.7).
 *
 * - Upgrade needs `Authorization: Bearer <token>` of a token that may view that outpost (its own token or the
 *   admin token); otherwise HTTP 403 before any WebSocket exists.
 * - Instances are keyed by the `instance_uuid` query parameter (falling back to a per-connection id); the
 *   `attempt` values seen are recorded per instance.
 * - Every non-ACK message refreshes the instance state (HELLO also carries version, build hash, …) and gets
 *   exactly `{"instruction":0,"args":{}}`; an ACK gets nothing. State expires 15 s after the last message
 *   (1.5 × the 10 s HELLO interval) and is dropped on disconnect, as in authentik.
 * - Core -> outpost: TRIGGER_UPDATE (2) per outpost, SESSION_END (4) to all outposts.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { RawData, WebSocket } from 'ws';
import type { CoreLogger } from './api/logger.js';
import { Instant, preciseNowMs } from './time.js';

export const INSTRUCTION = { ACK: 0, HELLO: 1, TRIGGER_UPDATE: 2, PROVIDER_SPECIFIC: 3, SESSION_END: 4 } as const;

/** 1.5 × OUTPOST_HELLO_INTERVAL (10 s). */
export const STATE_TTL_MS = 15_000;

const PATH = /^\/ws\/outpost\/([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\/$/;
const MAX_PAYLOAD = 64 * 1024;
const MAX_CONNECTIONS = 1000;
/** A client that does not read its messages is cut off rather than buffered without end. */
const MAX_BUFFERED = 1024 * 1024;
const MAX_ATTEMPT_RECORDS = 1000;
const MAX_ARGS_KEYS = 50;

export interface InstanceState {
  outpostUuid: string;
  uid: string;
  lastSeen: Instant;
  version: string | null;
  buildHash: string;
  golangVersion: string;
  opensslEnabled: boolean;
  opensslVersion: string;
  fipsEnabled: boolean;
  hostname: string;
  args: Record<string, unknown>;
}

export interface ConnectedInstance {
  outpostUuid: string;
  instanceUuid: string;
  remoteAddress: string;
  connectedAt: Instant;
  /** null until the first message. */
  state: InstanceState | null;
  /** Every `attempt` query value this instance connected with, in order (null: parameter absent). */
  attempts: (string | null)[];
}

export interface OutpostHubOptions {
  /** May this bearer token open the socket of this outpost? (Also false when the outpost does not exist.) */
  mayView(token: string, outpostUuid: string): boolean;
  logger: CoreLogger;
  now?: () => number;
  pingIntervalMs?: number;
}

interface Connection {
  socket: WebSocket;
  outpostUuid: string;
  instanceUuid: string;
  remoteAddress: string;
  connectedAt: Instant;
  alive: boolean;
}

function rejectUpgrade(socket: Duplex, status: 403 | 404 | 503, reason: string): void {
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  socket.destroy();
}

function bearerToken(req: IncomingMessage): string | null {
  const header = req.headers.authorization;
  if (typeof header !== 'string') return null;
  const match = /^bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1] ?? null;
}

function asString(value: unknown, fallback: string): string {
  return typeof value === 'string' ? value : fallback;
}

export class OutpostHub {
  readonly #wss = new WebSocketServer({ noServer: true, maxPayload: MAX_PAYLOAD, perMessageDeflate: false });
  readonly #connections = new Set<Connection>();
  /** `<outpost>/<instance>` -> state (its lastSeen is when it was saved). */
  readonly #states = new Map<string, InstanceState>();
  readonly #attempts = new Map<string, (string | null)[]>();
  readonly #now: () => number;
  readonly #pingTimer: NodeJS.Timeout;

  readonly #options: OutpostHubOptions;

  constructor(options: OutpostHubOptions) {
    this.#options = options;
    this.#now = options.now ?? preciseNowMs;
    this.#pingTimer = setInterval(() => this.#pingAll(), options.pingIntervalMs ?? 30_000);
    this.#pingTimer.unref();
  }

  /** Whether this HTTP upgrade request is for the hub (anything under /ws/). */
  static handles(pathname: string): boolean {
    return pathname.startsWith('/ws/');
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://core.invalid');
    const match = PATH.exec(url.pathname);
    if (!match?.[1]) return rejectUpgrade(socket, 404, 'Not Found');
    const outpostUuid = match[1].toLowerCase();
    const token = bearerToken(req);
    if (token === null || !this.#options.mayView(token, outpostUuid)) {
      this.#options.logger.info({ outpost: outpostUuid, remote: req.socket.remoteAddress }, 'outpost websocket refused');
      return rejectUpgrade(socket, 403, 'Forbidden');
    }
    if (this.#connections.size >= MAX_CONNECTIONS) return rejectUpgrade(socket, 503, 'Service Unavailable');
    const instanceUuid = (url.searchParams.get('instance_uuid') ?? '').slice(0, 100) || `conn-${randomUUID()}`;
    const attempt = url.searchParams.get('attempt');
    this.#recordAttempt(outpostUuid, instanceUuid, attempt === null ? null : attempt.slice(0, 20));
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      const conn: Connection = {
        socket: ws,
        outpostUuid,
        instanceUuid,
        remoteAddress: req.socket.remoteAddress ?? '',
        connectedAt: Instant.fromEpochMs(this.#now()),
        alive: true,
      };
      this.#connections.add(conn);
      this.#options.logger.info({ outpost: outpostUuid, instance: instanceUuid, attempt }, 'outpost connected');
      ws.on('pong', () => {
        conn.alive = true;
      });
      ws.on('message', (data, isBinary) => this.#onMessage(conn, data, isBinary));
      ws.on('error', (err) => this.#options.logger.debug({ outpost: outpostUuid, err: err.message }, 'outpost websocket error'));
      ws.on('close', () => {
        this.#connections.delete(conn);
        this.#states.delete(`${outpostUuid}/${instanceUuid}`);
        this.#options.logger.info({ outpost: outpostUuid, instance: instanceUuid }, 'outpost disconnected');
      });
    });
  }

  #recordAttempt(outpostUuid: string, instanceUuid: string, attempt: string | null): void {
    const key = `${outpostUuid}/${instanceUuid}`;
    const list = this.#attempts.get(key) ?? [];
    if (list.length < 100) list.push(attempt);
    this.#attempts.delete(key); // re-insert: most recent last, oldest evicted first
    this.#attempts.set(key, list);
    if (this.#attempts.size > MAX_ATTEMPT_RECORDS) {
      const oldest = this.#attempts.keys().next().value;
      if (oldest !== undefined) this.#attempts.delete(oldest);
    }
  }

  #onMessage(conn: Connection, data: RawData, isBinary: boolean): void {
    if (isBinary) return;
    let message: unknown;
    try {
      const text = Buffer.isBuffer(data) ? data.toString('utf8') : Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data).toString('utf8');
      message = JSON.parse(text);
    } catch {
      this.#options.logger.debug({ outpost: conn.outpostUuid }, 'outpost sent a non-JSON frame');
      return;
    }
    if (typeof message !== 'object' || message === null || Array.isArray(message)) return;
    const { instruction, args } = message as { instruction?: unknown; args?: unknown };
    if (typeof instruction !== 'number' || !Number.isInteger(instruction)) return;
    if (instruction === INSTRUCTION.ACK) return;
    const argsObject: Record<string, unknown> =
      typeof args === 'object' && args !== null && !Array.isArray(args) ? { ...(args as Record<string, unknown>) } : {};
    const key = `${conn.outpostUuid}/${conn.instanceUuid}`;
    const state: InstanceState = this.#liveState(key) ?? {
      outpostUuid: conn.outpostUuid,
      uid: conn.instanceUuid,
      lastSeen: Instant.fromEpochMs(this.#now()),
      version: null,
      buildHash: '',
      golangVersion: '',
      opensslEnabled: false,
      opensslVersion: '',
      fipsEnabled: false,
      hostname: '',
      args: {},
    };
    state.lastSeen = Instant.fromEpochMs(this.#now());
    state.hostname = asString(argsObject.hostname, '');
    delete argsObject.hostname;
    if (instruction === INSTRUCTION.HELLO) {
      state.version = typeof argsObject.version === 'string' ? argsObject.version : null;
      state.buildHash = asString(argsObject.buildHash, '');
      state.golangVersion = asString(argsObject.golangVersion, '');
      state.opensslEnabled = argsObject.opensslEnabled === true;
      state.opensslVersion = asString(argsObject.opensslVersion, '');
      state.fipsEnabled = argsObject.fipsEnabled === true;
      for (const field of ['version', 'buildHash', 'golangVersion', 'opensslEnabled', 'opensslVersion', 'fipsEnabled']) {
        delete argsObject[field];
      }
      for (const [k, v] of Object.entries(argsObject)) {
        if (Object.keys(state.args).length >= MAX_ARGS_KEYS && !(k in state.args)) break;
        state.args[k] = v;
      }
    }
    this.#states.set(key, state);
    this.#send(conn, { instruction: INSTRUCTION.ACK, args: {} });
  }

  #liveState(key: string): InstanceState | undefined {
    const state = this.#states.get(key);
    if (!state) return undefined;
    if (this.#now() - state.lastSeen.epochMs > STATE_TTL_MS) {
      this.#states.delete(key);
      return undefined;
    }
    return state;
  }

  #send(conn: Connection, message: { instruction: number; args: Record<string, unknown> }): boolean {
    if (conn.socket.readyState !== conn.socket.OPEN) return false;
    if (conn.socket.bufferedAmount > MAX_BUFFERED) {
      this.#options.logger.warn({ outpost: conn.outpostUuid, instance: conn.instanceUuid }, 'outpost not reading; disconnecting');
      conn.socket.terminate();
      return false;
    }
    conn.socket.send(JSON.stringify(message));
    return true;
  }

  #pingAll(): void {
    for (const conn of this.#connections) {
      if (!conn.alive) {
        conn.socket.terminate();
        continue;
      }
      conn.alive = false;
      conn.socket.ping();
    }
  }

  /** TRIGGER_UPDATE to the instances of one outpost, or of all outposts; returns how many were sent. */
  triggerUpdate(outpostUuid?: string): number {
    let sent = 0;
    for (const conn of this.#connections) {
      if (outpostUuid !== undefined && conn.outpostUuid !== outpostUuid.toLowerCase()) continue;
      if (this.#send(conn, { instruction: INSTRUCTION.TRIGGER_UPDATE, args: {} })) sent++;
    }
    return sent;
  }

  /** SESSION_END for a Django session key, to every connected outpost (authentik broadcasts to all). */
  sessionEnd(sessionKey: string): number {
    const sessionId = createHash('sha256').update(sessionKey).digest('hex');
    let sent = 0;
    for (const conn of this.#connections) {
      if (this.#send(conn, { instruction: INSTRUCTION.SESSION_END, args: { type: 'event.session.end', session_id: sessionId } })) sent++;
    }
    return sent;
  }

  /** Unexpired instance states of an outpost (the health endpoint). */
  health(outpostUuid: string): InstanceState[] {
    const out: InstanceState[] = [];
    for (const key of [...this.#states.keys()]) {
      if (!key.startsWith(`${outpostUuid.toLowerCase()}/`)) continue;
      const state = this.#liveState(key);
      if (state) out.push(state);
    }
    return out;
  }

  connected(): ConnectedInstance[] {
    return [...this.#connections].map((conn) => {
      const key = `${conn.outpostUuid}/${conn.instanceUuid}`;
      return {
        outpostUuid: conn.outpostUuid,
        instanceUuid: conn.instanceUuid,
        remoteAddress: conn.remoteAddress,
        connectedAt: conn.connectedAt,
        state: this.#liveState(key) ?? null,
        attempts: [...(this.#attempts.get(key) ?? [])],
      };
    });
  }

  /** Attempt values recorded for an instance (also after it disconnected). */
  attemptsOf(outpostUuid: string, instanceUuid: string): (string | null)[] {
    return [...(this.#attempts.get(`${outpostUuid.toLowerCase()}/${instanceUuid}`) ?? [])];
  }

  /** Closes the sockets of an outpost (deleted, or its token changed). */
  disconnectOutpost(outpostUuid: string): void {
    for (const conn of this.#connections) {
      if (conn.outpostUuid === outpostUuid.toLowerCase()) conn.socket.close(1000, 'outpost removed');
    }
  }

  async close(): Promise<void> {
    clearInterval(this.#pingTimer);
    for (const conn of this.#connections) conn.socket.terminate();
    this.#connections.clear();
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
  }
}
