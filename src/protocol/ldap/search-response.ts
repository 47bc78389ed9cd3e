/**
 * Hot-path encoding for search responses. Entries are encoded once per directory refresh (encodeEntryOp, or
 * per attribute with encodePartialAttribute) and each response only frames the stored bytes: one exact-size
 * allocation per entry at refresh time, and per request one growing buffer for the whole response.
 */
import { Buffer } from 'node:buffer';
import { Tag } from '../ber/reader.js';
import { utf8Length, writeUtf8 } from '../ber/utf8.js';
import { intSize, putInt, putLength, tlvSize } from '../ber/writer.js';
import { encodeControls, type Control } from './controls.js';
import { OpTag } from './messages.js';

export interface EntryAttribute {
  type: string;
  values: ReadonlyArray<string | Buffer>;
}

const MAX_MESSAGE_ID = 0x7fffffff;

function checkMessageID(messageID: number): void {
  if (!Number.isInteger(messageID) || messageID < 0 || messageID > MAX_MESSAGE_ID) {
    throw new RangeError(`LDAP: messageID ${messageID} out of range`);
  }
}

function byteLength(value: string | Buffer): number {
  return typeof value === 'string' ? utf8Length(value) : value.length;
}

/** Writes an OCTET STRING-like element whose content size is already known. */
function putString(buf: Buffer, pos: number, tag: number, value: string | Buffer, size: number): number {
  buf[pos++] = tag;
  pos = putLength(buf, pos, size);
  if (typeof value === 'string') return writeUtf8(buf, pos, value, size);
  value.copy(buf, pos);
  return pos + size;
}

/** Sizes of one attribute, in write order: [typeSize, valuesContent, attributeContent, ...valueSizes]. */
function measureAttribute(attribute: EntryAttribute, sizes: number[]): number {
  const typeSize = utf8Length(attribute.type);
  const at = sizes.length;
  sizes.push(typeSize, 0, 0);
  let valuesContent = 0;
  for (const value of attribute.values) {
    const size = byteLength(value);
    sizes.push(size);
    valuesContent += tlvSize(size);
  }
  const attributeContent = tlvSize(typeSize) + tlvSize(valuesContent);
  sizes[at + 1] = valuesContent;
  sizes[at + 2] = attributeContent;
  return tlvSize(attributeContent);
}

function putAttribute(buf: Buffer, pos: number, attribute: EntryAttribute, sizes: number[], at: number): { pos: number; at: number } {
  const typeSize = sizes[at++]!;
  const valuesContent = sizes[at++]!;
  const attributeContent = sizes[at++]!;
  buf[pos++] = Tag.sequence;
  pos = putLength(buf, pos, attributeContent);
  pos = putString(buf, pos, Tag.octetString, attribute.type, typeSize);
  buf[pos++] = Tag.set;
  pos = putLength(buf, pos, valuesContent);
  for (const value of attribute.values) pos = putString(buf, pos, Tag.octetString, value, sizes[at++]!);
  return { pos, at };
}

/** One PartialAttribute element (`SEQUENCE { type, SET OF value }`), for assembling entries from parts. */
export function encodePartialAttribute(type: string, values: ReadonlyArray<string | Buffer>): Buffer {
  const sizes: number[] = [];
  const attribute = { type, values };
  const total = measureAttribute(attribute, sizes);
  const buf = Buffer.allocUnsafe(total);
  putAttribute(buf, 0, attribute, sizes, 0);
  return buf;
}

/** An OCTET STRING element (e.g. an entry's objectName), for MessageBatch.appendEntry. */
export function encodeLdapString(value: string | Buffer, tag: number = Tag.octetString): Buffer {
  const size = byteLength(value);
  const buf = Buffer.allocUnsafe(tlvSize(size));
  putString(buf, 0, tag, value, size);
  return buf;
}

