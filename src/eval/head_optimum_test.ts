import { assert, assertAlmostEquals, assertEquals } from "@std/assert";
import { headOptimum, sphereQuadraticMinimum, symmetricEigen, whiten } from "./head_optimum.ts";
import { assertClose, randomArray } from "../../tests/helpers/compare.ts";

function randomSymmetric(n: number, seed: number): Float64Array {
  const r = randomArray(n * n, seed, -1, 1), a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) a[i * n + j] = r[i * n + j] + r[j * n + i];
  }
  return a;
}

Deno.test("symmetricEigen: ascending eigenvalues, orthonormal vectors, A = V·diag·Vᵀ", () => {
  const n = 7, a = randomSymmetric(n, 1);
  const { values, vectors } = symmetricEigen(a, n);
  for (let k = 1; k < n; k++) assert(values[k - 1] <= values[k], `eigenvalues not ascending`);
  const back = new Float64Array(n * n), gram = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      for (let k = 0; k < n; k++) {
        back[i * n + j] += vectors[i * n + k] * values[k] * vectors[j * n + k];
        gram[i * n + j] += vectors[k * n + i] * vectors[k * n + j];
      }
    }
  }
  assertClose("V·diag·Vᵀ", back, a, { atol: 1e-10, shape: [n, n] });
  const eye = Array.from({ length: n * n }, (_, i) => (i % (n + 1) === 0 ? 1 : 0));
  assertClose("VᵀV", gram, eye, { atol: 1e-10, shape: [n, n] });
});

Deno.test("sphereQuadraticMinimum: no random unit vector does better, and Cw − b ∥ w", () => {
  const n = 5, values = Float64Array.from([0.2, 0.5, 1, 3, 7]);
  const beta = Float64Array.from(randomArray(n, 3, -1, 1));
  const w = sphereQuadraticMinimum(values, beta);
  const f = (v: ArrayLike<number>) => {
    let s = 0;
    for (let k = 0; k < n; k++) s += values[k] * v[k] * v[k] - 2 * beta[k] * v[k];
    return s;
  };
  assertAlmostEquals(w.reduce((s, v) => s + v * v, 0), 1, 1e-12);
  const best = f(w);
  for (let t = 0; t < 2000; t++) {
    const v = randomArray(n, 100 + t, -1, 1), len = Math.hypot(...v);
    assert(f(v.map((x) => x / len)) >= best - 1e-12, `a random direction beats the minimum`);
  }
  // Stationarity on the sphere: (C − λ)w = b for one λ below the smallest eigenvalue.
  const lam = values.map((e, k) => e - beta[k] / w[k]);
  for (const l of lam) assertAlmostEquals(l, lam[0], 1e-8);
  assert(lam[0] <= values[0]);
});

Deno.test("headOptimum: isotropic features → class-mean weights; one dominant direction pushes them off", () => {
  // Isotropic: two copies of each axis in 3-D, class = axis. C = 2I, the optimum is the axis.
  const iso = headOptimum(
    [1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 1],
    [0, 0, 1, 1, 2, 2],
    3,
    {
      centre: false,
    },
  );
  assertAlmostEquals(iso.optimalThetaDeg, 0, 1e-6);
  assertAlmostEquals(iso.classMeanThetaDeg, 0, 1e-6);
  assertAlmostEquals(iso.effectiveRank, 3, 1e-9);
  assertAlmostEquals(iso.withinCos, 1, 1e-12);
  assertAlmostEquals(iso.betweenCos, 0, 1e-12);
  // Anisotropic: every feature mostly along e0 with a small class-specific part. The class
  // mean sits near e0, but e0 is where every other class's samples are: the optimum leaves it.
  const f: number[] = [], y: number[] = [];
  for (let j = 0; j < 4; j++) {
    for (let r = 0; r < 5; r++) {
      const v = [3, 0, 0, 0, 0];
      v[1 + j] = 1 + 0.1 * r;
      f.push(...v);
      y.push(j);
    }
  }
  const an = headOptimum(f, y, 5, { centre: false });
  assert(an.classMeanThetaDeg < 20, `class-mean angle ${an.classMeanThetaDeg}`);
  assert(an.optimalThetaDeg > an.classMeanThetaDeg + 20, `optimum ${an.optimalThetaDeg}`);
  assert(an.effectiveRank < 2, `effective rank ${an.effectiveRank}`);
});

