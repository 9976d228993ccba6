// Face pixels to network input: RGB u8 HWC (the faces stream's layout) to normalised f32
// NCHW, with the per-channel normalisation stored in the model file, optionally mirrored
// (training flips, embed's flip-sum).
import type { ModelConfig } from "./model_file.ts";

/**
 * Writes image `n` of a batch into `out` (NCHW, S×S): value = (p/255 − mean_c) / std_c,
 * columns reversed when `flip`. `pixels` holds one S·S·3 face.
 */
export function faceToInput(
  pixels: Uint8Array,
  S: number,
  norm: ModelConfig["normalisation"],
  out: Float32Array,
  n: number,
  flip = false,
): void {
  if (pixels.length !== S * S * 3) {
    throw new Error(`faceToInput: ${pixels.length} bytes, expected ${S}×${S}×3`);
  }
  if (out.length < (n + 1) * 3 * S * S) {
    throw new Error(
      `faceToInput: output holds ${out.length} values, image ${n} needs ${(n + 1) * 3 * S * S}`,
    );
  }
  const plane = S * S;
  for (let c = 0; c < 3; c++) {
    const scale = 1 / (255 * norm.std[c]), shift = norm.mean[c] / norm.std[c];
    const base = (n * 3 + c) * plane;
    for (let y = 0; y < S; y++) {
      const row = y * S;
      for (let x = 0; x < S; x++) {
        const src = (row + (flip ? S - 1 - x : x)) * 3 + c;
        out[base + row + x] = pixels[src] * scale - shift;
      }
    }
  }
}