/** The SearchResultEntry protocolOp element for one entry: encode once per refresh, frame per response. */
export function encodeEntryOp(dn: string, attributes: ReadonlyArray<EntryAttribute>): Buffer {
  const sizes: number[] = [];
  const dnSize = utf8Length(dn);
  let listContent = 0;
  for (const attribute of attributes) listContent += measureAttribute(attribute, sizes);
  const opContent = tlvSize(dnSize) + tlvSize(listContent);
  const buf = Buffer.allocUnsafe(tlvSize(opContent));
  buf[0] = OpTag.SearchResultEntry;
  let pos = putLength(buf, 1, opContent);
  pos = putString(buf, pos, Tag.octetString, dn, dnSize);
  buf[pos++] = Tag.sequence;
  pos = putLength(buf, pos, listContent);
  let at = 0;
  for (const attribute of attributes) ({ pos, at } = putAttribute(buf, pos, attribute, sizes, at));
  return buf;
}

/** Wraps a pre-encoded protocolOp into a whole LDAPMessage. */
export function frameOp(messageID: number, opTlv: Buffer, controls?: readonly Control[]): Buffer {
  checkMessageID(messageID);
  const controlsTlv = controls !== undefined && controls.length > 0 ? encodeControls(controls) : undefined;
  const content = 2 + intSize(messageID) + opTlv.length + (controlsTlv?.length ?? 0);
  const buf = Buffer.allocUnsafe(tlvSize(content));
  buf[0] = Tag.sequence;
  let pos = putLength(buf, 1, content);
  pos = putInt(buf, pos, Tag.integer, messageID);
  pos += opTlv.copy(buf, pos);
  if (controlsTlv !== undefined) controlsTlv.copy(buf, pos);
  return buf;
}

function resultContentSize(resultCode: number, matchedSize: number, diagSize: number): number {
  return 2 + intSize(resultCode) + tlvSize(matchedSize) + tlvSize(diagSize);
}

/** A whole SearchResultDone message, encoded directly. */
export function encodeSearchDone(
  messageID: number,
  resultCode: number,
  matchedDN = '',
  diagnosticMessage = '',
  controls?: readonly Control[],
): Buffer {
  const batch = new MessageBatch(64 + matchedDN.length * 3 + diagnosticMessage.length * 3);
  batch.appendSearchDone(messageID, resultCode, matchedDN, diagnosticMessage, controls);
  return batch.take();
}

/**
 * Appends framed messages into one buffer, so a whole search response (or a large chunk of it) goes out in a
 * single socket write. `take()` hands the bytes over (the batch never writes to them again), so the caller can
 * flush whenever `length` passes its write size and keep appending.
 */
export class MessageBatch {
  #buf: Buffer;
  #pos = 0;
  readonly #initialBytes: number;

  /** `initialBytes`: expected size; a good estimate means exactly one allocation per take(). */
  constructor(initialBytes = 16 * 1024) {
    this.#initialBytes = Math.max(64, initialBytes);
    this.#buf = Buffer.allocUnsafe(this.#initialBytes);
  }

  /** Bytes appended since the last take(). */
  get length(): number {
    return this.#pos;
  }

