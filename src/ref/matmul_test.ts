// The GEMM reference: a hand-worked product, the transpose/batch/accumulate options, and
// its backward against float64 finite differences.
import { assertEquals } from "@std/assert";
import { assertClose, numericGradient, randomArray } from "../../tests/helpers/compare.ts";
import { matmul, matmulBackward, type MatmulShape, matmulSizes } from "./matmul.ts";

Deno.test("matmul reference: a 2×3 by 3×2 product worked by hand", () => {
  const a = [1, 2, 3, 4, 5, 6]; // [[1,2,3],[4,5,6]]
  const b = [7, 8, 9, 10, 11, 12]; // [[7,8],[9,10],[11,12]]
  assertEquals([...matmul(a, b, { M: 2, N: 2, K: 3 })], [58, 64, 139, 154]);
  // Stored transposed: Aᵀ is 3×2, Bᵀ is 2×3; same product.
  const at = [1, 4, 2, 5, 3, 6];
  const bt = [7, 9, 11, 8, 10, 12];
  assertEquals([...matmul(at, bt, { M: 2, N: 2, K: 3, transA: true, transB: true })], [
    58,
    64,
    139,
    154,
  ]);
  // alpha and accumulate: C = 0.5·AB + C.
  const c = matmul(a, b, { M: 2, N: 2, K: 3, alpha: 0.5, accumulate: true }, [1, 1, 1, 1]);
  assertEquals([...c], [30, 33, 70.5, 78]);
});

Deno.test("matmul reference: a batch equals separate products; stride 0 shares an operand", () => {
  const s: MatmulShape = { M: 3, N: 4, K: 5, batch: 3 };
  const a = randomArray(matmulSizes(s).a, 1);
  const b = randomArray(matmulSizes(s).b, 2);
  const c = matmul(a, b, s);
  for (let p = 0; p < 3; p++) {
    const one = matmul(a.subarray(p * 15, p * 15 + 15), b.subarray(p * 20, p * 20 + 20), {
      M: 3,
      N: 4,
      K: 5,
    });
    assertClose(`batch ${p}`, c.subarray(p * 12, p * 12 + 12), one, { atol: 1e-12, rtol: 0 });
  }
  const shared = matmul(a, b.subarray(0, 20), { ...s, strideB: 0 });
  for (let p = 0; p < 3; p++) {
    const one = matmul(a.subarray(p * 15, p * 15 + 15), b.subarray(0, 20), { M: 3, N: 4, K: 5 });
    assertClose(`shared B, batch ${p}`, shared.subarray(p * 12, p * 12 + 12), one, {
      atol: 1e-12,
      rtol: 0,
    });
  }
});

for (const [transA, transB] of [[false, false], [true, false], [false, true], [true, true]]) {
  Deno.test(`matmul reference backward matches finite differences (transA ${transA}, transB ${transB})`, () => {
    const s: MatmulShape = { M: 3, N: 5, K: 4, batch: 2, transA, transB, alpha: 0.7 };
    const sizes = matmulSizes(s);
    const a = Float64Array.from(randomArray(sizes.a, 11));
    const b = Float64Array.from(randomArray(sizes.b, 12));
    const dc = randomArray(sizes.c, 13);
    const loss = (av: Float64Array, bv: Float64Array) => {
      const c = matmul(av, bv, s);
      let l = 0;
      for (let i = 0; i < c.length; i++) l += dc[i] * c[i];
      return l;
    };
    const { da, db } = matmulBackward(dc, a, b, s);
    assertClose("dA", da, numericGradient((x) => loss(x, b), a), { atol: 1e-8, rtol: 1e-6 });
    assertClose("dB", db, numericGradient((x) => loss(a, x), b), { atol: 1e-8, rtol: 1e-6 });
  });
}
