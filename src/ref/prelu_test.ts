import { assertClose, numericGradient, randomArray } from "../../tests/helpers/compare.ts";
import { preluBackward, preluForward } from "./prelu.ts";
import { reluBackward, reluForward } from "./relu.ts";

/** Inputs kept away from the kink at 0, where finite differences are meaningless. */
function awayFromZero(n: number, seed: number): Float64Array {
  return Float64Array.from(randomArray(n, seed), (v) => (v >= 0 ? v + 0.05 : v - 0.05));
}

Deno.test("prelu forward applies the channel slope to negatives only", () => {
  const y = preluForward([-2, 3, -1, 4], [0.5, 0.1], { N: 1, C: 2, HW: 2 });
  assertClose("y", y, [-1, 3, -0.1, 4]);
});

Deno.test("prelu backward matches finite differences for x and the slopes", () => {
  const s = { N: 3, C: 3, HW: 5 };
  const n = s.N * s.C * s.HW;
  const x = awayFromZero(n, 7), a = Float64Array.from(randomArray(s.C, 8, 0, 0.5));
  const r = Float64Array.from(randomArray(n, 9));
  const loss = (xx: Float64Array, aa: Float64Array) =>
    preluForward(xx, aa, s).reduce((acc, y, i) => acc + y * r[i], 0);
  const got = preluBackward(r, x, a, s);
  assertClose("dx", got.dx, numericGradient((v) => loss(v, a), x), { atol: 1e-7 });
  assertClose("dslope", got.dslope, numericGradient((v) => loss(x, v), a), { atol: 1e-7 });
});

Deno.test("relu backward matches finite differences", () => {
  const x = awayFromZero(37, 11), r = Float64Array.from(randomArray(37, 12));
  const loss = (xx: Float64Array) => reluForward(xx).reduce((acc, y, i) => acc + y * r[i], 0);
  assertClose("dx", reluBackward(r, x), numericGradient(loss, x), { atol: 1e-7 });
  assertClose("relu(0) and its gradient are 0", [
    ...reluForward([0, -1, 2]),
    ...reluBackward([1, 1, 1], [0, -1, 2]),
  ], [0, 0, 2, 0, 0, 1]);
});
