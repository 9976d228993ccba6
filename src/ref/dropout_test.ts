import { assert, assertEquals, assertNotEquals } from "@std/assert";
import { assertClose, randomArray } from "../../tests/helpers/compare.ts";
import { dropoutBackward, dropoutForward, dropoutMask, dropoutThreshold } from "./dropout.ts";

Deno.test("dropout keeps about 1 − p of the elements and scales them by 1/(1 − p)", () => {
  const n = 20000, p = 0.3;
  const mask = dropoutMask(n, 5, { p, seed: 1 });
  const kept = mask.reduce((a, m) => a + m, 0) / n;
  assert(Math.abs(kept - 0.7) < 0.015, `kept fraction ${kept}`);
  const x = randomArray(n, 2);
  const y = dropoutForward(x, 5, { p, seed: 1 });
  for (let i = 0; i < n; i++) {
    if (mask[i]) assert(Math.abs(y[i] - x[i] / 0.7) < 1e-12);
    else assertEquals(y[i], 0);
  }
});

Deno.test("dropout masks depend only on (seed, step, index, salt)", () => {
  const a = dropoutMask(256, 3, { p: 0.5, seed: 9 });
  assertEquals(dropoutMask(256, 3, { p: 0.5, seed: 9 }), a);
  assertNotEquals(dropoutMask(256, 4, { p: 0.5, seed: 9 }), a);
  assertNotEquals(dropoutMask(256, 3, { p: 0.5, seed: 10 }), a);
  assertNotEquals(dropoutMask(256, 3, { p: 0.5, seed: 9, salt: 1 }), a);
  assertEquals(dropoutMask(100, 0, { p: 0, seed: 1 }).reduce((s, m) => s + m, 0), 100);
  assertEquals(dropoutThreshold(0.5), 2 ** 31);
});

Deno.test("dropout backward applies the forward's mask and scale (its exact derivative)", () => {
  const dy = randomArray(50, 3), x = randomArray(50, 4);
  const s = { p: 0.25, seed: 7 };
  const y = dropoutForward(x, 2, s), dx = dropoutBackward(dy, 2, s);
  for (let i = 0; i < 50; i++) {
    assertClose(`element ${i}`, [dx[i] * x[i]], [y[i] * dy[i]], { atol: 1e-12 });
  }
});
