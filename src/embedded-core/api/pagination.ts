/**
 * authentik's page-number pagination (DRF PageNumberPagination + authentik's envelope): `page`, `page_size`
 * (default 100), next/previous as page numbers with 0 for none. 2026.2 adds `autocomplete: {}`.
 *
 * Deliberate bound: page_size is clamped to MAX_PAGE_SIZE (authentik sets no maximum), so one request can never
 * serialize a whole 100k-user directory at once; clients follow `pagination.next` either way.
 */
import type { Generation } from '../model.js';
import { detail } from './http.js';
import type { ApiResponse } from './http.js';

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;

export interface Page<T> {
  items: T[];
  envelope(results: unknown[]): Record<string, unknown>;
}

/** DRF: an invalid or non-positive page_size falls back to the default. */
function pageSize(query: URLSearchParams): number {
  const raw = query.get('page_size');
  if (raw === null || !/^\s*\+?\d+\s*$/.test(raw)) return DEFAULT_PAGE_SIZE;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n <= 0) return DEFAULT_PAGE_SIZE;
  return Math.min(n, MAX_PAGE_SIZE);
}

/** Slices one page out of `items`, or answers DRF's 404 "Invalid page." */
export function paginate<T>(items: readonly T[], query: URLSearchParams, generation: Generation): Page<T> | ApiResponse {
  const size = pageSize(query);
  const count = items.length;
  const totalPages = count === 0 ? 1 : Math.ceil(count / size);
  const rawPage = query.get('page') ?? '1';
  let number: number;
  if (rawPage === 'last') number = totalPages;
  else if (/^\d+$/.test(rawPage)) number = Number(rawPage);
  else return detail(404, 'Invalid page.');
  if (number < 1 || number > totalPages) return detail(404, 'Invalid page.');
  const start = (number - 1) * size;
  const pageItems = items.slice(start, start + size);
  const pagination = {
    next: number < totalPages ? number + 1 : 0,
    previous: number > 1 ? number - 1 : 0,
    count,
    current: number,
    total_pages: totalPages,
    start_index: count === 0 ? 0 : start + 1,
    end_index: count === 0 ? 0 : start + pageItems.length,
  };
  return {
    items: pageItems,
    envelope: (results) =>
      generation === '2026.2' ? { pagination, results, autocomplete: {} } : { pagination, results },
  };
}

export function isPage<T>(value: Page<T> | ApiResponse): value is Page<T> {
  return 'items' in value;
}
