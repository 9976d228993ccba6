// What the P2SGrad objective asks of the class weights when the features are held fixed.
//
// P2SGrad's gradient is that of L = ½ Σ_i Σ_j (cos θ_ij − δ_ij)². For fixed unit features x̂_i,
// class j's part depends on its unit direction w alone:
//
//   L_j(w) = ½ (wᵀ C w − 2 bᵀ w + n_j),   C = Σ_i x̂_i x̂_iᵀ,   b = Σ_{i: y_i = j} x̂_i,
//
// so the best w minimises wᵀCw − 2bᵀw on the unit sphere: w = (C − λI)⁻¹ b with the λ below
// C's smallest eigenvalue that makes |w| = 1 (the trust-region secular equation). When C is
// isotropic that is the class-mean direction b̂; when the features fill few directions, the
// non-target term (wᵀCw, summed over every other class's samples) pushes w out of them, and
// the best target angle stays near 90° however well the features separate the classes.
// Comparing the two angles on a trained model's embeddings shows whether a P2SGrad head can
// fit those features at all. Plain float64 loops (D ≤ a few thousand).

export interface HeadOptimum {
  /** Mean over samples of the angle (degrees) to their class's P2SGrad-optimal weight. */
  optimalThetaDeg: number;
  /** The same with each class weight on its class-mean direction. */
  classMeanThetaDeg: number;
  /** exp(entropy) of C's eigenvalue shares: how many directions the features fill. */
  effectiveRank: number;
  /**
   * The feature side, with the class weights on the class means m̂_k: for each class the unit
   * feature x̂ that minimises a sample's P2SGrad loss ½ Σ_k (x̂·m̂_k − δ_jk)², i.e.
   * x̂ᵀMx̂ − 2m̂_jᵀx̂ with M = Σ_k m̂_k m̂_kᵀ, and the mean over classes of its angle to m̂_j.
   * When M is isotropic (class weights spread over every direction) x̂ = m̂_j (0°); when M has
   * a null space (fewer classes than dimensions, or weights in few directions) the optimum
   * leans into it, orthogonal to every class, and the angle nears 90°.
   */
  featureOptimumThetaDeg: number;
  /** Directions orthogonal to every class-mean weight (M's null space; at least D − K). */
  weightNullDims: number;
  /** Mean cosine between samples of one class, and between samples of different classes. */
  withinCos: number;
  betweenCos: number;
  /** The optimal unit class weights, K × D row-major (classes without samples: zero rows). */
  weights: Float64Array;
}

/**
 * Eigen-decomposition of a symmetric n×n matrix (row-major) by cyclic Jacobi rotations:
 * eigenvalues ascending and the matching eigenvectors as the columns of `vectors`.
 */
export function symmetricEigen(
  matrix: ArrayLike<number>,
  n: number,
): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(matrix);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0, total = 0;
    for (let p = 0; p < n; p++) {
      for (let q = 0; q < n; q++) {
        const x = a[p * n + q] * a[p * n + q];
        total += x;
        if (p !== q) off += x;
      }
    }
    if (off <= 1e-30 * total) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q];
        if (apq === 0) continue;
        const theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1), s = t * c;
        for (let k = 0; k < n; k++) { // rows p and q of A·J
          const akp = a[k * n + p], akq = a[k * n + q];
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) { // then Jᵀ·(A·J)
          const apk = a[p * n + k], aqk = a[q * n + k];
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p], vkq = v[k * n + q];
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => a[i * n + i] - a[j * n + j]);
  const values = Float64Array.from(order, (i) => a[i * n + i]);
  const vectors = new Float64Array(n * n);
  order.forEach((src, dst) => {
    for (let k = 0; k < n; k++) vectors[k * n + dst] = v[k * n + src];
  });
  return { values, vectors };
}

/**
 * argmin over unit w of wᵀCw − 2bᵀw, given C's eigenvalues (ascending) and b in C's
 * eigenbasis (β = Uᵀb): returns the coefficients of w in that basis.
 */
