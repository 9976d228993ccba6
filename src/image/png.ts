// PNG: decode with @jsquash/png (wasm, async), encode with a small encoder of our own (8-bit
// RGB or RGBA, filter 0, zlib from CompressionStream), enough for contact sheets, plots and test fixtures.
import { decode as squooshDecode } from "@jsquash/png";
import { DecodeError, rgbaToRgb, type RgbImage } from "./image.ts";

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

export function isPng(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && SIGNATURE.every((b, i) => bytes[i] === b);
}

/** Decodes any 8- or 16-bit PNG (palette, grey, alpha) to RGB; alpha is dropped. */
export async function decodePng(bytes: Uint8Array): Promise<RgbImage> {
  let img: { width: number; height: number; data: ArrayLike<number> };
  try {
    // The codec takes an ArrayBuffer; copy so a view into a larger buffer is not misread.
    img = await squooshDecode(bytes.slice().buffer);
  } catch (err) {
    throw new DecodeError(`corrupt PNG (${(err as Error)?.message ?? String(err)})`);
  }
  return rgbaToRgb(img.data, img.width, img.height);
}

let crcTable: Uint32Array | undefined;

/** CRC-32 (ISO-HDLC) as PNG chunks use it. */
export function crc32(bytes: Uint8Array, crc = 0): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = ~crc >>> 0;
  for (let i = 0; i < bytes.length; i++) c = crcTable[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

async function zlib(data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([data as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
    new CompressionStream("deflate"),
  );
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Encodes 8-bit RGB as a PNG file. */
export function encodePng(img: RgbImage): Promise<Uint8Array> {
  return encodeRaw(img.width, img.height, img.data, 3);
}

/** Encodes 8-bit RGBA as a PNG file (plots with transparency). */
export function encodePngRgba(
  width: number,
  height: number,
  rgba: Uint8Array,
): Promise<Uint8Array> {
  return encodeRaw(width, height, rgba, 4);
}

async function encodeRaw(
  width: number,
  height: number,
  data: Uint8Array,
  channels: 3 | 4,
): Promise<Uint8Array> {
  if (data.length !== width * height * channels) {
    const kind = channels === 3 ? "RGB" : "RGBA";
    throw new Error(`encodePng: ${data.length} bytes for ${width}×${height} ${kind}`);
  }
  const row = width * channels;
  const raw = new Uint8Array(height * (row + 1)); // each row: filter byte 0, then pixels
  for (let y = 0; y < height; y++) {
    raw.set(data.subarray(y * row, (y + 1) * row), y * (row + 1) + 1);
  }
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, width);
  v.setUint32(4, height);
  // 8-bit, truecolour (2) or truecolour with alpha (6), deflate, filter 0, no interlace
  ihdr.set([8, channels === 3 ? 2 : 6, 0, 0, 0], 8);
  const parts = [
    new Uint8Array(SIGNATURE),
    chunk("IHDR", ihdr),
    chunk("IDAT", await zlib(raw)),
    chunk("IEND", new Uint8Array(0)),
  ];
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
