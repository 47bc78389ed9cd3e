/**
 * One error base with stable codes. Expected protocol outcomes (a wrong password, a denied search) are not
 * errors of this kind: they are results. Anything here that reaches a client becomes a refusal.
 */
export class OutpostError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'OutpostError';
    this.code = code;
  }
}

/** Invalid configuration: start-up stops with one line naming the variable. */
export class ConfigError extends OutpostError {
  readonly variable: string;
  constructor(variable: string, message: string) {
    super('AKO_CONFIG', `${variable}: ${message}`);
    this.name = 'ConfigError';
    this.variable = variable;
  }
}

/** Kinds of failure talking to the core; every one of them is a refusal for the client. */
export type CoreErrorKind =
  | 'transport' // connection refused, reset, DNS, TLS
  | 'timeout'
  | 'http_status' // unexpected HTTP status
  | 'unexpected_response'; // body missing a field we depend on, wrong type, not JSON

export class CoreError extends OutpostError {
  readonly kind: CoreErrorKind;
  readonly status: number | undefined;
  constructor(kind: CoreErrorKind, message: string, options?: { status?: number; cause?: unknown }) {
    super(`AKO_CORE_${kind.toUpperCase()}`, message, options);
    this.name = 'CoreError';
    this.kind = kind;
    this.status = options?.status;
  }
}

/** Malformed input on the wire. LDAP: Notice of Disconnection and close; RADIUS: silent drop. */
export class ProtocolError extends OutpostError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('AKO_PROTOCOL', message, options);
    this.name = 'ProtocolError';
  }
}

/** An LDAP result the listener turns into the response of the operation. */
export class LdapResultError extends OutpostError {
  readonly resultCode: number;
  constructor(resultCode: number, message: string) {
    super('AKO_LDAP_RESULT', message);
    this.name = 'LdapResultError';
    this.resultCode = resultCode;
  }
}
