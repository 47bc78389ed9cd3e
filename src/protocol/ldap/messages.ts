import { Buffer } from 'node:buffer';
import { ProtocolError } from '../../errors.js';
import { BerReader, Tag } from '../ber/reader.js';
import { BerWriter } from '../ber/writer.js';
import { LDAP_DECODE_LIMITS } from '../../config/limits.js';
import type { DecodeLimits } from '../limits.js';
import { CONTROLS_TAG, readControls, writeControls, type Control } from './controls.js';
import { LdapDecodeError, UnknownOperationError } from './decode-error.js';
import { readFilter, writeFilter, type Filter } from './filter.js';
import { Oid } from './oids.js';

// ---------------------------------------------------------------------------------------------------------
// Types (RFC 4511 section 4, ASN.1 names)

/**
 * baseObject, singleLevel, wholeSubtree, subordinateSubtree (draft-sermersheim-ldap-subordinate-scope;
 * `ldapsearch -s children` sends it).
 */
export type Scope = 0 | 1 | 2 | 3;

/** neverDerefAliases, derefInSearching, derefFindingBaseObj, derefAlways. */
export type DerefAliasesValue = 0 | 1 | 2 | 3;

export type BindAuth = { type: 'simple'; password: Buffer } | { type: 'sasl'; mechanism: string; credentials?: Buffer };

export interface LdapResult {
  resultCode: number;
  matchedDN: string;
  diagnosticMessage: string;
  referral?: string[];
}

/** An attribute with its values; in a SearchResultEntry `values` may be empty (typesOnly). */
export interface PartialAttribute {
  type: string;
  values: Buffer[];
}

export type ModifyOperation = 'add' | 'delete' | 'replace' | 'increment';
export interface Change {
  operation: ModifyOperation;
  modification: PartialAttribute;
}

export interface BindRequest {
  kind: 'BindRequest';
  /** Not range-checked here: the handler answers anything but 3 itself. */
  version: number;
  name: string;
  auth: BindAuth;
}
export interface BindResponse extends LdapResult {
  kind: 'BindResponse';
  serverSaslCreds?: Buffer;
}
export interface UnbindRequest {
  kind: 'UnbindRequest';
}
export interface SearchRequest {
  kind: 'SearchRequest';
  baseObject: string;
  scope: Scope;
  derefAliases: DerefAliasesValue;
  sizeLimit: number;
  timeLimit: number;
  typesOnly: boolean;
  filter: Filter;
  attributes: string[];
}
export interface SearchResultEntry {
  kind: 'SearchResultEntry';
  objectName: string;
  attributes: PartialAttribute[];
}
export interface SearchResultReference {
  kind: 'SearchResultReference';
  uris: string[];
}
export interface SearchResultDone extends LdapResult {
  kind: 'SearchResultDone';
}
export interface ModifyRequest {
  kind: 'ModifyRequest';
  object: string;
  changes: Change[];
}
export interface ModifyResponse extends LdapResult {
  kind: 'ModifyResponse';
}
export interface AddRequest {
  kind: 'AddRequest';
  entry: string;
  attributes: PartialAttribute[];
}
export interface AddResponse extends LdapResult {
  kind: 'AddResponse';
}
export interface DelRequest {
  kind: 'DelRequest';
  entry: string;
}
export interface DelResponse extends LdapResult {
  kind: 'DelResponse';
}
export interface ModifyDNRequest {
  kind: 'ModifyDNRequest';
  entry: string;
  newrdn: string;
  deleteoldrdn: boolean;
  newSuperior?: string;
}
export interface ModifyDNResponse extends LdapResult {
  kind: 'ModifyDNResponse';
}
export interface CompareRequest {
  kind: 'CompareRequest';
  entry: string;
  ava: { attributeDesc: string; assertionValue: Buffer };
}
export interface CompareResponse extends LdapResult {
  kind: 'CompareResponse';
}
export interface AbandonRequest {
  kind: 'AbandonRequest';
  messageID: number;
}
export interface ExtendedRequest {
  kind: 'ExtendedRequest';
  requestName: string;
  requestValue?: Buffer;
}
export interface ExtendedResponse extends LdapResult {
  kind: 'ExtendedResponse';
  responseName?: string;
  responseValue?: Buffer;
}
export interface IntermediateResponse {
  kind: 'IntermediateResponse';
  responseName?: string;
  responseValue?: Buffer;
}

