/**
 * Validation of outpost writes (POST/PUT/PATCH /outposts/instances/), answering what authentik's
 * OutpostSerializer answers: DRF field errors in field order (name, type, providers, service_connection, config,
 * managed), then authentik's validate_providers / validate_config messages.
 *
 * Deliberate fix: authentik checks provider types against the *request's* `type`, so a PATCH without `type`
 * accepts any provider; we check against the outpost's existing type.
 */
import type { CoreOutpost, Directory, Generation } from '../model.js';

export interface OutpostWrite {
  name?: string;
  type?: CoreOutpost['type'];
  providers?: number[];
  config?: Record<string, unknown>;
  managed?: string | null;
}

/** Each generation's OutpostTypeEnum: `rac` (remote access) came in 2024.1. */
const OUTPOST_TYPES: Readonly<Record<Generation, readonly CoreOutpost['type'][]>> = {
  '2023.10': ['proxy', 'ldap', 'radius'],
  '2026.2': ['proxy', 'ldap', 'radius', 'rac'],
};
const REQUIRED = 'This field is required.';
const NOT_NULL = 'This field may not be null.';

/** Python's type(value).__name__ for a JSON value. */
function pythonTypeName(value: unknown): string {
  if (value === null) return 'NoneType';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float';
  if (typeof value === 'string') return 'str';
  if (Array.isArray(value)) return 'list';
  return 'dict';
}

/** Python's str() of a JSON value (dacite puts it into its message). */
function pythonStr(value: unknown, nested = false): string {
  if (value === null) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return nested ? `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'` : value;
  if (Array.isArray(value)) return `[${value.map((v) => pythonStr(v, true)).join(', ')}]`;
  if (typeof value === 'object') {
    return `{${Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => `${pythonStr(k, true)}: ${pythonStr(v, true)}`)
      .join(', ')}}`;
  }
  return String(value);
}

type TypeCheck = { name: string; check: (v: unknown) => boolean };

const isStr = (v: unknown): boolean => typeof v === 'string';
const isInt = (v: unknown): boolean => typeof v === 'boolean' || (typeof v === 'number' && Number.isInteger(v));
const isDictOf = (valueCheck: (v: unknown) => boolean) => (v: unknown): boolean =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every(valueCheck);
const isListOf = (itemCheck: (v: unknown) => boolean) => (v: unknown): boolean => Array.isArray(v) && v.every(itemCheck);
const orNone = (check: (v: unknown) => boolean) => (v: unknown): boolean => v === null || check(v);

/** authentik's OutpostConfig dataclass fields and their annotations, per generation. */
function configFields(generation: Generation): Record<string, TypeCheck> {
  const fields: Record<string, TypeCheck> = {
    authentik_host: { name: 'str', check: isStr },
    authentik_host_insecure: { name: 'bool', check: (v) => typeof v === 'boolean' },
    authentik_host_browser: { name: 'str', check: isStr },
    log_level: { name: 'str', check: isStr },
    object_naming_template: { name: 'str', check: isStr },
    container_image: { name: 'str | None', check: orNone(isStr) },
    docker_network: { name: 'str | None', check: orNone(isStr) },
    docker_map_ports: { name: 'bool', check: (v) => typeof v === 'boolean' },
    docker_labels: { name: 'dict[str, str] | None', check: orNone(isDictOf(isStr)) },
    kubernetes_replicas: { name: 'int', check: isInt },
    kubernetes_namespace: { name: 'str', check: isStr },
    kubernetes_ingress_annotations: { name: 'dict[str, str]', check: isDictOf(isStr) },
    kubernetes_ingress_secret_name: { name: 'str', check: isStr },
    kubernetes_ingress_class_name: { name: 'str | None', check: orNone(isStr) },
    kubernetes_service_type: { name: 'str', check: isStr },
    kubernetes_disabled_components: { name: 'list[str]', check: isListOf(isStr) },
    kubernetes_image_pull_secrets: { name: 'list[str]', check: isListOf(isStr) },
    kubernetes_json_patches: {
      name: 'dict[str, list[dict[str, Any]]] | None',
      check: orNone(isDictOf(isListOf(isDictOf(() => true)))),
    },
  };
  if (generation === '2026.2') {
    fields.refresh_interval = { name: 'str', check: isStr };
    fields.kubernetes_ingress_path_type = { name: 'str | None', check: orNone(isStr) };
    fields.kubernetes_httproute_annotations = { name: 'dict[str, str]', check: isDictOf(isStr) };
    fields.kubernetes_httproute_parent_refs = { name: 'list[dict[str, str]]', check: isListOf(isDictOf(isStr)) };
  }
  return fields;
}

function providerClass(type: string): string {
  return type === 'ldap' ? 'LDAPProvider' : type === 'radius' ? 'RadiusProvider' : 'Provider';
}

export interface ValidateOptions {
  directory: Directory;
  generation: Generation;
  /** The outpost being updated (PUT/PATCH), absent for create. */
  existing?: CoreOutpost;
  partial: boolean;
}

