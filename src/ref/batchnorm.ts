// CPU reference of batch normalisation over NCHW (2-D, HW = H·W) or NC (1-D, HW = 1), in
// float64 plain loops, with PyTorch's semantics: training normalises with the biased batch
// variance and folds the unbiased one into the running variance with momentum 0.1.

export interface BatchNormShape {
  N: number;
  C: number;
  /** H·W for BatchNorm2d, 1 for BatchNorm1d. */
  HW: number;
  /** Added to the variance (PyTorch and insightface's iresnet: 1e-5). */
  eps?: number;
  /** Weight of the new batch statistic in the running averages (PyTorch: 0.1). */
  momentum?: number;
  /** Learnable γ and β (PyTorch default: true). */
  affine?: boolean;
}

export const BN_EPS = 1e-5;
export const BN_MOMENTUM = 0.1;

export interface BatchNormTrainResult {
  y: Float64Array;
  /** Batch mean per channel. */
  mean: Float64Array;
  /** 1 / sqrt(biased batch variance + eps) per channel. */
  invstd: Float64Array;
  /** Updated running averages: (1 − momentum)·old + momentum·batch (variance unbiased). */
  runningMean: Float64Array;
  runningVar: Float64Array;
}

const at = (s: BatchNormShape, n: number, c: number, i: number) => (n * s.C + c) * s.HW + i;

/** Training-mode forward with batch statistics; also updates the running averages. */
export function batchnormForward(
  x: ArrayLike<number>,
  gamma: ArrayLike<number> | null,
  beta: ArrayLike<number> | null,
  runningMean: ArrayLike<number>,
  runningVar: ArrayLike<number>,
  s: BatchNormShape,
): BatchNormTrainResult {
  const { N, C, HW } = s;
  const eps = s.eps ?? BN_EPS, momentum = s.momentum ?? BN_MOMENTUM, affine = s.affine ?? true;
  const count = N * HW;
  if (count < 2) {
    throw new Error(`batchnorm: training needs more than 1 value per channel (N·HW = ${count})`);
  }
  const y = new Float64Array(N * C * HW);
  const mean = new Float64Array(C), invstd = new Float64Array(C);
  const rm = new Float64Array(C), rv = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    let sum = 0;
    for (let n = 0; n < N; n++) for (let i = 0; i < HW; i++) sum += x[at(s, n, c, i)];
    const mu = sum / count;
    let sq = 0;
    for (let n = 0; n < N; n++) for (let i = 0; i < HW; i++) sq += (x[at(s, n, c, i)] - mu) ** 2;
    const variance = sq / count;
    const r = 1 / Math.sqrt(variance + eps);
    mean[c] = mu;
    invstd[c] = r;
    rm[c] = (1 - momentum) * runningMean[c] + momentum * mu;
    rv[c] = (1 - momentum) * runningVar[c] + momentum * (sq / (count - 1));
    const g = affine ? gamma![c] : 1, b = affine ? beta![c] : 0;
    for (let n = 0; n < N; n++) {
      for (let i = 0; i < HW; i++) {
        const k = at(s, n, c, i);
        y[k] = (x[k] - mu) * r * g + b;
      }
    }
  }
  return { y, mean, invstd, runningMean: rm, runningVar: rv };
}

/** Inference-mode forward with the running statistics. */
export function batchnormInference(
  x: ArrayLike<number>,
  gamma: ArrayLike<number> | null,
  beta: ArrayLike<number> | null,
  runningMean: ArrayLike<number>,
  runningVar: ArrayLike<number>,
  s: BatchNormShape,
): Float64Array {
  const { N, C, HW } = s;
  const eps = s.eps ?? BN_EPS, affine = s.affine ?? true;
  const y = new Float64Array(N * C * HW);
  for (let c = 0; c < C; c++) {
    const r = 1 / Math.sqrt(runningVar[c] + eps);
    const g = affine ? gamma![c] : 1, b = affine ? beta![c] : 0;
    for (let n = 0; n < N; n++) {
      for (let i = 0; i < HW; i++) {
        const k = at(s, n, c, i);
        y[k] = (x[k] - runningMean[c]) * r * g + b;
      }
    }
  }
  return y;
}

export interface BatchNormGrads {
  dx: Float64Array;
  /** Zero-length when not affine. */
  dgamma: Float64Array;
  dbeta: Float64Array;
}

/**
 * Training-mode backward: dβ = Σ dy, dγ = Σ dy·x̂,
 * dx = γ·invstd·(dy − dβ/m − x̂·dγ/m) with m = N·HW (the batch statistics depend on x).
 */
export function batchnormBackward(
  dy: ArrayLike<number>,
  x: ArrayLike<number>,
  gamma: ArrayLike<number> | null,
  mean: ArrayLike<number>,
  invstd: ArrayLike<number>,
  s: BatchNormShape,
): BatchNormGrads {
  const { N, C, HW } = s;
  const affine = s.affine ?? true;
  const count = N * HW;
  const dx = new Float64Array(N * C * HW);
  const dgamma = new Float64Array(affine ? C : 0), dbeta = new Float64Array(affine ? C : 0);
  for (let c = 0; c < C; c++) {
    let sumDy = 0, sumDyXhat = 0;
    for (let n = 0; n < N; n++) {
      for (let i = 0; i < HW; i++) {
        const k = at(s, n, c, i);
        sumDy += dy[k];
        sumDyXhat += dy[k] * (x[k] - mean[c]) * invstd[c];
      }
    }
    if (affine) {
      dgamma[c] = sumDyXhat;
      dbeta[c] = sumDy;
    }
    const g = affine ? gamma![c] : 1;
    for (let n = 0; n < N; n++) {
      for (let i = 0; i < HW; i++) {
        const k = at(s, n, c, i);
        const xhat = (x[k] - mean[c]) * invstd[c];
        dx[k] = g * invstd[c] * (dy[k] - sumDy / count - xhat * sumDyXhat / count);
      }
    }
  }
  return { dx, dgamma, dbeta };
}
