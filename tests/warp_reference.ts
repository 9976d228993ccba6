// The warp written the slow, obvious way (float64, per pixel, per channel, per sub-sample,
// black outside the source): what src/align/warp.ts is checked against.
import type { RgbImage } from "../src/image/image.ts";
import type { Affine } from "../src/align/similarity.ts";

/** Value of channel ch at integer (x, y), 0 outside the image. */
function at(img: RgbImage, x: number, y: number, ch: number): number {
  if (x < 0 || y < 0 || x >= img.width || y >= img.height) return 0;
  return img.data[(y * img.width + x) * 3 + ch];
}

function bilinear(img: RgbImage, sx: number, sy: number, ch: number): number {
  const x0 = Math.floor(sx), y0 = Math.floor(sy), fx = sx - x0, fy = sy - y0;
  return at(img, x0, y0, ch) * (1 - fx) * (1 - fy) + at(img, x0 + 1, y0, ch) * fx * (1 - fy) +
    at(img, x0, y0 + 1, ch) * (1 - fx) * fy + at(img, x0 + 1, y0 + 1, ch) * fx * fy;
}

/** Unrounded w×h×3 warp; `inv` maps target pixels to source pixels (centres at integers). */
export function referenceWarp(img: RgbImage, inv: Affine, w: number, h: number): Float64Array {
  const scale = Math.sqrt(Math.abs(inv[0] * inv[4] - inv[1] * inv[3]));
  const k = Math.max(1, Math.floor(scale + 1e-9));
  const out = new Float64Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let ch = 0; ch < 3; ch++) {
        let v = 0;
        for (let j = 0; j < k; j++) {
          for (let i = 0; i < k; i++) {
            const px = x + (i + 0.5) / k - 0.5, py = y + (j + 0.5) / k - 0.5;
            v += bilinear(
              img,
              inv[0] * px + inv[1] * py + inv[2],
              inv[3] * px + inv[4] * py + inv[5],
              ch,
            );
          }
        }
        out[(y * w + x) * 3 + ch] = v / (k * k);
      }
    }
  }
  return out;
}
