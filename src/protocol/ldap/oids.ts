/** Object identifiers the outpost recognises or advertises. */
export const Oid = Object.freeze({
  // Extended operations
  /** RFC 4511 section 4.14 */
  startTls: '1.3.6.1.4.1.1466.20037',
  /** RFC 4511 section 4.4.1 (unsolicited notification) */
  noticeOfDisconnection: '1.3.6.1.4.1.1466.20036',
  /** RFC 4532 */
  whoAmI: '1.3.6.1.4.1.4203.1.11.3',
  /** RFC 3062 */
  passwordModify: '1.3.6.1.4.1.4203.1.11.1',
  /** RFC 3909 */
  cancel: '1.3.6.1.1.8',

  // Controls
  /** RFC 2696 Simple Paged Results */
  pagedResults: '1.2.840.113556.1.4.319',
  /** RFC 2891 server-side sorting request and response */
  serverSideSortRequest: '1.2.840.113556.1.4.473',
  serverSideSortResponse: '1.2.840.113556.1.4.474',
  /** draft-ietf-ldapext-ldapv3-vlv request and response */
  vlvRequest: '2.16.840.1.113730.3.4.9',
  vlvResponse: '2.16.840.1.113730.3.4.10',
  /** RFC 3296 */
  manageDsaIT: '2.16.840.1.113730.3.4.2',
  /** RFC 4370 */
  proxiedAuthorization: '2.16.840.1.113730.3.4.18',
  /** RFC 4528 */
  assertion: '1.3.6.1.1.12',
  /** RFC 4527 */
  preRead: '1.3.6.1.1.13.1',
  postRead: '1.3.6.1.1.13.2',
  /** Microsoft LDAP_SERVER_SD_FLAGS_OID / SHOW_DELETED, sent by AD-oriented clients. */
  sdFlags: '1.2.840.113556.1.4.801',
  showDeleted: '1.2.840.113556.1.4.417',

  // Features (RFC 4512 supportedFeatures)
  /** RFC 3673: "+" selects all operational attributes */
  allOperationalAttributes: '1.3.6.1.4.1.4203.1.5.1',
  /** RFC 4526: (&) and (|) */
  absoluteTrueFalseFilters: '1.3.6.1.4.1.4203.1.5.3',

  // Matching rules
  /** Microsoft LDAP_MATCHING_RULE_IN_CHAIN (transitive membership) */
  matchingRuleInChain: '1.2.840.113556.1.4.1941',
  /** Microsoft LDAP_MATCHING_RULE_BIT_AND / BIT_OR */
  matchingRuleBitAnd: '1.2.840.113556.1.4.803',
  matchingRuleBitOr: '1.2.840.113556.1.4.804',
  /** RFC 4517 */
  distinguishedNameMatch: '2.5.13.1',
  caseIgnoreMatch: '2.5.13.2',
  caseExactMatch: '2.5.13.5',
  integerMatch: '2.5.13.14',
  octetStringMatch: '2.5.13.17',
});
