// CPU reference for identification scoring: probe × distractor dot products in float64 and
// each probe's K best distractors by a full stable sort (not a running merge), the ground
// truth for kernels/score_tile.wgsl and kernels/topk_merge.wgsl (src/gpu/ops/topk.ts).

/** S[r, p] = Σ_d X[r, d] · Q[p, d] in float64; X is R × D, Q is P × D, S is R × P. */
export function scoreTileRef(
  x: ArrayLike<number>,
  rows: number,
  q: ArrayLike<number>,
  probes: number,
  dim: number,
): Float64Array {
  const s = new Float64Array(rows * probes);
  for (let r = 0; r < rows; r++) {
    for (let p = 0; p < probes; p++) {
      let acc = 0;
      for (let d = 0; d < dim; d++) acc += x[r * dim + d] * q[p * dim + d];
      s[r * probes + p] = acc;
    }
  }
  return s;
}

/**
 * Each probe's K highest scores over all rows of S (R × P), descending, ties to the lower
 * row; row r is distractor `base + r`. Fewer than K rows leave −Infinity / 0xffffffff.
 */
export function topKRef(
  s: ArrayLike<number>,
  rows: number,
  probes: number,
  K: number,
  base = 0,
): { val: Float64Array; idx: Uint32Array } {
  const val = new Float64Array(probes * K).fill(-Infinity);
  const idx = new Uint32Array(probes * K).fill(0xffffffff);
  for (let p = 0; p < probes; p++) {
    const order = Array.from({ length: rows }, (_, r) => r);
    order.sort((a, b) => s[b * probes + p] - s[a * probes + p] || a - b);
    for (let k = 0; k < Math.min(K, rows); k++) {
      val[p * K + k] = s[order[k] * probes + p];
      idx[p * K + k] = base + order[k];
    }
  }
  return { val, idx };
}
