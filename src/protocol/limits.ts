/**
 * The caps applied while decoding LDAP input, as the codecs take them; the values in force are LDAP_DECODE_LIMITS
 * in src/config/limits.ts. Every one is checked before the work it bounds (allocation, recursion, iteration).
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

/** Limits used by the string parsers (filters); a subset of DecodeLimits so either can be passed. */
export type FilterLimits = Pick<DecodeLimits, 'maxFilterDepth' | 'maxFilterNodes' | 'maxValueBytes'>;
