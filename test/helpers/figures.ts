/**
 * Figures a test measured (inputs tried, time to recover, memory before and after), collected across the test
 * processes into the file scripts/run-tests.mjs names in AKO_FIGURES_FILE and printed at the end of the run.
 * Figures are reported, never asserted against a clock.
 */
import { appendFileSync } from 'node:fs';

export function figure(suite: string, name: string, value: string | number): void {
  const file = process.env['AKO_FIGURES_FILE'];
  if (file === undefined || file === '') return;
  appendFileSync(file, `${JSON.stringify({ suite, name, value })}\n`);
}