export type LdapOp =
  | BindRequest
  | BindResponse
  | UnbindRequest
  | SearchRequest
  | SearchResultEntry
  | SearchResultReference
  | SearchResultDone
  | ModifyRequest
  | ModifyResponse
  | AddRequest
  | AddResponse
  | DelRequest
  | DelResponse
  | ModifyDNRequest
  | ModifyDNResponse
  | CompareRequest
  | CompareResponse
  | AbandonRequest
  | ExtendedRequest
  | ExtendedResponse
  | IntermediateResponse;

export type LdapOpKind = LdapOp['kind'];
/** The op variant of one kind, e.g. `OpOf<'SearchRequest'>`. */
export type OpOf<K extends LdapOpKind> = Extract<LdapOp, { kind: K }>;

export interface LdapMessage {
  messageID: number;
  op: LdapOp;
  controls: Control[];
}

/** Application tag octet of each protocolOp (constructed or primitive as RFC 4511 defines it). */
export const OpTag = Object.freeze({
  BindRequest: 0x60,
  BindResponse: 0x61,
  UnbindRequest: 0x42,
  SearchRequest: 0x63,
  SearchResultEntry: 0x64,
  SearchResultDone: 0x65,
  ModifyRequest: 0x66,
  ModifyResponse: 0x67,
  AddRequest: 0x68,
  AddResponse: 0x69,
  DelRequest: 0x4a,
  DelResponse: 0x6b,
  ModifyDNRequest: 0x6c,
  ModifyDNResponse: 0x6d,
  CompareRequest: 0x6e,
  CompareResponse: 0x6f,
  AbandonRequest: 0x50,
  SearchResultReference: 0x73,
  ExtendedRequest: 0x77,
  ExtendedResponse: 0x78,
  IntermediateResponse: 0x79,
} satisfies Record<LdapOpKind, number>);

const REQUEST_KINDS: ReadonlySet<LdapOpKind> = new Set<LdapOpKind>([
  'BindRequest',
  'UnbindRequest',
  'SearchRequest',
  'ModifyRequest',
  'AddRequest',
  'DelRequest',
  'ModifyDNRequest',
  'CompareRequest',
  'AbandonRequest',
  'ExtendedRequest',
]);

/** True for operations a client may send; a server receiving anything else should treat it as protocolError. */
export function isRequestOp(op: LdapOp): boolean {
  return REQUEST_KINDS.has(op.kind);
}

/** Builds a result-only op, e.g. `resultOp('AddResponse', ResultCode.insufficientAccessRights, '...')`. */
export function resultOp<K extends 'SearchResultDone' | 'ModifyResponse' | 'AddResponse' | 'DelResponse' | 'ModifyDNResponse' | 'CompareResponse' | 'BindResponse' | 'ExtendedResponse'>(
  kind: K,
  resultCode: number,
  diagnosticMessage = '',
  matchedDN = '',
): OpOf<K> {
  return { kind, resultCode, matchedDN, diagnosticMessage } as OpOf<K>;
}

// ---------------------------------------------------------------------------------------------------------
// Decoding

const MAX_MESSAGE_ID = 0x7fffffff;

const MODIFY_OPERATIONS: readonly ModifyOperation[] = ['add', 'delete', 'replace', 'increment'];

