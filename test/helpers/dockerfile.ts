/**
 * A reader for the subset of Dockerfile syntax our Dockerfile uses, so tests can check the recipe and perform its
 * steps. Anything outside that subset is an error: a test must never silently skip an instruction.
 */
import { readFileSync } from 'node:fs';

export interface CopyStep {
  kind: 'copy';
  /** Stage name of `--from`, undefined for the build context. */
  from: string | undefined;
  chown: string | undefined;
  sources: string[];
  destination: string;
  /** The instruction as written, for messages. */
  line: string;
}

export interface RunStep {
  kind: 'run';
  command: string;
  line: string;
}

export interface Healthcheck {
  options: Map<string, string>;
  command: string[];
}

export interface Stage {
  image: string;
  name: string | undefined;
  workdir: string;
  /** ARG defaults, then ENV values, in order (later wins). */
  args: Map<string, string>;
  env: Map<string, string>;
  steps: (CopyStep | RunStep)[];
  user: string | undefined;
  expose: string[];
  healthcheck: Healthcheck | undefined;
  entrypoint: string[];
  cmd: string[];
}

/** Logical instructions: comments dropped, `\` continuations joined. */
function instructions(text: string): string[] {
  const out: string[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.startsWith('#')) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1).trim()} `;
      continue;
    }
    out.push(pending + line);
    pending = '';
  }
  if (pending !== '') throw new Error(`dangling continuation: ${pending}`);
  return out;
}

function execForm(value: string, line: string): string[] {
  const parsed: unknown = JSON.parse(value);
  if (!Array.isArray(parsed) || !parsed.every((p): p is string => typeof p === 'string')) {
    throw new Error(`exec form (JSON array of strings) expected: ${line}`);
  }
  return parsed;
}

/** Leading `--name=value` flags, and the rest. */
function flags(rest: string): { flags: Map<string, string>; remainder: string } {
  const found = new Map<string, string>();
  let remainder = rest;
  for (let m = /^--([a-z-]+)=(\S+)\s+/.exec(remainder); m !== null; m = /^--([a-z-]+)=(\S+)\s+/.exec(remainder)) {
    found.set(m[1]!, m[2]!);
    remainder = remainder.slice(m[0].length);
  }
  return { flags: found, remainder };
}

function substitute(value: string, stage: Stage): string {
  return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_, braced: string | undefined, bare: string | undefined) => {
    const name = braced ?? bare ?? '';
    return stage.env.get(name) ?? stage.args.get(name) ?? '';
  });
}

/** `KEY=value KEY2="value two"` pairs. */
function pairs(rest: string, line: string): [string, string][] {
  const out: [string, string][] = [];
  const re = /([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|\S*)\s*/gy;
  let consumed = 0;
  for (let m = re.exec(rest); m !== null && m[0] !== ''; m = re.exec(rest)) {
    const raw = m[2]!;
    out.push([m[1]!, raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw]);
    consumed = re.lastIndex;
  }
  if (consumed !== rest.length) throw new Error(`KEY=value pairs expected: ${line}`);
  return out;
}

export function parseDockerfile(path: string): Stage[] {
  const stages: Stage[] = [];
  for (const line of instructions(readFileSync(path, 'utf8'))) {
    const m = /^([A-Za-z]+)\s+(.*)$/.exec(line);
    if (m === null) throw new Error(`not an instruction: ${line}`);
    const keyword = m[1]!.toUpperCase();
    const rest = m[2]!.trim();
    if (keyword === 'FROM') {
      const from = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest);
      if (from === null) throw new Error(`FROM image [AS name] expected: ${line}`);
      stages.push({
        image: from[1]!,
        name: from[2],
        workdir: '/',
        args: new Map(),
        env: new Map(),
        steps: [],
        user: undefined,
        expose: [],
        healthcheck: undefined,
        entrypoint: [],
        cmd: [],
      });
      continue;
    }
    const stage = stages.at(-1);
    if (stage === undefined) throw new Error(`instruction before FROM: ${line}`);
    switch (keyword) {
      case 'WORKDIR':
        stage.workdir = rest.startsWith('/') ? rest : `${stage.workdir.replace(/\/$/, '')}/${rest}`;
        break;
      case 'ARG': {
        const arg = /^([A-Za-z_][A-Za-z0-9_]*)(?:=(.*))?$/.exec(rest);
        if (arg === null) throw new Error(`ARG NAME[=default] expected: ${line}`);
        const value = arg[2] ?? '';
        stage.args.set(arg[1]!, value.startsWith('"') ? value.slice(1, -1) : value);
        break;
      }
      case 'ENV':
        for (const [key, value] of pairs(rest, line)) stage.env.set(key, substitute(value, stage));
        break;
      case 'COPY': {
        const { flags: f, remainder } = flags(`${rest} `);
        for (const name of f.keys()) if (name !== 'from' && name !== 'chown') throw new Error(`COPY --${name} not supported: ${line}`);
        const paths = remainder.trim().split(/\s+/);
        if (paths.length < 2) throw new Error(`COPY needs a source and a destination: ${line}`);
        stage.steps.push({ kind: 'copy', from: f.get('from'), chown: f.get('chown'), sources: paths.slice(0, -1), destination: paths.at(-1)!, line });
        break;
      }
      case 'RUN':
        if (rest.startsWith('[') || rest.startsWith('--')) throw new Error(`only shell-form RUN without flags is supported: ${line}`);
        stage.steps.push({ kind: 'run', command: rest, line });
        break;
      case 'USER':
        stage.user = rest;
        break;
      case 'EXPOSE':
        stage.expose.push(...rest.split(/\s+/));
        break;
      case 'HEALTHCHECK': {
        const { flags: f, remainder } = flags(`${rest} `);
        const cmd = /^CMD\s+(.*)$/.exec(remainder.trim());
        if (cmd === null) throw new Error(`HEALTHCHECK [options] CMD [...] expected: ${line}`);
        stage.healthcheck = { options: f, command: execForm(cmd[1]!, line) };
        break;
      }
      case 'ENTRYPOINT':
        stage.entrypoint = execForm(rest, line);
        break;
      case 'CMD':
        stage.cmd = execForm(rest, line);
        break;
      default:
        throw new Error(`instruction not supported by this reader: ${line}`);
    }
  }
  return stages;
}

/** Go-duration seconds of a HEALTHCHECK option such as `5s` or `1m30s`. */
export function durationSeconds(value: string): number {
  let total = 0;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let consumed = 0;
  for (let m = re.exec(value); m !== null; m = re.exec(value)) {
    const n = Number(m[1]);
    total += m[2] === 'ms' ? n / 1000 : m[2] === 's' ? n : m[2] === 'm' ? n * 60 : n * 3600;
    consumed = re.lastIndex;
  }
  if (consumed !== value.length || value === '') throw new Error(`not a duration: ${value}`);
  return total;
}

/**
 * A .dockerignore matcher (patterns with `*`, `**` and `?`, `!` exceptions, last match wins; a pattern that
 * matches a directory excludes everything below it).
 */
export function dockerignore(path: string): (relativePath: string) => boolean {
  const rules = readFileSync(path, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const negated = l.startsWith('!');
      const pattern = (negated ? l.slice(1) : l).replace(/^\/+|\/+$/g, '');
      const source = pattern
        .split('**')
        .map((part) => part.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]'))
        .join('.*');
      return { negated, re: new RegExp(`^${source}(/.*)?$`) };
    });
  return (relativePath) => {
    let ignored = false;
    for (const rule of rules) if (rule.re.test(relativePath)) ignored = !rule.negated;
    return ignored;
  };
}
