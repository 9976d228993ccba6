// CPU reference for the GEMM op: plain loops in float64, the ground truth the GPU kernel
// (kernels/matmul.wgsl, src/gpu/ops/matmul.ts) is tested against.

/**
 * Shape of C[M×N] = alpha·op(A)·op(B) (+ C when accumulating), row-major, where op(A) is
 * M×K and op(B) is K×N. With `transA` A is stored K×M; with `transB` B is stored N×K.
 * `batch` independent products sit back to back (strides default to the dense sizes;
 * a stride of 0 shares one operand across the batch).
 */
export interface MatmulShape {
  M: number;
  N: number;
  K: number;
  transA?: boolean;
  transB?: boolean;
  batch?: number;
  alpha?: number;
  accumulate?: boolean;
  /** Elements between consecutive batch entries of A, B and C. */
  strideA?: number;
  strideB?: number;
  strideC?: number;
}

/** The element strides of A, B and C between batch entries. */
export function matmulStrides(s: MatmulShape): { a: number; b: number; c: number } {
  return { a: s.strideA ?? s.M * s.K, b: s.strideB ?? s.K * s.N, c: s.strideC ?? s.M * s.N };
}

/** Elements A, B and C must hold for shape `s`. */
export function matmulSizes(s: MatmulShape): { a: number; b: number; c: number } {
  const batch = s.batch ?? 1;
  const st = matmulStrides(s);
  return {
    a: (batch - 1) * st.a + s.M * s.K,
    b: (batch - 1) * st.b + s.K * s.N,
    c: (batch - 1) * st.c + s.M * s.N,
  };
}

/**
 * C = alpha·op(A)·op(B), plus C's old values `c0` when `s.accumulate`. Returns a new
 * Float64Array of matmulSizes(s).c elements; elements no batch entry covers (gaps left by
 * padded strides) keep `c0`, or 0 without it.
 */
export function matmul(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  s: MatmulShape,
  c0?: ArrayLike<number>,
): Float64Array {
  const { M, N, K } = s;
  const batch = s.batch ?? 1;
  const alpha = s.alpha ?? 1;
  const st = matmulStrides(s);
  const sizes = matmulSizes(s);
  if (a.length < sizes.a || b.length < sizes.b) {
    throw new Error(
      `matmul reference: A has ${a.length} (needs ${sizes.a}), B has ${b.length} (needs ${sizes.b})`,
    );
  }
  if (s.accumulate && (!c0 || c0.length < sizes.c)) {
    throw new Error(`matmul reference: accumulate needs the old C (${sizes.c} elements)`);
  }
  const c = new Float64Array(sizes.c);
  if (c0) { for (let i = 0; i < Math.min(sizes.c, c0.length); i++) c[i] = c0[i]; }
  for (let p = 0; p < batch; p++) {
    const ao = p * st.a, bo = p * st.b, co = p * st.c;
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) {
        let sum = 0;
        for (let k = 0; k < K; k++) {
          const av = s.transA ? a[ao + k * M + m] : a[ao + m * K + k];
          const bv = s.transB ? b[bo + n * K + k] : b[bo + k * N + n];
          sum += av * bv;
        }
        const at = co + m * N + n;
        c[at] = (s.accumulate ? c[at] : 0) + alpha * sum;
      }
    }
  }
  return c;
}

/**
 * Gradients of L = Σ dC ⊙ C for C = alpha·op(A)·op(B): dA (stored like A) and dB (stored
 * like B), for the dense, unshared layout. Written with its own loops rather than by
 * calling `matmul`, so that a test of one also checks the other.
 */
export function matmulBackward(
  dc: ArrayLike<number>,
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  s: MatmulShape,
): { da: Float64Array; db: Float64Array } {
  const { M, N, K } = s;
  const batch = s.batch ?? 1;
  const alpha = s.alpha ?? 1;
  const da = new Float64Array(batch * M * K);
  const db = new Float64Array(batch * K * N);
  for (let p = 0; p < batch; p++) {
    const ao = p * M * K, bo = p * K * N, co = p * M * N;
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) {
        const g = alpha * dc[co + m * N + n];
        for (let k = 0; k < K; k++) {
          const ai = ao + (s.transA ? k * M + m : m * K + k);
          const bi = bo + (s.transB ? n * K + k : k * N + n);
          da[ai] += g * b[bi];
          db[bi] += g * a[ai];
        }
      }
    }
  }
  return { da, db };
}
