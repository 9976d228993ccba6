// Each head's dL/dcos against finite differences of its own loss (float64), the registry's
// resolution rules, and the exact-vs-straight-through ArcFace slope.
import { assert, assertAlmostEquals, assertEquals, assertThrows } from "@std/assert";
import { assertClose, numericGradient, randomArray } from "./helpers/compare.ts";
import {
  HEAD_NAMES,
  headLogit,
  headLoss,
  HEADS,
  headSlope,
  resolveHead,
} from "../src/train/heads.ts";

const N = 3, K = 6;
const labels = [2, 0, 5];

/** Cosines spread over (−0.95, 0.95), with targets on both sides of ArcFace's π − m switch. */
function cosines(seed: number): Float64Array {
  const c = Float64Array.from(randomArray(N * K, seed, -0.95, 0.95));
  c[0 * K + 2] = 0.7; // θ ≈ 45.6°
  c[1 * K + 0] = -0.93; // θ ≈ 158°: θ + 0.5 > π for ArcFace
  c[2 * K + 5] = 0.1;
  return c;
}

for (const name of HEAD_NAMES) {
  Deno.test(`${name}: dL/dcos matches finite differences of its loss`, () => {
    const head = resolveHead(name);
    const c = cosines(11);
    const { dcos, loss } = headLoss(head, c, labels, N, K);
    assert(Number.isFinite(loss) && loss > 0, `loss ${loss}`);
    const numeric = numericGradient((v) => headLoss(head, v, labels, N, K).loss, c, 1e-7);
    assertClose(`${name} dcos`, dcos, numeric, { atol: 1e-6, rtol: 1e-5, shape: [N, K] });
  });
}

Deno.test("sphereface with lambda and other margins also matches finite differences", () => {
  for (const [m, lambda] of [[2, 0], [3, 5], [4, 1]]) {
    const head = resolveHead("sphereface", { margin: m, lambda });
    const c = cosines(12);
    const numeric = numericGradient((v) => headLoss(head, v, labels, N, K).loss, c, 1e-7);
    assertClose(`m ${m} λ ${lambda}`, headLoss(head, c, labels, N, K).dcos, numeric, {
      atol: 1e-6,
      rtol: 1e-5,
    });
  }
});

Deno.test("losses have their textbook values on a one-row case", () => {
  const c = [0.5, -0.2, 0.1];
  const lse = (f: number[]) => Math.log(f.reduce((a, v) => a + Math.exp(v), 0));
  const ce = (f: number[]) => lse(f) - f[0];
  assertAlmostEquals(
    headLoss(resolveHead("p2sgrad"), c, [0], 1, 3).loss,
    0.5 * (0.25 + 0.04 + 0.01),
    1e-15,
  );
  assertAlmostEquals(
    headLoss(resolveHead("normface"), c, [0], 1, 3).loss,
    ce(c.map((v) => 64 * v)),
    1e-9,
  );
  assertAlmostEquals(
    headLoss(resolveHead("cosface"), c, [0], 1, 3).loss,
    ce([64 * 0.15, -64 * 0.2, 6.4]),
    1e-9,
  );
  const arc = 64 * Math.cos(Math.acos(0.5) + 0.5);
  assertAlmostEquals(
    headLoss(resolveHead("arcface"), c, [0], 1, 3).loss,
    ce([arc, -64 * 0.2, 6.4]),
    1e-9,
  );
  // SphereFace m = 4 at θ = 60°: k = floor(4·60/180) = 1, ψ = −cos(240°) − 2 = −1.5.
  assertAlmostEquals(headLogit(resolveHead("sphereface"), 0.5, true), 64 * -1.5, 1e-9);
  assertAlmostEquals(headLoss(resolveHead("softmax"), c, [0], 1, 3).loss, ce(c), 1e-12);
});

Deno.test("arcface past θ + m > π follows insightface: s·(cos θ − m·sin m), slope s", () => {
  const h = resolveHead("arcface");
  const c = Math.cos(Math.PI - 0.3); // θ = π − 0.3 < π − m? no: θ + m = π + 0.2
  assertAlmostEquals(headLogit(h, c, true), 64 * (c - 0.5 * Math.sin(0.5)), 1e-12);
  assertEquals(headSlope(h, c, true), 64);
  // Inside the range, the exact slope is s·sin(θ+m)/sin θ; straight-through is s.
  const theta = 1.0;
  assertAlmostEquals(
    headSlope(h, Math.cos(theta), true),
    64 * Math.sin(theta + 0.5) / Math.sin(theta),
    1e-9,
  );
  assertEquals(
    headSlope(resolveHead("arcface", { straightThrough: true }), Math.cos(theta), true),
    64,
  );
  assert(Number.isFinite(headSlope(h, 1, true)), "θ = 0 stays finite");
});

Deno.test("straight-through arcface back-propagates (P − δ)·s/N", () => {
  const h = resolveHead("arcface", { straightThrough: true });
  const c = cosines(13);
  const { dcos } = headLoss(h, c, labels, N, K);
  const exact = headLoss(resolveHead("arcface"), c, labels, N, K);
  // Same probabilities, so non-target entries agree; target entries differ by the slope.
  assertAlmostEquals(dcos[0 * K + 1], exact.dcos[0 * K + 1], 1e-15);
  // Row 2's target (cos 0.1) is far from learned, so P − 1 ≈ −1 and only the slope differs.
  const theta = Math.acos(0.1);
  const ratio = dcos[2 * K + 5] / exact.dcos[2 * K + 5];
  assertAlmostEquals(ratio, Math.sin(theta) / Math.sin(theta + 0.5), 1e-12);
});

Deno.test("rows with a label outside 0..K−1 add no loss and no gradient", () => {
  const h = resolveHead("cosface");
  const c = cosines(14);
  const r = headLoss(h, c, [2, -1, 99], N, K);
  assertEquals(r.rowLoss[1], 0);
  assertEquals(r.rowLoss[2], 0);
  assertEquals(r.dcos.slice(K).every((v) => v === 0), true);
});

Deno.test("resolveHead: defaults, overrides and errors that name the head", () => {
  assertEquals(resolveHead("arcface").s, 64);
  assertEquals(resolveHead("arcface").m, 0.5);
  assertEquals(resolveHead("cosface", { margin: 0.4 }).m, 0.4);
  assertEquals(resolveHead("cosface", { scale: null }).s, 64);
  assertEquals(HEADS.softmax.normalised, false);
  assertThrows(() => resolveHead("bogus"), Error, "unknown head 'bogus'");
  assertThrows(() => resolveHead("p2sgrad", { scale: 30 }), Error, "p2sgrad has no scale");
  assertThrows(() => resolveHead("normface", { margin: 0.2 }), Error, "normface has no margin");
  assertThrows(() => resolveHead("sphereface", { margin: 1.5 }), Error, "integer");
  assertThrows(() => resolveHead("cosface", { straightThrough: true }), Error, "ArcFace option");
});
