import { ProtocolError } from '../../errors.js';

/**
 * A malformed LDAPMessage whose messageID (and operation tag) could still be read, so the server may answer
 * the operation with a protocolError result instead of only disconnecting.
 */
export class LdapDecodeError extends ProtocolError {
  readonly messageID: number;
  /** Tag octet of the protocolOp, when it was reached. */
  readonly opTag: number | undefined;
  constructor(message: string, messageID: number, opTag: number | undefined, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LdapDecodeError';
    this.messageID = messageID;
    this.opTag = opTag;
  }
}

/** The protocolOp carries an application tag that is not an LDAP operation at all. */
export class UnknownOperationError extends LdapDecodeError {
  constructor(messageID: number, opTag: number) {
    super(`LDAP: unknown operation tag 0x${opTag.toString(16).padStart(2, '0')}`, messageID, opTag);
    this.name = 'UnknownOperationError';
  }
}
