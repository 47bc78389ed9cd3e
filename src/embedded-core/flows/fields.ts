/**
 * Just enough of Django REST framework's field validation to reproduce authentik's challenge-response errors
 * (messages and codes are DRF's): CharField, BooleanField, IntegerField, and the "expected a dictionary" check.
 */
import type { ErrorDetail, ResponseErrors } from './challenges.js';

export type Body = Record<string, unknown>;

const PY_TYPE: Record<string, string> = { string: 'str', number: 'float', boolean: 'bool' };

function pythonTypeName(value: unknown): string {
  if (Array.isArray(value)) return 'list';
  if (typeof value === 'number' && Number.isInteger(value)) return 'int';
  return PY_TYPE[typeof value] ?? 'NoneType';
}

/** The request body as a serializer sees it: a mapping, or the non-field error DRF gives for anything else. */
export function bodyAsObject(body: unknown): { data: Body } | { errors: ResponseErrors } {
  if (body === undefined) return { data: {} };
  if (body === null) return { errors: { non_field_errors: [{ string: 'No data provided', code: 'null' }] } };
  if (typeof body !== 'object' || Array.isArray(body)) {
    return {
      errors: {
        non_field_errors: [{ string: `Invalid data. Expected a dictionary, but got ${pythonTypeName(body)}.`, code: 'invalid' }],
      },
    };
  }
  return { data: body as Body };
}

export class FieldErrors {
  readonly errors: ResponseErrors = {};

  add(field: string, detail: ErrorDetail): void {
    (this.errors[field] ??= []).push(detail);
  }

  get empty(): boolean {
    return Object.keys(this.errors).length === 0;
  }
}

export interface CharOptions {
  required?: boolean;
  allowBlank?: boolean;
  allowNull?: boolean;
  /** DRF's trim_whitespace (default true). */
  trim?: boolean;
}

/** DRF CharField: returns the value (null when allowed, undefined when absent and optional) or records an error. */
export function charField(data: Body, field: string, errors: FieldErrors, opts: CharOptions = {}): string | null | undefined {
  const value = data[field];
  if (value === undefined) {
    if (opts.required === true) errors.add(field, { string: 'This field is required.', code: 'required' });
    return undefined;
  }
  if (value === null) {
    if (opts.allowNull === true) return null;
    errors.add(field, { string: 'This field may not be null.', code: 'null' });
    return undefined;
  }
  let text: string;
  if (typeof value === 'string') text = value;
  else if (typeof value === 'number' && Number.isFinite(value)) text = String(value);
  else {
    errors.add(field, { string: 'Not a valid string.', code: 'invalid' });
    return undefined;
  }
  if (opts.trim !== false) text = text.trim();
  if (text === '' && opts.allowBlank !== true) {
    errors.add(field, { string: 'This field may not be blank.', code: 'blank' });
    return undefined;
  }
  return text;
}

const TRUE_VALUES = new Set<unknown>([true, 1, '1', 'true', 'True', 'TRUE', 't', 'T', 'y', 'Y', 'yes', 'Yes', 'YES', 'on', 'On', 'ON']);
const FALSE_VALUES = new Set<unknown>([false, 0, '0', 'false', 'False', 'FALSE', 'f', 'F', 'n', 'N', 'no', 'No', 'NO', 'off', 'Off', 'OFF']);

/** DRF BooleanField (required). */
export function booleanField(data: Body, field: string, errors: FieldErrors): boolean | undefined {
  const value = data[field];
  if (value === undefined) {
    errors.add(field, { string: 'This field is required.', code: 'required' });
    return undefined;
  }
  if (TRUE_VALUES.has(value)) return true;
  if (FALSE_VALUES.has(value)) return false;
  errors.add(field, { string: 'Must be a valid boolean.', code: 'invalid' });
  return undefined;
}

/** DRF IntegerField (optional). */
export function integerField(data: Body, field: string, errors: FieldErrors): number | undefined {
  const value = data[field];
  if (value === undefined) return undefined;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
  if (typeof value === 'string' && value.length <= 1000) {
    const match = /^\s*([+-]?\d+)(?:\.0*)?\s*$/.exec(value);
    if (match !== null) {
      const parsed = Number(match[1]);
      if (Number.isSafeInteger(parsed)) return parsed;
    }
  }
  errors.add(field, { string: 'A valid integer is required.', code: 'invalid' });
  return undefined;
}
