/** A stand-in for the core's outpost WebSocket endpoint, plus small waiting and capture helpers. */
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { CoreConnectionConfig } from '../../src/config/env.js';
import { coreConnectionConfig } from '../../src/config/env.js';
import { LogRoot } from '../../src/observability/log.js';
import type { LogLevel } from '../../src/lib/log-level.js';

export interface CoreConnection {
  url: string;
  headers: IncomingHttpHeaders;
  socket: WebSocket;
  /** Parsed JSON frames received from the outpost. */
  frames: Array<{ instruction: number; args: Record<string, unknown> }>;
  closeCode: number | undefined;
  closed: boolean;
}

export class FakeCoreWs {
  readonly connections: CoreConnection[] = [];
  /** Rejected upgrade attempts (URL), when reject is set. */
  readonly rejected: string[] = [];
  /** Answer HELLO with ACK like the core does. */
  ack = true;
  /** HTTP status to refuse upgrades with; undefined accepts. */
  reject: number | undefined;
  #wss: WebSocketServer | undefined;

  static async start(): Promise<FakeCoreWs> {
    const core = new FakeCoreWs();
    core.#wss = await new Promise<WebSocketServer>((resolve) => {
      const s: WebSocketServer = new WebSocketServer(
        {
          host: '127.0.0.1',
          port: 0,
          verifyClient: (info, cb) => {
            if (core.reject === undefined) cb(true);
            else {
              core.rejected.push(info.req.url ?? '');
              cb(false, core.reject);
            }
          },
        },
        () => resolve(s),
      );
    });
    core.#wss.on('connection', (socket, req) => {
      const conn: CoreConnection = { url: req.url ?? '', headers: req.headers, socket, frames: [], closeCode: undefined, closed: false };
      core.connections.push(conn);
      socket.on('message', (data) => {
        const frame = JSON.parse(String(data)) as { instruction: number; args: Record<string, unknown> };
        conn.frames.push(frame);
        if (core.ack && frame.instruction !== 0) socket.send(JSON.stringify({ instruction: 0, args: {} }));
      });
      socket.on('close', (code) => {
        conn.closeCode = code;
        conn.closed = true;
      });
    });
    return core;
  }

  get port(): number {
    return (this.#wss?.address() as AddressInfo).port;
  }

  /** A validated core connection pointing at this server. */
  core(path = '/', query = '', token = 'tok'): CoreConnectionConfig {
    return coreConnectionConfig(`http://127.0.0.1:${this.port}${path}${query === '' ? '' : `?${query}`}`, token, {
      insecure: false,
      timeoutMs: 2000,
    });
  }

  get last(): CoreConnection | undefined {
    return this.connections[this.connections.length - 1];
  }

  /** Sends a frame to the newest open connection. */
  send(frame: unknown): void {
    const conn = this.last;
    if (conn === undefined || conn.closed) throw new Error('no open connection');
    conn.socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  async close(): Promise<void> {
    for (const c of this.connections) c.socket.terminate();
    await new Promise<void>((resolve) => (this.#wss === undefined ? resolve() : this.#wss.close(() => resolve())));
  }
}

/** Polls until cond() is true; fails after timeoutMs with the message. */
export async function waitFor(cond: () => boolean, message: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${message}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A LogRoot whose JSON lines are kept in memory. */
export function captureLogs(level: LogLevel = 'debug'): { root: LogRoot; text: () => string; events: () => Array<Record<string, unknown>> } {
  const chunks: string[] = [];
  const root = new LogRoot({ level, destination: { write: (s: string) => void chunks.push(s) } });
  const text = () => chunks.join('');
  return {
    root,
    text,
    events: () => text().split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}