/**
 * Decodes one whole LDAPMessage (as delimited by the framer). The frame is copied once, so the Buffers in the
 * result never alias the caller's receive buffer. Throws ProtocolError; once the messageID is known, errors are
 * LdapDecodeError (UnknownOperationError for an unknown operation tag) carrying it.
 */
export function decodeMessage(frame: Uint8Array, limits: DecodeLimits = LDAP_DECODE_LIMITS): LdapMessage {
  if (frame.length > limits.maxMessageBytes) {
    throw new ProtocolError(`LDAP: message of ${frame.length} octets exceeds the limit of ${limits.maxMessageBytes}`);
  }
  const buf = Buffer.from(frame);
  const r = new BerReader(buf, 0, buf.length, limits.maxBerDepth);
  r.enter(Tag.sequence, 'an LDAPMessage');
  if (r.end !== buf.length) throw new ProtocolError('LDAP: data after the LDAPMessage');
  const messageID = r.readInt(Tag.integer, 'messageID');
  if (messageID < 0) throw new ProtocolError('LDAP: negative messageID');
  const opTag = r.peekTag();
  try {
    const op = readOp(r, opTag, messageID, limits);
    const controls = r.peekTag() === CONTROLS_TAG ? readControls(r, limits) : [];
    r.leave();
    return { messageID, op, controls };
  } catch (error) {
    if (error instanceof LdapDecodeError || !(error instanceof ProtocolError)) throw error;
    throw new LdapDecodeError(error.message, messageID, opTag === -1 ? undefined : opTag, { cause: error });
  }
}

