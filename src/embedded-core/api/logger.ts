/** The logging surface the embedded core uses; a pino logger satisfies it. Fields only, never secrets. */
export interface CoreLogger {
  debug(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

const noop = (): void => {};

export const silentLogger: CoreLogger = { debug: noop, info: noop, warn: noop, error: noop };
