/** Collects everything a LogRoot writes, for assertions and secret scans. */
import { Writable } from 'node:stream';
import { LogRoot } from '../../src/observability/log.js';

export class LogCapture {
  readonly lines: string[] = [];
  readonly root: LogRoot;

  constructor(level: 'trace' | 'debug' | 'info' = 'debug') {
    const lines = this.lines;
    const destination = new Writable({
      write(chunk: Buffer, _enc, cb) {
        for (const line of chunk.toString('utf8').split('\n')) if (line !== '') lines.push(line);
        cb();
      },
    });
    this.root = new LogRoot({ level, destination });
  }

  get text(): string {
    return this.lines.join('\n');
  }

  /** Secrets that appear in the logs (should be none). */
  leaked(secrets: readonly string[]): string[] {
    const text = this.text;
    return secrets.filter((s) => s !== '' && text.includes(s));
  }
}
