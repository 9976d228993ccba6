// CPU reference of row-wise L2 normalisation (torch.nn.functional.normalize): for each of
// R rows of D values, y = x / max(|x|, eps), with the norms |x| returned for the embeddings
// stream's `norm` column and for the backward pass.

export interface L2NormShape {
  R: number;
  D: number;
  /** Guard on the norm (PyTorch F.normalize: 1e-12). */
  eps?: number;
}

export const L2_EPS = 1e-12;

export function l2normForward(
  x: ArrayLike<number>,
  s: L2NormShape,
): { y: Float64Array; norms: Float64Array } {
  const eps = s.eps ?? L2_EPS;
  const y = new Float64Array(s.R * s.D), norms = new Float64Array(s.R);
  for (let r = 0; r < s.R; r++) {
    let sq = 0;
    for (let d = 0; d < s.D; d++) sq += x[r * s.D + d] ** 2;
    const norm = Math.sqrt(sq);
    norms[r] = norm;
    const inv = 1 / Math.max(norm, eps);
    for (let d = 0; d < s.D; d++) y[r * s.D + d] = x[r * s.D + d] * inv;
  }
  return { y, norms };
}

/**
 * dx = (dy − (dy·x̂)·x̂) / |x| where |x| > eps (the gradient is tangent to the sphere);
 * dx = dy / eps where the guard is active (y = x / eps is linear there).
 */
export function l2normBackward(
  dy: ArrayLike<number>,
  x: ArrayLike<number>,
  norms: ArrayLike<number>,
  s: L2NormShape,
): Float64Array {
  const eps = s.eps ?? L2_EPS;
  const dx = new Float64Array(s.R * s.D);
  for (let r = 0; r < s.R; r++) {
    const norm = norms[r];
    if (norm <= eps) {
      for (let d = 0; d < s.D; d++) dx[r * s.D + d] = dy[r * s.D + d] / eps;
      continue;
    }
    let dot = 0;
    for (let d = 0; d < s.D; d++) dot += dy[r * s.D + d] * x[r * s.D + d] / norm;
    for (let d = 0; d < s.D; d++) {
      const xhat = x[r * s.D + d] / norm;
      dx[r * s.D + d] = (dy[r * s.D + d] - dot * xhat) / norm;
    }
  }
  return dx;
}
