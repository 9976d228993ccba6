// The features painted on a synthetic face's skin, in head coordinates: eye sockets, cheeks,
// beard, moles, eyes, brows, nostrils, folds, lips and glasses. Each is a small signed-distance
// shape with analytic anti-aliasing; a coarse grid over the face says which of them can touch
// a point, so a pixel pays only for the one or two features near it.
import type { FaceIdentity } from "./synthetic_identity.ts";
import { detCos, detSin } from "./synthetic_math.ts";
import type { FaceView } from "./synthetic_view.ts";

// Painted skin features: kind codes, and per-feature parameter slots.
const F_SOCKET = 1, F_BLUSH = 2, F_BEARD = 3, F_MOLE = 4, F_EYE = 5, F_BROW = 6, F_NOSTRIL = 7;
const F_MOUTH = 8, F_FOLD = 9, F_RING = 10, F_BAR = 11;
const F_STRIDE = 16, MAX_FEATURES = 32;
// The feature grid covers the face in head coordinates; each cell lists features as bits.
const GRID = 32, GRID_X0 = -1.3, GRID_X1 = 1.3, GRID_Y0 = -1.7, GRID_Y1 = 1.3;

/** The mouth as an expression shapes it: corner lift above the centre and half-width. */
export function mouthShape(who: FaceIdentity, view: FaceView): { lift: number; halfWidth: number } {
  return {
    lift: 0.07 * view.smile + who.mouthRest,
    halfWidth: who.mouthW * (1 + 0.08 * view.smile),
  };
}

/** One image's painted features and the grid that finds them. */
export class FaceFeatures {
  #feat = new Float64Array(MAX_FEATURES * F_STRIDE);
  #featCount = 0;
  #grid = new Uint32Array(GRID * GRID);

