/**
 * RADIUS reply attributes for /outposts/radius/<pk>/check_access/: authentik runs the provider's property
 * mappings against a pyrad packet and returns the whole packet, serialized as an Access-Request (code 1, random
 * identifier and authenticator), base64-encoded. With no mappings that is a bare 20-byte header.
 *
 * Our mappings are static (directory file): each applies to everyone or to effective members of its groups, in
 * mapping-name order. Encoding (RFC 2865 §5, RFC 2868 §3): integers are 4 octets; text is UTF-8; `0x…` is raw
 * octets; a tag goes into the first octet of an integer (value < 2^24) or before a text/octets value; type 26 is a
 * Vendor-Specific attribute with vendor id and the usual 1-octet vendor type and length.
 */
import { randomBytes } from 'node:crypto';
import type { RadiusPropertyMappingSpec } from '../directory/types.js';
import type { CoreRadiusProvider, CoreUser, Directory } from '../model.js';

const MAX_PACKET = 4096;
const VENDOR_SPECIFIC = 26;

type AttributeSpec = RadiusPropertyMappingSpec['attributes'][number];

export class RadiusAttributeError extends Error {
  override name = 'RadiusAttributeError';
}

function valueBytes(attr: AttributeSpec): Buffer {
  const { value, tag } = attr;
  if (tag !== undefined && (!Number.isInteger(tag) || tag < 0 || tag > 0x1f)) throw new RadiusAttributeError(`tag ${tag} outside 0..31`);
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new RadiusAttributeError(`integer ${value} outside 0..2^32-1`);
    const out = Buffer.alloc(4);
    out.writeUInt32BE(value);
    if (tag !== undefined) {
      if (value > 0xffffff) throw new RadiusAttributeError(`tagged integer ${value} above 2^24-1`);
      out[0] = tag;
    }
    return out;
  }
  let bytes: Buffer;
  if (/^0x([0-9a-fA-F]{2})*$/.test(value)) bytes = Buffer.from(value.slice(2), 'hex');
  else bytes = Buffer.from(value, 'utf8');
  return tag !== undefined ? Buffer.concat([Buffer.from([tag]), bytes]) : bytes;
}

export function encodeAttribute(attr: AttributeSpec): Buffer {
  if (!Number.isInteger(attr.type) || attr.type < 1 || attr.type > 255) throw new RadiusAttributeError(`attribute type ${attr.type} outside 1..255`);
  const value = valueBytes(attr);
  if (attr.type === VENDOR_SPECIFIC) {
    const vendor = attr.vendor;
    const vendorType = attr.vendor_type;
    if (vendor === undefined || !Number.isInteger(vendor) || vendor < 0 || vendor > 0xffffffff) throw new RadiusAttributeError('VSA without a valid vendor id');
    if (vendorType === undefined || !Number.isInteger(vendorType) || vendorType < 0 || vendorType > 255) throw new RadiusAttributeError('VSA without a valid vendor_type');
    if (value.length > 247) throw new RadiusAttributeError('VSA value longer than 247 octets');
    const out = Buffer.alloc(8 + value.length);
    out[0] = VENDOR_SPECIFIC;
    out[1] = out.length;
    out.writeUInt32BE(vendor, 2);
    out[6] = vendorType;
    out[7] = 2 + value.length;
    value.copy(out, 8);
    return out;
  }
  if (value.length > 253) throw new RadiusAttributeError(`attribute ${attr.type} longer than 253 octets`);
  return Buffer.concat([Buffer.from([attr.type, 2 + value.length]), value]);
}

/** An Access-Request carrying `attributes`; random identifier and authenticator, like pyrad's AuthPacket. */
export function encodeAccessRequest(attributes: readonly Buffer[], random: (n: number) => Buffer = randomBytes): Buffer {
  const body = Buffer.concat(attributes);
  const length = 20 + body.length;
  if (length > MAX_PACKET) throw new RadiusAttributeError('attributes exceed the 4096-octet packet limit');
  const header = Buffer.alloc(20);
  header[0] = 1;
  header[1] = random(1)[0] ?? 0;
  header.writeUInt16BE(length, 2);
  random(16).copy(header, 4);
  return Buffer.concat([header, body]);
}

/** The mappings of `provider` that apply to `user`, ordered by name (authentik orders property mappings by name). */
export function applicableMappings(directory: Directory, provider: CoreRadiusProvider, user: CoreUser | null): RadiusPropertyMappingSpec[] {
  const effective: ReadonlySet<string> = user ? directory.effectiveGroups(user.pk) : new Set();
  return [...provider.propertyMappings]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .filter((mapping) => {
      if (mapping.groups === undefined || mapping.groups.length === 0) return true;
      return mapping.groups.some((name) => {
        const group = directory.groupByName(name);
        return group !== undefined && effective.has(group.pk);
      });
    });
}

/** base64 Access-Request for check_access; throws RadiusAttributeError on a mapping that cannot be encoded. */
export function radiusAttributesFor(directory: Directory, provider: CoreRadiusProvider, user: CoreUser | null): string {
  const encoded = applicableMappings(directory, provider, user).flatMap((m) => m.attributes.map(encodeAttribute));
  return encodeAccessRequest(encoded).toString('base64');
}
