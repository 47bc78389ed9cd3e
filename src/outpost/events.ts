/**
 * The event link: a WebSocket to the core at `<host path>ws/outpost/<outpost pk>/` (reference §1.6, §5.3). HELLO
 * on open and every 10 s; the core ACKs each one and pushes TRIGGER_UPDATE, PROVIDER_SPECIFIC and SESSION_END.
 * The link reconnects on its own with exponential back-off for as long as it is not closed; listeners keep
 * serving from the last good configuration while it is down.
 */
import { getFips } from 'node:crypto';
import { connect as netConnect } from 'node:net';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import { HttpsProxyAgent } from 'https-proxy-agent';
import WebSocket, { type RawData } from 'ws';
import type { CoreConnectionConfig } from '../config/env.js';
import { EVENT_LINK_LIMITS } from '../config/limits.js';
import type { Logger } from '../observability/log.js';
import { Backoff } from '../util/backoff.js';

export const Instruction = Object.freeze({
  Ack: 0,
  Hello: 1,
  TriggerUpdate: 2,
  ProviderSpecific: 3,
  SessionEnd: 4,
});

export interface EventHandlers {
  triggerUpdate(): void;
  providerSpecific(args: Record<string, unknown>): void;
  sessionEnd(sessionId: string): void;
}

export interface EventLinkTiming {
  helloIntervalMs: number;
  handshakeTimeoutMs: number;
  silenceTimeoutMs: number;
  backoffInitialMs: number;
  backoffMaxMs: number;
  stableAfterMs: number;
  closeTimeoutMs: number;
  maxPayloadBytes: number;
}

export interface EventLinkOptions {
  core: Pick<CoreConnectionConfig, 'baseUrl' | 'query' | 'socketPath' | 'token' | 'insecure' | 'proxy'>;
  outpostPk: string;
  instanceUuid: string;
  userAgent: string;
  /** Arguments of every HELLO (see buildHelloArgs). */
  helloArgs: () => Record<string, unknown>;
  logger: Logger;
  handlers: EventHandlers;
  onConnectionChange?: (connected: boolean) => void;
  timing?: Partial<EventLinkTiming>;
}

/** HELLO arguments with the keys the core pops into typed fields (reference §1.6). */
export function buildHelloArgs(info: { version: string; buildHash: string; instanceUuid: string }): Record<string, unknown> {
  return {
    version: info.version,
    buildHash: info.buildHash,
    uuid: info.instanceUuid,
    golangVersion: `node ${process.version}`,
    opensslEnabled: true,
    opensslVersion: process.versions.openssl,
    fipsEnabled: getFips() === 1,
    hostname: hostname(),
  };
}

