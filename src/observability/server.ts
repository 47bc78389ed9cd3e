/**
 * The health and metrics HTTP server (reference §1.9): `/outpost.goauthentik.io/ping` answers 204 to any method,
 * `/metrics` the Prometheus exposition. Served on every AUTHENTIK_LISTEN__METRICS address and on the unix socket
 * `$TMPDIR/authentik-metrics.sock`; a listener that fails is logged and skipped.
 */
import { lstatSync, unlinkSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { formatListenAddress, type ListenAddress } from '../lib/listen-address.js';
import { METRICS_LIMITS } from '../config/limits.js';
import type { Logger } from './log.js';
import { EXPOSITION_CONTENT_TYPE, type MetricsRegistry } from './metrics.js';

export const PING_PATH = '/outpost.goauthentik.io/ping';
export const METRICS_PATH = '/metrics';

export interface MetricsServerOptions {
  addresses: readonly ListenAddress[];
  /** Unix socket path; undefined to serve TCP only. */
  socketPath: string | undefined;
  registry: MetricsRegistry;
  /** The body of /metrics; by default the registry's exposition (a cluster primary merges its workers'). */
  exposition?: () => Promise<string>;
  logger: Logger;
  /** Ping answers 503 until this says true (e.g. while the outpost still retries the core). Default: always ready. */
  isReady?: () => boolean;
}

export interface MetricsServer {
  /** The TCP addresses actually bound (port resolved when 0 was asked). */
  readonly tcpAddresses: readonly AddressInfo[];
  /** The unix socket path when it is being served. */
  readonly socketPath: string | undefined;
  close(): Promise<void>;
}

export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const { registry, logger } = options;
  const isReady = options.isReady ?? (() => true);
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '/').split('?', 1)[0];
    if (path === PING_PATH) {
      res.statusCode = isReady() ? 204 : 503;
      res.end();
      return;
    }
    if (path === METRICS_PATH) {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
        return;
      }
      const render = options.exposition ?? (() => registry.exposition());
      render().then(
        (body) => {
          res.writeHead(200, { 'content-type': EXPOSITION_CONTENT_TYPE, 'content-length': Buffer.byteLength(body) });
          res.end(req.method === 'HEAD' ? undefined : body);
        },
        (err: unknown) => {
          logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'failed to render metrics');
          res.writeHead(500).end();
        },
      );
      return;
    }
    res.writeHead(404).end();
  };

  const servers: Server[] = [];
  const tcpAddresses: AddressInfo[] = [];
  let socketPath: string | undefined;

  for (const address of options.addresses) {
    const server = makeServer(handler);
    try {
      await listen(server, { host: address.host === '' ? undefined : address.host, port: address.port });
      servers.push(server);
      const bound = server.address() as AddressInfo;
      tcpAddresses.push(bound);
      logger.info({ listen: formatListenAddress({ host: bound.address, port: bound.port }) }, 'Starting Metrics server');
    } catch (err) {
      logger.warn({ err: errorSummary(err), listen: formatListenAddress(address) }, 'Failed to start metrics listener');
    }
  }

  if (options.socketPath !== undefined) {
    const server = makeServer(handler);
    try {
      removeStaleSocket(options.socketPath);
      await listen(server, { path: options.socketPath });
      servers.push(server);
      socketPath = options.socketPath;
      logger.info({ listen: options.socketPath }, 'Starting Metrics server');
    } catch (err) {
      logger.warn({ err: errorSummary(err), listen: options.socketPath }, 'Failed to start metrics listener');
    }
  }

  return {
    tcpAddresses,
    socketPath,
    close: async () => {
      await Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((resolve) => {
              s.close(() => resolve());
              s.closeAllConnections();
            }),
        ),
      );
    },
  };
}

function makeServer(handler: (req: IncomingMessage, res: ServerResponse) => void): Server {
  const server = createServer(
    {
      requestTimeout: METRICS_LIMITS.requestTimeoutMs,
      headersTimeout: METRICS_LIMITS.headersTimeoutMs,
      keepAliveTimeout: METRICS_LIMITS.keepAliveTimeoutMs,
      maxHeaderSize: METRICS_LIMITS.maxHeaderBytes,
    },
    handler,
  );
  server.maxConnections = METRICS_LIMITS.serverMaxConnections;
  return server;
}

function listen(server: Server, target: { host?: string | undefined; port?: number; path?: string }): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen(target, () => {
      server.off('error', onError);
      // Later errors (EMFILE on accept) must not crash the process.
      server.on('error', () => {});
      resolve();
    });
  });
}

/** Removes a socket left by a previous run; never removes anything that is not a socket. */
function removeStaleSocket(path: string): void {
  let stat;
  try {
    stat = lstatSync(path);
  } catch {
    return;
  }
  if (!stat.isSocket()) throw new Error(`${path} exists and is not a socket`);
  unlinkSync(path);
}

function errorSummary(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
