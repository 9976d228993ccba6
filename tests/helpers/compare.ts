// Numeric comparison for kernel and reference tests, in llm.c's validate_result style:
// on failure it prints the shape, the max error, the first mismatch and a few values.
import { getGpu } from "../../src/gpu/device.ts";

export interface CloseOptions {
  /** Absolute tolerance. */
  atol?: number;
  /** Relative tolerance (of |want|). */
  rtol?: number;
  shape?: readonly number[];
}

/** Throws unless |got − want| ≤ atol + rtol·|want| everywhere (NaN never matches). */
export function assertClose(
  name: string,
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  { atol = 1e-5, rtol = 1e-4, shape }: CloseOptions = {},
): void {
  if (got.length !== want.length) {
    throw new Error(
      `${name}: length ${got.length}, expected ${want.length}${
        shape ? ` (shape ${shape.join("×")})` : ""
      }`,
    );
  }
  let maxErr = 0, maxAt = -1, first = -1, bad = 0;
  for (let i = 0; i < got.length; i++) {
    const err = Math.abs(got[i] - want[i]);
    const ok = err <= atol + rtol * Math.abs(want[i]);
    if (!ok || Number.isNaN(err)) {
      bad++;
      if (first < 0) first = i;
    }
    if (err > maxErr || Number.isNaN(err)) {
      maxErr = Number.isNaN(err) ? NaN : err;
      maxAt = i;
    }
  }
  if (bad === 0) return;
  const around = (i: number) => {
    const lo = Math.max(0, i - 2), hi = Math.min(got.length, i + 3);
    const rows: string[] = [];
    for (let j = lo; j < hi; j++) {
      rows.push(`    [${index(j, shape)}] got ${got[j]} want ${want[j]}`);
    }
    return rows.join("\n");
  };
  throw new Error(
    `${name}: ${bad} of ${got.length} values differ${
      shape ? ` (shape ${shape.join("×")})` : ""
    }; ` +
      `max error ${maxErr} at [${index(maxAt, shape)}]; tolerance atol ${atol} rtol ${rtol}\n` +
      `  first mismatch at [${index(first, shape)}]:\n${around(first)}`,
  );
}

/** A flat index as a multi-index when the shape is known. */
function index(i: number, shape?: readonly number[]): string {
  if (!shape || i < 0) return String(i);
  const out: number[] = [];
  for (let d = shape.length - 1; d >= 0; d--) {
    out.unshift(i % shape[d]);
    i = Math.floor(i / shape[d]);
  }
  return out.join(",");
}

/** Seeded uniform values in [lo, hi), for test inputs. */
export function randomArray(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = lo + (hi - lo) * (s / 4294967296);
  }
  return out;
}

/**
 * Central finite differences of a scalar function f at x (float64): the numerical
 * gradient a reference backward is checked against.
 */
export function numericGradient(
  f: (x: Float64Array) => number,
  x: Float64Array,
  h = 1e-6,
): Float64Array {
  const g = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    x[i] = v + h;
    const fp = f(x);
    x[i] = v - h;
    const fm = f(x);
    x[i] = v;
    g[i] = (fp - fm) / (2 * h);
  }
  return g;
}

/** Whether a WebGPU adapter is present; GPU tests skip with a message when not. */
export async function hasGpu(): Promise<boolean> {
  try {
    await getGpu();
    return true;
  } catch {
    return false;
  }
}
