#!/usr/bin/env node
/**
 * The embedded core as a standalone demo server:
 *
 *   node dist/src/embedded-core/main.js --directory <file> [--listen host:port] [--certs <dir>] [--watch]
 *                                       [--log-level info]
 *
 * stdout carries what a person copies: the URL, and per outpost the environment to run an outpost against this
 * core (tokens included: that is the point of a demo CLI). Logs are JSON (pino) on stderr and never carry tokens.
 * SIGHUP reloads the directory file; SIGTERM/SIGINT stop.
 */
import { resolve, dirname, join } from 'node:path';
import { pino } from 'pino';
import type { CoreLogger } from './api/logger.js';
import { startEmbeddedCore } from './core.js';
import type { EmbeddedCore } from './core.js';

const USAGE = `usage: main.js --directory <file> [--listen host:port] [--certs <dir>] [--watch] [--log-level <level>]

  --directory <file>   directory file (YAML or JSON)
  --listen host:port   default 127.0.0.1:9000 (port 0 picks a free one)
  --certs <dir>        CA and generated certificates; default <directory file folder>/certs
  --watch              reload when the directory file changes (SIGHUP always reloads)
  --log-level <level>  trace, debug, info, warn, error (default info)
`;

interface CliOptions {
  directory: string;
  host: string;
  port: number;
  certs: string;
  watch: boolean;
  logLevel: string;
}

/** Parses argv (without node and script); throws Error with a one-line message on bad input. */
function parseCliArgs(argv: readonly string[]): CliOptions | 'help' {
  let directory: string | undefined;
  let listen = '127.0.0.1:9000';
  let certs: string | undefined;
  let watch = false;
  let logLevel = 'info';
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === '') throw new Error(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--help':
      case '-h':
        return 'help';
      case '--directory':
        directory = value();
        break;
      case '--listen':
        listen = value();
        break;
      case '--certs':
        certs = value();
        break;
      case '--watch':
        watch = true;
        break;
      case '--log-level':
        logLevel = value();
        if (!['trace', 'debug', 'info', 'warn', 'error'].includes(logLevel)) throw new Error(`--log-level: unknown level ${logLevel}`);
        break;
      default:
        throw new Error(`unknown argument ${arg}`);
    }
  }
  if (directory === undefined) throw new Error('--directory is required');
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(listen);
  if (!match) throw new Error(`--listen: expected host:port, got ${listen}`);
  const port = Number(match[3]);
  if (port > 65535) throw new Error(`--listen: port ${port} out of range`);
  const host = match[1] ?? (match[2] === '' ? '127.0.0.1' : match[2] ?? '127.0.0.1');
  const directoryPath = resolve(directory);
  return { directory: directoryPath, host, port, certs: resolve(certs ?? join(dirname(directoryPath), 'certs')), watch, logLevel };
}

/** The URL outposts should use: a wildcard listen address is reached through loopback. */
function outpostFacingUrl(core: EmbeddedCore, host: string): string {
  if (host === '0.0.0.0' || host === '::') return core.url.replace(/\/\/(\[[^\]]+\]|[^:/]+):/, '//127.0.0.1:');
  return core.url;
}

function printBanner(core: EmbeddedCore, options: CliOptions): void {
  const url = outpostFacingUrl(core, options.host);
  const directory = core.directory();
  const lines: string[] = [
    `ak-outpost embedded core listening on ${core.url} (authentik ${directory.settings.version}, API ${directory.settings.generation})`,
    `CA certificate: ${core.pki.caPath}`,
    `admin token: ${core.adminToken}`,
    '',
  ];
  for (const outpost of directory.outposts.values()) {
    lines.push(`# outpost "${outpost.name}" (${outpost.type})`);
    lines.push(`export AUTHENTIK_HOST=${url}`);
    lines.push(`export AUTHENTIK_TOKEN=${outpost.token}`);
    lines.push('export AUTHENTIK_INSECURE=false');
    lines.push('');
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function main(): Promise<void> {
  let options: CliOptions;
  try {
    const parsed = parseCliArgs(process.argv.slice(2));
    if (parsed === 'help') {
      process.stdout.write(USAGE);
      return;
    }
    options = parsed;
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}`);
    process.exitCode = 2;
    return;
  }

  const logger = pino(
    {
      level: options.logLevel,
      base: { logger: 'authentik.embedded-core' },
      messageKey: 'event',
      timestamp: pino.stdTimeFunctions.isoTime,
      // Defence in depth: nothing logs these fields, and if something did they would not reach the log.
      redact: { paths: ['token', 'password', 'secret', 'key', 'cookie', '*.token', '*.password', '*.secret', '*.cookie'], censor: '[redacted]' },
    },
    pino.destination(2),
  );
  const coreLogger: CoreLogger = logger;

  let core: EmbeddedCore;
  try {
    core = await startEmbeddedCore({
      directoryPath: options.directory,
      host: options.host,
      port: options.port,
      certsDir: options.certs,
      watch: options.watch,
      logger: coreLogger,
    });
  } catch (err) {
    process.stderr.write(`embedded core: ${(err as Error).message}\n`);
    process.exitCode = 1;
    return;
  }
  printBanner(core, options);

  process.on('SIGHUP', () => {
    core.reload().catch((err: unknown) => logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'directory reload failed'));
  });
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    core.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

void main();
