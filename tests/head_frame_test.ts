// The fixed class-weight frame (`--class-weights fixed`): unit rows; orthonormal rows when
// K ≤ D; nearly a tight frame (Σ_j Ŵ_j Ŵ_jᵀ ≈ (K/D)·I) when K > D; seeded.
import { assert, assertEquals, assertNotEquals } from "@std/assert";
import { frameHeadWeights } from "../src/gpu/ops/head.ts";

function dot(w: Float32Array, D: number, a: number, b: number): number {
  let s = 0;
  for (let d = 0; d < D; d++) s += w[a * D + d] * w[b * D + d];
  return s;
}

/** Σ_k w_k w_kᵀ (D×D, float64). */
function frameOperator(w: Float32Array, K: number, D: number): Float64Array {
  const m = new Float64Array(D * D);
  for (let k = 0; k < K; k++) {
    for (let a = 0; a < D; a++) {
      for (let b = 0; b < D; b++) m[a * D + b] += w[k * D + a] * w[k * D + b];
    }
  }
  return m;
}

Deno.test("frame: K ≤ D gives orthonormal rows", () => {
  for (const [K, D] of [[5, 12], [7, 7], [1, 3]]) {
    const w = frameHeadWeights(K, D, 4);
    for (let a = 0; a < K; a++) {
      for (let b = 0; b < K; b++) {
        const want = a === b ? 1 : 0;
        assert(
          Math.abs(dot(w, D, a, b) - want) < 1e-6,
          `K ${K} D ${D}: <w${a}, w${b}> = ${dot(w, D, a, b)}`,
        );
      }
    }
  }
});

/** Largest eigenvalue of shift·I − m, or of m when shift is 0 (power iteration; m symmetric PSD). */
function largestEigenvalue(m: Float64Array, D: number, shift = 0): number {
  let v = Float64Array.from({ length: D }, (_, i) => Math.sin(i + 1));
  let q = 0;
  for (let it = 0; it < 3000; it++) {
    const mv = new Float64Array(D);
    for (let a = 0; a < D; a++) {
      let s = 0;
      for (let b = 0; b < D; b++) s += m[a * D + b] * v[b];
      mv[a] = shift ? shift * v[a] - s : s;
    }
    q = 0;
    for (let a = 0; a < D; a++) q += v[a] * mv[a];
    const n = Math.hypot(...mv);
    v = mv.map((x) => x / n);
  }
  return q;
}

Deno.test("frame: K > D gives unit rows and a frame operator within 20 % of (K/D)·I", () => {
  // Measured for seed 3: eigenvalues 2.01–2.68 against K/D = 2.305 (K 295, D 128) and 4.10–5.30
  // against 4.69 (K 300, D 64). Unit Gaussian rows (the learned head's start) spread over
  // about 0.27–6.3 at K 295, D 128 (Marchenko–Pastur), so this tells the two apart.
  for (const [K, D] of [[295, 128], [300, 64]]) {
    const w = frameHeadWeights(K, D, 3);
    for (let k = 0; k < K; k++) {
      assert(Math.abs(dot(w, D, k, k) - 1) < 1e-6, `row ${k} has norm² ${dot(w, D, k, k)}`);
    }
    const m = frameOperator(w, K, D), rho = K / D;
    const max = largestEigenvalue(m, D);
    const min = max - largestEigenvalue(m, D, max); // the largest of max·I − M is max − min
    assert(
      max / rho < 1.2 && min / rho > 0.8,
      `K ${K} D ${D}: eigenvalues ${min}–${max}, K/D ${rho}`,
    );
  }
});

Deno.test("frame: the same seed gives the same bytes, another seed other weights", () => {
  const a = frameHeadWeights(30, 8, 9),
    b = frameHeadWeights(30, 8, 9),
    c = frameHeadWeights(30, 8, 10);
  assertEquals(a, b);
  assertNotEquals(a, c);
});
