/**
 * Directory-file errors. Every failure throws a DirectoryError whose message starts with the path of the offending
 * value (`users[3].groups[1]: ...`), so a typo in a large file is found at once.
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

export function fail(path: string, message: string): never {
  throw new DirectoryError(path, message);
}

export function child(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

export function item(path: string, index: number): string {
  return `${path}[${index}]`;
}

/** The object in which each key was first seen; a second sighting is a "duplicate ... (also <object>)" error. */
export class FirstSeen<K extends string | number> {
  readonly #paths = new Map<K, string>();
  readonly #what: string;
  readonly #field: string;
  readonly #quoted: boolean;

  constructor(
    what: string,
    /** The key's field, where the error points. */
    field: string,
    /** Names are shown quoted, ids as they are. */
    quoted = true,
  ) {
    this.#what = what;
    this.#field = field;
    this.#quoted = quoted;
  }

  claim(key: K, objectPath: string): void {
    const earlier = this.#paths.get(key);
    if (earlier !== undefined) {
      const shown = this.#quoted ? JSON.stringify(key) : String(key);
      fail(child(objectPath, this.#field), `duplicate ${this.#what} ${shown} (also ${earlier})`);
    }
    this.#paths.set(key, objectPath);
  }

  has(key: K): boolean {
    return this.#paths.has(key);
  }
}