function readOp(r: BerReader, tag: number, messageID: number, limits: DecodeLimits): LdapOp {
  const maxValue = limits.maxValueBytes;
  switch (tag) {
    case OpTag.BindRequest: {
      r.enter(tag);
      const version = r.readInt(Tag.integer, 'version');
      const name = r.readString(Tag.octetString, maxValue, 'bind name');
      const authTag = r.peekTag();
      let auth: BindAuth;
      if (authTag === 0x80) {
        auth = { type: 'simple', password: r.readOctets(0x80, maxValue, 'simple password') };
      } else if (authTag === 0xa3) {
        r.enter(0xa3, 'SaslCredentials');
        const mechanism = r.readString(Tag.octetString, maxValue, 'SASL mechanism');
        auth = { type: 'sasl', mechanism };
        if (!r.atEnd()) auth.credentials = r.readOctets(Tag.octetString, maxValue, 'SASL credentials');
        r.leave();
      } else {
        throw new ProtocolError(`LDAP: unsupported authentication choice 0x${authTag.toString(16)}`);
      }
      r.leave();
      return { kind: 'BindRequest', version, name, auth };
    }
    case OpTag.BindResponse: {
      r.enter(tag);
      const result = readResult(r, maxValue);
      const op: BindResponse = { kind: 'BindResponse', ...result };
      if (r.peekTag() === 0x87) op.serverSaslCreds = r.readOctets(0x87, maxValue, 'serverSaslCreds');
      r.leave();
      return op;
    }
    case OpTag.UnbindRequest:
      r.readNull(tag, 'UnbindRequest');
      return { kind: 'UnbindRequest' };
    case OpTag.SearchRequest:
      return readSearchRequest(r, limits);
    case OpTag.SearchResultEntry: {
      r.enter(tag);
      const objectName = r.readString(Tag.octetString, maxValue, 'objectName');
      const attributes = readAttributeList(r, maxValue, Infinity, 'PartialAttributeList');
      r.leave();
      return { kind: 'SearchResultEntry', objectName, attributes };
    }
    case OpTag.SearchResultReference: {
      r.enter(tag);
      const uris: string[] = [];
      while (!r.atEnd()) uris.push(r.readString(Tag.octetString, maxValue, 'URI'));
      r.leave();
      if (uris.length === 0) throw new ProtocolError('LDAP: SearchResultReference without URIs');
      return { kind: 'SearchResultReference', uris };
    }
    case OpTag.SearchResultDone:
    case OpTag.ModifyResponse:
    case OpTag.AddResponse:
    case OpTag.DelResponse:
    case OpTag.ModifyDNResponse:
    case OpTag.CompareResponse: {
      r.enter(tag);
      const result = readResult(r, maxValue);
      r.leave();
      return { kind: RESULT_KIND_BY_TAG.get(tag)!, ...result };
    }
    case OpTag.ModifyRequest: {
      r.enter(tag);
      const object = r.readString(Tag.octetString, maxValue, 'object');
      r.enter(Tag.sequence, 'changes');
      const changes: Change[] = [];
      while (!r.atEnd()) {
        if (changes.length >= limits.maxAttributes) throw new ProtocolError(`LDAP: more than ${limits.maxAttributes} changes`);
        r.enter(Tag.sequence, 'a change');
        const code = r.readEnumerated(Tag.enumerated, 'modify operation');
        const operation = MODIFY_OPERATIONS[code];
        if (operation === undefined) throw new ProtocolError(`LDAP: unknown modify operation ${code}`);
        const modification = readAttribute(r, maxValue);
        r.leave();
        changes.push({ operation, modification });
      }
      r.leave();
      r.leave();
      return { kind: 'ModifyRequest', object, changes };
    }
    case OpTag.AddRequest: {
      r.enter(tag);
      const entry = r.readString(Tag.octetString, maxValue, 'entry');
      const attributes = readAttributeList(r, maxValue, limits.maxAttributes, 'AttributeList');
      r.leave();
      return { kind: 'AddRequest', entry, attributes };
    }
    case OpTag.DelRequest:
      return { kind: 'DelRequest', entry: r.readString(tag, maxValue, 'DelRequest') };
    case OpTag.ModifyDNRequest: {
      r.enter(tag);
      const entry = r.readString(Tag.octetString, maxValue, 'entry');
      const newrdn = r.readString(Tag.octetString, maxValue, 'newrdn');
      const deleteoldrdn = r.readBoolean(Tag.boolean, 'deleteoldrdn');
      const op: ModifyDNRequest = { kind: 'ModifyDNRequest', entry, newrdn, deleteoldrdn };
      if (r.peekTag() === 0x80) op.newSuperior = r.readString(0x80, maxValue, 'newSuperior');
      r.leave();
      return op;
    }
    case OpTag.CompareRequest: {
      r.enter(tag);
      const entry = r.readString(Tag.octetString, maxValue, 'entry');
      r.enter(Tag.sequence, 'AttributeValueAssertion');
      const attributeDesc = r.readString(Tag.octetString, maxValue, 'attributeDesc');
      const assertionValue = r.readOctets(Tag.octetString, maxValue, 'assertionValue');
      r.leave();
      r.leave();
      return { kind: 'CompareRequest', entry, ava: { attributeDesc, assertionValue } };
    }
    case OpTag.AbandonRequest: {
      const id = r.readInt(tag, 'AbandonRequest');
      if (id < 0) throw new ProtocolError('LDAP: negative messageID in AbandonRequest');
      return { kind: 'AbandonRequest', messageID: id };
    }
    case OpTag.ExtendedRequest: {
      r.enter(tag);
      const requestName = r.readString(0x80, maxValue, 'requestName');
      const op: ExtendedRequest = { kind: 'ExtendedRequest', requestName };
      if (r.peekTag() === 0x81) op.requestValue = r.readOctets(0x81, maxValue, 'requestValue');
      r.leave();
      return op;
    }
    case OpTag.ExtendedResponse: {
      r.enter(tag);
      const result = readResult(r, maxValue);
      const op: ExtendedResponse = { kind: 'ExtendedResponse', ...result };
      if (r.peekTag() === 0x8a) op.responseName = r.readString(0x8a, maxValue, 'responseName');
      if (r.peekTag() === 0x8b) op.responseValue = r.readOctets(0x8b, maxValue, 'responseValue');
      r.leave();
      return op;
    }
    case OpTag.IntermediateResponse: {
      r.enter(tag);
      const op: IntermediateResponse = { kind: 'IntermediateResponse' };
      if (r.peekTag() === 0x80) op.responseName = r.readString(0x80, maxValue, 'responseName');
      if (r.peekTag() === 0x81) op.responseValue = r.readOctets(0x81, maxValue, 'responseValue');
      r.leave();
      return op;
    }
    case -1:
      throw new ProtocolError('LDAP: LDAPMessage without protocolOp');
    default:
      // Only application-class tags can be operations; anything else is a malformed message.
      if ((tag & 0xc0) === 0x40) throw new UnknownOperationError(messageID, tag);
      throw new ProtocolError(`LDAP: expected a protocolOp, got tag 0x${tag.toString(16)}`);
  }
}

