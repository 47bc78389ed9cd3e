/**
 * The one log-level vocabulary: authentik's `trace`, `debug`, `info`, `warning`, `error` (reference §1.3, §1.7),
 * read case-insensitively, with pino's and Go's `warn` taken for `warning`. Used for AUTHENTIK_LOG_LEVEL, the
 * outpost config's `log_level`, the embedded core's --log-level, and to translate to and from pino's names.
 */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warning', 'error'] as const;

export type LogLevel = (typeof LOG_LEVELS)[number];

/** pino's names for the same levels. */
export type PinoLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';

/** undefined when `value` names no level. */
export function parseLogLevel(value: string): LogLevel | undefined {
  const lower = value.trim().toLowerCase();
  if (lower === 'warn') return 'warning';
  return LOG_LEVELS.find((level) => level === lower);
}

/** The outpost config's `log_level`: an unknown name means debug, as in the reference; blank means not set. */
export function configLogLevel(value: string | undefined): LogLevel | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  return parseLogLevel(value) ?? 'debug';
}

export function toPinoLevel(level: LogLevel): PinoLevel {
  return level === 'warning' ? 'warn' : level;
}

/** The `level` a log line shows for pino's label: authentik's `warning` for `warn`; the rest (e.g. `fatal`) as is. */
export function levelLabel(pinoLabel: string): string {
  return pinoLabel === 'warn' ? 'warning' : pinoLabel;
}
