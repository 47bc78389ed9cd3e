/**
 * PEAPv0 phase 2 (MS-PEAP): inner EAP packets travel inside the tunnel without their Code, Identifier and
 * Length, except the EAP TLV Extensions method (type 33), which keeps its header (MS-PEAP section 3.1.5.6). The
 * outcome is the Result TLV of that method (section 2.2.8.1.2), not an inner Success/Failure.
 */
import { Buffer } from 'node:buffer';
import { EapCode, EapDecodeError, EapType, decodeEap, encodeEap, type EapRequestResponse } from './packet.js';

/** TLV types of the Extensions method that we read or write. */
export const PeapTlvType = Object.freeze({ Result: 3, CryptoBinding: 12 } as const);
export const PeapResult = Object.freeze({ Success: 1, Failure: 2 } as const);

const MANDATORY = 0x8000;
const RESERVED = 0x4000;
const TYPE_MASK = 0x3fff;
/** TLVs accepted in one Extensions packet. */
const MAX_TLVS = 32;

/** The tunnel data for an inner packet: Type and Type-Data only, or the whole packet for Extensions. */
export function compressInnerEap(packet: EapRequestResponse): Buffer {
  if (packet.type === EapType.Extensions) return encodeEap(packet);
  return Buffer.concat([Buffer.from([packet.type]), packet.data]);
}

/**
 * The inner packet of compressed tunnel data, with Code and Identifier taken from the outer packet. Extensions
 * responses are not compressed: decode those with decodeEap (the server knows when it asked for one).
 */
export function decompressInnerEap(tunnelData: Buffer, outer: { code: typeof EapCode.Request | typeof EapCode.Response; identifier: number }): EapRequestResponse {
  if (tunnelData.length < 1) throw new EapDecodeError('short_packet', 'empty PEAP phase 2 data');
  return { code: outer.code, identifier: outer.identifier, type: tunnelData[0]!, data: tunnelData.subarray(1) };
}

export interface PeapTlv {
  readonly mandatory: boolean;
  readonly type: number;
  /** A view of the input. */
  readonly value: Buffer;
}

/** TLVs of an Extensions packet's Type-Data: M bit, R bit (must be 0), 14-bit type, 16-bit length, value. */
export function decodePeapTlvs(data: Buffer): PeapTlv[] {
  const tlvs: PeapTlv[] = [];
  let pos = 0;
  while (pos < data.length) {
    if (tlvs.length >= MAX_TLVS) throw new EapDecodeError('too_large', `more than ${MAX_TLVS} TLVs`);
    if (pos + 4 > data.length) throw new EapDecodeError('bad_data', `TLV header at ${pos} runs past the data`);
    const head = data.readUInt16BE(pos);
    if ((head & RESERVED) !== 0) throw new EapDecodeError('bad_data', 'TLV reserved bit is not 0');
    const length = data.readUInt16BE(pos + 2);
    if (pos + 4 + length > data.length) throw new EapDecodeError('bad_data', `TLV ${head & TYPE_MASK} of length ${length} runs past the data`);
    tlvs.push({ mandatory: (head & MANDATORY) !== 0, type: head & TYPE_MASK, value: data.subarray(pos + 4, pos + 4 + length) });
    pos += 4 + length;
  }
  return tlvs;
}

export function encodePeapTlvs(tlvs: readonly PeapTlv[]): Buffer {
  return Buffer.concat(
    tlvs.map((tlv) => {
      if (!Number.isInteger(tlv.type) || tlv.type < 0 || tlv.type > TYPE_MASK) throw new RangeError(`TLV type ${tlv.type} outside 0..16383`);
      if (tlv.value.length > 0xffff) throw new RangeError('TLV value longer than 65535 octets');
      const head = Buffer.allocUnsafe(4);
      head.writeUInt16BE((tlv.mandatory ? MANDATORY : 0) | tlv.type, 0);
      head.writeUInt16BE(tlv.value.length, 2);
      return Buffer.concat([head, tlv.value]);
    }),
  );
}

/** The whole inner EAP-Request/Extensions packet carrying a mandatory Result TLV. */
export function peapResultRequest(identifier: number, success: boolean): Buffer {
  const status = Buffer.allocUnsafe(2);
  status.writeUInt16BE(success ? PeapResult.Success : PeapResult.Failure, 0);
  const data = encodePeapTlvs([{ mandatory: true, type: PeapTlvType.Result, value: status }]);
  return encodeEap({ code: EapCode.Request, identifier, type: EapType.Extensions, data });
}

/**
 * The Result a peer answered in an Extensions response (whole inner packet, as sent in the tunnel):
 * 'success' only for exactly one Result TLV of status 1; any other status, a missing Result or a mandatory TLV
 * we do not know is 'failure'.
 */
export function peapResultOf(innerPacket: Buffer): 'success' | 'failure' {
  const packet = decodeEap(innerPacket);
  if (packet.code !== EapCode.Response || !('type' in packet) || packet.type !== EapType.Extensions) {
    throw new EapDecodeError('bad_data', 'not an EAP-Response/Extensions packet');
  }
  const tlvs = decodePeapTlvs(packet.data);
  const results = tlvs.filter((t) => t.type === PeapTlvType.Result);
  if (tlvs.some((t) => t.mandatory && t.type !== PeapTlvType.Result)) return 'failure';
  const only = results.length === 1 ? results[0]! : undefined;
  return only !== undefined && only.value.length === 2 && only.value.readUInt16BE(0) === PeapResult.Success ? 'success' : 'failure';
}
