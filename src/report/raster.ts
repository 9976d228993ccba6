// Scene → RGBA pixels: anti-aliased lines (coverage from the distance to each segment,
// max-combined per polyline so joints do not darken) and the 5×7 bitmap font.
import { ADVANCE, GLYPH_H, glyphRows } from "./font.ts";
import type { Primitive, Scene } from "./plot.ts";

export interface Raster {
  width: number;
  height: number;
  /** width·height·4 bytes, RGBA, row-major. */
  rgba: Uint8Array;
}

function rgb(color: string): [number, number, number] {
  const m = /^#([0-9a-f]{6})$/i.exec(color);
  if (!m) return [0, 0, 0];
  const v = parseInt(m[1], 16);
  return [v >> 16, (v >> 8) & 255, v & 255];
}

/** Cuts a polyline into its dashes (pattern in the same units as the points). */
function dashes(points: number[], pattern: number[]): number[][] {
  const out: number[][] = [];
  let k = 0, left = pattern[0], on = true, cur: number[] = [points[0], points[1]];
  for (let i = 2; i < points.length; i += 2) {
    let [x0, y0] = [points[i - 2], points[i - 1]];
    const [x1, y1] = [points[i], points[i + 1]];
    let len = Math.hypot(x1 - x0, y1 - y0);
    while (len > left) {
      const f = left / len;
      const xm = x0 + (x1 - x0) * f, ym = y0 + (y1 - y0) * f;
      if (on) {
        cur.push(xm, ym);
        out.push(cur);
      }
      cur = [xm, ym];
      len -= left;
      [x0, y0] = [xm, ym];
      on = !on;
      k = (k + 1) % pattern.length;
      left = pattern[k];
    }
    left -= len;
    if (on) cur.push(x1, y1);
  }
  if (on && cur.length >= 4) out.push(cur);
  return out;
}

