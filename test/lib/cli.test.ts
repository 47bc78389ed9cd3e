import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCommandLine, UsageError, usageErrorLine } from '../../src/lib/cli.js';

const options = { listen: { type: 'string' }, watch: { type: 'boolean' } } as const;

test('parses options and positionals like parseArgs', () => {
  const { values, positionals } = parseCommandLine({ args: ['--listen', ':9000', '--watch', 'x'], options, allowPositionals: true });
  assert.deepEqual({ ...values }, { listen: ':9000', watch: true });
  assert.deepEqual(positionals, ['x']);
  assert.equal(parseCommandLine({ args: ['--listen=[::1]:1'], options }).values.listen, '[::1]:1');
});

test('strict: unknown options, missing values and stray arguments are one-line usage errors', () => {
  const cases: Array<[string[], string]> = [
    [['--frobnicate'], "Unknown option '--frobnicate'"],
    [['-z'], "Unknown option '-z'"],
    [['--listen'], "Option '--listen <value>' argument missing"],
    [['--watch=yes'], "Option '--watch' does not take an argument"],
    [['stray'], "Unexpected argument 'stray'"],
  ];
  for (const [args, message] of cases) {
    assert.throws(
      () => parseCommandLine({ args, options }),
      (err: unknown) => err instanceof UsageError && err.message === message,
      args.join(' '),
    );
  }
  assert.equal(usageErrorLine('ak-outpost', new UsageError("Unknown option '--x'")), "ak-outpost: Unknown option '--x' (see --help)\n");
});
