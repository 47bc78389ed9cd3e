/**
 * A small OpenAPI 3.0 response validator for tests: reads src/core-api/schema/<generation>.json and checks a
 * response body against the operation's schema for its status code. Supports the subset authentik's schemas use:
 * type (incl. integer), properties, required, nullable, enum, items, $ref, allOf, oneOf/anyOf (with discriminator),
 * additionalProperties, minimum/maximum, minLength/maxLength, format uuid/date-time (loosely).
 *
 * Errata: a few fields where authentik's real answers differ from its published schema (DRF behaviour the schema
 * generator does not see). They are listed explicitly below so nothing else slips through.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';

export type SchemaGeneration = '2023.10' | '2026.2';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type SchemaObject = { [key: string]: unknown };

interface OpenApiDoc {
  paths: Record<string, Record<string, unknown>>;
  components: { schemas: Record<string, SchemaObject>; responses?: Record<string, SchemaObject> };
}

/** component.property -> what reality allows beyond the schema. */
const ERRATA: Record<SchemaGeneration, Record<string, 'nullable' | 'optional'>> = {
  '2023.10': {
    // DRF serializes a missing FK object as null; the 2023.10 schema forgot `nullable`.
    'Outpost.service_connection_obj': 'nullable',
    // CharField(source="parent.name") without allow_null is skipped (absent) when the group has no parent.
    'UserGroup.parent_name': 'optional',
    // A provider without an application: DRF returns null.
    'Provider.assigned_application_slug': 'nullable',
    'Provider.assigned_application_name': 'nullable',
    'Provider.assigned_backchannel_application_slug': 'nullable',
    'Provider.assigned_backchannel_application_name': 'nullable',
  },
  '2026.2': {
    // invalidation_flow is nullable in the model (providers created before 2024.10).
    'Provider.invalidation_flow': 'nullable',
    // check_access serializes attributes=None (not passing, or a mapping failed) as null.
    'RadiusCheckAccess.attributes': 'nullable',
  },
};

const docs = new Map<SchemaGeneration, OpenApiDoc>();

export function loadSchema(generation: SchemaGeneration): OpenApiDoc {
  let doc = docs.get(generation);
  if (!doc) {
    const path = join(process.cwd(), 'src', 'core-api', 'schema', `${generation}.json`);
    doc = JSON.parse(readFileSync(path, 'utf8')) as OpenApiDoc;
    docs.set(generation, doc);
  }
  return doc;
}

