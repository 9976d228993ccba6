// Contact sheets: tiles in a grid with a caption under each and optional coloured dots
// (landmarks), for looking at what a stream holds.
import { drawText, fillRect, fitText, GLYPH_HEIGHT } from "./font.ts";
import type { RgbImage } from "./image.ts";

export interface Tile {
  /** tile·tile·3 RGB bytes. */
  pixels: Uint8Array;
  caption: string;
  /** Points in tile pixels, each drawn as a small dot of its colour. */
  dots?: { x: number; y: number; color: readonly [number, number, number] }[];
}

/** Colours of the five landmark points: eyes red/green, nose blue, mouth corners yellow/magenta. */
export const LANDMARK_COLORS: readonly (readonly [number, number, number])[] = [
  [255, 40, 40],
  [40, 220, 40],
  [60, 120, 255],
  [255, 220, 0],
  [255, 0, 255],
];

const GAP = 2, CAPTION_SCALE = 1, CAPTION_HEIGHT = GLYPH_HEIGHT * CAPTION_SCALE + 4;
const BACKGROUND = [24, 24, 24] as const,
  EMPTY = [48, 48, 48] as const,
  INK = [235, 235, 235] as const;

/** Lays out rows of tiles (a null tile leaves its cell empty) on a dark background. */
export function contactSheet(rows: (Tile | null)[][], tile: number): RgbImage {
  const cols = Math.max(1, ...rows.map((r) => r.length));
  const cellW = tile + GAP, cellH = tile + CAPTION_HEIGHT + GAP;
  const width = cols * cellW + GAP, height = Math.max(1, rows.length) * cellH + GAP;
  const img: RgbImage = { width, height, data: new Uint8Array(width * height * 3) };
  fillRect(img, 0, 0, width, height, BACKGROUND);
  rows.forEach((row, r) => {
    for (let c = 0; c < cols; c++) {
      const x = GAP + c * cellW, y = GAP + r * cellH;
      const t = row[c] ?? null;
      if (!t) {
        fillRect(img, x, y, tile, tile, EMPTY);
        continue;
      }
      for (let yy = 0; yy < tile; yy++) {
        img.data.set(
          t.pixels.subarray(yy * tile * 3, (yy + 1) * tile * 3),
          ((y + yy) * width + x) * 3,
        );
      }
      for (const d of t.dots ?? []) {
        if (d.x >= 0 && d.y >= 0 && d.x < tile && d.y < tile) {
          fillRect(img, x + d.x - 1.5, y + d.y - 1.5, 3, 3, d.color);
        }
      }
      drawText(
        img,
        x + 1,
        y + tile + 2,
        fitText(t.caption, tile - 2, CAPTION_SCALE),
        INK,
        CAPTION_SCALE,
      );
    }
  });
  return img;
}