/** Go's url.QueryEscape: unreserved characters kept, space as '+', the rest %XX. */
function queryEscape(s: string): string {
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c;
    else if (c === ' ') out += '+';
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/**
 * ws(s)://<host><path>ws/outpost/<pk>/?<query>: AUTHENTIK_HOST's query merged with `extra` (extra wins on the same
 * key), keys sorted like Go's url.Values.Encode.
 */
export function buildEventUrl(
  core: Pick<CoreConnectionConfig, 'baseUrl' | 'query'>,
  outpostPk: string,
  extra: Readonly<Record<string, string>> = {},
): string {
  const base = new URL(core.baseUrl);
  const scheme = base.protocol === 'https:' ? 'wss:' : 'ws:';
  const values = new Map<string, string[]>();
  for (const [k, v] of new URLSearchParams(core.query)) {
    const list = values.get(k);
    if (list === undefined) values.set(k, [v]);
    else list.push(v);
  }
  for (const [k, v] of Object.entries(extra)) values.set(k, [v]);
  const query = [...values.keys()]
    .sort()
    .flatMap((k) => (values.get(k) ?? []).map((v) => `${queryEscape(k)}=${queryEscape(v)}`))
    .join('&');
  const path = `${base.pathname}ws/outpost/${encodeURIComponent(outpostPk)}/`;
  return `${scheme}//${base.host}${path}${query === '' ? '' : `?${query}`}`;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function rawToBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

export class EventLink {
  readonly #opts: EventLinkOptions;
  readonly #timing: EventLinkTiming;
  readonly #log: Logger;
  readonly #backoff: Backoff;
  /** The REST client's proxy decision (config/env.ts): a CONNECT tunnel, TLS to the core inside it. */
  readonly #proxyAgent: HttpsProxyAgent<string> | undefined;
  #ws: WebSocket | undefined;
  #connected = false;
  #closed = false;
  #started = false;
  /** 0 for the first connection (no `attempt` parameter); reconnects count 1, 2, … until one succeeds. */
  #reconnectAttempt = 0;
  #openedAt = 0;
  #lastFrameAt = 0;
  #helloTimer: NodeJS.Timeout | undefined;
  #reconnectTimer: NodeJS.Timeout | undefined;

  constructor(options: EventLinkOptions) {
    this.#opts = options;
    this.#timing = {
      helloIntervalMs: EVENT_LINK_LIMITS.helloIntervalMs,
      handshakeTimeoutMs: EVENT_LINK_LIMITS.handshakeTimeoutMs,
      silenceTimeoutMs: EVENT_LINK_LIMITS.silenceTimeoutMs,
      backoffInitialMs: EVENT_LINK_LIMITS.backoffInitialMs,
      backoffMaxMs: EVENT_LINK_LIMITS.backoffMaxMs,
      stableAfterMs: EVENT_LINK_LIMITS.stableAfterMs,
      closeTimeoutMs: EVENT_LINK_LIMITS.closeTimeoutMs,
      maxPayloadBytes: EVENT_LINK_LIMITS.maxPayloadBytes,
      ...options.timing,
    };
    this.#log = options.logger;
    this.#backoff = new Backoff({ initialMs: this.#timing.backoffInitialMs, maxMs: this.#timing.backoffMaxMs });
    const proxy = options.core.proxy;
    this.#proxyAgent = proxy !== undefined ? new HttpsProxyAgent(proxy) : undefined;
  }

  get connected(): boolean {
    return this.#connected;
  }

  /** Connects in the background; failures turn into reconnects, never into a rejection. */
  start(): void {
    if (this.#started || this.#closed) return;
    this.#started = true;
    this.#connect();
  }

  /** Stops reconnecting, sends a normal closure (1000) and waits (bounded) for the socket to close. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#clearTimers();
    const ws = this.#ws;
    if (ws === undefined || ws.readyState === WebSocket.CLOSED) {
      this.#setConnected(false);
      return;
    }
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => ws.terminate(), this.#timing.closeTimeoutMs);
      ws.once('close', () => {
        clearTimeout(force);
        resolve();
      });
      if (ws.readyState === WebSocket.OPEN) ws.close(1000);
      else ws.terminate();
    });
    this.#setConnected(false);
  }

  #url(): string {
    const extra: Record<string, string> = { instance_uuid: this.#opts.instanceUuid };
    if (this.#reconnectAttempt > 0) extra['attempt'] = String(this.#reconnectAttempt);
    return buildEventUrl(this.#opts.core, this.#opts.outpostPk, extra);
  }

  #connect(): void {
    if (this.#closed) return;
    const { core } = this.#opts;
    const url = this.#url();
    this.#log.debug({ url, attempt: this.#reconnectAttempt }, 'connecting to core event link');
    const socketPath = core.socketPath;
    const ws = new WebSocket(url, {
      headers: { Authorization: `Bearer ${core.token}`, 'User-Agent': this.#opts.userAgent },
      handshakeTimeout: this.#timing.handshakeTimeoutMs,
      maxPayload: this.#timing.maxPayloadBytes,
      perMessageDeflate: false,
      followRedirects: false,
      rejectUnauthorized: !core.insecure,
      ...(socketPath !== undefined ? { createConnection: () => netConnect({ path: socketPath }) } : {}),
      ...(this.#proxyAgent !== undefined ? { agent: this.#proxyAgent } : {}),
    });
    this.#ws = ws;

    ws.on('open', () => {
      if (this.#closed) {
        ws.close(1000);
        return;
      }
      this.#reconnectAttempt = 0;
      this.#openedAt = performance.now();
      this.#lastFrameAt = this.#openedAt;
      this.#setConnected(true);
      this.#log.info({ outpost: this.#opts.outpostPk }, 'Successfully connected websocket');
      this.#sendHello(ws);
      this.#helloTimer = setInterval(() => this.#onHelloTick(ws), this.#timing.helloIntervalMs);
    });
    ws.on('message', (data, isBinary) => {
      this.#lastFrameAt = performance.now();
      this.#onMessage(data, isBinary);
    });
    ws.on('ping', () => {
      this.#lastFrameAt = performance.now();
    });
    ws.on('error', (err) => {
      // Aborting a handshake on close() also reports an error; that one is expected.
      if (this.#closed) this.#log.debug({ err: err.message }, 'event link error while closing');
      else this.#log.warn({ err: err.message }, 'event link error');
    });
    ws.on('close', (code) => {
      if (this.#ws !== ws) return;
      this.#ws = undefined;
      if (this.#helloTimer !== undefined) clearInterval(this.#helloTimer);
      this.#helloTimer = undefined;
      const wasConnected = this.#connected;
      this.#setConnected(false);
      if (this.#closed) return;
      if (wasConnected) {
        this.#log.warn({ code }, 'event link closed');
        if (performance.now() - this.#openedAt >= this.#timing.stableAfterMs) this.#backoff.reset();
      }
      this.#scheduleReconnect();
    });
  }

  #scheduleReconnect(): void {
    if (this.#closed || this.#reconnectTimer !== undefined) return;
    const delayMs = this.#backoff.next();
    this.#reconnectAttempt += 1;
    this.#log.info({ delayMs, attempt: this.#reconnectAttempt }, `waiting ${Math.round(delayMs / 1000)} seconds to reconnect`);
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      this.#connect();
    }, delayMs);
  }

  #onHelloTick(ws: WebSocket): void {
    if (performance.now() - this.#lastFrameAt > this.#timing.silenceTimeoutMs) {
      this.#log.warn({ silenceMs: Math.round(performance.now() - this.#lastFrameAt) }, 'no message from core, reconnecting');
      ws.terminate();
      return;
    }
    this.#sendHello(ws);
  }

  #sendHello(ws: WebSocket): void {
    if (ws.readyState !== WebSocket.OPEN) return;
    if (ws.bufferedAmount > EVENT_LINK_LIMITS.maxUnsentBytes) {
      this.#log.warn({ bufferedBytes: ws.bufferedAmount }, 'core is not reading the event link, reconnecting');
      ws.terminate();
      return;
    }
    let frame: string;
    try {
      frame = JSON.stringify({ instruction: Instruction.Hello, args: this.#opts.helloArgs() });
    } catch (err) {
      this.#log.error({ err: String(err) }, 'failed to build HELLO');
      return;
    }
    ws.send(frame, (err) => {
      if (err) {
        this.#log.warn({ err: err.message }, 'failed to send HELLO, reconnecting');
        ws.terminate();
      }
    });
  }

  #onMessage(data: RawData, isBinary: boolean): void {
    if (isBinary) {
      this.#log.debug('ignoring binary event frame');
      return;
    }
    const text = rawToBuffer(data).toString('utf8');
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      this.#log.warn({ bytes: text.length }, 'malformed event message (not JSON), ignored');
      return;
    }
    if (!isRecord(msg) || typeof msg['instruction'] !== 'number') {
      this.#log.warn({ bytes: text.length }, 'malformed event message (no instruction), ignored');
      return;
    }
    const instruction = msg['instruction'];
    const args = isRecord(msg['args']) ? msg['args'] : {};
    try {
      switch (instruction) {
        case Instruction.Ack:
          return;
        case Instruction.TriggerUpdate:
          this.#log.debug('received trigger update');
          this.#opts.handlers.triggerUpdate();
          return;
        case Instruction.ProviderSpecific:
          this.#opts.handlers.providerSpecific(args);
          return;
        case Instruction.SessionEnd: {
          const sessionId = args['session_id'];
          if (typeof sessionId !== 'string' || sessionId === '' || sessionId.length > EVENT_LINK_LIMITS.sessionIdMaxLength) {
            this.#log.warn('session end without a usable session_id, ignored');
            return;
          }
          this.#opts.handlers.sessionEnd(sessionId);
          return;
        }
        default:
          this.#log.debug({ instruction }, 'unknown event instruction, ignored');
      }
    } catch (err) {
      this.#log.error({ err: err instanceof Error ? err.message : String(err), instruction }, 'event handler failed');
    }
  }

  #setConnected(connected: boolean): void {
    if (this.#connected === connected) return;
    this.#connected = connected;
    try {
      this.#opts.onConnectionChange?.(connected);
    } catch (err) {
      this.#log.error({ err: String(err) }, 'connection change handler failed');
    }
  }

  #clearTimers(): void {
    if (this.#helloTimer !== undefined) clearInterval(this.#helloTimer);
    if (this.#reconnectTimer !== undefined) clearTimeout(this.#reconnectTimer);
    this.#helloTimer = undefined;
    this.#reconnectTimer = undefined;
  }
}