  /** Places the features of `who` with the expression and accessories of `view`. */
  build(who: FaceIdentity, view: FaceView): void {
    this.#featCount = 0;
    this.#grid.fill(0);
    const open = view.eyeOpen;
    for (const side of [-1, 1]) {
      const cx = side * who.eyeX, cy = who.eyeY;
      this.#feature(F_SOCKET, cx - side * 0.02, cy + 0.03, who.eyeW * 1.7, who.eyeH * 3.2 + 0.05, [
        who.socket,
      ]);
    }
    for (const side of [-1, 1]) {
      this.#feature(F_BLUSH, side * 0.45, who.noseY - 0.05, 0.28, 0.2, [
        who.blush * (1 + 0.5 * view.smile),
      ]);
    }
    const { lift, halfWidth: mw } = mouthShape(who, view);
    if (who.beard > 0) {
      const top = who.earY + 0.2, bottom = who.jawY - who.jawB;
      this.#feature(F_BEARD, 0, (top + bottom) / 2, 1.2, (top - bottom) / 2, [who.beard]);
    }
    for (let m = 0; m < who.moles.length; m += 3) {
      const r = who.moles[m + 2];
      this.#feature(F_MOLE, who.moles[m], who.moles[m + 1], r + 0.03, r + 0.03, [r]);
    }
    for (const side of [-1, 1]) {
      const tilt = side * who.eyeTilt;
      this.#feature(F_EYE, side * who.eyeX, who.eyeY, who.eyeW + 0.05, who.eyeH * 1.6 + 0.05, [
        who.eyeW,
        who.eyeH * open,
        detCos(tilt),
        detSin(tilt),
        who.irisR,
        view.gazeX * who.irisR,
        view.gazeY * who.irisR,
      ]);
    }
    for (const side of [-1, 1]) {
      const inner = who.browInner, outer = who.browOuter;
      const baseY = who.eyeY + who.browGap + view.browRaise;
      this.#feature(
        F_BROW,
        side * (inner + outer) / 2,
        baseY + who.browArch / 2,
        (outer - inner) / 2 + 0.05,
        who.browThick + Math.abs(who.browArch) + Math.abs(who.browSlant) + 0.05,
        [side, inner, outer, baseY, who.browThick, who.browArch, who.browSlant, who.browDensity],
      );
    }
    for (const side of [-1, 1]) {
      const nx = side * who.alarX * 0.5, ny = who.noseY - 0.05;
      this.#feature(F_NOSTRIL, nx, ny, 0.06, 0.04, [0.032, 0.016]);
    }
    for (const side of [-1, 1]) {
      const x0 = side * (who.alarX + 0.05), y0 = who.noseY - 0.02;
      const x1 = side * (mw + 0.04), y1 = who.mouthY + lift + 0.02;
      this.#feature(
        F_FOLD,
        (x0 + x1) / 2,
        (y0 + y1) / 2,
        Math.abs(x1 - x0) / 2 + 0.05,
        Math.abs(y1 - y0) / 2 + 0.05,
        [
          x0,
          y0,
          x1,
          y1,
          0.05 + 0.12 * (view.smile > 0 ? view.smile : 0),
        ],
      );
    }
    const gap = 0.09 * view.mouthOpen;
    this.#feature(
      F_MOUTH,
      0,
      who.mouthY + lift / 2,
      mw + 0.04,
      who.lipUpper + who.lipLower + gap + Math.abs(lift) + 0.05,
      [
        who.mouthY,
        mw,
        lift,
        who.lipUpper,
        who.lipLower,
        gap,
      ],
    );
    if (view.glasses) {
      const gw = 0.23, gh = 0.15 + 0.03 * who.glassesSquare, th = 0.022;
      for (const side of [-1, 1]) {
        this.#feature(F_RING, side * who.eyeX, who.eyeY - 0.01, gw + th + 0.04, gh + th + 0.04, [
          gw,
          gh,
          th,
          who.glassesSquare,
        ]);
      }
      const inner = who.eyeX - gw, outer = who.eyeX + gw;
      this.#feature(F_BAR, 0, who.eyeY + 0.03, inner + 0.02, th + 0.04, [
        -inner,
        inner,
        who.eyeY + 0.03,
        th * 0.8,
      ]);
      for (const side of [-1, 1]) {
        const x0 = side * outer, x1 = side * 1.1;
        this.#feature(
          F_BAR,
          (x0 + x1) / 2,
          who.eyeY + 0.04,
          Math.abs(x1 - x0) / 2 + 0.02,
          th + 0.04,
          [
            Math.min(x0, x1),
            Math.max(x0, x1),
            who.eyeY + 0.04,
            th * 0.7,
          ],
        );
      }
    }
  }

  /** Registers a painted feature with its head-frame bounding box (centre, half-sizes). */
  #feature(kind: number, cx: number, cy: number, hx: number, hy: number, params: number[]): void {
    const i = this.#featCount++;
    if (i >= MAX_FEATURES) throw new Error("synthetic face: too many painted features");
    const f = i * F_STRIDE, fe = this.#feat;
    fe[f] = kind;
    fe[f + 1] = cx;
    fe[f + 2] = cy;
    for (let p = 0; p < params.length; p++) fe[f + 3 + p] = params[p];
    const gx = GRID / (GRID_X1 - GRID_X0), gy = GRID / (GRID_Y1 - GRID_Y0);
    const x0 = Math.max(0, Math.floor((cx - hx - GRID_X0) * gx)),
      x1 = Math.min(GRID - 1, Math.floor((cx + hx - GRID_X0) * gx));
    const y0 = Math.max(0, Math.floor((cy - hy - GRID_Y0) * gy)),
      y1 = Math.min(GRID - 1, Math.floor((cy + hy - GRID_Y0) * gy));
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) this.#grid[y * GRID + x] |= 1 << i;
    }
  }

  /**
   * Paints the features whose grid cell holds head point (x, y) over the albedo `alb`;
   * `aw` is the anti-aliasing width in head units, `ndl` the surface's n·L, `light` the light.
   */
  paint(
    x: number,
    y: number,
    alb: Float64Array,
    aw: number,
    ndl: number,
    light: Float64Array,
    who: FaceIdentity,
  ): void {
    const gxI = Math.floor((x - GRID_X0) * (GRID / (GRID_X1 - GRID_X0)));
    const gyI = Math.floor((y - GRID_Y0) * (GRID / (GRID_Y1 - GRID_Y0)));
    if (gxI < 0 || gyI < 0 || gxI >= GRID || gyI >= GRID) return;
    let mask = this.#grid[gyI * GRID + gxI];
    if (mask === 0) return;
    const fe = this.#feat;
    while (mask !== 0) {
      const bit = 31 - Math.clz32(mask & -mask);
      mask &= mask - 1;
      const f = bit * F_STRIDE;
      const dx = x - fe[f + 1], dy = y - fe[f + 2];
      switch (fe[f]) {
        case F_SOCKET:
          paintSocket(fe, f, dx, dy, alb);
          break;
        case F_BLUSH:
          paintBlush(fe, f, dx, dy, alb);
          break;
        case F_BEARD:
          paintBeard(fe, f, x, y, aw, alb, who);
          break;
        case F_MOLE:
          paintMole(fe, f, dx, dy, aw, alb, who);
          break;
        case F_EYE:
          paintEye(fe, f, dx, dy, aw, alb, who, ndl, light);
          break;
        case F_BROW:
          paintBrow(fe, f, x, y, aw, alb, who);
          break;
        case F_NOSTRIL:
          paintNostril(fe, f, dx, dy, aw, alb, who);
          break;
        case F_FOLD:
          paintFold(fe, f, x, y, alb);
          break;
        case F_MOUTH:
          paintMouth(fe, f, x, y, aw, alb, who);
          break;
        case F_RING:
          paintRing(fe, f, dx, dy, aw, alb, who);
          break;
        case F_BAR:
          paintBar(fe, f, x, y, aw, alb, who);
          break;
      }
    }
  }
}

