import { Buffer } from 'node:buffer';
import { ProtocolError } from '../../errors.js';
import { BerReader, Tag } from '../ber/reader.js';
import { BerWriter } from '../ber/writer.js';
import { LDAP_DECODE_LIMITS } from '../../config/limits.js';
import type { DecodeLimits } from '../limits.js';
import { Oid } from './oids.js';

/** RFC 4511 section 4.1.11. `value` is the raw controlValue; typed codecs below interpret known ones. */
export interface Control {
  type: string;
  criticality: boolean;
  value?: Buffer;
}

/** Tag of the `controls [0] Controls` field of LDAPMessage. */
export const CONTROLS_TAG = 0xa0;

/** Reads `controls [0]` (the reader is positioned at its header). */
export function readControls(r: BerReader, limits: DecodeLimits): Control[] {
  r.enter(CONTROLS_TAG, 'controls');
  const controls: Control[] = [];
  while (!r.atEnd()) {
    if (controls.length >= limits.maxControls) throw new ProtocolError(`LDAP: more than ${limits.maxControls} controls`);
    r.enter(Tag.sequence, 'a Control');
    const type = r.readString(Tag.octetString, limits.maxValueBytes, 'controlType');
    let criticality = false;
    if (r.peekTag() === Tag.boolean) criticality = r.readBoolean(Tag.boolean, 'criticality');
    const control: Control = { type, criticality };
    if (r.peekTag() === Tag.octetString) control.value = r.readOctets(Tag.octetString, limits.maxValueBytes, 'controlValue');
    r.leave();
    controls.push(control);
  }
  r.leave();
  return controls;
}

/** Writes `controls [0]`; nothing at all for an empty list. */
export function writeControls(w: BerWriter, controls: readonly Control[]): void {
  if (controls.length === 0) return;
  w.startSequence(CONTROLS_TAG);
  for (const control of controls) {
    w.startSequence(Tag.sequence);
    w.writeOctetString(control.type);
    // criticality is BOOLEAN DEFAULT FALSE: omitted when false.
    if (control.criticality) w.writeBoolean(true);
    if (control.value !== undefined) w.writeOctetString(control.value);
    w.endSequence();
  }
  w.endSequence();
}

/** The encoded `controls [0]` element, or an empty Buffer for no controls. */
export function encodeControls(controls: readonly Control[]): Buffer {
  if (controls.length === 0) return Buffer.alloc(0);
  const w = new BerWriter(64);
  writeControls(w, controls);
  return w.toBuffer();
}

export function findControl(controls: readonly Control[], type: string): Control | undefined {
  for (const control of controls) if (control.type === type) return control;
  return undefined;
}

/** RFC 2696 realSearchControlValue: the page size asked for (request) or an estimate (response), and a cookie. */
export interface PagedResults {
  size: number;
  cookie: Buffer;
}

/** Decodes a Simple Paged Results control value; a missing value is malformed. */
export function decodePagedResults(value: Buffer | undefined, limits: Pick<DecodeLimits, 'maxValueBytes'> = LDAP_DECODE_LIMITS): PagedResults {
  if (value === undefined) throw new ProtocolError('LDAP: paged results control without a value');
  const r = new BerReader(value, 0, value.length, 2);
  r.enter(Tag.sequence, 'realSearchControlValue');
  const size = r.readInt(Tag.integer, 'paged results size');
  if (size < 0) throw new ProtocolError('LDAP: negative paged results size');
  const cookie = r.readOctets(Tag.octetString, limits.maxValueBytes, 'paged results cookie');
  r.leave();
  if (!r.atEnd()) throw new ProtocolError('LDAP: data after the paged results control value');
  return { size, cookie };
}

export function encodePagedResults(paged: PagedResults): Buffer {
  const w = new BerWriter(16 + paged.cookie.length);
  w.startSequence(Tag.sequence);
  w.writeInt(paged.size);
  w.writeOctetString(paged.cookie);
  w.endSequence();
  return w.toBuffer();
}

/** A complete paged results control, e.g. for a SearchResultDone (empty cookie: no more pages). */
export function pagedResultsControl(size: number, cookie: Buffer, criticality = false): Control {
  return { type: Oid.pagedResults, criticality, value: encodePagedResults({ size, cookie }) };
}
