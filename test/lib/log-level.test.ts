import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configLogLevel, levelLabel, LOG_LEVELS, parseLogLevel, toPinoLevel } from '../../src/lib/log-level.js';

test("authentik's five levels, case-insensitive, `warn` for `warning`", () => {
  assert.deepEqual([...LOG_LEVELS], ['trace', 'debug', 'info', 'warning', 'error']);
  for (const level of LOG_LEVELS) assert.equal(parseLogLevel(level), level);
  assert.equal(parseLogLevel(' WARNING '), 'warning');
  assert.equal(parseLogLevel('Warn'), 'warning');
  assert.equal(parseLogLevel('Info'), 'info');
  for (const other of ['', 'fatal', 'verbose', 'notset', 'critical', 'warnings']) assert.equal(parseLogLevel(other), undefined, other);
});

test('outpost config log_level: unknown means debug (reference §1.7), blank means not set', () => {
  assert.equal(configLogLevel(undefined), undefined);
  assert.equal(configLogLevel(''), undefined);
  assert.equal(configLogLevel('  '), undefined);
  assert.equal(configLogLevel('trace'), 'trace');
  assert.equal(configLogLevel('warning'), 'warning');
  assert.equal(configLogLevel('WARN'), 'warning');
  assert.equal(configLogLevel('verbose'), 'debug');
  assert.equal(configLogLevel('critical'), 'debug');
});

test('to pino and back', () => {
  assert.deepEqual(LOG_LEVELS.map(toPinoLevel), ['trace', 'debug', 'info', 'warn', 'error']);
  for (const level of LOG_LEVELS) assert.equal(levelLabel(toPinoLevel(level)), level);
  assert.equal(levelLabel('fatal'), 'fatal');
});
