/** Secrets in the directory file: `env://NAME` and `file://path` indirection (authentik's config convention). */
import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { DirectoryError, fail } from './validate.js';

const MAX_SECRET_FILE_BYTES = 64 * 1024;

export class SecretResolver {
  readonly #env: Readonly<Record<string, string | undefined>>;
  readonly #baseDir: string;

  constructor(
    env: Readonly<Record<string, string | undefined>>,
    /** file:// paths are relative to this directory. */
    baseDir: string,
  ) {
    this.#env = env;
    this.#baseDir = baseDir;
  }

  /** The secret a value stands for; `path` names it in errors (which never show the secret). */
  async resolve(value: string, path: string): Promise<string> {
    if (value.startsWith('env://')) {
      const name = value.slice('env://'.length);
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) fail(path, `invalid environment variable name ${JSON.stringify(name)}`);
      const resolved = this.#env[name];
      if (resolved === undefined || resolved === '') fail(path, `environment variable ${name} is not set`);
      return resolved;
    }
    if (value.startsWith('file://')) {
      const file = resolve(this.#baseDir, value.slice('file://'.length));
      let text: string;
      try {
        const info = await stat(file);
        if (info.size > MAX_SECRET_FILE_BYTES) fail(path, `${file} is larger than 64 KiB`);
        text = await readFile(file, 'utf8');
      } catch (err) {
        if (err instanceof DirectoryError) throw err;
        fail(path, `cannot read ${file}`);
      }
      const trimmed = text.replace(/\r?\n$/, '');
      if (trimmed === '') fail(path, `${file} is empty`);
      return trimmed;
    }
    return value;
  }
}
