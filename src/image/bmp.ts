// Windows BMP decode: uncompressed 24/32-bit and 1/4/8-bit palette images, bottom-up or top-down.
import { DecodeError, type RgbImage } from "./image.ts";

export function isBmp(bytes: Uint8Array): boolean {
  return bytes.length >= 26 && bytes[0] === 0x42 && bytes[1] === 0x4d;
}

export function decodeBmp(bytes: Uint8Array): RgbImage {
  if (!isBmp(bytes)) throw new DecodeError("not a BMP file");
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dataOffset = v.getUint32(10, true);
  const headerSize = v.getUint32(14, true);
  if (headerSize < 40) {
    throw new DecodeError(`BMP core header (${headerSize} bytes) is not supported`);
  }
  const width = v.getInt32(18, true);
  const rawHeight = v.getInt32(22, true);
  const bits = v.getUint16(28, true);
  const compression = v.getUint32(30, true);
  const height = Math.abs(rawHeight);
  const topDown = rawHeight < 0;
  // BI_BITFIELDS (3) with 32 bits is the usual BGRA layout; other masks are not handled.
  if (!(compression === 0 || (compression === 3 && bits === 32))) {
    throw new DecodeError(`compressed BMP (compression ${compression}) is not supported`);
  }
  if (![1, 4, 8, 24, 32].includes(bits)) {
    throw new DecodeError(`BMP with ${bits} bits per pixel is not supported`);
  }
  if (width <= 0 || height === 0) throw new DecodeError(`BMP has size ${width}×${rawHeight}`);
  const stride = Math.ceil((width * bits) / 32) * 4;
  if (dataOffset + stride * height > bytes.length) throw new DecodeError("truncated BMP file");
  let palette: Uint8Array | undefined;
  if (bits <= 8) {
    const colours = v.getUint32(46, true) || 1 << bits;
    palette = bytes.subarray(14 + headerSize, 14 + headerSize + colours * 4);
  }
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const row = dataOffset + (topDown ? y : height - 1 - y) * stride;
    for (let x = 0, o = y * width * 3; x < width; x++, o += 3) {
      if (bits >= 24) {
        const p = row + x * (bits >> 3);
        data[o] = bytes[p + 2];
        data[o + 1] = bytes[p + 1];
        data[o + 2] = bytes[p];
      } else {
        const bitPos = x * bits;
        const byte = bytes[row + (bitPos >> 3)];
        const index = (byte >> (8 - bits - (bitPos & 7))) & ((1 << bits) - 1);
        const p = index * 4;
        data[o] = palette![p + 2] ?? 0;
        data[o + 1] = palette![p + 1] ?? 0;
        data[o + 2] = palette![p] ?? 0;
      }
    }
  }
  return { width, height, data };
}
