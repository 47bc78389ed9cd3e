/**
 * Returns the garbage of a big one-off job (the first directory load) to the OS at once. V8 otherwise keeps it
 * until a full collection it may not run for a long time on an idle outpost: at 100,000 users that is ~90 MB of
 * parsed pages and intermediate entries still counted in RSS. Needs node's --expose-gc (`npm start` passes it);
 * without it this does nothing.
 */
export function collectGarbageIfExposed(): boolean {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (typeof gc !== 'function') return false;
  gc();
  return true;
}
