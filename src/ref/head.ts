// CPU reference of the cosine head (float64 plain loops): cos θ_ij = <x_i, W_j>/(|x_i||W_j|)
// with both norms guarded by eps, and the shared backward of DESIGN §1 written literally:
//   G_x_i = Σ_j g_ij (Ŵ_j − cos_ij x̂_i)/|x_i|,   G_W_j = Σ_i g_ij (x̂_i − cos_ij Ŵ_j)/|W_j|
// where g = dL/dcos comes from the head's loss (src/train/heads.ts). Also the training
// statistics the GPU writes into its stats tensor.
import { type Head, headLoss, HEADS, STATS, STATS_SIZE } from "../train/heads.ts";

export interface HeadShape {
  /** Batch rows. */
  N: number;
  /** Embedding dimension. */
  D: number;
  /** Classes. */
  K: number;
  /** Guard on |x| and |W| (PyTorch F.normalize: 1e-12). */
  eps?: number;
}

export const HEAD_EPS = 1e-12;

/** cos (N×K) and the norms |x| (N) and |W| (K). */
export function cosineForward(
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  s: HeadShape,
): { cos: Float64Array; normX: Float64Array; normW: Float64Array } {
  const { N, D, K } = s;
  const eps = s.eps ?? HEAD_EPS;
  const normX = rowNorms(x, N, D), normW = rowNorms(w, K, D);
  const cos = new Float64Array(N * K);
  for (let i = 0; i < N; i++) {
    for (let j = 0; j < K; j++) {
      let dot = 0;
      for (let d = 0; d < D; d++) dot += x[i * D + d] * w[j * D + d];
      cos[i * K + j] = dot / (Math.max(normX[i], eps) * Math.max(normW[j], eps));
    }
  }
  return { cos, normX, normW };
}

function rowNorms(a: ArrayLike<number>, R: number, D: number): Float64Array {
  const out = new Float64Array(R);
  for (let r = 0; r < R; r++) {
    let sq = 0;
    for (let d = 0; d < D; d++) sq += a[r * D + d] ** 2;
    out[r] = Math.sqrt(sq);
  }
  return out;
}

/**
 * The feature and class-weight gradients from g = dL/dcos, by DESIGN §1's formula:
 * (g·Ŵ − rowsum(g∘cos)·x̂)/|x| and (gᵀ·X̂ − colsum(g∘cos)·Ŵ)/|W|. Rows whose norm is under
 * the guard use the derivative of x/eps instead (no normalisation term).
 */
export function cosineBackward(
  g: ArrayLike<number>,
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  s: HeadShape,
): { dx: Float64Array; dw: Float64Array } {
  const { N, D, K } = s;
  const eps = s.eps ?? HEAD_EPS;
  const { cos, normX, normW } = cosineForward(x, w, s);
  const nx = (i: number) => Math.max(normX[i], eps), nw = (j: number) => Math.max(normW[j], eps);
  const dx = new Float64Array(N * D), dw = new Float64Array(K * D);
  for (let i = 0; i < N; i++) {
    let rowsum = 0;
    for (let j = 0; j < K; j++) rowsum += g[i * K + j] * cos[i * K + j];
    const project = normX[i] > eps ? 1 : 0;
    for (let d = 0; d < D; d++) {
      let gw = 0;
      for (let j = 0; j < K; j++) gw += g[i * K + j] * w[j * D + d] / nw(j);
      dx[i * D + d] = (gw - project * rowsum * x[i * D + d] / nx(i)) / nx(i);
    }
  }
  for (let j = 0; j < K; j++) {
    let colsum = 0;
    for (let i = 0; i < N; i++) colsum += g[i * K + j] * cos[i * K + j];
    const project = normW[j] > eps ? 1 : 0;
    for (let d = 0; d < D; d++) {
      let gx = 0;
      for (let i = 0; i < N; i++) gx += g[i * K + j] * x[i * D + d] / nx(i);
      dw[j * D + d] = (gx - project * colsum * w[j * D + d] / nw(j)) / nw(j);
    }
  }
  return { dx, dw };
}

/**
 * The whole cosine head in one call: forward, loss, gradient through the directions, and the
 * statistics vector (STATS indices; featureGradNorm = Frobenius norm of dx).
 */
export function cosineHead(
  h: Head,
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  labels: ArrayLike<number>,
  s: HeadShape,
): {
  loss: number;
  cos: Float64Array;
  dcos: Float64Array;
  dx: Float64Array;
  dw: Float64Array;
  stats: Float64Array;
} {
  if (!HEADS[h.name].normalised) throw new Error(`cosineHead: head ${h.name} is not a cosine head`);
  const { cos } = cosineForward(x, w, s);
  const { loss, dcos } = headLoss(h, cos, labels, s.N, s.K);
  const { dx, dw } = cosineBackward(dcos, x, w, s);
  const stats = headStats(loss, cos, labels, dx, s.N, s.K, true);
  return { loss, cos, dcos, dx, dw, stats };
}

/**
 * The statistics vector: loss, mean target angle (degrees), mean non-target cosine, mean
 * target cosine over rows with a valid label, and |dx|_F. Angles are NaN for the softmax head.
 */
export function headStats(
  loss: number,
  cos: ArrayLike<number>,
  labels: ArrayLike<number>,
  dx: ArrayLike<number>,
  N: number,
  K: number,
  normalised: boolean,
): Float64Array {
  const out = new Float64Array(STATS_SIZE);
  out[STATS.loss] = loss;
  let valid = 0, theta = 0, target = 0, nontarget = 0;
  for (let i = 0; i < N; i++) {
    const y = labels[i];
    if (!(Number.isInteger(y) && y >= 0 && y < K)) continue;
    valid++;
    const c = cos[i * K + y];
    target += c;
    theta += (Math.acos(Math.min(1, Math.max(-1, c))) * 180) / Math.PI;
    for (let j = 0; j < K; j++) if (j !== y) nontarget += cos[i * K + j];
  }
  out[STATS.thetaTargetDeg] = normalised ? theta / valid : NaN;
  out[STATS.cosNonTarget] = normalised ? nontarget / (valid * (K - 1)) : NaN;
  out[STATS.cosTarget] = normalised ? target / valid : NaN;
  let sq = 0;
  for (let i = 0; i < dx.length; i++) sq += dx[i] * dx[i];
  out[STATS.featureGradNorm] = Math.sqrt(sq);
  return out;
}