Deno.test("headOptimum: the feature-side optimum is the class direction unless the weights leave a null space", () => {
  // Three orthogonal classes in 3-D: M = I, the best feature is the class direction.
  const full = headOptimum([1, 0, 0, 0, 1, 0, 0, 0, 1], [0, 1, 2], 3, { centre: false });
  assertAlmostEquals(full.featureOptimumThetaDeg, 0, 1e-6);
  assertEquals(full.weightNullDims, 0);
  // Two classes 60° apart in 3-D: e2 is orthogonal to both weights, and the loss
  // ½[(c0 − 1)² + c1²] is least leaning into it. Brute force over the sphere agrees.
  const h = Math.sqrt(3) / 2;
  const two = headOptimum([1, 0, 0, 1, 0, 0, 0.5, h, 0, 0.5, h, 0], [0, 0, 1, 1], 3, {
    centre: false,
  });
  assertEquals(two.weightNullDims, 1);
  const w0 = [1, 0, 0], w1 = [0.5, h, 0];
  const dot = (a: number[], b: number[]) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
  let best = Infinity, bestAngle = 0;
  for (let t = 0; t <= 180; t += 0.25) {
    for (let f = 0; f < 360; f += 0.25) {
      const [st, ct] = [Math.sin((t * Math.PI) / 180), Math.cos((t * Math.PI) / 180)];
      const x = [st * Math.cos((f * Math.PI) / 180), st * Math.sin((f * Math.PI) / 180), ct];
      const loss = (dot(x, w0) - 1) ** 2 + dot(x, w1) ** 2;
      if (loss < best) [best, bestAngle] = [loss, (Math.acos(dot(x, w0)) * 180) / Math.PI];
    }
  }
  // Both classes are symmetric, so the mean angle is class 0's.
  assertAlmostEquals(two.featureOptimumThetaDeg, bestAngle, 0.5);
  assert(
    two.featureOptimumThetaDeg > 20,
    `leans into the null space: ${two.featureOptimumThetaDeg}`,
  );
});

Deno.test("whiten: covariance of the result is V·diag(λ/(λ + ridge·mean λ))·Vᵀ, identity as ridge → 0", () => {
  const N = 400, D = 4;
  // Correlated features: x = A·z with a fixed mixing matrix.
  const z = randomArray(N * D, 7, -1, 1),
    A = [3, 1, 0, 0, 0, 0.5, 0.2, 0, 1, 0, 2, 0, 0, 0, 0, 0.1];
  const x = new Float64Array(N * D);
  for (let i = 0; i < N; i++) {
    for (let p = 0; p < D; p++) {
      for (let q = 0; q < D; q++) x[i * D + p] += A[p * D + q] * z[i * D + q];
    }
  }
  const cov = (f: Float64Array) => {
    const c = new Float64Array(D * D), m = new Float64Array(D);
    for (let i = 0; i < N; i++) for (let d = 0; d < D; d++) m[d] += f[i * D + d] / N;
    for (let i = 0; i < N; i++) {
      for (let p = 0; p < D; p++) {
        for (let q = 0; q < D; q++) {
          c[p * D + q] += (f[i * D + p] - m[p]) * (f[i * D + q] - m[q]) / N;
        }
      }
    }
    return c;
  };
  const eye = Array.from({ length: D * D }, (_, i) => (i % (D + 1) === 0 ? 1 : 0));
  assertClose("whitened covariance", cov(whiten(x, D, 1e-12)), eye, { atol: 1e-6, shape: [D, D] });
  // With a ridge the spectrum is λ/(λ + r): below 1 everywhere, least on the weakest direction.
  const { values } = symmetricEigen(cov(whiten(x, D, 0.5)), D);
  const { values: raw } = symmetricEigen(cov(x), D);
  const r = 0.5 * raw.reduce((s, v) => s + v, 0) / D;
  assertClose("ridged spectrum", values, raw.map((l) => l / (l + r)), { atol: 1e-8, shape: [D] });
});
