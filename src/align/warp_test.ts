// The warp against a direct per-pixel reference (tests/warp_reference.ts: float64, black outside),
// on odd sizes, rotations, borders and the supersampled (≥ 2× shrink) path; plus the modes.
import { assertEquals, assertThrows } from "@std/assert";
import type { RgbImage } from "../image/image.ts";
import {
  AlignError,
  alignFace,
  centerCropInverse,
  faceInverse,
  fitInverse,
  resizeInverse,
} from "./face.ts";
import type { Affine } from "./similarity.ts";
import { warpAffine } from "./warp.ts";
import { assertClose, randomArray } from "../../tests/helpers/compare.ts";
import { referenceWarp } from "../../tests/warp_reference.ts";

function randomImage(w: number, h: number, seed: number): RgbImage {
  return {
    width: w,
    height: h,
    data: Uint8Array.from(randomArray(w * h * 3, seed, 0, 256), Math.floor),
  };
}

const CASES: [string, number, number, Affine, number, number][] = [
  [
    "rotation + upscale, odd sizes",
    37,
    29,
    Float64Array.of(0.71, -0.23, 5.3, 0.23, 0.71, -2.1),
    31,
    23,
  ],
  ["mostly outside the source", 20, 15, Float64Array.of(1.1, 0.4, -9.7, -0.4, 1.1, 12.2), 17, 19],
  ["exact integer shift", 21, 13, Float64Array.of(1, 0, 3, 0, 1, 2), 11, 7],
  [
    "2.4× shrink (supersampled, k=2)",
    61,
    47,
    Float64Array.of(2.4, 0.1, 0.3, -0.1, 2.4, 0.7),
    23,
    17,
  ],
  [
    "3.3× shrink with rotation (k=3)",
    90,
    77,
    Float64Array.of(2.9, -1.5, 10, 1.5, 2.9, -20),
    19,
    21,
  ],
];

for (const [name, sw, sh, inv, w, h] of CASES) {
  Deno.test(`warp equals the direct per-pixel reference: ${name}`, () => {
    const img = randomImage(sw, sh, sw * 31 + sh);
    const got = warpAffine(img, inv, w, h);
    // Rounding to bytes: within 0.5 of the float reference, +1e-6 for summation order.
    assertClose(name, got, referenceWarp(img, inv, w, h), {
      atol: 0.5 + 1e-6,
      rtol: 0,
      shape: [h, w, 3],
    });
  });
}

Deno.test("warp writes at the offset and leaves the rest of the buffer alone", () => {
  const img = randomImage(9, 8, 1);
  const out = new Uint8Array(5 * 4 * 3 + 10).fill(77);
  warpAffine(img, Float64Array.of(1, 0, 1, 0, 1, 1), 5, 4, out, 4);
  assertEquals([...out.subarray(0, 4)], [77, 77, 77, 77]);
  assertEquals([...out.subarray(64)], [77, 77, 77, 77, 77, 77]);
  assertEquals([...out.subarray(4, 7)], [
    ...img.data.subarray((1 * 9 + 1) * 3, (1 * 9 + 1) * 3 + 3),
  ]);
});

Deno.test("modes: resize to the same size and centre crop of the exact side copy pixels", () => {
  const img = randomImage(40, 30, 4);
  // Resize maps pixel centres onto pixel centres: (i + ½)·W/S − ½.
  assertClose("resize", resizeInverse(40, 30, 20), [2, 0, 0.5, 0, 1.5, 0.25], { atol: 1e-12 });
  const same = randomImage(24, 24, 5);
  assertEquals(alignFace(same, null, { mode: "resize", size: 24 }), same.data);
  // A 24×24 centre crop of a 40×30 image is rows 3..26, columns 8..31, unscaled.
  const crop = alignFace(img, null, { mode: "center", size: 24, crop: 24 });
  for (const [y, x] of [[0, 0], [23, 23], [11, 5]]) {
    const o = (y * 24 + x) * 3, s = ((y + 3) * 40 + x + 8) * 3;
    assertEquals([...crop.subarray(o, o + 3)], [...img.data.subarray(s, s + 3)], `pixel ${x},${y}`);
  }
  // Without --crop the largest centred square (30×30) is taken.
  assertClose("default crop", centerCropInverse(40, 30, 30), [1, 0, 5, 0, 1, 0], { atol: 1e-12 });
  // Letterbox fit of a 40×30 image in 20×20: scale 2, centred vertically.
  assertClose("fit", fitInverse(40, 30, 20), [2, 0, 0.5, 0, 2, -4.5], { atol: 1e-12 });
});

Deno.test("modes: landmarks are required in landmarks mode, crops must fit", () => {
  const img = randomImage(30, 30, 6);
  const err = assertThrows(
    () => faceInverse(img, null, { mode: "landmarks", size: 112 }),
    AlignError,
  );
  assertEquals(err.hint?.includes("--mode center"), true);
  assertThrows(
    () => faceInverse(img, null, { mode: "center", size: 20, crop: 31 }),
    AlignError,
    "smaller than --crop 31",
  );
});