export function validateOutpostWrite(input: unknown, options: ValidateOptions): { errors: Record<string, string[]> } | { value: OutpostWrite } {
  // No body at all reads as an empty form in DRF.
  const body = input === undefined ? {} : input;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { errors: { non_field_errors: [`Invalid data. Expected a dictionary, but got ${body === null ? 'NoneType' : pythonTypeName(body)}.`] } };
  }
  const data = body as Record<string, unknown>;
  const errors: Record<string, string[]> = {};
  const value: OutpostWrite = {};
  const present = (key: string): boolean => Object.prototype.hasOwnProperty.call(data, key);
  const requiredMissing = (key: string): boolean => {
    if (present(key)) return false;
    if (!options.partial) errors[key] = [REQUIRED];
    return true;
  };

  if (!requiredMissing('name')) {
    const raw = data.name;
    if (raw === null) errors.name = [NOT_NULL];
    else if (typeof raw !== 'string' && typeof raw !== 'number') errors.name = ['Not a valid string.'];
    else {
      const name = String(raw).trim();
      if (name === '') errors.name = ['This field may not be blank.'];
      else {
        const clash = [...options.directory.outposts.values()].find((o) => o.name === name && o.uuid !== options.existing?.uuid);
        if (clash) errors.name = ['Outpost with this name already exists.'];
        else value.name = name;
      }
    }
  }

  if (!requiredMissing('type')) {
    const raw = data.type;
    if (raw === null) errors.type = [NOT_NULL];
    else {
      const type = OUTPOST_TYPES[options.generation].find((t) => t === raw);
      if (type === undefined) errors.type = [`"${pythonStr(raw)}" is not a valid choice.`];
      else value.type = type;
    }
  }

  if (!requiredMissing('providers')) {
    const raw = data.providers;
    if (raw === null) errors.providers = [NOT_NULL];
    else if (!Array.isArray(raw)) errors.providers = [`Expected a list of items but got type "${pythonTypeName(raw)}".`];
    else {
      const pks: number[] = [];
      for (const item of raw) {
        if (typeof item === 'boolean' || (typeof item !== 'number' && typeof item !== 'string') || (typeof item === 'string' && !/^\s*-?\d+\s*$/.test(item)) || (typeof item === 'number' && !Number.isInteger(item))) {
          errors.providers = [`Incorrect type. Expected pk value, received ${pythonTypeName(item)}.`];
          break;
        }
        const pk = Number(item);
        if (!options.directory.providers.has(pk)) {
          errors.providers = [`Invalid pk "${pythonStr(item)}" - object does not exist.`];
          break;
        }
        pks.push(pk);
      }
      if (!errors.providers) {
        // Type check against the request's type, else (our fix) the outpost's current type.
        const type = typeof data.type === 'string' ? data.type : options.existing?.type;
        if (type !== undefined && OUTPOST_TYPES[options.generation].some((t) => t === type)) {
          for (const pk of pks) {
            const provider = options.directory.providers.get(pk);
            if (provider && provider.type !== type) {
              errors.providers = [`Outpost type ${type} can't be used with ${providerClass(provider.type)} providers.`];
              break;
            }
          }
        }
        const managedEmbedded = options.existing?.managed === 'goauthentik.io/outposts/embedded';
        if (!errors.providers && pks.length < 1 && !managedEmbedded) errors.providers = ['This list may not be empty.'];
        if (!errors.providers) value.providers = [...new Set(pks)];
      }
    }
  }

  if (present('service_connection') && data.service_connection !== null) {
    errors.service_connection = [`Invalid pk "${pythonStr(data.service_connection)}" - object does not exist.`];
  }

  if (!requiredMissing('config')) {
    const raw = data.config;
    if (raw === null) errors.config = [NOT_NULL];
    else if (typeof raw !== 'object' || Array.isArray(raw)) errors.config = [`Value must be a dictionary, and not ${pythonTypeName(raw)}`];
    else {
      const config = raw as Record<string, unknown>;
      const fields = configFields(options.generation);
      for (const [key, spec] of Object.entries(fields)) {
        if (!(key in config)) continue;
        const fieldValue = config[key];
        if (!spec.check(fieldValue)) {
          errors.config = [
            `Failed to validate config: wrong value type for field "${key}" - should be "${spec.name}" instead of value "${pythonStr(fieldValue)}" of type "${pythonTypeName(fieldValue)}"`,
          ];
          break;
        }
      }
      if (!errors.config) value.config = config;
    }
  }

  if (present('managed')) {
    const raw = data.managed;
    if (raw === null) value.managed = null;
    else if (typeof raw !== 'string' && typeof raw !== 'number') errors.managed = ['Not a valid string.'];
    else {
      const managed = String(raw).trim();
      if (managed === '') errors.managed = ['This field may not be blank.'];
      else if ([...options.directory.outposts.values()].some((o) => o.managed === managed && o.uuid !== options.existing?.uuid)) {
        errors.managed = ['Outpost with this Managed by authentik already exists.'];
      } else value.managed = managed;
    }
  }

  return Object.keys(errors).length > 0 ? { errors } : { value };
}
