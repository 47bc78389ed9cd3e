/**
 * Formatting of the benchmark's results: one markdown table of figures (ak-outpost, slapd, ratio, target), one
 * table of CPU time per process per run, footnotes. Pure functions, so the arithmetic is unit-tested.
 */

export type Verdict = 'yes' | 'no' | '—';

export interface Row {
  section: string;
  what: string;
  load: string;
  ours: string;
  slapd: string;
  ratio: string;
  target: string;
  met: Verdict;
}

export interface CpuRow {
  run: string;
  server: string;
  /** Measured window, seconds. */
  wall: number;
  ops: number;
  /** CPU seconds by process name within the window. */
  cpu: Record<string, number>;
}

export interface Header {
  date: string;
  cpus: number;
  cpuModel: string;
  node: string;
  slapd: string;
  /** FreeRADIUS version, when the RADIUS sections ran. */
  freeradius?: string;
  directory: string;
  settings: string;
}

export function fmtInt(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a';
}

/** Three significant digits, at most 3 decimals. */
export function fmtNum(n: number): string {
  if (!Number.isFinite(n)) return 'n/a';
  const abs = Math.abs(n);
  if (abs >= 100) return fmtInt(n);
  if (abs >= 10) return n.toFixed(1);
  if (abs >= 1) return n.toFixed(2);
  return n.toFixed(3);
}

export function fmtMs(us: number): string {
  return `${fmtNum(us / 1000)} ms`;
}

export function fmtRatio(r: number): string {
  return Number.isFinite(r) ? `${r.toFixed(2)}×` : 'n/a';
}

/** ours / theirs; NaN when either is missing or theirs is zero. */
export function ratio(ours: number, theirs: number): number {
  return Number.isFinite(ours) && Number.isFinite(theirs) && theirs > 0 ? ours / theirs : NaN;
}

/** At least `min` (ratio targets such as ≥1.5×). */
export function atLeast(value: number, min: number): Verdict {
  return Number.isFinite(value) ? (value >= min ? 'yes' : 'no') : '—';
}

/** At most `max` (time and size budgets). */
export function atMost(value: number, max: number): Verdict {
  return Number.isFinite(value) ? (value <= max ? 'yes' : 'no') : '—';
}

/** Throughput target of sections 1, 2 and 4: ≥0.9× slapd with one connection, ≥1.5× under concurrency. */
export function throughputTarget(conns: number): number {
  return conns <= 1 ? 0.9 : 1.5;
}

/** Nearest-rank percentile of unsorted samples. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

export function median(samples: readonly number[]): number {
  return percentile(samples, 50);
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const r of rows) lines.push(`| ${r.map(escapeCell).join(' | ')} |`);
  return lines.join('\n');
}

/** CPU seconds and share of the window: "1.23 s (98%)". */
export function fmtCpu(seconds: number | undefined, wall: number): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return '—';
  const share = wall > 0 ? ` (${Math.round((seconds / wall) * 100)}%)` : '';
  return `${seconds.toFixed(2)} s${share}`;
}

export function renderReport(header: Header, rows: readonly Row[], cpuRows: readonly CpuRow[], notes: readonly string[]): string {
  const out: string[] = [];
  out.push(`# ak-outpost vs OpenLDAP slapd${header.freeradius === undefined ? '' : ' and FreeRADIUS'}`);
  out.push('');
  out.push(`- date: ${header.date}`);
  out.push(`- machine: ${header.cpus} CPUs, ${header.cpuModel}; Node ${header.node}; slapd ${header.slapd}${header.freeradius === undefined ? '' : `; FreeRADIUS ${header.freeradius}`}`);
  out.push(`- directory: ${header.directory}`);
  out.push(`- settings: ${header.settings}`);
  out.push('');
  out.push(
    table(
      ['#', 'measurement', 'load', 'ak-outpost', 'slapd (1-6) / FreeRADIUS (7-9)', 'ours / theirs', 'target', 'met'],
      rows.map((r) => [r.section, r.what, r.load, r.ours, r.slapd, r.ratio, r.target, r.met]),
    ),
  );
  if (cpuRows.length > 0) {
    const names = [...new Set(cpuRows.flatMap((r) => Object.keys(r.cpu)))];
    out.push('');
    out.push('CPU time per process in each measured window (share of one CPU); the generator is `ldapload` (LDAP) or `radload` (RADIUS):');
    out.push('');
    out.push(
      table(
        ['run', 'server', 'window', 'ops', ...names],
        cpuRows.map((r) => [r.run, r.server, `${fmtNum(r.wall)} s`, fmtInt(r.ops), ...names.map((n) => fmtCpu(r.cpu[n], r.wall))]),
      ),
    );
  }
  if (notes.length > 0) {
    out.push('');
    notes.forEach((n, i) => out.push(`${i + 1}. ${n}`));
  }
  out.push('');
  return out.join('\n');
}
