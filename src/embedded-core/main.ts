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
import { parseCommandLine, USAGE_EXIT_CODE, UsageError, usageErrorLine } from '../lib/cli.js';
import { formatListenAddress, parseListenAddress, type ListenAddress } from '../lib/listen-address.js';
import { levelLabel, LOG_LEVELS, parseLogLevel, toPinoLevel, type LogLevel } from '../lib/log-level.js';
import type { CoreLogger } from './api/logger.js';
import { startEmbeddedCore } from './core.js';
import type { EmbeddedCore } from './core.js';

const PROGRAM = 'embedded-core';

const USAGE = `usage: main.js --directory <file> [--listen host:port] [--certs <dir>] [--watch] [--log-level <level>]

  --directory <file>   directory file (YAML or JSON)
  --listen host:port   default 127.0.0.1:9000; [::1]:9000 for IPv6, :9000 for every interface; port 0 picks a free one
  --certs <dir>        CA and generated certificates; default <directory file folder>/certs
  --watch              reload when the directory file changes (SIGHUP always reloads)
  --log-level <level>  ${LOG_LEVELS.join(', ')} (default info)
`;

interface CliOptions {
  directory: string;
  listen: ListenAddress;
  certs: string;
  watch: boolean;
  logLevel: LogLevel;
}

/** Parses argv (without node and script); throws UsageError with a one-line message on bad input. */
function parseCliArgs(args: string[]): CliOptions | 'help' {
  const { values } = parseCommandLine({
    args,
    options: {
      directory: { type: 'string' },
      listen: { type: 'string', default: '127.0.0.1:9000' },
      certs: { type: 'string' },
      watch: { type: 'boolean', default: false },
      'log-level': { type: 'string', default: 'info' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return 'help';
  if (values.directory === undefined || values.directory === '') throw new UsageError('--directory is required');
  const listen = parseListenAddress(values.listen);
  if (listen === undefined) throw new UsageError(`--listen: expected host:port, got ${JSON.stringify(values.listen)}`);
  const logLevel = parseLogLevel(values['log-level']);
  if (logLevel === undefined) throw new UsageError(`--log-level: expected one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(values['log-level'])}`);
  const directoryPath = resolve(values.directory);
  const certs = values.certs === undefined || values.certs === '' ? join(dirname(directoryPath), 'certs') : values.certs;
  return { directory: directoryPath, listen, certs: resolve(certs), watch: values.watch, logLevel };
}

function printBanner(core: EmbeddedCore): void {
  const directory = core.directory();
  const lines: string[] = [
    `ak-outpost embedded core listening on ${formatListenAddress(core.listenAddress)}: ${core.url} (authentik ${directory.settings.version}, API ${directory.settings.generation})`,
    `CA certificate: ${core.pki.caPath}`,
    `admin token: ${core.adminToken}`,
    '',
  ];
  for (const outpost of directory.outposts.values()) {
    lines.push(`# outpost "${outpost.name}" (${outpost.type})`);
    lines.push(`export AUTHENTIK_HOST=${core.url}`);
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
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(usageErrorLine(PROGRAM, err));
    process.exitCode = USAGE_EXIT_CODE;
    return;
  }

  const logger = pino(
    {
      level: toPinoLevel(options.logLevel),
      base: { logger: 'authentik.embedded-core' },
      messageKey: 'event',
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: levelLabel(label) }) },
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
      host: options.listen.host,
      port: options.listen.port,
      certsDir: options.certs,
      watch: options.watch,
      logger: coreLogger,
    });
  } catch (err) {
    process.stderr.write(`embedded core: ${(err as Error).message}\n`);
    process.exitCode = 1;
    return;
  }
  printBanner(core);

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
