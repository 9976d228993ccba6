import { assert, assertAlmostEquals, assertEquals } from "@std/assert";
import { assertClose } from "../../tests/helpers/compare.ts";
import { sgdStep } from "./sgd.ts";

Deno.test("sgd follows torch.optim.SGD: v = μv + g + wd·p, p −= lr·v, decay only where asked", () => {
  const base = {
    lr: 0.1,
    momentum: 0.9,
    weightDecay: 0.01,
    decay: [1, 0],
    clipNorm: null,
    loss: 1,
  };
  const s1 = sgdStep([1, 2], [0.5, -1], [0, 0], base);
  // element 0: v = 0.5 + 0.01·1 = 0.51, p = 1 − 0.051; element 1 (no decay): v = −1, p = 2.1
  assertClose("p1", s1.param, [0.949, 2.1], { atol: 1e-15 });
  assertClose("v1", s1.momentum, [0.51, -1], { atol: 1e-15 });
  const s2 = sgdStep(s1.param, [0.5, -1], s1.momentum, base);
  // v = 0.9·0.51 + 0.5 + 0.01·0.949 = 0.96849; p = 0.949 − 0.096849
  assertClose("p2", s2.param, [0.949 - 0.096849, 2.1 + 0.19], { atol: 1e-12 });
  assert(s2.applied);
});

Deno.test("sgd clipping scales the clipped gradients by max/(‖g‖ + 1e-6) as clip_grad_norm_", () => {
  const r = sgdStep([0, 0, 0], [3, 4, 12], [0, 0, 0], {
    lr: 1,
    momentum: 0,
    weightDecay: 0,
    decay: [0, 0, 0],
    clipNorm: 1,
    clip: [1, 1, 0],
    loss: 0,
  });
  assertAlmostEquals(r.clipGradNorm, 5, 1e-15);
  assertAlmostEquals(r.gradNorm, 13, 1e-15);
  assertAlmostEquals(r.scale, 1 / (5 + 1e-6), 1e-15);
  assertClose("p", r.param, [-3 * r.scale, -4 * r.scale, -12], { atol: 1e-15 });
  const small = sgdStep([0], [0.1], [0], {
    lr: 1,
    momentum: 0,
    weightDecay: 0,
    decay: [0],
    clipNorm: 1,
    loss: 0,
  });
  assertEquals(small.scale, 1);
});

Deno.test("sgd skips the step when the loss or the gradient norm is not finite", () => {
  const o = { lr: 0.1, momentum: 0.9, weightDecay: 0, decay: [0, 0], clipNorm: null };
  for (
    const [loss, g] of [[NaN, [1, 1]], [Infinity, [1, 1]], [1, [NaN, 1]], [1, [
      Infinity,
      0,
    ]]] as const
  ) {
    const r = sgdStep([1, 2], g, [0.5, 0.5], { ...o, loss });
    assertEquals(r.applied, false);
    assertEquals([...r.param, ...r.momentum], [1, 2, 0.5, 0.5]);
  }
});
