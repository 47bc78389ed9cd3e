/**
 * authentik's duration strings ("seconds=0", "hours=1;minutes=30", "weeks=-1"): `;`-separated `key=number`
 * pairs summed like Python's timedelta(**kwargs). Unknown keys and malformed pairs are errors here (authentik's
 * API validator rejects them too), so a typo in the directory file is reported at load.
 */
const UNIT_MS: Readonly<Record<string, number>> = {
  weeks: 7 * 24 * 3600 * 1000,
  days: 24 * 3600 * 1000,
  hours: 3600 * 1000,
  minutes: 60 * 1000,
  seconds: 1000,
  milliseconds: 1,
  microseconds: 0.001,
};

/** Milliseconds for a duration string; throws RangeError with a short reason on malformed input. */
export function parseTimedelta(text: string): number {
  let total = 0;
  let pairs = 0;
  for (const pair of text.split(';')) {
    if (pair.trim() === '') continue;
    const eq = pair.indexOf('=');
    if (eq < 0) throw new RangeError(`"${pair}" is not key=value`);
    const key = pair.slice(0, eq).trim().toLowerCase();
    const valueText = pair.slice(eq + 1).trim();
    const unit = UNIT_MS[key];
    if (unit === undefined) throw new RangeError(`unknown unit "${key}"`);
    if (!/^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(valueText)) throw new RangeError(`"${valueText}" is not a number`);
    total += Number(valueText) * unit;
    pairs++;
  }
  if (pairs === 0) throw new RangeError('no duration given');
  if (!Number.isFinite(total)) throw new RangeError('duration out of range');
  return Math.round(total);
}