export function sphereQuadraticMinimum(values: Float64Array, beta: Float64Array): Float64Array {
  const n = values.length;
  const norm2 = (lam: number) => {
    let s = 0;
    for (let k = 0; k < n; k++) s += (beta[k] / (values[k] - lam)) ** 2;
    return s;
  };
  let bnorm = 0;
  for (let k = 0; k < n; k++) bnorm += beta[k] * beta[k];
  bnorm = Math.sqrt(bnorm);
  // |w(λ)| grows from 0 (λ → −∞) to ∞ (λ → e_min) when β has weight on e_min: bisect.
  let hi = values[0], lo = values[0] - bnorm - 1;
  for (let it = 0; it < 200; it++) {
    const mid = (lo + hi) / 2;
    if (mid === lo || mid === hi) break;
    if (norm2(mid) > 1) hi = mid;
    else lo = mid;
  }
  const w = Float64Array.from(beta, (b, k) => b / (values[k] - lo));
  // Hard case (β ⟂ e_min): |w| < 1 at λ = e_min; fill the rest along e_min.
  const r = norm2(lo);
  if (r < 1 - 1e-9) w[0] += Math.sqrt(1 - r);
  let len = 0;
  for (let k = 0; k < n; k++) len += w[k] * w[k];
  len = Math.sqrt(len);
  for (let k = 0; k < n; k++) w[k] /= len;
  return w;
}

/**
 * The P2SGrad-optimal class weights for fixed features (N × D row-major, any scale) and
 * dense labels 0..K−1. `centre` subtracts the mean feature first, as training-mode batch
 * normalisation of the embedding does.
 */
export function headOptimum(
  features: ArrayLike<number>,
  labels: ArrayLike<number>,
  D: number,
  opts: { centre?: boolean } = {},
): HeadOptimum {
  const N = labels.length;
  if (features.length !== N * D) {
    throw new Error(`headOptimum: ${features.length} feature values for ${N} labels of dim ${D}`);
  }
  let K = 0;
  for (let i = 0; i < N; i++) K = Math.max(K, labels[i] + 1);
  const x = Float64Array.from(features);
  if (opts.centre ?? true) centreRows(x, D);
  for (let i = 0; i < N; i++) {
    let s = 0;
    for (let d = 0; d < D; d++) s += x[i * D + d] ** 2;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let d = 0; d < D; d++) x[i * D + d] *= inv;
  }
  const C = scatter(x, D);
  const b = new Float64Array(K * D), counts = new Float64Array(K);
  for (let i = 0; i < N; i++) {
    counts[labels[i]]++;
    for (let d = 0; d < D; d++) b[labels[i] * D + d] += x[i * D + d];
  }
  const { values, vectors } = symmetricEigen(C, D);
  const weights = new Float64Array(K * D), means = new Float64Array(K * D);
  const beta = new Float64Array(D);
  for (let j = 0; j < K; j++) {
    if (counts[j] === 0) continue;
    inEigenbasis(vectors, b.subarray(j * D, (j + 1) * D), beta);
    const coef = sphereQuadraticMinimum(values, beta);
    let bl = 0;
    for (let d = 0; d < D; d++) bl += b[j * D + d] ** 2;
    bl = Math.sqrt(bl) || 1;
    fromEigenbasis(vectors, coef, weights.subarray(j * D, (j + 1) * D));
    for (let d = 0; d < D; d++) means[j * D + d] = b[j * D + d] / bl;
  }
  const angle = (w: Float64Array) => {
    let sum = 0;
    for (let i = 0; i < N; i++) {
      let c = 0;
      for (let d = 0; d < D; d++) c += w[labels[i] * D + d] * x[i * D + d];
      sum += (Math.acos(Math.max(-1, Math.min(1, c))) * 180) / Math.PI;
    }
    return sum / N;
  };
  let trace = 0, entropy = 0;
  for (const e of values) trace += Math.max(e, 0);
  for (const e of values) {
    const p = Math.max(e, 0) / trace;
    if (p > 0) entropy -= p * Math.log(p);
  }
  // Mean within- and between-class cosine from class sums: Σ_{i,i'} x̂_i·x̂_i' = |Σ x̂|².
  let all = 0, same = 0, sameCount = 0;
  const total = new Float64Array(D);
  for (let j = 0; j < K; j++) {
    let s = 0;
    for (let d = 0; d < D; d++) {
      s += b[j * D + d] ** 2;
      total[d] += b[j * D + d];
    }
    same += s - counts[j]; // drop i = i'
    sameCount += counts[j] * (counts[j] - 1);
  }
  for (let d = 0; d < D; d++) all += total[d] ** 2;
  const betweenCount = N * N - N - sameCount;
  const feature = featureOptimum(means, counts, D);
  return {
    optimalThetaDeg: angle(weights),
    classMeanThetaDeg: angle(means),
    effectiveRank: Math.exp(entropy),
    featureOptimumThetaDeg: feature.thetaDeg,
    weightNullDims: feature.nullDims,
    withinCos: sameCount > 0 ? same / sameCount : NaN,
    betweenCos: betweenCount > 0 ? (all - N - same) / betweenCount : NaN,
    weights,
  };
}

