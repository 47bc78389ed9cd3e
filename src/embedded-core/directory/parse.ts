/**
 * Directory file text -> validated file (types.ts). YAML or JSON in, the schema's output out; the first problem
 * becomes a DirectoryError naming its path. Nothing here looks across objects (references.ts does).
 */
import { readFile, stat } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { describeValue, directoryFileSchema, type DirectoryFileParsed, isPlainObject } from './types.js';
import { child, DirectoryError, fail, item } from './validate.js';

/** Reads a directory file (at most `maxBytes`) and parses it: JSON by `.json` extension, YAML otherwise. */
export async function readDirectoryFile(path: string, maxBytes: number): Promise<unknown> {
  let text: string;
  try {
    const info = await stat(path);
    if (info.size > maxBytes) fail('', `${path}: file is larger than ${maxBytes} bytes`);
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (err instanceof DirectoryError) throw err;
    throw new DirectoryError('', `${path}: cannot read directory file (${(err as Error).message})`, { cause: err });
  }
  return parseDirectoryText(text, path.toLowerCase().endsWith('.json') ? 'json' : 'yaml', path);
}

/**
 * Parses directory file text. YAML uses the core schema (no implicit dates), unique keys and bounded aliases.
 * The YAML parser is slow on big files (about 0.4 ms per generated user): YAML content that is plain JSON takes
 * the JSON fast path, and large directories (100k users) should be kept as JSON.
 */
export function parseDirectoryText(text: string, format: 'yaml' | 'json', sourceName = 'directory file'): unknown {
  if (format === 'yaml' && /^\s*\{/.test(text)) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      // Not JSON after all: a YAML flow mapping. Fall through to the YAML parser (and its error messages).
    }
  }
  try {
    if (format === 'json') return JSON.parse(text) as unknown;
    return parseYaml(text, { schema: 'core', uniqueKeys: true, maxAliasCount: 1000, prettyErrors: true }) as unknown;
  } catch (err) {
    throw new DirectoryError('', `${sourceName}: invalid ${format.toUpperCase()}: ${(err as Error).message}`, { cause: err });
  }
}

/** Checks a parsed file against the schema; throws a DirectoryError for the first problem, in file order. */
export function validateDirectoryFile(value: unknown): DirectoryFileParsed {
  const result = directoryFileSchema.safeParse(value, { error: issueMessage });
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  if (issue === undefined) fail('', 'invalid directory file');
  let path = formatPath(issue.path);
  // One issue lists every unknown key of an object; name the first one, like any other path.
  if (issue.code === 'unrecognized_keys' && issue.keys[0] !== undefined) path = child(path, issue.keys[0]);
  fail(path, issue.message);
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) out = typeof key === 'number' ? item(out, key) : child(out, String(key));
  return out;
}

const TYPE_NOUNS: Readonly<Record<string, string>> = {
  object: 'a mapping',
  record: 'a mapping',
  array: 'a list',
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'a boolean',
  null: 'null',
};

/** Our wording for zod's issues (messages written in the schema take precedence). */
function issueMessage(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'required';
      return `expected ${TYPE_NOUNS[issue.expected] ?? issue.expected}, got ${describeValue(issue.input)}`;
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_union': {
      // A discriminated union (providers by `type`, stages by `kind`): the path already names the discriminator.
      const options: unknown = Reflect.get(issue, 'options');
      if (issue.discriminator === undefined || !Array.isArray(options)) return 'no variant matches';
      if (!isPlainObject(issue.input) || issue.input[issue.discriminator] === undefined) return 'required';
      return `expected one of ${options.map((v) => JSON.stringify(v)).join(', ')}`;
    }
    case 'too_small':
      if (issue.origin === 'string') return issue.minimum === 1 ? 'must not be empty' : `shorter than ${issue.minimum} characters`;
      return undefined;
    case 'too_big':
      if (issue.origin === 'string') return `longer than ${issue.maximum} characters`;
      return undefined;
    case 'unrecognized_keys':
      return 'unknown key';
    default:
      return undefined;
  }
}
