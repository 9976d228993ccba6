// Netpbm images: PGM (P2/P5) and PPM (P3/P6) decode, P5/P6 encode. AT&T faces are P5; the
// synthetic-face generator emits P6 in the `bytes` column.
import { DecodeError, greyToRgb, type RgbImage } from "./image.ts";

/** Whether the bytes start like a PGM or PPM file. */
export function isPnm(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === 0x50 && bytes[1] >= 0x32 && bytes[1] <= 0x36 &&
    bytes[1] !== 0x34 && isSpace(bytes[2]);
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0b || c === 0x0c;
}

/** Reads the header tokens (magic, width, height, maxval), skipping `#` comments. */
function readHeader(bytes: Uint8Array): { magic: number; fields: number[]; dataStart: number } {
  const magic = bytes[1] - 0x30;
  let at = 2;
  const fields: number[] = [];
  while (fields.length < 3) {
    while (at < bytes.length && isSpace(bytes[at])) at++;
    if (at < bytes.length && bytes[at] === 0x23) {
      while (at < bytes.length && bytes[at] !== 0x0a && bytes[at] !== 0x0d) at++;
      continue;
    }
    let v = 0, digits = 0;
    while (at < bytes.length && bytes[at] >= 0x30 && bytes[at] <= 0x39) {
      v = v * 10 + bytes[at++] - 0x30;
      digits++;
    }
    if (digits === 0) {
      throw new DecodeError(`malformed P${magic} header (expected a number at byte ${at})`);
    }
    fields.push(v);
  }
  // Exactly one whitespace byte separates the header from binary pixels.
  if (at >= bytes.length || !isSpace(bytes[at])) {
    throw new DecodeError(`malformed P${magic} header (no whitespace after maxval)`);
  }
  return { magic, fields, dataStart: at + 1 };
}

/** Decodes P2, P3, P5 or P6 with maxval up to 65535 (16-bit samples are scaled to 8 bits). */
export function decodePnm(bytes: Uint8Array): RgbImage {
  if (!isPnm(bytes)) throw new DecodeError("not a PGM/PPM file (magic P2, P3, P5 or P6)");
  const { magic, fields: [width, height, maxval], dataStart } = readHeader(bytes);
  if (width <= 0 || height <= 0) {
    throw new DecodeError(`P${magic} image has size ${width}×${height}`);
  }
  if (maxval <= 0 || maxval > 65535) {
    throw new DecodeError(`P${magic} maxval ${maxval} is not in 1..65535`);
  }
  const channels = magic === 3 || magic === 6 ? 3 : 1;
  const n = width * height * channels;
  const samples = new Uint8Array(n);
  const scale = (v: number) => maxval === 255 ? v : Math.round((v * 255) / maxval);
  if (magic === 5 || magic === 6) {
    const wide = maxval > 255;
    const need = n * (wide ? 2 : 1);
    if (bytes.length - dataStart < need) {
      throw new DecodeError(
        `truncated P${magic} file: ${
          bytes.length - dataStart
        } pixel bytes, ${width}×${height} needs ${need}`,
      );
    }
    if (!wide && maxval === 255) samples.set(bytes.subarray(dataStart, dataStart + n));
    else if (!wide) { for (let i = 0; i < n; i++) samples[i] = scale(bytes[dataStart + i]); }
    else {
      for (let i = 0; i < n; i++) {
        samples[i] = scale((bytes[dataStart + 2 * i] << 8) | bytes[dataStart + 2 * i + 1]);
      }
    }
  } else {
    let at = dataStart - 1;
    for (let i = 0; i < n; i++) {
      while (at < bytes.length && isSpace(bytes[at])) at++;
      let v = 0, digits = 0;
      while (at < bytes.length && bytes[at] >= 0x30 && bytes[at] <= 0x39) {
        v = v * 10 + bytes[at++] - 0x30;
        digits++;
      }
      if (digits === 0) throw new DecodeError(`truncated P${magic} file: ${i} of ${n} samples`);
      samples[i] = scale(Math.min(v, maxval));
    }
  }
  return channels === 3 ? { width, height, data: samples } : greyToRgb(samples, width, height);
}

/** Encodes binary PPM (P6) from RGB, or PGM (P5) from one grey channel. */
export function encodePnm(
  width: number,
  height: number,
  data: Uint8Array,
  channels: 1 | 3 = 3,
): Uint8Array {
  if (data.length !== width * height * channels) {
    throw new Error(`encodePnm: ${data.length} bytes for ${width}×${height}×${channels}`);
  }
  const header = new TextEncoder().encode(`P${channels === 3 ? 6 : 5}\n${width} ${height}\n255\n`);
  const out = new Uint8Array(header.length + data.length);
  out.set(header);
  out.set(data, header.length);
  return out;
}