/** The feature-side optimum of HeadOptimum (unit class directions K × D; empty classes skipped). */
function featureOptimum(
  directions: Float64Array,
  counts: Float64Array,
  D: number,
): { thetaDeg: number; nullDims: number } {
  const K = counts.length;
  const M = new Float64Array(D * D);
  for (let k = 0; k < K; k++) {
    if (counts[k] === 0) continue;
    for (let p = 0; p < D; p++) {
      const mp = directions[k * D + p];
      for (let q = 0; q < D; q++) M[p * D + q] += mp * directions[k * D + q];
    }
  }
  const { values, vectors } = symmetricEigen(M, D);
  const top = Math.max(...values);
  const nullDims = values.filter((e) => e <= 1e-9 * top).length;
  let angle = 0, present = 0;
  const beta = new Float64Array(D);
  for (let j = 0; j < K; j++) {
    if (counts[j] === 0) continue;
    inEigenbasis(vectors, directions.subarray(j * D, (j + 1) * D), beta);
    // m̂_j·x̂ in the eigenbasis is β·coef (the basis is orthonormal).
    const coef = sphereQuadraticMinimum(values, beta);
    let c = 0;
    for (let k = 0; k < D; k++) c += beta[k] * coef[k];
    angle += (Math.acos(Math.max(-1, Math.min(1, c))) * 180) / Math.PI;
    present++;
  }
  return { thetaDeg: angle / present, nullDims };
}

/** out = Vᵀv: the coordinates of v in the orthonormal eigenvectors (the columns of `vectors`). */
function inEigenbasis(vectors: Float64Array, v: Float64Array, out: Float64Array): void {
  const D = v.length;
  out.fill(0);
  for (let k = 0; k < D; k++) {
    for (let d = 0; d < D; d++) out[k] += vectors[d * D + k] * v[d];
  }
}

/** out = V·c: the vector whose coordinates in the eigenvectors are c. */
function fromEigenbasis(vectors: Float64Array, c: Float64Array, out: Float64Array): void {
  const D = c.length;
  for (let d = 0; d < D; d++) {
    let s = 0;
    for (let k = 0; k < D; k++) s += vectors[d * D + k] * c[k];
    out[d] = s;
  }
}

/** Subtracts the mean row from each of the rows (D values each) of x, in place. */
function centreRows(x: Float64Array, D: number): void {
  const N = x.length / D, mean = new Float64Array(D);
  for (let i = 0; i < N; i++) for (let d = 0; d < D; d++) mean[d] += x[i * D + d] / N;
  for (let i = 0; i < N; i++) for (let d = 0; d < D; d++) x[i * D + d] -= mean[d];
}

/** Σ_i x_i x_iᵀ over the rows of x (D × D, symmetric). */
function scatter(x: Float64Array, D: number): Float64Array {
  const N = x.length / D, C = new Float64Array(D * D);
  for (let i = 0; i < N; i++) {
    for (let p = 0; p < D; p++) {
      const xp = x[i * D + p];
      if (xp === 0) continue;
      for (let q = p; q < D; q++) C[p * D + q] += xp * x[i * D + q];
    }
  }
  for (let p = 0; p < D; p++) for (let q = 0; q < p; q++) C[p * D + q] = C[q * D + p];
  return C;
}

/**
 * ZCA whitening of the rows (D values each) of `features`: V·diag(1/√(λ + ridge·mean λ))·Vᵀ
 * (x − mean), with λ, V the eigen-decomposition of their covariance. What the P2SGrad optimum
 * of `headOptimum` would be if the embedding were decorrelated (the isotropic regime).
 */
export function whiten(features: ArrayLike<number>, D: number, ridge: number): Float64Array {
  const N = features.length / D;
  const x = Float64Array.from(features);
  centreRows(x, D);
  const { values, vectors } = symmetricEigen(scatter(x, D).map((v) => v / N), D);
  const meanValue = values.reduce((s, v) => s + Math.max(v, 0), 0) / D;
  const scale = values.map((v) => 1 / Math.sqrt(Math.max(v, 0) + ridge * meanValue));
  const out = new Float64Array(N * D), coords = new Float64Array(D);
  for (let i = 0; i < N; i++) {
    inEigenbasis(vectors, x.subarray(i * D, (i + 1) * D), coords);
    for (let k = 0; k < D; k++) coords[k] *= scale[k];
    fromEigenbasis(vectors, coords, out.subarray(i * D, (i + 1) * D));
  }
  return out;
}
