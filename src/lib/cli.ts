/**
 * Command lines: node:util parseArgs in strict mode for every entry point (outpost, embedded core, bench
 * scripts). An unknown option, a missing value or a stray argument is a UsageError with a one-line message;
 * entry points print it and exit with USAGE_EXIT_CODE.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

export const USAGE_EXIT_CODE = 2;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** parseArgs, strict: `strict: false` is not accepted, so unknown options always fail. */
export function parseCommandLine<T extends ParseArgsConfig & { strict?: true }>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (err) {
    if (err instanceof Error && 'code' in err && typeof err.code === 'string' && err.code.startsWith('ERR_PARSE_ARGS_')) {
      // e.g. "Unexpected argument 'x'. This command does not take positional arguments": the first sentence says it.
      throw new UsageError(err.message.split('. ', 1)[0] ?? err.message);
    }
    throw err;
  }
}

/** The line an entry point prints for a usage error. */
export function usageErrorLine(program: string, err: UsageError): string {
  return `${program}: ${err.message} (see --help)\n`;
}