  #ensure(extra: number): void {
    const needed = this.#pos + extra;
    if (needed <= this.#buf.length) return;
    let size = Math.max(this.#buf.length * 2, this.#initialBytes);
    while (size < needed) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.#buf.copy(next, 0, 0, this.#pos);
    this.#buf = next;
  }

  /** Writes the LDAPMessage header and messageID; returns nothing, advances pos. */
  #header(messageID: number, content: number): void {
    const buf = this.#buf;
    buf[this.#pos] = Tag.sequence;
    this.#pos = putInt(buf, putLength(buf, this.#pos + 1, content), Tag.integer, messageID);
  }

  /** One message around a pre-encoded protocolOp (e.g. from encodeEntryOp). */
  append(messageID: number, opTlv: Buffer, controls?: readonly Control[]): void {
    checkMessageID(messageID);
    const controlsTlv = controls !== undefined && controls.length > 0 ? encodeControls(controls) : undefined;
    const content = 2 + intSize(messageID) + opTlv.length + (controlsTlv?.length ?? 0);
    this.#ensure(tlvSize(content));
    this.#header(messageID, content);
    this.#pos += opTlv.copy(this.#buf, this.#pos);
    if (controlsTlv !== undefined) this.#pos += controlsTlv.copy(this.#buf, this.#pos);
  }

  /**
   * A SearchResultEntry assembled from an encoded objectName (encodeLdapString) and encoded attributes
   * (encodePartialAttribute), e.g. only those the request selected.
   */
  appendEntry(messageID: number, objectNameTlv: Buffer, attributeTlvs: readonly Buffer[]): void {
    checkMessageID(messageID);
    let listContent = 0;
    for (const tlv of attributeTlvs) listContent += tlv.length;
    const opContent = objectNameTlv.length + tlvSize(listContent);
    const content = 2 + intSize(messageID) + tlvSize(opContent);
    this.#ensure(tlvSize(content));
    this.#header(messageID, content);
    const buf = this.#buf;
    buf[this.#pos] = OpTag.SearchResultEntry;
    let pos = putLength(buf, this.#pos + 1, opContent);
    pos += objectNameTlv.copy(buf, pos);
    buf[pos] = Tag.sequence;
    pos = putLength(buf, pos + 1, listContent);
    for (const tlv of attributeTlvs) pos += tlv.copy(buf, pos);
    this.#pos = pos;
  }

  /** A SearchResultDone (or, with `opTag`, another result-only response such as AddResponse). */
  appendSearchDone(
    messageID: number,
    resultCode: number,
    matchedDN = '',
    diagnosticMessage = '',
    controls?: readonly Control[],
    opTag: number = OpTag.SearchResultDone,
  ): void {
    checkMessageID(messageID);
    const matchedSize = utf8Length(matchedDN);
    const diagSize = utf8Length(diagnosticMessage);
    const controlsTlv = controls !== undefined && controls.length > 0 ? encodeControls(controls) : undefined;
    const opContent = resultContentSize(resultCode, matchedSize, diagSize);
    const content = 2 + intSize(messageID) + tlvSize(opContent) + (controlsTlv?.length ?? 0);
    this.#ensure(tlvSize(content));
    this.#header(messageID, content);
    const buf = this.#buf;
    buf[this.#pos] = opTag;
    let pos = putLength(buf, this.#pos + 1, opContent);
    pos = putInt(buf, pos, Tag.enumerated, resultCode);
    pos = putString(buf, pos, Tag.octetString, matchedDN, matchedSize);
    pos = putString(buf, pos, Tag.octetString, diagnosticMessage, diagSize);
    if (controlsTlv !== undefined) pos += controlsTlv.copy(buf, pos);
    this.#pos = pos;
  }

  /** Appends an already complete message (e.g. from encodeMessage). */
  appendRaw(message: Buffer): void {
    this.#ensure(message.length);
    this.#pos += message.copy(this.#buf, this.#pos);
  }

  /** The bytes appended so far; the batch continues in a fresh buffer. */
  take(): Buffer {
    const out = this.#buf.subarray(0, this.#pos);
    const remaining = this.#buf.length - this.#pos;
    // Keep appending into the unused tail when it is still worth it, else start a new buffer.
    this.#buf = remaining >= 256 ? this.#buf.subarray(this.#pos) : Buffer.allocUnsafe(this.#initialBytes);
    this.#pos = 0;
    return out;
  }
}

/** Size of a whole LDAPMessage around an op of `opSize` octets: for sizing a MessageBatch exactly. */
export function framedSize(messageID: number, opSize: number): number {
  return tlvSize(2 + intSize(messageID) + opSize);
}
