// CPU reference of the fully connected layer y = x·Wᵀ + b (PyTorch nn.Linear: weight
// [out, in]) and its gradients, in plain loops independent of the matmul kernel's reference.

export interface LinearShape {
  /** Rows (batch). */
  N: number;
  /** Input features. */
  I: number;
  /** Output features. */
  O: number;
}

export function linearForward(
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  b: ArrayLike<number> | null,
  s: LinearShape,
): Float64Array {
  const y = new Float64Array(s.N * s.O);
  for (let n = 0; n < s.N; n++) {
    for (let o = 0; o < s.O; o++) {
      let sum = b ? b[o] : 0;
      for (let i = 0; i < s.I; i++) sum += x[n * s.I + i] * w[o * s.I + i];
      y[n * s.O + o] = sum;
    }
  }
  return y;
}

/** dx = dy·W, dW = dyᵀ·x, db = column sums of dy. */
export function linearBackward(
  dy: ArrayLike<number>,
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  s: LinearShape,
): { dx: Float64Array; dw: Float64Array; db: Float64Array } {
  const dx = new Float64Array(s.N * s.I),
    dw = new Float64Array(s.O * s.I),
    db = new Float64Array(s.O);
  for (let n = 0; n < s.N; n++) {
    for (let o = 0; o < s.O; o++) {
      const g = dy[n * s.O + o];
      db[o] += g;
      for (let i = 0; i < s.I; i++) {
        dx[n * s.I + i] += g * w[o * s.I + i];
        dw[o * s.I + i] += g * x[n * s.I + i];
      }
    }
  }
  return { dx, dw, db };
}

/** Bias add alone, y[n, o] + b[o] (what the GPU bias kernel does after the matmul). */
export function biasForward(
  y: ArrayLike<number>,
  b: ArrayLike<number>,
  s: { N: number; O: number },
): Float64Array {
  const out = new Float64Array(s.N * s.O);
  for (let n = 0; n < s.N; n++) {
    for (let o = 0; o < s.O; o++) out[n * s.O + o] = y[n * s.O + o] + b[o];
  }
  return out;
}

/** db[o] = Σ_n dy[n, o]. */
export function biasBackward(dy: ArrayLike<number>, s: { N: number; O: number }): Float64Array {
  const db = new Float64Array(s.O);
  for (let n = 0; n < s.N; n++) for (let o = 0; o < s.O; o++) db[o] += dy[n * s.O + o];
  return db;
}
