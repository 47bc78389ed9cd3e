/**
 * Request/response plumbing of the REST API: the parsed request every handler gets, the answer it returns, and
 * authentik's (DRF's) standard error bodies.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Generation } from '../model.js';
import type { Principal } from './auth.js';

export interface ApiRequest {
  method: string;
  /** Path below /api/v3, percent-decoded per segment, always starting with '/'. */
  path: string;
  /** The request's pathname as received (percent-encoding intact). */
  rawPath: string;
  query: URLSearchParams;
  /** The query string as received (without '?'). */
  rawQuery: string;
  headers: IncomingHttpHeaders;
  /** Parsed JSON body (undefined when empty). */
  body: unknown;
  /** TCP peer address. */
  remoteAddress: string;
  principal: Principal;
  generation: Generation;
}

export interface ApiResponse {
  status: number;
  /** Serialized as JSON; absent for bodiless answers (204, 302). */
  body?: unknown;
  headers?: Record<string, string | string[]>;
  /** A JSON body already serialized (large group pages). */
  rawJson?: string;
  /** A body that is not JSON (certificate downloads). */
  text?: { contentType: string; data: string };
}

export function json(status: number, body: unknown, headers?: Record<string, string | string[]>): ApiResponse {
  return headers ? { status, body, headers } : { status, body };
}

export function noContent(): ApiResponse {
  return { status: 204 };
}

export const NOT_AUTHENTICATED = 'Authentication credentials were not provided.';
export const PERMISSION_DENIED = 'You do not have permission to perform this action.';

export function detail(status: number, message: string): ApiResponse {
  return { status, body: { detail: message } };
}

export function permissionDenied(): ApiResponse {
  return detail(403, PERMISSION_DENIED);
}

/**
 * DRF's 404 for a missing object: "Not found." up to DRF 3.14 (authentik 2023.10), "No <Model> matches the given
 * query." from DRF 3.15 (authentik 2024.x onwards).
 */
export function objectNotFound(generation: Generation, model: string): ApiResponse {
  return detail(404, generation === '2023.10' ? 'Not found.' : `No ${model} matches the given query.`);
}

/** A 404 for a URL that has no route at all. */
export function routeNotFound(): ApiResponse {
  return detail(404, 'Not found.');
}

export function methodNotAllowed(method: string): ApiResponse {
  return detail(405, `Method "${method}" not allowed.`);
}

/** DRF ValidationError body: field -> messages. */
export function validationError(errors: Record<string, string[]>): ApiResponse {
  return { status: 400, body: errors };
}

/** Boolean query parameter the way django-filter's BooleanFilter reads it; undefined when absent or unparsable. */
export function queryBoolean(query: URLSearchParams, name: string): boolean | undefined {
  const raw = query.get(name);
  if (raw === null) return undefined;
  const value = raw.toLowerCase();
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  return undefined;
}

/** authentik's include_* flags: only the literal "true" (any case) enables; absent -> the default. */
export function includeFlag(query: URLSearchParams, name: string, fallback: boolean): boolean {
  const raw = query.get(name);
  if (raw === null) return fallback;
  return raw.toLowerCase() === 'true';
}

/** JSON text of a paginated list whose items are already serialized. */
export function jsonPageText(envelope: Record<string, unknown>, items: readonly string[]): ApiResponse {
  // `results` is the only array in the envelope and holds no strings, so the first match is the key.
  const text = JSON.stringify({ ...envelope, results: [] }).replace('"results":[]', `"results":[${items.join(',')}]`);
  return { status: 200, rawJson: text };
}

/** Django's UUIDField reading: with or without dashes, any case; canonical lower-case form, or null. */
export function canonicalUuid(text: string): string | null {
  if (!/^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/.test(text)) return null;
  const hex = text.replace(/-/g, '').toLowerCase();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