function isObject(value: unknown): value is { [key: string]: unknown } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function resolveRef(doc: OpenApiDoc, ref: string): { schema: SchemaObject; name: string } {
  const match = /^#\/components\/(schemas|responses)\/(.+)$/.exec(ref);
  if (!match || match[1] === undefined || match[2] === undefined) throw new Error(`unsupported $ref ${ref}`);
  const table = match[1] === 'schemas' ? doc.components.schemas : doc.components.responses ?? {};
  const schema = table[match[2]];
  if (!schema) throw new Error(`unresolved $ref ${ref}`);
  return { schema, name: match[2] };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

class Validator {
  readonly errors: string[] = [];
  readonly #doc: OpenApiDoc;
  readonly #generation: SchemaGeneration;

  constructor(
    doc: OpenApiDoc,
    generation: SchemaGeneration,
  ) {
    this.#doc = doc;
    this.#generation = generation;
  }

  validate(schema: SchemaObject, value: unknown, path: string, component: string | null): void {
    if (typeof schema.$ref === 'string') {
      const { schema: target, name } = resolveRef(this.#doc, schema.$ref);
      this.validate(target, value, path, name);
      return;
    }
    if (value === null) {
      if (schema.nullable === true) return;
      // allOf with nullable on the wrapper is handled by the caller passing nullable through.
      this.errors.push(`${path}: null not allowed`);
      return;
    }
    if (Array.isArray(schema.allOf)) {
      for (const sub of schema.allOf) if (isObject(sub)) this.validate(sub, value, path, component);
    }
    if (Array.isArray(schema.oneOf) || Array.isArray(schema.anyOf)) {
      this.#validateAlternatives(schema, value, path, component);
    }
    if (Array.isArray(schema.enum) && !schema.enum.includes(value)) {
      this.errors.push(`${path}: ${JSON.stringify(value)} not in enum ${JSON.stringify(schema.enum)}`);
    }
    const type = schema.type;
    if (type === undefined) {
      if (isObject(value) && (schema.properties !== undefined || schema.additionalProperties !== undefined)) {
        this.#validateObject(schema, value, path, component);
      }
      return;
    }
    switch (type) {
      case 'string':
        if (typeof value !== 'string') {
          this.errors.push(`${path}: expected string, got ${typeof value}`);
          return;
        }
        if (schema.format === 'uuid' && !UUID.test(value)) this.errors.push(`${path}: not a uuid: ${value}`);
        if (schema.format === 'date-time' && !DATE_TIME.test(value)) this.errors.push(`${path}: not a date-time: ${value}`);
        if (typeof schema.maxLength === 'number' && value.length > schema.maxLength) this.errors.push(`${path}: longer than ${schema.maxLength}`);
        if (typeof schema.minLength === 'number' && value.length < schema.minLength) this.errors.push(`${path}: shorter than ${schema.minLength}`);
        return;
      case 'integer':
      case 'number':
        if (typeof value !== 'number' || !Number.isFinite(value)) {
          this.errors.push(`${path}: expected ${type}, got ${typeof value}`);
          return;
        }
        if (type === 'integer' && !Number.isInteger(value)) this.errors.push(`${path}: not an integer: ${value}`);
        if (typeof schema.maximum === 'number' && value > schema.maximum) this.errors.push(`${path}: above ${schema.maximum}`);
        if (typeof schema.minimum === 'number' && value < schema.minimum) this.errors.push(`${path}: below ${schema.minimum}`);
        return;
      case 'boolean':
        if (typeof value !== 'boolean') this.errors.push(`${path}: expected boolean, got ${typeof value}`);
        return;
      case 'array':
        if (!Array.isArray(value)) {
          this.errors.push(`${path}: expected array, got ${typeof value}`);
          return;
        }
        if (isObject(schema.items)) {
          const items = schema.items;
          value.forEach((item, i) => this.validate(items, item, `${path}[${i}]`, null));
        }
        return;
      case 'object':
        if (!isObject(value)) {
          this.errors.push(`${path}: expected object, got ${Array.isArray(value) ? 'array' : typeof value}`);
          return;
        }
        this.#validateObject(schema, value, path, component);
        return;
      default:
        this.errors.push(`${path}: unsupported schema type ${String(type)}`);
    }
  }

  #validateObject(schema: SchemaObject, value: { [key: string]: unknown }, path: string, component: string | null): void {
    const properties = isObject(schema.properties) ? schema.properties : {};
    const errata = ERRATA[this.#generation];
    const required = Array.isArray(schema.required) ? schema.required : [];
    for (const name of required) {
      if (typeof name !== 'string') continue;
      if (!(name in value) && !(component !== null && errata[`${component}.${name}`] === 'optional')) {
        this.errors.push(`${path}: missing required property ${name}`);
      }
    }
    for (const [key, propValue] of Object.entries(value)) {
      const prop = properties[key];
      if (isObject(prop)) {
        const erratum = component !== null ? errata[`${component}.${key}`] : undefined;
        if (propValue === null && (erratum === 'nullable' || prop.nullable === true)) continue;
        this.validate(prop, propValue, `${path}.${key}`, null);
        continue;
      }
      const extra = schema.additionalProperties;
      if (extra === false) this.errors.push(`${path}: unexpected property ${key}`);
      else if (isObject(extra) && Object.keys(extra).length > 0) this.validate(extra, propValue, `${path}.${key}`, null);
      else if (extra === undefined) this.errors.push(`${path}: property ${key} is not in the schema`);
    }
  }

  #validateAlternatives(schema: SchemaObject, value: unknown, path: string, component: string | null): void {
    const alternatives = (Array.isArray(schema.oneOf) ? schema.oneOf : schema.anyOf) as unknown[];
    const discriminator = isObject(schema.discriminator) ? schema.discriminator : undefined;
    if (discriminator && typeof discriminator.propertyName === 'string' && isObject(value)) {
      const tag = value[discriminator.propertyName];
      const mapping = isObject(discriminator.mapping) ? discriminator.mapping : {};
      const ref = typeof tag === 'string' ? mapping[tag] : undefined;
      if (typeof ref !== 'string') {
        this.errors.push(`${path}: discriminator ${discriminator.propertyName}=${JSON.stringify(tag)} not in mapping`);
        return;
      }
      this.validate({ $ref: ref }, value, path, component);
      return;
    }
    let matches = 0;
    for (const alt of alternatives) {
      if (!isObject(alt)) continue;
      const probe = new Validator(this.#doc, this.#generation);
      probe.validate(alt, value, path, component);
      if (probe.errors.length === 0) matches++;
    }
    const oneOf = Array.isArray(schema.oneOf);
    if (matches === 0 || (oneOf && matches > 1)) {
      this.errors.push(`${path}: matched ${matches} of ${alternatives.length} alternatives`);
    }
  }
}

/** Errors of `value` against a named component schema (empty when valid). */
export function schemaErrors(generation: SchemaGeneration, component: string, value: unknown): string[] {
  const doc = loadSchema(generation);
  const v = new Validator(doc, generation);
  v.validate({ $ref: `#/components/schemas/${component}` }, value, component, null);
  return v.errors;
}

/** The path template of the schema matching a concrete API path (without /api/v3 and query). */
export function matchPath(generation: SchemaGeneration, apiPath: string): string | undefined {
  const doc = loadSchema(generation);
  const candidates = Object.keys(doc.paths).filter((template) => {
    const literal = template.split(/\{[^}]+\}/).map((part) => part.replace(/[.*+?^$()|[\]\\{}]/g, '\\$&'));
    const pattern = new RegExp(`^${literal.join('[^/]+')}$`);
    return pattern.test(apiPath);
  });
  // Literal segments win over parameters (/core/users/me/ before /core/users/{id}/).
  candidates.sort((a, b) => (a.match(/\{/g) ?? []).length - (b.match(/\{/g) ?? []).length);
  return candidates[0];
}

export interface ResponseToCheck {
  method: string;
  /** Full request path, e.g. /api/v3/core/users/?page=2 */
  path: string;
  status: number;
  /** Parsed JSON body, or undefined when the body was empty. */
  body: Json | undefined;
}

/**
 * Asserts that the response matches the operation's schema for its status code. Statuses the schema does not
 * list: 404/405 must be GenericError-shaped (what DRF answers); anything else fails.
 */
export function assertValidResponse(generation: SchemaGeneration, response: ResponseToCheck): void {
  const doc = loadSchema(generation);
  const apiPath = response.path.replace(/^\/api\/v3/, '').replace(/\?.*$/, '');
  const template = matchPath(generation, apiPath);
  assert.ok(template, `${generation}: no schema path for ${apiPath}`);
  const operation = doc.paths[template]?.[response.method.toLowerCase()];
  assert.ok(isObject(operation), `${generation}: no ${response.method} operation for ${template}`);
  const responses = isObject(operation.responses) ? operation.responses : {};
  let spec = responses[String(response.status)];
  if (spec === undefined && (response.status === 404 || response.status === 405)) {
    spec = { content: { 'application/json': { schema: { $ref: '#/components/schemas/GenericError' } } } };
  }
  assert.ok(isObject(spec), `${generation}: ${response.method} ${template} does not document status ${response.status}`);
  if (typeof spec.$ref === 'string') spec = resolveRef(doc, spec.$ref).schema;
  const content = isObject(spec) && isObject(spec.content) ? spec.content : undefined;
  const json = content && isObject(content['application/json']) ? content['application/json'] : undefined;
  if (!json || !isObject(json.schema)) {
    // 204 has no body; other responses documented without content (2023.10's 404) carry DRF's {"detail"} as is.
    if (response.status === 204) assert.equal(response.body, undefined, `${generation}: ${response.method} ${template} 204 must have no body`);
    return;
  }
  assert.notEqual(response.body, undefined, `${generation}: ${response.method} ${template} ${response.status} needs a JSON body`);
  const v = new Validator(doc, generation);
  v.validate(json.schema, response.body, `${response.method} ${template} ${response.status}`, null);
  assert.deepEqual(v.errors, [], `${generation}: response does not match the schema:\n${v.errors.join('\n')}`);
}
