// faceToInput: RGB u8 HWC faces to normalised f32 NCHW, mirrored on request.
import { assertEquals, assertThrows } from "@std/assert";
import { faceToInput } from "../src/model/input.ts";
import { INSIGHTFACE_NORMALISATION } from "../src/model/model_file.ts";

Deno.test("input: (p/255 − mean)/std per channel, NCHW, image n of the batch, optional mirror", () => {
  const S = 3;
  const pixels = new Uint8Array(S * S * 3).map((_, i) => (i * 37) % 256);
  const norm = {
    mean: [0.5, 0.25, 0] as [number, number, number],
    std: [0.5, 0.25, 1] as [number, number, number],
  };
  const out = new Float32Array(2 * 3 * S * S).fill(NaN);
  faceToInput(pixels, S, norm, out, 1);
  faceToInput(pixels, S, norm, out, 0, true);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < S; y++) {
      for (let x = 0; x < S; x++) {
        const p = (xx: number) => pixels[(y * S + xx) * 3 + c];
        const want = (v: number) => Math.fround((v / 255 - norm.mean[c]) / norm.std[c]);
        const plain = out[((1 * 3 + c) * S + y) * S + x],
          mirrored = out[((0 * 3 + c) * S + y) * S + x];
        if (Math.abs(plain - want(p(x))) > 1e-6) {
          throw new Error(`plain c${c} y${y} x${x}: ${plain} vs ${want(p(x))}`);
        }
        if (Math.abs(mirrored - want(p(S - 1 - x))) > 1e-6) {
          throw new Error(`mirrored c${c} y${y} x${x}`);
        }
      }
    }
  }
  // insightface's normalisation maps 0 → −1 and 255 → 1.
  const edge = new Float32Array(3 * 4);
  faceToInput(
    new Uint8Array([0, 255, 0, 255, 0, 255, 0, 255, 0, 255, 0, 255]),
    2,
    INSIGHTFACE_NORMALISATION,
    edge,
    0,
  );
  assertEquals([edge[0], edge[4], edge[8]], [-1, 1, -1]);
  assertThrows(
    () => faceToInput(new Uint8Array(5), 3, norm, out, 0),
    Error,
    "5 bytes, expected 3×3×3",
  );
  assertThrows(() => faceToInput(pixels, S, norm, out, 2), Error, "image 2 needs");
});
