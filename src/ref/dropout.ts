// CPU reference of inverted dropout with a counter-based mask: element i of step t is kept
// when hash32(seed, t, i, salt) ≥ ceil(p·2³²), and kept values are scaled by 1/(1 − p).
// The mask is a pure function of (seed, step, index, salt), so the GPU kernel recomputes it
// in the backward pass and a resumed run draws the same masks without saved state.
import { hash32 } from "../util/random.ts";

export interface DropoutShape {
  /** Drop probability in [0, 1). */
  p: number;
  seed: number;
  /** Distinguishes dropout layers of one network (each gets its own mask). */
  salt?: number;
}

/** The u32 threshold the hash is compared with: keep when hash ≥ threshold. */
export function dropoutThreshold(p: number): number {
  if (!(p >= 0 && p < 1)) throw new Error(`dropout: p must be in [0, 1), got ${p}`);
  return Math.min(4294967295, Math.ceil(p * 4294967296));
}

/** The keep mask (1 kept, 0 dropped) of `n` elements at `step`. */
export function dropoutMask(n: number, step: number, s: DropoutShape): Uint8Array {
  const threshold = dropoutThreshold(s.p);
  const mask = new Uint8Array(n);
  for (let i = 0; i < n; i++) mask[i] = hash32(s.seed, step, i, s.salt ?? 0) >= threshold ? 1 : 0;
  return mask;
}

export function dropoutForward(x: ArrayLike<number>, step: number, s: DropoutShape): Float64Array {
  const mask = dropoutMask(x.length, step, s);
  const scale = 1 / (1 - s.p);
  const y = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) y[i] = mask[i] ? x[i] * scale : 0;
  return y;
}

/** The same mask and scale applied to the incoming gradient. */
export function dropoutBackward(
  dy: ArrayLike<number>,
  step: number,
  s: DropoutShape,
): Float64Array {
  return dropoutForward(dy, step, s);
}
