/**
 * An ISO 8601 date-time (as Django writes them: `2026-11-23T18:13:20.891234Z`, fraction optional, `Z` or an
 * offset) as whole microseconds since the epoch, keeping the fraction digits a JavaScript Date drops (up to six;
 * more are cut); NaN when absent or invalid. Read by the outpost (password change dates) and the embedded core.
 */
export function epochMicros(iso: string | undefined): number {
  if (iso === undefined) return Number.NaN;
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) return Number.NaN;
  const fraction = /T?\d{2}:\d{2}:\d{2}\.(\d+)/.exec(iso)?.[1] ?? '';
  return Math.floor(ms / 1000) * 1_000_000 + Number(fraction.slice(0, 6).padEnd(6, '0'));
}