const RESULT_KIND_BY_TAG = new Map<number, 'SearchResultDone' | 'ModifyResponse' | 'AddResponse' | 'DelResponse' | 'ModifyDNResponse' | 'CompareResponse'>([
  [OpTag.SearchResultDone, 'SearchResultDone'],
  [OpTag.ModifyResponse, 'ModifyResponse'],
  [OpTag.AddResponse, 'AddResponse'],
  [OpTag.DelResponse, 'DelResponse'],
  [OpTag.ModifyDNResponse, 'ModifyDNResponse'],
  [OpTag.CompareResponse, 'CompareResponse'],
]);

function readResult(r: BerReader, maxValue: number): LdapResult {
  const resultCode = r.readEnumerated(Tag.enumerated, 'resultCode');
  const matchedDN = r.readString(Tag.octetString, maxValue, 'matchedDN');
  const diagnosticMessage = r.readString(Tag.octetString, maxValue, 'diagnosticMessage');
  const result: LdapResult = { resultCode, matchedDN, diagnosticMessage };
  if (r.peekTag() === 0xa3) {
    r.enter(0xa3, 'referral');
    const referral: string[] = [];
    while (!r.atEnd()) referral.push(r.readString(Tag.octetString, maxValue, 'referral URI'));
    r.leave();
    result.referral = referral;
  }
  return result;
}

function readSearchRequest(r: BerReader, limits: DecodeLimits): SearchRequest {
  const maxValue = limits.maxValueBytes;
  r.enter(OpTag.SearchRequest);
  const baseObject = r.readString(Tag.octetString, maxValue, 'baseObject');
  const scope = r.readEnumerated(Tag.enumerated, 'scope');
  if (scope < 0 || scope > 3) throw new ProtocolError(`LDAP: unknown search scope ${scope}`);
  const derefAliases = r.readEnumerated(Tag.enumerated, 'derefAliases');
  if (derefAliases < 0 || derefAliases > 3) throw new ProtocolError(`LDAP: unknown derefAliases ${derefAliases}`);
  const sizeLimit = r.readInt(Tag.integer, 'sizeLimit');
  const timeLimit = r.readInt(Tag.integer, 'timeLimit');
  if (sizeLimit < 0 || timeLimit < 0) throw new ProtocolError('LDAP: negative size or time limit');
  const typesOnly = r.readBoolean(Tag.boolean, 'typesOnly');
  const filter = readFilter(r, limits);
  r.enter(Tag.sequence, 'attributes');
  const attributes: string[] = [];
  while (!r.atEnd()) {
    if (attributes.length >= limits.maxAttributes) throw new ProtocolError(`LDAP: more than ${limits.maxAttributes} attributes requested`);
    attributes.push(r.readString(Tag.octetString, maxValue, 'attribute selector'));
  }
  r.leave();
  r.leave();
  return {
    kind: 'SearchRequest',
    baseObject,
    scope: scope as Scope,
    derefAliases: derefAliases as DerefAliasesValue,
    sizeLimit,
    timeLimit,
    typesOnly,
    filter,
    attributes,
  };
}

