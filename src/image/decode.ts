// Picks the decoder by the file's first bytes (not its name: Yale faces have no extension).
import { decodeBmp, isBmp } from "./bmp.ts";
import { decodeGif, isGif } from "./gif.ts";
import { DecodeError, type RgbImage } from "./image.ts";
import { decodeJpeg, isJpeg } from "./jpeg.ts";
import { decodePng, isPng } from "./png.ts";
import { decodePnm, isPnm } from "./pnm.ts";

export type ImageFormat = "jpeg" | "png" | "pnm" | "bmp" | "gif";

export const SUPPORTED_FORMATS = "JPEG, PNG, PGM/PPM (P2/P3/P5/P6), BMP, GIF";

/** The format the bytes start like, or null. */
export function sniffFormat(bytes: Uint8Array): ImageFormat | null {
  if (isJpeg(bytes)) return "jpeg";
  if (isPng(bytes)) return "png";
  if (isPnm(bytes)) return "pnm";
  if (isGif(bytes)) return "gif";
  if (isBmp(bytes)) return "bmp";
  return null;
}

/** Decodes any supported image to RGB; throws DecodeError saying what is wrong. */
export function decodeImage(bytes: Uint8Array): RgbImage | Promise<RgbImage> {
  switch (sniffFormat(bytes)) {
    case "jpeg":
      return decodeJpeg(bytes);
    case "png":
      return decodePng(bytes);
    case "pnm":
      return decodePnm(bytes);
    case "gif":
      return decodeGif(bytes);
    case "bmp":
      return decodeBmp(bytes);
    default: {
      const head = Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, "0")).join(
        " ",
      );
      throw new DecodeError(
        bytes.length === 0
          ? "empty file"
          : `unrecognised image format (first bytes ${head}); supported: ${SUPPORTED_FORMATS}`,
      );
    }
  }
}
