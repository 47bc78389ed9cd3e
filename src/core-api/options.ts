/** Small interfaces the core client takes from its caller (logger, flow metrics), so it needs no globals. */

/** The subset of a pino logger we use: fields first, message second. */
export interface CoreLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Flow timing hook; the observability module wires it to authentik_outpost_flow_timing_{get,post}_seconds. */
export interface FlowMetrics {
  /** One executor GET; `stage` is the component received. */
  flowGet(stage: string, flow: string, seconds: number): void;
  /** One challenge POST (with the redirects it caused); `stage` is the component sent. */
  flowPost(stage: string, flow: string, seconds: number): void;
}

const noop = (): void => {};
export const silentLogger: CoreLogger = { debug: noop, info: noop, warn: noop, error: noop };
