// CPU reference of global average pooling NCHW → NC (flattened: the [N, C, 1, 1] output
// is already the [N, C] matrix a fully connected layer reads).

export interface PoolShape {
  N: number;
  C: number;
  /** H·W of the input. */
  HW: number;
}

export function poolForward(x: ArrayLike<number>, s: PoolShape): Float64Array {
  const y = new Float64Array(s.N * s.C);
  for (let r = 0; r < s.N * s.C; r++) {
    let sum = 0;
    for (let i = 0; i < s.HW; i++) sum += x[r * s.HW + i];
    y[r] = sum / s.HW;
  }
  return y;
}

/** Each input position gets dy / HW of its (n, c). */
export function poolBackward(dy: ArrayLike<number>, s: PoolShape): Float64Array {
  const dx = new Float64Array(s.N * s.C * s.HW);
  for (let r = 0; r < s.N * s.C; r++) {
    for (let i = 0; i < s.HW; i++) dx[r * s.HW + i] = dy[r] / s.HW;
  }
  return dx;
}
