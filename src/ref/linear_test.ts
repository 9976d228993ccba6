import { assertClose, numericGradient, randomArray } from "../../tests/helpers/compare.ts";
import { biasBackward, biasForward, linearBackward, linearForward } from "./linear.ts";

Deno.test("linear forward is x·Wᵀ + b", () => {
  // x = [[1, 2]], W = [[1, 0], [0, 1], [1, 1]], b = [0, 1, 2]
  assertClose("y", linearForward([1, 2], [1, 0, 0, 1, 1, 1], [0, 1, 2], { N: 1, I: 2, O: 3 }), [
    1,
    3,
    5,
  ]);
  assertClose("bias", biasForward([1, 2, 3, 4], [10, 20], { N: 2, O: 2 }), [11, 22, 13, 24]);
});

Deno.test("linear backward matches finite differences for x, W and b", () => {
  const s = { N: 3, I: 5, O: 4 };
  const x = Float64Array.from(randomArray(s.N * s.I, 1)),
    w = Float64Array.from(randomArray(s.O * s.I, 2));
  const b = Float64Array.from(randomArray(s.O, 3)),
    r = Float64Array.from(randomArray(s.N * s.O, 4));
  const loss = (xx: Float64Array, ww: Float64Array, bb: Float64Array) =>
    linearForward(xx, ww, bb, s).reduce((a, y, i) => a + y * r[i], 0);
  const got = linearBackward(r, x, w, s);
  assertClose("dx", got.dx, numericGradient((v) => loss(v, w, b), x), { atol: 1e-8 });
  assertClose("dw", got.dw, numericGradient((v) => loss(x, v, b), w), { atol: 1e-8 });
  assertClose("db", got.db, numericGradient((v) => loss(x, w, v), b), { atol: 1e-8 });
  assertClose("bias backward", biasBackward(r, { N: s.N, O: s.O }), got.db, { atol: 1e-12 });
});
