/**
 * A seeded mutation fuzzer for binary codecs: byte flips, interesting values, inserts, deletes, truncation,
 * duplication and splicing of corpus entries. AKO_FUZZ_ITERATIONS overrides the iteration count for longer runs.
 */
import { mulberry32 } from '../../src/lib/random.js';

export interface Fuzzer {
  int(n: number): number;
  pick<T>(items: readonly T[]): T;
  chance(p: number): boolean;
  /** 1-3 mutations of a copy of `input`. */
  mutate(input: Buffer): Buffer;
  bytes(length: number): Buffer;
}

export function fuzzer(seed: number, corpus: readonly Buffer[], interesting: readonly number[]): Fuzzer {
  const random = mulberry32(seed);
  const int = (n: number): number => Math.floor(random() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  const bytes = (length: number): Buffer => Buffer.from(Array.from({ length }, () => int(256)));
  const mutate = (input: Buffer): Buffer => {
    let out = Buffer.from(input);
    const mutations = 1 + int(3);
    for (let m = 0; m < mutations; m++) {
      const at = int(Math.max(out.length, 1));
      switch (int(8)) {
        case 0:
          if (out.length > 0) out[at] = out[at]! ^ (1 << int(8));
          break;
        case 1:
          if (out.length > 0) out[at] = int(256);
          break;
        case 2:
          if (out.length > 0) out[at] = pick(interesting);
          break;
        case 3:
          out = Buffer.concat([out.subarray(0, at), bytes(1 + int(4)), out.subarray(at)]);
          break;
        case 4:
          out = Buffer.concat([out.subarray(0, at), out.subarray(at + 1 + int(4))]);
          break;
        case 5:
          out = out.subarray(0, at);
          break;
        case 6:
          out = Buffer.concat([out.subarray(0, at), out.subarray(int(out.length)), out.subarray(at)]);
          break;
        default:
          out = Buffer.concat([out.subarray(0, at), pick(corpus).subarray(int(8))]);
          break;
      }
    }
    return out;
  };
  return { int, pick, chance: (p) => random() < p, mutate, bytes };
}

/** Iterations for a fuzz loop: `normal` in the suite, AKO_FUZZ_ITERATIONS when set. */
export function fuzzIterations(normal: number): number {
  const configured = Number(process.env.AKO_FUZZ_ITERATIONS);
  return Number.isInteger(configured) && configured > 0 ? configured : normal;
}

/** Runs `run`; an error other than `errorClass` fails the test with the input in hex. */
export function expectOnly(errorClass: abstract new (...args: never[]) => Error, input: Buffer, run: () => void): boolean {
  try {
    run();
    return true;
  } catch (error) {
    if (error instanceof errorClass) return false;
    throw new Error(`unexpected ${error instanceof Error ? error.stack : String(error)}\ninput: ${input.toString('hex')}`);
  }
}
