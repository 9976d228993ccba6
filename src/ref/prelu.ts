// CPU reference of PReLU with one slope per channel (PyTorch nn.PReLU(C)), NCHW or NC
// (HW = 1): y = x for x > 0, a_c·x otherwise.

export interface PreluShape {
  N: number;
  C: number;
  /** H·W (1 for [N, C] inputs). */
  HW: number;
}

export function preluForward(
  x: ArrayLike<number>,
  slope: ArrayLike<number>,
  s: PreluShape,
): Float64Array {
  const y = new Float64Array(s.N * s.C * s.HW);
  for (let n = 0; n < s.N; n++) {
    for (let c = 0; c < s.C; c++) {
      for (let i = 0; i < s.HW; i++) {
        const k = (n * s.C + c) * s.HW + i;
        y[k] = x[k] > 0 ? x[k] : slope[c] * x[k];
      }
    }
  }
  return y;
}

/** dx = dy where x > 0 else a_c·dy; da_c = Σ over x ≤ 0 of dy·x. */
export function preluBackward(
  dy: ArrayLike<number>,
  x: ArrayLike<number>,
  slope: ArrayLike<number>,
  s: PreluShape,
): { dx: Float64Array; dslope: Float64Array } {
  const dx = new Float64Array(s.N * s.C * s.HW);
  const dslope = new Float64Array(s.C);
  for (let n = 0; n < s.N; n++) {
    for (let c = 0; c < s.C; c++) {
      for (let i = 0; i < s.HW; i++) {
        const k = (n * s.C + c) * s.HW + i;
        if (x[k] > 0) {
          dx[k] = dy[k];
        } else {
          dx[k] = slope[c] * dy[k];
          dslope[c] += dy[k] * x[k];
        }
      }
    }
  }
  return { dx, dslope };
}