/** Coverage of a shape at signed distance `sd` (negative inside) with edge width `aw`. */
function cover(sd: number, aw: number): number {
  const c = 0.5 - sd / aw;
  return c < 0 ? 0 : c > 1 ? 1 : c;
}

function mix(alb: Float64Array, r: number, g: number, b: number, a: number): void {
  alb[0] += (r - alb[0]) * a;
  alb[1] += (g - alb[1]) * a;
  alb[2] += (b - alb[2]) * a;
}

function paintSocket(fe: Float64Array, f: number, dx: number, dy: number, alb: Float64Array): void {
  // Deep-set eyes: a soft darkening around the eye.
  const rx = fe[f + 3], ry = fe[f + 4];
  const q = (dx * dx) / (rx * rx) + (dy * dy) / (ry * ry);
  if (q >= 1) return;
  const t = (1 - q) * (1 - q) * fe[f + 5];
  alb[0] *= 1 - t;
  alb[1] *= 1 - t * 1.05;
  alb[2] *= 1 - t * 1.02;
}

function paintBlush(fe: Float64Array, f: number, dx: number, dy: number, alb: Float64Array): void {
  const rx = fe[f + 3], ry = fe[f + 4];
  const q = (dx * dx) / (rx * rx) + (dy * dy) / (ry * ry);
  if (q >= 1) return;
  const t = (1 - q) * fe[f + 5];
  alb[1] *= 1 - t;
  alb[2] *= 1 - t * 0.8;
}

