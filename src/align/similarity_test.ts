// The similarity estimate: exact recovery of known transforms, least-squares optimality,
// and agreement with skimage's Umeyama (SVD) algorithm as computed once with numpy.
import { assert, assertThrows } from "@std/assert";
import { affineScale, applyAffine, estimateSimilarity, invertAffine } from "./similarity.ts";
import { landmarkTransform } from "./face.ts";
import { ARCFACE_112, arcfaceTemplate } from "./template.ts";
import { assertClose, randomArray } from "../../tests/helpers/compare.ts";

function similarity(scale: number, angle: number, tx: number, ty: number): Float64Array {
  const c = scale * Math.cos(angle), s = scale * Math.sin(angle);
  return Float64Array.of(c, -s, tx, s, c, ty);
}

Deno.test("a known similarity is recovered exactly from transformed points", () => {
  const cases = [[1, 0, 0, 0], [1.337, 0.3, -12.5, 40.25], [0.42, -2.9, 100, -3], [
    3.5,
    Math.PI,
    0.5,
    0.5,
  ]];
  cases.forEach(([s, a, tx, ty], k) => {
    const t = similarity(s, a, tx, ty);
    const src = Float64Array.from(randomArray(10, 11 + k, 0, 250));
    const got = estimateSimilarity(src, applyAffine(t, src));
    assertClose(`case ${k}`, got, t, { atol: 1e-9, rtol: 1e-9 });
  });
});

function sse(t: Float64Array, src: ArrayLike<number>, dst: ArrayLike<number>): number {
  const m = applyAffine(t, src);
  let e = 0;
  for (let i = 0; i < m.length; i++) e += (m[i] - dst[i]) ** 2;
  return e;
}

Deno.test("the estimate is the least-squares optimum: no small change lowers the error", () => {
  const src = Float64Array.from(randomArray(10, 5, 40, 110));
  const dst = Float64Array.from(randomArray(10, 6, 30, 95));
  const t = estimateSimilarity(src, dst);
  const best = sse(t, src, dst);
  const [a, b] = [t[0], t[3]];
  const s = Math.hypot(a, b), angle = Math.atan2(b, a);
  for (
    const [ds, da, dx, dy] of [
      [1e-4, 0, 0, 0],
      [-1e-4, 0, 0, 0],
      [0, 1e-4, 0, 0],
      [0, -1e-4, 0, 0],
      [0, 0, 1e-3, 0],
      [0, 0, -1e-3, 0],
      [0, 0, 0, 1e-3],
      [0, 0, 0, -1e-3],
    ]
  ) {
    const moved = similarity(s + ds, angle + da, t[2] + dx, t[5] + dy);
    assert(sse(moved, src, dst) > best, `perturbation ${[ds, da, dx, dy]} lowered the error`);
  }
});

Deno.test("LFW Aaron_Eckhart_0001 landmarks: same matrix as skimage's Umeyama (numpy SVD)", () => {
  const lm = [64.2, 64.2, 88.2, 66.6, 74.4, 85.8, 61.8, 94.2, 83.4, 96.6];
  // skimage.transform._umeyama(lm, ARCFACE_112, True)[:2] computed with numpy 2.4 (SVD path).
  const want = [
    1.336984058256,
    0.160346495113,
    -56.510486356032,
    -0.160346495113,
    1.336984058256,
    -25.106901830348,
  ];
  assertClose("matrix", landmarkTransform(lm, 112), want, { atol: 1e-9, rtol: 0 });
});

Deno.test("template scales with the crop size and inverse undoes the transform", () => {
  assertClose("224", arcfaceTemplate(224), ARCFACE_112.map((v) => 2 * v), { atol: 1e-12 });
  const t = similarity(0.8, 0.7, 5, -9);
  const pts = Float64Array.from(randomArray(8, 2, -50, 50));
  assertClose("round trip", applyAffine(invertAffine(t), applyAffine(t, pts)), pts, {
    atol: 1e-10,
  });
  assertClose("scale", [affineScale(t)], [0.8], { atol: 1e-12 });
  assertThrows(() => estimateSimilarity([1, 1, 1, 1], [0, 0, 5, 5]), Error, "coincide");
  assertThrows(() => landmarkTransform([1, 2, 3], 112), Error, "10 landmark numbers");
});