function readAttribute(r: BerReader, maxValue: number): PartialAttribute {
  r.enter(Tag.sequence, 'an attribute');
  const type = r.readString(Tag.octetString, maxValue, 'attribute type');
  r.enter(Tag.set, 'attribute values');
  const values: Buffer[] = [];
  while (!r.atEnd()) values.push(r.readOctets(Tag.octetString, maxValue, 'attribute value'));
  r.leave();
  r.leave();
  return { type, values };
}

function readAttributeList(r: BerReader, maxValue: number, maxAttributes: number, what: string): PartialAttribute[] {
  r.enter(Tag.sequence, what);
  const attributes: PartialAttribute[] = [];
  while (!r.atEnd()) {
    if (attributes.length >= maxAttributes) throw new ProtocolError(`LDAP: more than ${maxAttributes} attributes`);
    attributes.push(readAttribute(r, maxValue));
  }
  r.leave();
  return attributes;
}

// ---------------------------------------------------------------------------------------------------------
// Encoding

/** Encodes one LDAPMessage. Throws RangeError for values that cannot be encoded (e.g. a messageID > 2^31-1). */
export function encodeMessage(msg: LdapMessage): Buffer {
  if (!Number.isInteger(msg.messageID) || msg.messageID < 0 || msg.messageID > MAX_MESSAGE_ID) {
    throw new RangeError(`LDAP: messageID ${msg.messageID} out of range`);
  }
  const w = new BerWriter(128);
  w.startSequence(Tag.sequence);
  w.writeInt(msg.messageID);
  writeOp(w, msg.op);
  writeControls(w, msg.controls);
  w.endSequence();
  return w.toBuffer();
}

/** Encodes only the protocolOp element (for callers that frame it themselves, see search-response.ts). */
export function encodeOp(op: LdapOp): Buffer {
  const w = new BerWriter(64);
  writeOp(w, op);
  return w.toBuffer();
}

function writeResult(w: BerWriter, result: LdapResult): void {
  w.writeEnumerated(result.resultCode);
  w.writeOctetString(result.matchedDN);
  w.writeOctetString(result.diagnosticMessage);
  if (result.referral !== undefined) {
    w.startSequence(0xa3);
    for (const uri of result.referral) w.writeOctetString(uri);
    w.endSequence();
  }
}

function writeAttribute(w: BerWriter, attribute: PartialAttribute): void {
  w.startSequence(Tag.sequence);
  w.writeOctetString(attribute.type);
  w.startSequence(Tag.set);
  for (const value of attribute.values) w.writeOctetString(value);
  w.endSequence();
  w.endSequence();
}

