/**
 * The RootDSE (DN ""). It advertises exactly what the outpost implements: LDAPv3, the paged-results control,
 * StartTLS and WhoAmI, `+` (RFC 3673) and absolute true/false filters (RFC 4526). authentik advertised AD
 * capabilities, VLV and server-side sorting it never implemented; those are gone.
 *
 * All RootDSE attributes are operational, but clients that read it without asking for `+` (many do) get them
 * too: `rootDseSelectsAll` tells the search code to return the whole entry for `*` or no attribute list.
 */
import { Oid } from '../../protocol/ldap/oids.js';
import type { LdapEntry } from '../../directory/entries.js';
import { SUBSCHEMA_DN } from '../../directory/schema.js';

export interface RootDseOptions {
  /** Base DNs of the providers this client may use (empty before a bind selects one). */
  namingContexts: readonly string[];
  /** e.g. `ak-outpost 0.1.0`. */
  vendorVersion: string;
  /** Shown to clients that have not bound (authentik: "This LDAP server requires an authenticated session."). */
  description?: string;
}

export const VENDOR_NAME = 'goauthentik.io';

export function rootDseEntry(options: RootDseOptions): LdapEntry {
  const attributes = [
    { type: 'objectClass', values: ['top'] },
    { type: 'namingContexts', values: [...options.namingContexts] },
    { type: 'subschemaSubentry', values: [SUBSCHEMA_DN] },
    { type: 'supportedLDAPVersion', values: ['3'] },
    { type: 'supportedControl', values: [Oid.pagedResults] },
    { type: 'supportedExtension', values: [Oid.startTls, Oid.whoAmI] },
    { type: 'supportedFeatures', values: [Oid.allOperationalAttributes, Oid.absoluteTrueFalseFilters] },
    { type: 'vendorName', values: [VENDOR_NAME] },
    { type: 'vendorVersion', values: [options.vendorVersion] },
  ];
  // AD tooling (ADSI) reads this one to find the directory.
  if (options.namingContexts.length === 1) attributes.push({ type: 'rootDomainNamingContext', values: [options.namingContexts[0]!] });
  if (options.description !== undefined) attributes.push({ type: 'description', values: [options.description] });
  return { dn: '', attributes: attributes.filter((a) => a.values.length > 0) };
}
