// The decoded-image type every decoder returns and the warp reads: 8-bit RGB, row-major HWC.

/** An 8-bit RGB image, row-major, 3 bytes a pixel (grey sources are expanded). */
export interface RgbImage {
  width: number;
  height: number;
  /** width·height·3 bytes. */
  data: Uint8Array;
}

/** A decoder's complaint about the bytes it was given; the caller adds the record and path. */
export class DecodeError extends Error {
  override name = "DecodeError";
}

/** Expands one grey channel to RGB. */
export function greyToRgb(grey: Uint8Array, width: number, height: number): RgbImage {
  const n = width * height;
  const data = new Uint8Array(n * 3);
  for (let i = 0, o = 0; i < n; i++, o += 3) {
    const v = grey[i];
    data[o] = v;
    data[o + 1] = v;
    data[o + 2] = v;
  }
  return { width, height, data };
}

/** Drops the alpha channel of RGBA pixels (as PIL's convert("RGB") does). */
export function rgbaToRgb(rgba: ArrayLike<number>, width: number, height: number): RgbImage {
  const n = width * height;
  const data = new Uint8Array(n * 3);
  for (let i = 0, s = 0, o = 0; i < n; i++, s += 4, o += 3) {
    data[o] = rgba[s];
    data[o + 1] = rgba[s + 1];
    data[o + 2] = rgba[s + 2];
  }
  return { width, height, data };
}
