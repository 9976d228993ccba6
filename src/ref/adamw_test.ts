import { assert, assertEquals } from "@std/assert";
import { assertClose } from "../../tests/helpers/compare.ts";
import { adamwStep } from "./adamw.ts";

const base = {
  lr: 0.1,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
  weightDecay: 0.01,
  decay: [1, 0],
  clipNorm: null,
  loss: 1,
};

Deno.test("adamw follows torch.optim.AdamW: decoupled decay, bias-corrected steps of about lr", () => {
  const s1 = adamwStep([1, 2], [0.5, -1], [0, 0, 0, 0], { ...base, t: 1 });
  // t = 1: m̂ = g, v̂ = g², so the step is lr·g/(|g| + ε); element 0 first decays by lr·wd.
  const step = (g: number) => 0.1 * g / (Math.abs(g) + 1e-8);
  assertClose("p1", s1.param, [1 - 0.001 - step(0.5), 2 - step(-1)], { atol: 1e-15 });
  assertClose("m, v", s1.state, [0.05, -0.1, 0.00025, 0.001], { atol: 1e-15 });
  // A constant gradient keeps m̂ = g and v̂ = g²: the same step again.
  const s2 = adamwStep(s1.param, [0.5, -1], s1.state, { ...base, t: 2 });
  assertClose("p2", s2.param, [s1.param[0] * 0.999 - step(0.5), s1.param[1] - step(-1)], {
    atol: 1e-12,
  });
  assertClose("m2", s2.state.slice(0, 2), [0.095, -0.19], { atol: 1e-15 });
  assert(s2.applied);
});

Deno.test("adamw's step does not depend on the gradient's scale (ε aside)", () => {
  const a = adamwStep([0.3, -0.2, 0.7], [1e-3, -2e-3, 5e-4], new Array(6).fill(0), {
    ...base,
    decay: [0, 0, 0],
    t: 1,
  });
  const b = adamwStep([0.3, -0.2, 0.7], [10, -20, 5], new Array(6).fill(0), {
    ...base,
    decay: [0, 0, 0],
    t: 1,
  });
  assertClose("scaled gradients move the parameters alike", a.param, b.param, { atol: 1e-6 });
});

Deno.test("adamw clips and guards like sgd", () => {
  const clipped = adamwStep([0, 0], [3, 4], [0, 0, 0, 0], {
    ...base,
    decay: [0, 0],
    clipNorm: 1,
    t: 1,
  });
  assertClose("scale", [clipped.scale], [1 / (5 + 1e-6)], { atol: 1e-15 });
  assertClose("m is of the clipped gradient", clipped.state.slice(0, 2), [
    0.3 * clipped.scale,
    0.4 * clipped.scale,
  ], { atol: 1e-15 });
  const skipped = adamwStep([1, 2], [NaN, 1], [0.1, 0.2, 0.3, 0.4], { ...base, t: 3 });
  assertEquals(skipped.applied, false);
  assertEquals([...skipped.param, ...skipped.state], [1, 2, 0.1, 0.2, 0.3, 0.4]);
});