function paintBeard(
  fe: Float64Array,
  f: number,
  x: number,
  y: number,
  aw: number,
  alb: Float64Array,
  who: FaceIdentity,
): void {
  const type = fe[f + 3];
  const my = who.mouthY, ax = x < 0 ? -x : x;
  let region: number;
  if (type === 2) {
    // Moustache: a band above the upper lip.
    const top = my + who.lipUpper + 0.11 - 0.1 * (ax / 0.45) * (ax / 0.45);
    const sd1 = y - top, sd2 = my + who.lipUpper * 0.5 - y, sd3 = ax - (who.mouthW + 0.05);
    region = cover(Math.max(sd1, sd2, sd3), aw * 2);
  } else {
    // Full beard and stubble: below a line rising from the upper lip to the sideburns.
    const t = ax / 0.8;
    let top = my + 0.12 + 0.85 * t * t * t;
    if (top > who.earY + 0.2) top = who.earY + 0.2;
    region = cover(y - top, aw * 3 + 0.02);
  }
  if (region <= 0) return;
  // Texture: a per-cell hash so the beard is grainy, and stays put on the skin under the pose.
  const cxI = Math.floor(x * 90), cyI = Math.floor(y * 90);
  let h = Math.imul(cxI ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(cyI, 0xc2b2ae35);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  const grain = (h & 255) / 255;
  const density = type === 1 ? 0.35 + 0.25 * grain : 0.75 + 0.2 * grain;
  mix(alb, who.hair[0] * 0.8, who.hair[1] * 0.8, who.hair[2] * 0.8, region * density);
}

function paintMole(
  fe: Float64Array,
  f: number,
  dx: number,
  dy: number,
  aw: number,
  alb: Float64Array,
  who: FaceIdentity,
): void {
  const a = cover(Math.sqrt(dx * dx + dy * dy) - fe[f + 3], aw) * 0.8;
  if (a > 0) mix(alb, who.skin[0] * 0.45, who.skin[1] * 0.35, who.skin[2] * 0.3, a);
}

function paintBrow(
  fe: Float64Array,
  f: number,
  x: number,
  y: number,
  aw: number,
  alb: Float64Array,
  who: FaceIdentity,
): void {
  const side = fe[f + 3], inner = fe[f + 4], outer = fe[f + 5], baseY = fe[f + 6];
  const thick = fe[f + 7], arch = fe[f + 8], slant = fe[f + 9], density = fe[f + 10];
  const xs = x * side;
  const t = (xs - inner) / (outer - inner);
  const tc = t < 0 ? 0 : t > 1 ? 1 : t;
  const yc = baseY + arch * 4 * tc * (1 - tc) - slant * (tc - 0.3);
  const half = thick * (0.6 - 0.3 * tc);
  const sdv = (y > yc ? y - yc : yc - y) - half;
  const sdh = t < 0 ? (inner - xs) : t > 1 ? (xs - outer) : -1;
  const a = cover(sdv > sdh ? sdv : sdh, aw + 0.006) * density;
  if (a > 0) mix(alb, who.hair[0] * 0.6, who.hair[1] * 0.6, who.hair[2] * 0.6, a);
}

function paintNostril(
  fe: Float64Array,
  f: number,
  dx: number,
  dy: number,
  aw: number,
  alb: Float64Array,
  who: FaceIdentity,
): void {
  const rx = fe[f + 3], ry = fe[f + 4];
  const q = Math.sqrt((dx * dx) / (rx * rx) + (dy * dy) / (ry * ry));
  const a = cover((q - 1) * ry, aw + 0.005) * 0.85;
  if (a > 0) mix(alb, who.skin[0] * 0.3, who.skin[1] * 0.2, who.skin[2] * 0.2, a);
}

function paintFold(fe: Float64Array, f: number, x: number, y: number, alb: Float64Array): void {
  // Nasolabial fold: a soft dark line from the nose wing to beyond the mouth corner.
  const x0 = fe[f + 3], y0 = fe[f + 4], x1 = fe[f + 5], y1 = fe[f + 6], strength = fe[f + 7];
  const ex = x1 - x0, ey = y1 - y0;
  let t = ((x - x0) * ex + (y - y0) * ey) / (ex * ex + ey * ey);
  t = t < 0 ? 0 : t > 1 ? 1 : t;
  const qx = x - (x0 + t * ex), qy = y - (y0 + t * ey);
  const d2 = (qx * qx + qy * qy) / 0.0009;
  if (d2 >= 1) return;
  const a = (1 - d2) * strength * (1 - (2 * t - 1) * (2 * t - 1) * 0.6);
  alb[0] *= 1 - a;
  alb[1] *= 1 - a * 1.1;
  alb[2] *= 1 - a * 1.1;
}

function paintRing(
  fe: Float64Array,
  f: number,
  dx: number,
  dy: number,
  aw: number,
  alb: Float64Array,
  who: FaceIdentity,
): void {
  const gw = fe[f + 3], gh = fe[f + 4], th = fe[f + 5], sq = fe[f + 6];
  const ux = dx / gw, uy = dy / gh;
  // Between an ellipse (sq = 0) and a rounded rectangle (sq = 1): blend of L2 and L4 norms.
  const r2 = ux * ux + uy * uy, r4 = ux * ux * ux * ux + uy * uy * uy * uy;
  const q = (1 - sq) * Math.sqrt(r2) + sq * Math.sqrt(Math.sqrt(r4));
  const d = (q - 1) * gh;
  const frame = cover((d < 0 ? -d : d) - th / 2, aw);
  if (q < 1) {
    // Lens: a slight grey tint.
    alb[0] *= 0.9;
    alb[1] *= 0.92;
    alb[2] *= 0.95;
  }
  if (frame > 0) mix(alb, who.glassesColor[0], who.glassesColor[1], who.glassesColor[2], frame);
}

function paintBar(
  fe: Float64Array,
  f: number,
  x: number,
  y: number,
  aw: number,
  alb: Float64Array,
  who: FaceIdentity,
): void {
  const x0 = fe[f + 3], x1 = fe[f + 4], yc = fe[f + 5], th = fe[f + 6];
  const sdv = (y > yc ? y - yc : yc - y) - th / 2;
  const sdh = x < x0 ? x0 - x : x > x1 ? x - x1 : -1;
  const a = cover(sdv > sdh ? sdv : sdh, aw);
  if (a > 0) mix(alb, who.glassesColor[0], who.glassesColor[1], who.glassesColor[2], a);
}

function paintEye(
  fe: Float64Array,
  f: number,
  dx: number,
  dy: number,
  aw: number,
  alb: Float64Array,
  who: FaceIdentity,
  ndl: number,
  light: Float64Array,
): void {
  const w = fe[f + 3], h = fe[f + 4], ct = fe[f + 5], st = fe[f + 6], ir = fe[f + 7];
  const gx = fe[f + 8], gy = fe[f + 9];
  // Eye-local axes, tilted by the canthal tilt.
  const lx = dx * ct + dy * st, ly = -dx * st + dy * ct;
  const q = (lx * lx) / (w * w);
  const lens = q < 1 ? 1 - q : 0;
  const up = h * lens, down = -h * 0.75 * lens;
  // Upper lid line and lashes: a dark curve just above the opening (present even when closed).
  const lash = cover((ly - up < 0 ? up - ly : ly - up) - 0.012, aw) * (q < 1.08 ? 1 : 0);
  const sdOpen = Math.max(ly - up, down - ly);
  let a = h > 0.004 ? cover(sdOpen, aw) : 0;
  if (q >= 1) a = 0;
  if (a > 0) {
    // Sclera, then iris and pupil, with a catchlight towards the light.
    const sx = dx - gx, sy = dy - gy;
    const r = Math.sqrt(sx * sx + sy * sy);
    let er = 0.9, eg = 0.88, eb = 0.84;
    const ia = cover(r - ir, aw);
    if (ia > 0) {
      const ring = r > ir * 0.8 ? 0.7 : 1;
      const pa = cover(r - ir * 0.42, aw);
      const ir_ = who.iris[0] * ring, ig = who.iris[1] * ring, ib = who.iris[2] * ring;
      const cr = ir_ + (0.03 - ir_) * pa, cg = ig + (0.03 - ig) * pa, cb = ib + (0.03 - ib) * pa;
      er += (cr - er) * ia;
      eg += (cg - eg) * ia;
      eb += (cb - eb) * ia;
      const hx = sx - ir * 0.45 * light[0], hy = sy - ir * 0.45 * light[1];
      const ha = cover(Math.sqrt(hx * hx + hy * hy) - ir * 0.18, aw) * (ndl > -0.2 ? 0.9 : 0.3);
      er += (1 - er) * ha;
      eg += (1 - eg) * ha;
      eb += (1 - eb) * ha;
    }
    // The upper lid shades the top of the eyeball.
    const shade = ly > up - h * 0.5 ? 0.72 : 1;
    mix(alb, er * shade, eg * shade, eb * shade, a);
  }
  if (lash > 0) mix(alb, 0.05, 0.04, 0.04, lash * 0.9);
}

function paintMouth(
  fe: Float64Array,
  f: number,
  x: number,
  y: number,
  aw: number,
  alb: Float64Array,
  who: FaceIdentity,
): void {
  const my = fe[f + 3],
    mw = fe[f + 4],
    lift = fe[f + 5],
    tu = fe[f + 6],
    tl = fe[f + 7],
    gap = fe[f + 8];
  const q = (x * x) / (mw * mw);
  if (q >= 1.1) return;
  const lens = q < 1 ? 1 - q : 0;
  const yc = my + lift * q; // the line where the lips meet, through both corners
  const ax = x < 0 ? -x : x;
  // Cupid's bow: the upper lip dips a little in the middle.
  const bow = ax < 0.08 ? 0.25 * (1 - ax / 0.08) : 0;
  const top = yc + gap / 2 + tu * Math.sqrt(lens) * (1 - bow);
  const bottom = yc - gap / 2 - tl * Math.sqrt(lens);
  const sdLips = Math.max(y - top, bottom - y, Math.sqrt(q) - 1);
  const a = cover(sdLips * 0.7, aw);
  if (a > 0) {
    // The lower lip catches more light than the upper.
    const k = y < yc ? 1.08 : 0.9;
    mix(alb, who.lip[0] * k, who.lip[1] * k, who.lip[2] * k, a);
  }
  if (gap > 0.002) {
    const g0 = yc + gap / 2 * lens, g1 = yc - gap / 2 * lens;
    const ga = cover(Math.max(y - g0, g1 - y, Math.sqrt(q) - 0.95), aw);
    if (ga > 0) {
      // Mouth interior with a band of upper teeth.
      const teeth = y > g0 - gap * 0.45 ? 1 : 0;
      mix(alb, teeth ? 0.85 : 0.2, teeth ? 0.82 : 0.06, teeth ? 0.76 : 0.06, ga);
    }
  } else {
    // Closed: a thin dark line where the lips meet, darkest at the corners.
    const d = y > yc ? y - yc : yc - y;
    const la = cover(d - 0.006, aw) * (q < 1.02 ? 0.6 + 0.3 * q : 0);
    if (la > 0) mix(alb, who.lip[0] * 0.35, who.lip[1] * 0.3, who.lip[2] * 0.3, la);
  }
}
