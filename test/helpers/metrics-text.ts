import assert from 'node:assert/strict';

/** Sum of the samples of one metric in a Prometheus exposition whose labels include `labels`. */
export function metricSum(exposition: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of exposition.split('\n')) {
    if (!line.startsWith(name + '{') && !line.startsWith(name + ' ')) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Parsed {
  help: Map<string, string>;
  type: Map<string, string>;
  samples: Sample[];
}

/** A strict reader of the text format: anything it does not understand fails the test. */
export function parseExposition(text: string): Parsed {
  const out: Parsed = { help: new Map(), type: new Map(), samples: [] };
  assert.ok(text.endsWith('\n'), 'exposition ends with a newline');
  for (const line of text.split('\n')) {
    if (line === '') continue;
    let m = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (m) {
      out.help.set(m[1] as string, (m[2] as string).replace(/\\n/g, '\n').replace(/\\\\/g, '\\'));
      continue;
    }
    m = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary)$/.exec(line);
    if (m) {
      out.type.set(m[1] as string, m[2] as string);
      continue;
    }
    m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$/.exec(line);
    assert.ok(m, `unparseable line: ${line}`);
    const labels: Record<string, string> = {};
    const body = m[2]?.slice(1, -1) ?? '';
    let i = 0;
    while (i < body.length) {
      const lm = /^([a-zA-Z_][a-zA-Z0-9_]*)="/.exec(body.slice(i));
      assert.ok(lm, `bad labels in: ${line}`);
      i += lm[0].length;
      let value = '';
      for (;;) {
        const c = body[i];
        assert.ok(c !== undefined, `unterminated label in: ${line}`);
        if (c === '\\') {
          const n = body[i + 1];
          value += n === 'n' ? '\n' : n;
          i += 2;
        } else if (c === '"') {
          i += 1;
          break;
        } else {
          value += c;
          i += 1;
        }
      }
      labels[lm[1] as string] = value;
      if (body[i] === ',') i += 1;
    }
    const raw = m[3] as string;
    const value = raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw);
    // prom-client writes NaN as `Nan`; Prometheus reads floats with Go's ParseFloat, which ignores the case of NaN.
    assert.ok(!Number.isNaN(value) || raw.toLowerCase() === 'nan', `bad value in: ${line}`);
    out.samples.push({ name: m[1] as string, labels, value });
  }
  return out;
}
