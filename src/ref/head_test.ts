import { assertAlmostEquals } from "@std/assert";
import { assertClose, numericGradient, randomArray } from "../../tests/helpers/compare.ts";
import { resolveHead, STATS } from "../train/heads.ts";
import { cosineBackward, cosineForward, cosineHead } from "./head.ts";

Deno.test("P2SGrad on a hand-built case: 2 samples, 3 classes, 2-D features (DESIGN §1)", () => {
  // x̂1 = (1,0), x̂2 = (0,1) with |x2| = 2; Ŵ = (1,0), (0,1), (−1,0) with |W3| = 3; labels 0, 2.
  // cos = [[1, 0, −1], [0, 1, 0]]; g = (cos − δ)/2 = [[0, 0, −½], [0, ½, −½]].
  // G_x2 = [½((0,1) − 1·(0,1)) − ½((−1,0) − 0·(0,1))]/2 = (¼, 0); G_x1 = −½((−1,0) + (1,0)) = 0.
  // G_W3 = [−½((1,0) − (−1)(−1,0)) − ½((0,1) − 0·(−1,0))]/3 = (0, −1/6); G_W1 = G_W2 = 0.
  // loss = mean(½·1, ½·(1 + 1)) = 0.75.
  const x = [1, 0, 0, 2], w = [1, 0, 0, 1, -3, 0];
  const r = cosineHead(resolveHead("p2sgrad"), x, w, [0, 2], { N: 2, D: 2, K: 3 });
  assertClose("cos", r.cos, [1, 0, -1, 0, 1, 0], { atol: 1e-15 });
  assertClose("dcos", r.dcos, [0, 0, -0.5, 0, 0.5, -0.5], { atol: 1e-15 });
  assertClose("G_x", r.dx, [0, 0, 0.25, 0], { atol: 1e-15 });
  assertClose("G_W", r.dw, [0, 0, 0, 0, 0, -1 / 6], { atol: 1e-15 });
  assertAlmostEquals(r.loss, 0.75, 1e-15);
  assertAlmostEquals(r.stats[STATS.thetaTargetDeg], (0 + 90) / 2, 1e-12); // θ_y = 0° and 90°
  assertAlmostEquals(r.stats[STATS.cosNonTarget], (0 - 1 + 0 + 1) / 4, 1e-15);
  assertAlmostEquals(r.stats[STATS.featureGradNorm], 0.25, 1e-15);
});

Deno.test("cosine head backward (directions of DESIGN §1) matches finite differences of Σ g·cos", () => {
  const s = { N: 3, D: 5, K: 4 };
  const x = Float64Array.from(randomArray(s.N * s.D, 1)),
    w = Float64Array.from(randomArray(s.K * s.D, 2));
  const g = Float64Array.from(randomArray(s.N * s.K, 3));
  const f = (xx: Float64Array, ww: Float64Array) =>
    cosineForward(xx, ww, s).cos.reduce((a, c, i) => a + c * g[i], 0);
  const got = cosineBackward(g, x, w, s);
  assertClose("dx", got.dx, numericGradient((v) => f(v, w), x), { atol: 1e-7, rtol: 1e-6 });
  assertClose("dw", got.dw, numericGradient((v) => f(x, v), w), { atol: 1e-7, rtol: 1e-6 });
});

Deno.test("the P2SGrad gradient is the gradient of its reported loss through the whole head", () => {
  const s = { N: 3, D: 4, K: 5 }, labels = [4, 0, 2];
  const head = resolveHead("p2sgrad");
  const x = Float64Array.from(randomArray(s.N * s.D, 4)),
    w = Float64Array.from(randomArray(s.K * s.D, 5));
  const r = cosineHead(head, x, w, labels, s);
  assertClose("dx", r.dx, numericGradient((v) => cosineHead(head, v, w, labels, s).loss, x), {
    atol: 1e-8,
    rtol: 1e-6,
  });
  assertClose("dw", r.dw, numericGradient((v) => cosineHead(head, x, v, labels, s).loss, w), {
    atol: 1e-8,
    rtol: 1e-6,
  });
});
