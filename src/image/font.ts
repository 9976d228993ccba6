// A tiny 3×5 bitmap font (capitals, digits, common punctuation) for captions on contact
// sheets; lower case is drawn as capitals and unknown characters as '?'.
import type { RgbImage } from "./image.ts";

export const GLYPH_WIDTH = 3, GLYPH_HEIGHT = 5;

// Each glyph: five rows of three pixels, top to bottom, '1' = ink.
const GLYPHS: Record<string, string> = {
  A: "010 101 111 101 101",
  B: "110 101 110 101 110",
  C: "011 100 100 100 011",
  D: "110 101 101 101 110",
  E: "111 100 110 100 111",
  F: "111 100 110 100 100",
  G: "011 100 101 101 011",
  H: "101 101 111 101 101",
  I: "111 010 010 010 111",
  J: "001 001 001 101 010",
  K: "101 101 110 101 101",
  L: "100 100 100 100 111",
  M: "101 111 101 101 101",
  N: "110 101 101 101 101",
  O: "010 101 101 101 010",
  P: "110 101 110 100 100",
  Q: "010 101 101 110 011",
  R: "110 101 110 101 101",
  S: "011 100 010 001 110",
  T: "111 010 010 010 010",
  U: "101 101 101 101 111",
  V: "101 101 101 101 010",
  W: "101 101 101 111 101",
  X: "101 101 010 101 101",
  Y: "101 101 010 010 010",
  Z: "111 001 010 100 111",
  "0": "111 101 101 101 111",
  "1": "010 110 010 010 111",
  "2": "110 001 010 100 111",
  "3": "110 001 010 001 110",
  "4": "101 101 111 001 001",
  "5": "111 100 110 001 110",
  "6": "011 100 110 101 010",
  "7": "111 001 010 010 010",
  "8": "010 101 010 101 010",
  "9": "010 101 011 001 110",
  " ": "000 000 000 000 000",
  _: "000 000 000 000 111",
  "-": "000 000 111 000 000",
  ".": "000 000 000 000 010",
  ",": "000 000 000 010 100",
  "'": "010 010 000 000 000",
  "(": "001 010 010 010 001",
  ")": "100 010 010 010 100",
  "/": "001 001 010 100 100",
  ":": "000 010 000 010 000",
  "#": "101 111 101 111 101",
  "?": "110 001 010 000 010",
  "+": "000 010 111 010 000",
  "=": "000 111 000 111 000",
  "&": "010 101 010 101 011",
  "!": "010 010 010 000 010",
};

const BITS = new Map(
  Object.entries(GLYPHS).map((
    [ch, rows],
  ) => [ch, rows.split(" ").map((r) => [...r].map((b) => b === "1"))]),
);

/** Width in pixels of `text` at `scale` (one blank column between glyphs). */
export function textWidth(text: string, scale = 1): number {
  return text.length === 0 ? 0 : (text.length * (GLYPH_WIDTH + 1) - 1) * scale;
}

/** The longest prefix of `text` that fits `width` pixels, with '..' when cut. */
export function fitText(text: string, width: number, scale = 1): string {
  if (textWidth(text, scale) <= width) return text;
  let n = text.length;
  while (n > 0 && textWidth(text.slice(0, n) + "..", scale) > width) n--;
  return text.slice(0, n) + "..";
}

/** Draws `text` with its top-left corner at (x, y), clipped to the image. */
export function drawText(
  img: RgbImage,
  x: number,
  y: number,
  text: string,
  color: readonly [number, number, number],
  scale = 1,
): void {
  for (const [k, raw] of [...text].entries()) {
    const glyph = BITS.get(raw.toUpperCase()) ?? BITS.get("?")!;
    const gx = x + k * (GLYPH_WIDTH + 1) * scale;
    for (let r = 0; r < GLYPH_HEIGHT; r++) {
      for (let c = 0; c < GLYPH_WIDTH; c++) {
        if (glyph[r][c]) fillRect(img, gx + c * scale, y + r * scale, scale, scale, color);
      }
    }
  }
}

/** Fills a rectangle, clipped to the image. */
export function fillRect(
  img: RgbImage,
  x: number,
  y: number,
  w: number,
  h: number,
  color: readonly [number, number, number],
): void {
  const x0 = Math.max(0, Math.round(x)), y0 = Math.max(0, Math.round(y));
  const x1 = Math.min(img.width, Math.round(x + w)), y1 = Math.min(img.height, Math.round(y + h));
  for (let yy = y0; yy < y1; yy++) {
    for (let xx = x0; xx < x1; xx++) {
      const o = (yy * img.width + xx) * 3;
      img.data[o] = color[0];
      img.data[o + 1] = color[1];
      img.data[o + 2] = color[2];
    }
  }
}