export function rasterize(scene: Scene, scale = 2): Raster {
  const W = Math.round(scene.width * scale), H = Math.round(scene.height * scale);
  const rgba = new Uint8Array(W * H * 4);
  const cover = new Float32Array(W * H);
  const a = scene.area;
  const clipBox = [a.x * scale, a.y * scale, (a.x + a.w) * scale, (a.y + a.h) * scale];
  const full = [0, 0, W, H];

  const blend = (i: number, c: [number, number, number], alpha: number) => {
    const o = i * 4;
    rgba[o] = rgba[o] + (c[0] - rgba[o]) * alpha;
    rgba[o + 1] = rgba[o + 1] + (c[1] - rgba[o + 1]) * alpha;
    rgba[o + 2] = rgba[o + 2] + (c[2] - rgba[o + 2]) * alpha;
    rgba[o + 3] = 255;
  };
  /** Paints the coverage gathered in `cover` over [x0, x1) × [y0, y1), then clears it. */
  const flush = (color: string, box: number[]) => {
    const c = rgb(color);
    for (let y = Math.max(0, box[1]); y < Math.min(H, box[3]); y++) {
      for (let x = Math.max(0, box[0]); x < Math.min(W, box[2]); x++) {
        const i = y * W + x;
        if (cover[i] > 0) {
          blend(i, c, cover[i]);
          cover[i] = 0;
        }
      }
    }
  };
  const segment = (
    x0: number,
    y0: number,
    x1: number,
    y1: number,
    half: number,
    clip: number[],
    box: number[],
  ) => {
    const bx0 = Math.max(Math.floor(Math.min(x0, x1) - half - 1), Math.floor(clip[0]), 0);
    const bx1 = Math.min(Math.ceil(Math.max(x0, x1) + half + 1), Math.ceil(clip[2]), W);
    const by0 = Math.max(Math.floor(Math.min(y0, y1) - half - 1), Math.floor(clip[1]), 0);
    const by1 = Math.min(Math.ceil(Math.max(y0, y1) + half + 1), Math.ceil(clip[3]), H);
    const dx = x1 - x0, dy = y1 - y0, len2 = dx * dx + dy * dy;
    for (let y = by0; y < by1; y++) {
      for (let x = bx0; x < bx1; x++) {
        const cx = x + 0.5, cy = y + 0.5;
        const t = len2 > 0 ? Math.max(0, Math.min(1, ((cx - x0) * dx + (cy - y0) * dy) / len2)) : 0;
        const d = Math.hypot(cx - (x0 + t * dx), cy - (y0 + t * dy));
        const c = Math.min(1, half + 0.5 - d);
        if (c > 0) {
          const i = y * W + x;
          if (c > cover[i]) cover[i] = c;
        }
      }
    }
    box[0] = Math.min(box[0], bx0), box[1] = Math.min(box[1], by0);
    box[2] = Math.max(box[2], bx1), box[3] = Math.max(box[3], by1);
  };

  const draw = (p: Primitive) => {
    if (p.kind === "rect") {
      const [x0, y0, x1, y1] = [p.x * scale, p.y * scale, (p.x + p.w) * scale, (p.y + p.h) * scale];
      if (p.fill) {
        const c = rgb(p.fill);
        for (let y = Math.max(0, Math.round(y0)); y < Math.min(H, Math.round(y1)); y++) {
          for (let x = Math.max(0, Math.round(x0)); x < Math.min(W, Math.round(x1)); x++) {
            blend(y * W + x, c, 1);
          }
        }
      }
      if (p.stroke) {
        const box = [W, H, 0, 0];
        const half = (p.width ?? 1) * scale / 2;
        const pts = [x0, y0, x1, y0, x1, y1, x0, y1, x0, y0];
        for (let k = 2; k < pts.length; k += 2) {
          segment(pts[k - 2], pts[k - 1], pts[k], pts[k + 1], half, full, box);
        }
        flush(p.stroke, box);
      }
    } else if (p.kind === "line") {
      const pts = p.points.map((v) => v * scale);
      const pieces = p.dash ? dashes(pts, p.dash.map((v) => v * scale)) : [pts];
      const box = [W, H, 0, 0];
      const clip = p.clip ? clipBox : full;
      for (const piece of pieces) {
        if (piece.length === 2) {
          segment(piece[0], piece[1], piece[0], piece[1], p.width * scale / 2, clip, box);
        }
        for (let k = 2; k < piece.length; k += 2) {
          segment(
            piece[k - 2],
            piece[k - 1],
            piece[k],
            piece[k + 1],
            p.width * scale / 2,
            clip,
            box,
          );
        }
      }
      flush(p.color, box);
    } else if (p.kind === "dot") {
      const box = [W, H, 0, 0];
      segment(
        p.x * scale,
        p.y * scale,
        p.x * scale,
        p.y * scale,
        p.r * scale,
        p.clip ? clipBox : full,
        box,
      );
      flush(p.color, box);
    } else {
      const g = Math.max(1, Math.round(p.size * scale / 10)); // font pixels per glyph pixel
      const textW = p.text.length * ADVANCE * g - g;
      const shift = p.anchor === "start" ? 0 : p.anchor === "middle" ? -textW / 2 : -textW;
      const ox = Math.round(p.x * scale), oy = Math.round(p.y * scale);
      const c = rgb(p.color);
      [...p.text].forEach((ch, n) => {
        glyphRows(ch).forEach((bits, r) => {
          for (let col = 0; col < 5; col++) {
            if (!(bits & (16 >> col))) continue;
            const along = Math.round(shift) + (n * ADVANCE + col) * g; // position along the text
            const across = (r - GLYPH_H) * g; // above the baseline
            for (let u = 0; u < g; u++) {
              for (let v = 0; v < g; v++) {
                // Rotated text runs upwards: along → −y, across → x.
                const x = p.rotate ? ox + across + v + Math.round(g * GLYPH_H / 2) : ox + along + u;
                const y = p.rotate ? oy - along - u : oy + across + v;
                if (x >= 0 && x < W && y >= 0 && y < H) blend(y * W + x, c, 1);
              }
            }
          }
        });
      });
    }
  };
  for (const p of scene.items) draw(p);
  return { width: W, height: H, rgba };
}
