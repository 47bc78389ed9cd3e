/**
 * The attribute list of a SearchRequest (RFC 4511 4.5.1.8, RFC 3673):
 * - empty, or only "" -> all user attributes;
 * - `*` -> all user attributes; `+` -> all operational attributes; both may be combined with names;
 * - `1.1` alone -> no attributes (with other items it is ignored);
 * - items may hold comma-separated lists (`"uid,cn"`), split and trimmed: authentik's #15000 intent, which
 *   there never took effect;
 * - names are case-insensitive, aliases and OIDs resolve to the schema name, options (`;binary`) are ignored.
 */
import { schemaAttribute } from './schema.js';

export interface AttributeSelection {
  readonly allUser: boolean;
  readonly allOperational: boolean;
  /** Lower-case canonical names asked for by name. */
  readonly names: ReadonlySet<string>;
  /** True when nothing at all is asked for (`1.1`). */
  readonly none: boolean;
}

/** Lower-case canonical key of an attribute description: schema name for known names, aliases and OIDs. */
export function attributeKey(description: string): string {
  const semicolon = description.indexOf(';');
  const base = (semicolon < 0 ? description : description.slice(0, semicolon)).trim();
  const known = schemaAttribute(base);
  return (known === undefined ? base : known.name).toLowerCase();
}

/** The requested items, with comma-separated lists split (trimmed, empty parts dropped, case kept). */
export function splitAttributeList(requested: readonly string[]): string[] {
  const out: string[] = [];
  for (const item of requested) {
    if (!item.includes(',')) {
      const trimmed = item.trim();
      if (trimmed !== '') out.push(trimmed);
      continue;
    }
    for (const part of item.split(',')) {
      const trimmed = part.trim();
      if (trimmed !== '') out.push(trimmed);
    }
  }
  return out;
}

export const ALL_USER_ATTRIBUTES: AttributeSelection = Object.freeze({ allUser: true, allOperational: false, names: new Set<string>(), none: false });

export function parseAttributeSelection(requested: readonly string[]): AttributeSelection {
  const items = splitAttributeList(requested);
  if (items.length === 0) return ALL_USER_ATTRIBUTES;
  let allUser = false;
  let allOperational = false;
  const names = new Set<string>();
  for (const item of items) {
    if (item === '*') allUser = true;
    else if (item === '+') allOperational = true;
    else if (item !== '1.1') names.add(attributeKey(item));
  }
  const none = !allUser && !allOperational && names.size === 0;
  if (allUser && !allOperational && names.size === 0) return ALL_USER_ATTRIBUTES;
  return { allUser, allOperational, names, none };
}

/** Whether an attribute (lower-case canonical key) is selected. */
export function isSelected(selection: AttributeSelection, key: string, operational: boolean): boolean {
  if (operational ? selection.allOperational : selection.allUser) return true;
  return selection.names.has(key);
}

/**
 * True when the selection returns exactly the user attributes, whatever the entry (so pre-encoded entries can
 * be sent): `*` or no list, plus any names that are user attributes anyway. `isOperational` tells by key.
 */
export function selectsExactlyUserAttributes(selection: AttributeSelection, isOperational: (key: string) => boolean): boolean {
  if (!selection.allUser || selection.allOperational) return false;
  for (const name of selection.names) if (isOperational(name)) return false;
  return true;
}