export function writeOp(w: BerWriter, op: LdapOp): void {
  const tag = OpTag[op.kind];
  switch (op.kind) {
    case 'BindRequest':
      w.startSequence(tag);
      w.writeInt(op.version);
      w.writeOctetString(op.name);
      if (op.auth.type === 'simple') {
        w.writeOctetString(op.auth.password, 0x80);
      } else {
        w.startSequence(0xa3);
        w.writeOctetString(op.auth.mechanism);
        if (op.auth.credentials !== undefined) w.writeOctetString(op.auth.credentials);
        w.endSequence();
      }
      w.endSequence();
      return;
    case 'BindResponse':
      w.startSequence(tag);
      writeResult(w, op);
      if (op.serverSaslCreds !== undefined) w.writeOctetString(op.serverSaslCreds, 0x87);
      w.endSequence();
      return;
    case 'UnbindRequest':
      w.writeNull(tag);
      return;
    case 'SearchRequest':
      w.startSequence(tag);
      w.writeOctetString(op.baseObject);
      w.writeEnumerated(op.scope);
      w.writeEnumerated(op.derefAliases);
      w.writeInt(op.sizeLimit);
      w.writeInt(op.timeLimit);
      w.writeBoolean(op.typesOnly);
      writeFilter(w, op.filter);
      w.startSequence(Tag.sequence);
      for (const attribute of op.attributes) w.writeOctetString(attribute);
      w.endSequence();
      w.endSequence();
      return;
    case 'SearchResultEntry':
      w.startSequence(tag);
      w.writeOctetString(op.objectName);
      w.startSequence(Tag.sequence);
      for (const attribute of op.attributes) writeAttribute(w, attribute);
      w.endSequence();
      w.endSequence();
      return;
    case 'SearchResultReference':
      w.startSequence(tag);
      for (const uri of op.uris) w.writeOctetString(uri);
      w.endSequence();
      return;
    case 'SearchResultDone':
    case 'ModifyResponse':
    case 'AddResponse':
    case 'DelResponse':
    case 'ModifyDNResponse':
    case 'CompareResponse':
      w.startSequence(tag);
      writeResult(w, op);
      w.endSequence();
      return;
    case 'ModifyRequest':
      w.startSequence(tag);
      w.writeOctetString(op.object);
      w.startSequence(Tag.sequence);
      for (const change of op.changes) {
        w.startSequence(Tag.sequence);
        w.writeEnumerated(MODIFY_OPERATIONS.indexOf(change.operation));
        writeAttribute(w, change.modification);
        w.endSequence();
      }
      w.endSequence();
      w.endSequence();
      return;
    case 'AddRequest':
      w.startSequence(tag);
      w.writeOctetString(op.entry);
      w.startSequence(Tag.sequence);
      for (const attribute of op.attributes) writeAttribute(w, attribute);
      w.endSequence();
      w.endSequence();
      return;
    case 'DelRequest':
      w.writeOctetString(op.entry, tag);
      return;
    case 'ModifyDNRequest':
      w.startSequence(tag);
      w.writeOctetString(op.entry);
      w.writeOctetString(op.newrdn);
      w.writeBoolean(op.deleteoldrdn);
      if (op.newSuperior !== undefined) w.writeOctetString(op.newSuperior, 0x80);
      w.endSequence();
      return;
    case 'CompareRequest':
      w.startSequence(tag);
      w.writeOctetString(op.entry);
      w.startSequence(Tag.sequence);
      w.writeOctetString(op.ava.attributeDesc);
      w.writeOctetString(op.ava.assertionValue);
      w.endSequence();
      w.endSequence();
      return;
    case 'AbandonRequest':
      w.writeInt(op.messageID, tag);
      return;
    case 'ExtendedRequest':
      w.startSequence(tag);
      w.writeOctetString(op.requestName, 0x80);
      if (op.requestValue !== undefined) w.writeOctetString(op.requestValue, 0x81);
      w.endSequence();
      return;
    case 'ExtendedResponse':
      w.startSequence(tag);
      writeResult(w, op);
      if (op.responseName !== undefined) w.writeOctetString(op.responseName, 0x8a);
      if (op.responseValue !== undefined) w.writeOctetString(op.responseValue, 0x8b);
      w.endSequence();
      return;
    case 'IntermediateResponse':
      w.startSequence(tag);
      if (op.responseName !== undefined) w.writeOctetString(op.responseName, 0x80);
      if (op.responseValue !== undefined) w.writeOctetString(op.responseValue, 0x81);
      w.endSequence();
      return;
  }
}

/**
 * RFC 4511 section 4.4.1 Notice of Disconnection (messageID 0, an ExtendedResponse named
 * 1.3.6.1.4.1.1466.20036), encoded and ready to write before closing the connection.
 */
export function noticeOfDisconnection(resultCode: number, diagnosticMessage: string): Buffer {
  return encodeMessage({
    messageID: 0,
    op: { kind: 'ExtendedResponse', resultCode, matchedDN: '', diagnosticMessage, responseName: Oid.noticeOfDisconnection },
    controls: [],
  });
}
