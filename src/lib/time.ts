/**
 * An ISO 8601 date-time (as Django writes them: `2026-11-23T18:13:20.891234Z`, fraction optional, `Z` or an
 * offset) as whole microseconds since the epoch, keeping the digits Date.parse drops; NaN when absent or invalid.
 */
export function epochMicros(iso: string | undefined): number {
  if (iso === undefined || iso.length < 19) return Number.NaN;
  let end = 19;
  let micros = 0;
  if (iso.charCodeAt(19) === 0x2e) {
    end = 20;
    let scale = 100_000;
    while (end < iso.length) {
      const digit = iso.charCodeAt(end) - 0x30;
      if (digit < 0 || digit > 9) break;
      micros += digit * scale;
      scale /= 10;
      end++;
    }
    micros = Math.floor(micros);
  }
  const ms = Date.parse(iso.slice(0, 19) + iso.slice(end));
  return Number.isFinite(ms) ? ms * 1000 + micros : Number.NaN;
}
