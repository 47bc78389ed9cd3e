/**
 * The embedded core as its own process for the benchmark, so its CPU time and memory are its own.
 *
 *   node dist/bench/run-core.js <directory.json> <certs-dir>
 *
 * Prints {"event":"ready","url":"http://127.0.0.1:<port>/"} on stdout once it listens (ephemeral port); stops
 * on SIGTERM or SIGINT.
 */
import { startEmbeddedCore } from '../src/embedded-core/core.js';
import { UsageError } from '../src/lib/cli.js';
import { benchCommandLine } from './lib/cli.js';

async function main(): Promise<void> {
  const [directoryPath, certsDir] = benchCommandLine('run-core.js', 'usage: run-core.js <directory.json> <certs-dir>\n', { allowPositionals: true }, ({ positionals }) => {
    const [directory, certs] = positionals;
    if (directory === undefined || certs === undefined || positionals.length > 2) throw new UsageError('expected <directory.json> <certs-dir>');
    return [directory, certs] as const;
  });
  const core = await startEmbeddedCore({ directoryPath, certsDir, host: '127.0.0.1', port: 0 });
  const stop = (): void => {
    void core.stop().then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdout.write(`${JSON.stringify({ event: 'ready', url: core.url, users: core.directory().users.size })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
