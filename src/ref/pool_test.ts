import { assertClose, numericGradient, randomArray } from "../../tests/helpers/compare.ts";
import { poolBackward, poolForward } from "./pool.ts";
import { addAccumulate, addForward } from "./add.ts";

Deno.test("global average pooling averages each plane", () => {
  assertClose("y", poolForward([1, 2, 3, 4, 5, 6], { N: 1, C: 2, HW: 3 }), [2, 5]);
});

Deno.test("pool backward matches finite differences", () => {
  const s = { N: 2, C: 3, HW: 7 };
  const x = Float64Array.from(randomArray(s.N * s.C * s.HW, 5)),
    r = Float64Array.from(randomArray(s.N * s.C, 6));
  const loss = (v: Float64Array) => poolForward(v, s).reduce((a, y, i) => a + y * r[i], 0);
  assertClose("dx", poolBackward(r, s), numericGradient(loss, x), { atol: 1e-8 });
});

Deno.test("add and accumulate", () => {
  assertClose("a+b", addForward([1, 2], [3, -4]), [4, -2]);
  assertClose("y+αx", addAccumulate([1, 2], [3, -4], 0.5), [2.5, 0]);
});
