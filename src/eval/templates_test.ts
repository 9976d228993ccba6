// IJB-C template pooling and pair scores on a hand-computed case.
import { assertAlmostEquals, assertEquals, assertThrows } from "@std/assert";
import { imageFeatures, scoreTemplatePairs, templateFeatures } from "./templates.ts";

Deno.test("templates: mean within a media, sum over media, then normalise", () => {
  // Template 5: media 1 holds (1,0) and (0,1) → mean (0.5, 0.5); media 2 holds (3,0).
  // Sum (3.5, 0.5). Template 2: one image (0, 2) → (0, 1). Image 4 is skipped (template −1).
  const feats = new Float64Array([1, 0, 0, 1, 3, 0, 0, 2, 9, 9]);
  const tf = templateFeatures(
    feats,
    2,
    Int32Array.from([5, 5, 5, 2, -1]),
    Int32Array.from([1, 1, 2, 7, 1]),
  );
  assertEquals(Array.from(tf.ids), [2, 5]);
  const n = Math.sqrt(3.5 ** 2 + 0.5 ** 2);
  const want = [0, 1, 3.5 / n, 0.5 / n];
  want.forEach((w, i) => assertAlmostEquals(tf.feats[i], w, 1e-15));
  const s = scoreTemplatePairs(tf, Int32Array.from([2, 5]), Int32Array.from([5, 5]));
  assertAlmostEquals(s[0], 0.5 / n, 1e-15);
  assertAlmostEquals(s[1], 1, 1e-15);
});

Deno.test("templates: a media of several images counts once, whatever its size", () => {
  // Media 1: ten copies of (1,0); media 2: one (0,1). Mean per media → (1,1)/√2, not (10,1).
  const feats = new Float64Array([...Array(10).fill([1, 0]).flat(), 0, 1]);
  const tf = templateFeatures(
    feats,
    2,
    new Int32Array(11).fill(3),
    Int32Array.from([...Array(10).fill(1), 2]),
  );
  assertAlmostEquals(tf.feats[0], Math.SQRT1_2, 1e-15);
  assertAlmostEquals(tf.feats[1], Math.SQRT1_2, 1e-15);
});

Deno.test("image features: embedding × norm × face score", () => {
  const f = imageFeatures(
    new Float32Array([0.6, 0.8, 1, 0]),
    new Float32Array([2, 3]),
    2,
    new Float32Array([0.5, 1]),
  );
  assertAlmostEquals(f[0], 0.6, 1e-7);
  assertAlmostEquals(f[1], 0.8, 1e-7);
  assertEquals(f[2], 3);
});

Deno.test("pairs naming a template without images are an error that names them", () => {
  const tf = templateFeatures(
    new Float64Array([1, 0]),
    2,
    Int32Array.from([1]),
    Int32Array.from([1]),
  );
  assertThrows(
    () => scoreTemplatePairs(tf, Int32Array.from([1]), Int32Array.from([42])),
    RangeError,
    "template 42",
  );
});
