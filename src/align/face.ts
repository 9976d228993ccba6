// From a decoded image to an aligned S×S face: the target→source transform of each mode
// (5-point similarity, centre crop, plain resize) and the warp that applies it.
import type { RgbImage } from "../image/image.ts";
import { type Affine, estimateSimilarity, invertAffine } from "./similarity.ts";
import { arcfaceTemplate } from "./template.ts";
import { warpAffine } from "./warp.ts";

export type AlignMode = "landmarks" | "center" | "resize";
export const ALIGN_MODES: readonly AlignMode[] = ["landmarks", "center", "resize"];

/** The source→crop similarity that puts the 5 landmarks onto the template for an S×S crop. */
export function landmarkTransform(landmarks: ArrayLike<number>, size: number): Affine {
  if (landmarks.length !== 10) {
    throw new Error(`expected 10 landmark numbers, got ${landmarks.length}`);
  }
  for (let i = 0; i < 10; i++) {
    if (!Number.isFinite(landmarks[i])) throw new Error(`landmark value ${i} is ${landmarks[i]}`);
  }
  return estimateSimilarity(landmarks, arcfaceTemplate(size));
}

/**
 * Crop→source map that takes a centred `crop`×`crop` square (the largest one when crop is
 * undefined) and scales it to size×size; pixel centres sit at (i + ½)·crop/size.
 */
export function centerCropInverse(
  width: number,
  height: number,
  size: number,
  crop?: number,
): Affine {
  const side = crop ?? Math.min(width, height);
  const s = side / size;
  return Float64Array.of(
    s,
    0,
    (width - side) / 2 + 0.5 * s - 0.5,
    0,
    s,
    (height - side) / 2 + 0.5 * s - 0.5,
  );
}

/** Crop→source map that stretches the whole image to size×size. */
export function resizeInverse(width: number, height: number, size: number): Affine {
  const sx = width / size, sy = height / size;
  return Float64Array.of(sx, 0, 0.5 * sx - 0.5, 0, sy, 0.5 * sy - 0.5);
}

/** Crop→source map that fits the whole image inside size×size, keeping its aspect (letterbox). */
export function fitInverse(width: number, height: number, size: number): Affine {
  const s = Math.max(width, height) / size;
  return Float64Array.of(
    s,
    0,
    (width - s * size) / 2 + 0.5 * s - 0.5,
    0,
    s,
    (height - s * size) / 2 + 0.5 * s - 0.5,
  );
}

export interface AlignOptions {
  mode: AlignMode;
  size: number;
  /** Side of the centred square for mode "center" (default: the shorter image side). */
  crop?: number;
}

/** Why a record cannot be aligned in the requested mode (the caller names the record). */
export class AlignError extends Error {
  override name = "AlignError";
  constructor(message: string, readonly hint?: string) {
    super(message);
  }
}

/** The crop→source transform for one image. */
export function faceInverse(
  img: RgbImage,
  landmarks: ArrayLike<number> | null,
  opt: AlignOptions,
): Affine {
  if (opt.mode === "landmarks") {
    if (!landmarks) {
      throw new AlignError(
        "has no landmarks, so it cannot be aligned to the template",
        "use --mode center [--crop N] for un-annotated images, --mode resize for crops aligned at " +
          "another size, or give prepare a --landmarks file",
      );
    }
    return invertAffine(landmarkTransform(landmarks, opt.size));
  }
  if (opt.mode === "center") {
    if (opt.crop !== undefined && (opt.crop > img.width || opt.crop > img.height)) {
      throw new AlignError(
        `is ${img.width}×${img.height}, smaller than --crop ${opt.crop}`,
        "choose a smaller --crop (or leave it out to take the largest centred square)",
      );
    }
    return centerCropInverse(img.width, img.height, opt.size, opt.crop);
  }
  return resizeInverse(img.width, img.height, opt.size);
}

/** Aligns one decoded image into `out` (S·S·3 bytes at `offset`). */
export function alignFace(
  img: RgbImage,
  landmarks: ArrayLike<number> | null,
  opt: AlignOptions,
  out: Uint8Array = new Uint8Array(opt.size * opt.size * 3),
  offset = 0,
): Uint8Array {
  return warpAffine(img, faceInverse(img, landmarks, opt), opt.size, opt.size, out, offset);
}
