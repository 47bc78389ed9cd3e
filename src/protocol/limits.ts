/**
 * Caps applied while decoding LDAP input. Every one is checked before the work it bounds (allocation, recursion,
 * iteration), so a hostile peer cannot make the decoder do more than these numbers allow.
 */
export interface DecodeLimits {
  /** Largest whole LDAPMessage (header included); the framer rejects a larger declared length up front. */
  readonly maxMessageBytes: number;
  /** Deepest nesting of constructed BER elements inside one message. */
  readonly maxBerDepth: number;
  /** Deepest nesting of and/or/not in a search filter. */
  readonly maxFilterDepth: number;
  /** Most nodes (operators and items) in one search filter. */
  readonly maxFilterNodes: number;
  /** Most attributes in a SearchRequest selection, AddRequest or ModifyRequest. */
  readonly maxAttributes: number;
  /** Most controls on one message. */
  readonly maxControls: number;
  /** Largest single value (attribute value, assertion value, password, control value, cookie). */
  readonly maxValueBytes: number;
}

export const DEFAULT_DECODE_LIMITS: DecodeLimits = Object.freeze({
  maxMessageBytes: 1024 * 1024,
  // A filter of maxFilterDepth sits under LDAPMessage and SearchRequest, plus item and substring levels.
  maxBerDepth: 80,
  maxFilterDepth: 64,
  maxFilterNodes: 1024,
  maxAttributes: 256,
  maxControls: 32,
  maxValueBytes: 256 * 1024,
});

/** Limits used by the string parsers (filters); a subset of DecodeLimits so either can be passed. */
export type FilterLimits = Pick<DecodeLimits, 'maxFilterDepth' | 'maxFilterNodes' | 'maxValueBytes'>;
