/**
 * Command lines of the bench scripts: strict parseArgs, then `read` turns the values into options; --help prints
 * the usage (exit 0), a usage error (from either) one line (exit 2).
 */
import type { parseArgs, ParseArgsConfig } from 'node:util';
import { parseCommandLine, USAGE_EXIT_CODE, UsageError, usageErrorLine } from '../../src/lib/cli.js';

export function benchCommandLine<T extends ParseArgsConfig & { strict?: true }, O>(
  program: string,
  usage: string,
  config: T,
  read: (parsed: ReturnType<typeof parseArgs<T>>) => O,
): O {
  const args = config.args ?? process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(usage);
    process.exit(0);
  }
  try {
    return read(parseCommandLine(config));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(usageErrorLine(program, err));
    process.exit(USAGE_EXIT_CODE);
  }
}

/** An integer option or argument in [min, max]; throws a one-line UsageError otherwise. */
export function intArg(name: string, value: string | undefined, min: number, max: number): number {
  const n = value === undefined || value.trim() === '' ? Number.NaN : Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`${name}: expected an integer in [${min}, ${max}]`);
  return n;
}

/** A number option in [min, max]; throws a one-line UsageError otherwise. */
export function numberArg(name: string, value: string | undefined, min: number, max: number): number {
  const n = value === undefined || value.trim() === '' ? Number.NaN : Number(value);
  if (!Number.isFinite(n) || n < min || n > max) throw new UsageError(`${name}: expected a number in [${min}, ${max}]`);
  return n;
}

/** `[users=100000] [groups=10000]`, the positional arguments of the in-process directory benchmarks. */
export function directorySizeArgs(command: string): [users: number, groups: number] {
  const program = command.slice(command.lastIndexOf('/') + 1);
  return benchCommandLine(program, `usage: ${command} [users=100000] [groups=10000]\n`, { allowPositionals: true }, ({ positionals }) => {
    if (positionals.length > 2) throw new UsageError(`Unexpected argument '${positionals[2]}'`);
    return [intArg('users', positionals[0] ?? '100000', 1, 1_000_000), intArg('groups', positionals[1] ?? '10000', 1, 100_000)];
  });
}
