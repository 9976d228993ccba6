// Bilinear affine warp of an RGB image, the inner loop of `align`: for every target pixel
// (x, y) sample the source at inv·(x, y) (pixel centres at integer coordinates, as OpenCV's
// warpAffine), pixels outside the source count as black.
import type { RgbImage } from "../image/image.ts";
import { type Affine, affineScale } from "./similarity.ts";

/**
 * Writes a width×height RGB warp of `src` into `out` at `offset`. `inv` maps target to
 * source coordinates. When it shrinks by 2× or more, k×k samples per pixel (k = ⌊scale⌋) are
 * averaged so downscaled crops do not alias; otherwise this is plain bilinear.
 */
export function warpAffine(
  src: RgbImage,
  inv: Affine,
  width: number,
  height: number,
  out: Uint8Array = new Uint8Array(width * height * 3),
  offset = 0,
): Uint8Array {
  const k = Math.max(1, Math.floor(affineScale(inv) + 1e-9));
  if (k === 1) warpBilinear(src, inv, width, height, out, offset);
  else warpSupersampled(src, inv, width, height, k, out, offset);
  return out;
}

function warpBilinear(
  src: RgbImage,
  inv: Affine,
  width: number,
  height: number,
  out: Uint8Array,
  offset: number,
): void {
  const { width: sw, height: sh, data } = src;
  const [a, b, tx, c, d, ty] = inv;
  const row = sw * 3;
  let o = offset;
  for (let y = 0; y < height; y++) {
    let sx = b * y + tx, sy = d * y + ty;
    for (let x = 0; x < width; x++, sx += a, sy += c, o += 3) {
      const x0 = Math.floor(sx), y0 = Math.floor(sy);
      const fx = sx - x0, fy = sy - y0;
      if (x0 >= 0 && y0 >= 0 && x0 < sw - 1 && y0 < sh - 1) {
        // Interior: all four neighbours exist (the common case, kept branch-free).
        const p = y0 * row + x0 * 3, q = p + row;
        const w00 = (1 - fx) * (1 - fy), w01 = fx * (1 - fy), w10 = (1 - fx) * fy, w11 = fx * fy;
        out[o] = w00 * data[p] + w01 * data[p + 3] + w10 * data[q] + w11 * data[q + 3] + 0.5;
        out[o + 1] = w00 * data[p + 1] + w01 * data[p + 4] + w10 * data[q + 1] + w11 * data[q + 4] +
          0.5;
        out[o + 2] = w00 * data[p + 2] + w01 * data[p + 5] + w10 * data[q + 2] + w11 * data[q + 5] +
          0.5;
      } else if (x0 < -1 || y0 < -1 || x0 >= sw || y0 >= sh) {
        out[o] = out[o + 1] = out[o + 2] = 0;
      } else {
        edgeSample(data, sw, sh, x0, y0, fx, fy, out, o);
      }
    }
  }
}

/** A bilinear sample where some neighbours fall outside the image (they count as 0). */
function edgeSample(
  data: Uint8Array,
  sw: number,
  sh: number,
  x0: number,
  y0: number,
  fx: number,
  fy: number,
  out: Uint8Array,
  o: number,
): void {
  for (let ch = 0; ch < 3; ch++) {
    let v = 0;
    for (let dy = 0; dy < 2; dy++) {
      const yy = y0 + dy;
      if (yy < 0 || yy >= sh) continue;
      for (let dx = 0; dx < 2; dx++) {
        const xx = x0 + dx;
        if (xx < 0 || xx >= sw) continue;
        v += (dx ? fx : 1 - fx) * (dy ? fy : 1 - fy) * data[(yy * sw + xx) * 3 + ch];
      }
    }
    out[o + ch] = v + 0.5;
  }
}

function warpSupersampled(
  src: RgbImage,
  inv: Affine,
  width: number,
  height: number,
  k: number,
  out: Uint8Array,
  offset: number,
): void {
  const acc = new Float64Array(width * 3);
  const tmp = new Uint8Array(width * 3);
  const [a, b, tx, c, d, ty] = inv;
  for (let y = 0; y < height; y++) {
    acc.fill(0);
    for (let j = 0; j < k; j++) {
      for (let i = 0; i < k; i++) {
        // Sub-pixel (x + (i+½)/k − ½, y + (j+½)/k − ½) of target pixel (x, y).
        const ox = (i + 0.5) / k - 0.5, oy = (j + 0.5) / k - 0.5 + y;
        const shifted = Float64Array.of(a, b, tx + a * ox + b * oy, c, d, ty + c * ox + d * oy);
        warpBilinearFloat(src, shifted, width, acc);
      }
    }
    const base = offset + y * width * 3;
    const inv2 = 1 / (k * k);
    for (let i = 0; i < width * 3; i++) tmp[i] = acc[i] * inv2 + 0.5;
    out.set(tmp, base);
  }
}

/** Adds one row of unrounded bilinear samples (row 0 of `inv`) into `acc`. */
function warpBilinearFloat(src: RgbImage, inv: Affine, width: number, acc: Float64Array): void {
  const { width: sw, height: sh, data } = src;
  const [a, , tx, c, , ty] = inv;
  let sx = tx, sy = ty;
  for (let x = 0, o = 0; x < width; x++, sx += a, sy += c, o += 3) {
    const x0 = Math.floor(sx), y0 = Math.floor(sy);
    const fx = sx - x0, fy = sy - y0;
    for (let dy = 0; dy < 2; dy++) {
      const yy = y0 + dy;
      if (yy < 0 || yy >= sh) continue;
      for (let dx = 0; dx < 2; dx++) {
        const xx = x0 + dx;
        if (xx < 0 || xx >= sw) continue;
        const w = (dx ? fx : 1 - fx) * (dy ? fy : 1 - fy), p = (yy * sw + xx) * 3;
        acc[o] += w * data[p];
        acc[o + 1] += w * data[p + 1];
        acc[o + 2] += w * data[p + 2];
      }
    }
  }
}
