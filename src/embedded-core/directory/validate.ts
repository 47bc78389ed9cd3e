/**
 * Small strict readers for the directory file. Every failure throws a DirectoryError whose message starts with
 * the path of the offending value (`users[3].groups[1]: ...`), so a typo in a large file is found at once.
 */
import { OutpostError } from '../../errors.js';

export class DirectoryError extends OutpostError {
  /** Path of the offending value inside the file, e.g. `users[3].groups[1]`; '' for the whole file. */
  readonly path: string;
  constructor(path: string, message: string, options?: { cause?: unknown }) {
    super('AKO_DIRECTORY', path === '' ? message : `${path}: ${message}`, options);
    this.name = 'DirectoryError';
    this.path = path;
  }
}

export type Json = Record<string, unknown>;

export function fail(path: string, message: string): never {
  throw new DirectoryError(path, message);
}

export function child(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

export function item(path: string, index: number): string {
  return `${path}[${index}]`;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (value instanceof Date) return 'a date';
  if (isPlainObject(value)) return 'a mapping';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

export function isPlainObject(value: unknown): value is Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

export function expectObject(value: unknown, path: string): Json {
  if (!isPlainObject(value)) fail(path, `expected a mapping, got ${describe(value)}`);
  return value;
}

/** Rejects keys outside `allowed`; typos must not silently change behaviour. */
export function onlyKeys(obj: Json, allowed: ReadonlySet<string>, path: string): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.has(key)) fail(child(path, key), 'unknown key');
  }
}

export function reqString(obj: Json, key: string, path: string, opts: { nonEmpty?: boolean } = {}): string {
  const value = obj[key];
  if (value === undefined) fail(child(path, key), 'required');
  return checkString(value, child(path, key), opts);
}

export function optString(obj: Json, key: string, path: string, opts: { nonEmpty?: boolean } = {}): string | undefined {
  const value = obj[key];
  if (value === undefined) return undefined;
  return checkString(value, child(path, key), opts);
}

/** `null` is allowed and returned as null; absent is undefined. */
export function optNullableString(obj: Json, key: string, path: string): string | null | undefined {
  const value = obj[key];
  if (value === undefined || value === null) return value;
  return checkString(value, child(path, key), { nonEmpty: true });
}

export function checkString(value: unknown, path: string, opts: { nonEmpty?: boolean } = {}): string {
  if (typeof value !== 'string') fail(path, `expected a string, got ${describe(value)}`);
  if (opts.nonEmpty === true && value.length === 0) fail(path, 'must not be empty');
  return value;
}

export function optBool(obj: Json, key: string, path: string): boolean | undefined {
  const value = obj[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') fail(child(path, key), `expected a boolean, got ${describe(value)}`);
  return value;
}

export function optInt(obj: Json, key: string, path: string, min: number, max: number): number | undefined {
  const value = obj[key];
  if (value === undefined) return undefined;
  return checkInt(value, child(path, key), min, max);
}

export function checkInt(value: unknown, path: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) fail(path, `expected an integer, got ${describe(value)}`);
  if (value < min || value > max) fail(path, `must be between ${min} and ${max}`);
  return value;
}

export function optEnum<T extends string>(obj: Json, key: string, path: string, choices: readonly T[]): T | undefined {
  const value = obj[key];
  if (value === undefined) return undefined;
  return checkEnum(value, child(path, key), choices);
}

export function checkEnum<T extends string>(value: unknown, path: string, choices: readonly T[]): T {
  if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
    fail(path, `expected one of ${choices.map((c) => JSON.stringify(c)).join(', ')}`);
  }
  return value as T;
}

export function optList(obj: Json, key: string, path: string): unknown[] | undefined {
  const value = obj[key];
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) fail(child(path, key), `expected a list, got ${describe(value)}`);
  return value;
}

export function reqList(obj: Json, key: string, path: string): unknown[] {
  const value = obj[key];
  if (value === undefined) fail(child(path, key), 'required');
  if (!Array.isArray(value)) fail(child(path, key), `expected a list, got ${describe(value)}`);
  return value;
}

/** A list of strings without duplicates. */
export function optStringList(obj: Json, key: string, path: string): string[] | undefined {
  const list = optList(obj, key, path);
  if (list === undefined) return undefined;
  const listPath = child(path, key);
  const seen = new Set<string>();
  return list.map((entry, i) => {
    const value = checkString(entry, item(listPath, i), { nonEmpty: true });
    if (seen.has(value)) fail(item(listPath, i), `duplicate entry ${JSON.stringify(value)}`);
    seen.add(value);
    return value;
  });
}

/** Arbitrary JSON-compatible mapping (attributes, outpost config); rejects non-JSON values such as Dates. */
export function optJsonObject(obj: Json, key: string, path: string): Json | undefined {
  const value = obj[key];
  if (value === undefined) return undefined;
  const p = child(path, key);
  const mapping = expectObject(value, p);
  checkJsonValue(mapping, p, 0);
  return mapping;
}

const MAX_JSON_DEPTH = 32;

function checkJsonValue(value: unknown, path: string, depth: number): void {
  if (depth > MAX_JSON_DEPTH) fail(path, 'nested too deeply');
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) fail(path, 'numbers must be finite');
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((v, i) => checkJsonValue(v, item(path, i), depth + 1));
    return;
  }
  if (isPlainObject(value)) {
    for (const [k, v] of Object.entries(value)) checkJsonValue(v, child(path, k), depth + 1);
    return;
  }
  fail(path, `unsupported value (${describe(value)})`);
}

/** ISO 8601 date-time; returns undefined when absent. */
export function optDate(obj: Json, key: string, path: string): Date | undefined {
  const value = obj[key];
  if (value === undefined) return undefined;
  const p = child(path, key);
  // YAML may already have produced a Date for unquoted timestamps (not with the core schema, but be safe).
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) fail(p, 'invalid date');
    return value;
  }
  const text = checkString(value, p, { nonEmpty: true });
  if (!/^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/.test(text)) {
    fail(p, 'expected an ISO 8601 date-time');
  }
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) fail(p, 'invalid date');
  return date;
}

const UUID_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

/** Accepts the forms Django's UUIDField accepts (with or without dashes) and returns the canonical form. */
export function optUuid(obj: Json, key: string, path: string): string | undefined {
  const value = optString(obj, key, path);
  if (value === undefined) return undefined;
  if (!UUID_RE.test(value)) fail(child(path, key), 'expected a UUID');
  const hex = value.replace(/-/g, '').toLowerCase();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
