import { assertClose, numericGradient, randomArray } from "../../tests/helpers/compare.ts";
import { l2normBackward, l2normForward } from "./l2norm.ts";

Deno.test("l2norm returns unit rows and the norms", () => {
  const { y, norms } = l2normForward([3, 4, 0, 0, 0, 2], { R: 3, D: 2 });
  assertClose("y", y, [0.6, 0.8, 0, 0, 0, 1]);
  assertClose("norms", norms, [5, 0, 2]);
});

Deno.test("l2norm backward matches finite differences, including a row under the guard", () => {
  const s = { R: 4, D: 7, eps: 1e-3 };
  const x = Float64Array.from(randomArray(s.R * s.D, 3));
  for (let d = 0; d < s.D; d++) x[2 * s.D + d] *= 1e-5; // row 2: |x| < eps, y = x/eps
  const r = Float64Array.from(randomArray(s.R * s.D, 4));
  const loss = (v: Float64Array) => l2normForward(v, s).y.reduce((a, y, i) => a + y * r[i], 0);
  const { norms } = l2normForward(x, s);
  assertClose("dx", l2normBackward(r, x, norms, s), numericGradient(loss, x, 1e-8), {
    atol: 1e-5,
    rtol: 1e-5,
  });
});
