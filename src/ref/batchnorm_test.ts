import { assertAlmostEquals, assertThrows } from "@std/assert";
import { assertClose, numericGradient, randomArray } from "../../tests/helpers/compare.ts";
import {
  batchnormBackward,
  batchnormForward,
  batchnormInference,
  type BatchNormShape,
} from "./batchnorm.ts";

Deno.test("batchnorm running statistics follow PyTorch (biased for normalising, unbiased running, momentum 0.1)", () => {
  const s: BatchNormShape = { N: 2, C: 1, HW: 2 };
  const r = batchnormForward([1, 2, 3, 4], [1], [0], [0], [1], s);
  // mean 2.5, biased var 1.25, unbiased var 5/3
  assertAlmostEquals(r.mean[0], 2.5);
  assertAlmostEquals(r.invstd[0], 1 / Math.sqrt(1.25 + 1e-5));
  assertAlmostEquals(r.runningMean[0], 0.25);
  assertAlmostEquals(r.runningVar[0], 0.9 + 0.1 * (5 / 3));
  assertAlmostEquals(r.y[0], -1.5 / Math.sqrt(1.25 + 1e-5));
  assertThrows(
    () => batchnormForward([1, 2], [1], [0], [0], [1], { N: 1, C: 2, HW: 1 }),
    Error,
    "more than 1 value",
  );
});

Deno.test("batchnorm inference uses the running statistics", () => {
  const y = batchnormInference([3, 5], [2], [1], [1], [4], { N: 2, C: 1, HW: 1, eps: 0 });
  assertClose("y", y, [2 * (3 - 1) / 2 + 1, 2 * (5 - 1) / 2 + 1]);
});

for (
  const s of [
    { N: 3, C: 2, HW: 5, affine: true },
    { N: 4, C: 3, HW: 1, affine: true },
    { N: 2, C: 3, HW: 3, affine: false },
  ] as BatchNormShape[]
) {
  Deno.test(`batchnorm backward matches finite differences (N${s.N} C${s.C} HW${s.HW} affine ${s.affine})`, () => {
    const n = s.N * s.C * s.HW;
    const x = Float64Array.from(randomArray(n, 1, -2, 2));
    const gamma = Float64Array.from(randomArray(s.C, 2, 0.5, 1.5)),
      beta = Float64Array.from(randomArray(s.C, 3));
    const r = Float64Array.from(randomArray(n, 4)); // loss = Σ r·y
    const zeros = new Float64Array(s.C), ones = new Float64Array(s.C).fill(1);
    const loss = (xx: Float64Array, g: Float64Array, b: Float64Array) =>
      batchnormForward(xx, g, b, zeros, ones, s).y.reduce((a, y, i) => a + y * r[i], 0);
    const fwd = batchnormForward(x, gamma, beta, zeros, ones, s);
    const got = batchnormBackward(r, x, gamma, fwd.mean, fwd.invstd, s);
    assertClose("dx", got.dx, numericGradient((v) => loss(v, gamma, beta), x), {
      atol: 1e-6,
      rtol: 1e-5,
    });
    if (s.affine) {
      assertClose("dgamma", got.dgamma, numericGradient((v) => loss(x, v, beta), gamma), {
        atol: 1e-6,
        rtol: 1e-5,
      });
      assertClose("dbeta", got.dbeta, numericGradient((v) => loss(x, gamma, v), beta), {
        atol: 1e-6,
        rtol: 1e-5,
      });
    }
  });
}
