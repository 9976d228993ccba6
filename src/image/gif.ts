// GIF decode (first frame only), for the Yale faces, which are extension-less GIF89a files.
import { DecodeError, type RgbImage } from "./image.ts";

export function isGif(bytes: Uint8Array): boolean {
  return bytes.length >= 13 && bytes[0] === 0x47 && bytes[1] === 0x49 && bytes[2] === 0x46 &&
    bytes[3] === 0x38 && (bytes[4] === 0x37 || bytes[4] === 0x39) && bytes[5] === 0x61;
}

/** The first image of a GIF drawn on its logical screen (uncovered pixels black), as RGB. */
export function decodeGif(bytes: Uint8Array): RgbImage {
  if (!isGif(bytes)) throw new DecodeError("not a GIF file");
  const u16 = (at: number) => bytes[at] | (bytes[at + 1] << 8);
  const need = (at: number, n: number) => {
    if (at + n > bytes.length) throw new DecodeError("truncated GIF file");
  };
  const width = u16(6), height = u16(8), flags = bytes[10];
  let at = 13;
  let globalTable: Uint8Array | undefined;
  if (flags & 0x80) {
    const size = 3 * (2 << (flags & 7));
    need(at, size);
    globalTable = bytes.subarray(at, at + size);
    at += size;
  }
  for (;;) {
    need(at, 1);
    const block = bytes[at++];
    if (block === 0x21) { // extension: label, then sub-blocks
      at++;
      at = skipSubBlocks(bytes, at);
    } else if (block === 0x2c) {
      need(at, 9);
      const left = u16(at), top = u16(at + 2), w = u16(at + 4), h = u16(at + 6), f = bytes[at + 8];
      at += 9;
      let table = globalTable;
      if (f & 0x80) {
        const size = 3 * (2 << (f & 7));
        need(at, size);
        table = bytes.subarray(at, at + size);
        at += size;
      }
      if (!table) throw new DecodeError("GIF image has no colour table");
      need(at, 1);
      const minCodeSize = bytes[at++];
      if (minCodeSize < 1 || minCodeSize > 11) {
        throw new DecodeError(`GIF LZW code size ${minCodeSize}`);
      }
      const { data, end } = joinSubBlocks(bytes, at);
      at = end;
      const indices = lzwDecode(data, minCodeSize, w * h);
      const rows = rowOrder(h, (f & 0x40) !== 0);
      const out = new Uint8Array(width * height * 3);
      for (let r = 0; r < h; r++) {
        const y = top + rows[r];
        if (y >= height) continue;
        for (let x = 0; x < w && left + x < width; x++) {
          const c = indices[r * w + x] * 3, o = (y * width + left + x) * 3;
          out[o] = table[c] ?? 0;
          out[o + 1] = table[c + 1] ?? 0;
          out[o + 2] = table[c + 2] ?? 0;
        }
      }
      return { width, height, data: out };
    } else {
      throw new DecodeError(
        block === 0x3b ? "GIF file holds no image" : `corrupt GIF (block 0x${block.toString(16)})`,
      );
    }
  }
}

function skipSubBlocks(bytes: Uint8Array, at: number): number {
  while (at < bytes.length && bytes[at] !== 0) at += bytes[at] + 1;
  if (at >= bytes.length) throw new DecodeError("truncated GIF file");
  return at + 1;
}

function joinSubBlocks(bytes: Uint8Array, at: number): { data: Uint8Array; end: number } {
  const end = skipSubBlocks(bytes, at);
  const data = new Uint8Array(end - at);
  let n = 0;
  while (bytes[at] !== 0) {
    const len = bytes[at];
    data.set(bytes.subarray(at + 1, at + 1 + len), n);
    n += len;
    at += len + 1;
  }
  return { data: data.subarray(0, n), end };
}

/** Row r of the stored image is drawn at rowOrder[r] (interlaced GIFs store 4 passes). */
function rowOrder(h: number, interlaced: boolean): Int32Array {
  const order = new Int32Array(h);
  if (!interlaced) return order.map((_, i) => i);
  let r = 0;
  for (const [start, step] of [[0, 8], [4, 8], [2, 4], [1, 2]]) {
    for (let y = start; y < h; y += step) order[r++] = y;
  }
  return order;
}

/** Variable-width LZW as GIF uses it; missing data leaves the remaining pixels at index 0. */
function lzwDecode(data: Uint8Array, minCodeSize: number, count: number): Uint8Array {
  const out = new Uint8Array(count);
  const clear = 1 << minCodeSize, eoi = clear + 1;
  const prefix = new Int16Array(4096), suffix = new Uint8Array(4096), stack = new Uint8Array(4097);
  for (let i = 0; i < clear; i++) suffix[i] = i;
  let size = minCodeSize + 1, mask = (1 << size) - 1, next = clear + 2;
  let old = -1, first = 0, bits = 0, datum = 0, n = 0;
  for (let i = 0; i < data.length && n < count;) {
    while (bits < size && i < data.length) {
      datum |= data[i++] << bits;
      bits += 8;
    }
    if (bits < size) break;
    let code = datum & mask;
    datum >>>= size;
    bits -= size;
    if (code === clear) {
      size = minCodeSize + 1;
      mask = (1 << size) - 1;
      next = clear + 2;
      old = -1;
      continue;
    }
    if (code === eoi) break;
    if (old === -1) {
      if (code >= clear) throw new DecodeError("corrupt GIF LZW data");
      out[n++] = code;
      old = first = code;
      continue;
    }
    const input = code;
    let top = 0;
    if (code >= next) {
      if (code > next) throw new DecodeError("corrupt GIF LZW data");
      stack[top++] = first;
      code = old;
    }
    while (code >= clear) {
      stack[top++] = suffix[code];
      code = prefix[code];
    }
    first = code;
    stack[top++] = first;
    if (next < 4096) {
      prefix[next] = old;
      suffix[next] = first;
      next++;
      if ((next & mask) === 0 && next < 4096) {
        size++;
        mask = (1 << size) - 1;
      }
    }
    while (top > 0 && n < count) out[n++] = stack[--top];
    old = input;
  }
  return out;
}
