/**
 * Merges the Prometheus expositions of several processes (the primary and its workers) into one: each metric
 * family once, with its HELP and TYPE, and every sample of a part labelled with that part's labels (e.g.
 * `worker="2"`), so equal label sets of two workers stay two series and `sum()` adds them up.
 */
import { escapeLabelValue } from './metrics.js';

export interface ExpositionPart {
  /** Added to every sample of this part; empty for the primary's own metrics. */
  labels: Readonly<Record<string, string>>;
  text: string;
}

interface Family {
  help: string | undefined;
  type: string | undefined;
  samples: string[];
}

export function mergeExpositions(parts: readonly ExpositionPart[]): string {
  const families = new Map<string, Family>();
  const familyOf = (name: string): Family => {
    let family = families.get(name);
    if (family === undefined) families.set(name, (family = { help: undefined, type: undefined, samples: [] }));
    return family;
  };
  for (const part of parts) {
    const extra = Object.entries(part.labels)
      .map(([k, v]) => `${k}="${escapeLabelValue(v)}"`)
      .join(',');
    let current: Family | undefined;
    let currentName = '';
    for (const line of part.text.split('\n')) {
      if (line === '') continue;
      if (line.startsWith('# HELP ') || line.startsWith('# TYPE ')) {
        const rest = line.slice(7);
        const space = rest.indexOf(' ');
        const name = space < 0 ? rest : rest.slice(0, space);
        const value = space < 0 ? '' : rest.slice(space + 1);
        current = familyOf(name);
        currentName = name;
        if (line.startsWith('# HELP ')) current.help ??= value;
        else current.type ??= value;
        continue;
      }
      if (line.startsWith('#')) continue;
      const nameEnd = sampleNameEnd(line);
      const name = line.slice(0, nameEnd);
      // Histogram and summary samples (_bucket, _sum, _count) belong to the family announced before them.
      const family = current !== undefined && name.startsWith(currentName) ? current : familyOf(name);
      family.samples.push(extra === '' ? line : withLabels(line, nameEnd, extra));
    }
  }
  const out: string[] = [];
  for (const [name, family] of families) {
    if (family.help !== undefined) out.push(`# HELP ${name} ${family.help}`);
    if (family.type !== undefined) out.push(`# TYPE ${name} ${family.type}`);
    out.push(...family.samples);
  }
  out.push('');
  return out.join('\n');
}

function sampleNameEnd(line: string): number {
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c === 0x7b /* { */ || c === 0x20 /* space */) return i;
  }
  return line.length;
}

/** Inserts `extra` (already formatted `k="v",...`) as the first labels; label values are never parsed. */
function withLabels(line: string, nameEnd: number, extra: string): string {
  if (line.charCodeAt(nameEnd) === 0x7b) {
    const emptySet = line.charCodeAt(nameEnd + 1) === 0x7d; /* } */
    return `${line.slice(0, nameEnd + 1)}${extra}${emptySet ? '' : ','}${line.slice(nameEnd + 1)}`;
  }
  return `${line.slice(0, nameEnd)}{${extra}}${line.slice(nameEnd)}`;
}
