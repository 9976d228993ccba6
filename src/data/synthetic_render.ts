// Renders one synthetic face: a head of ellipsoids (cranium, jaw, nose, ears, hair, neck,
// shoulders) posed by a rotation and ray-cast orthographically, Lambert-shaded, with eyes,
// brows, mouth, marks, beard and glasses painted on the skin (synthetic_paint.ts), over a
// background, then blurred edges, an occluder and sensor noise. Every edge is anti-aliased
// analytically (coverage from signed distance over `softness` pixels), which is also how
// defocus is simulated: no supersampling, so a 112×112 face costs well under a millisecond.
// Math is + − × ÷ and sqrt only (see synthetic_math.ts), so bytes match on every machine.
import type { FaceIdentity } from "./synthetic_identity.ts";
import { clamp, detCos, detSin } from "./synthetic_math.ts";
import { FaceFeatures, mouthShape } from "./synthetic_paint.ts";
import type { FaceView } from "./synthetic_view.ts";

// Materials of the ellipsoids.
const M_SCALP = 0, M_FACE = 1, M_EAR = 2, M_NECK = 3, M_HAIR = 4, M_CLOTH = 5, M_JAW = 6;
/** Depth over which the cranium and jaw surfaces blend their shading (a smooth union). */
const BLEND_DEPTH = 0.16;

// Layout of one ellipsoid's per-image constants in the scene array.
const E_U = 0, E_V = 3, E_W = 6, E_D = 9, E_A = 12, E_R = 13, E_TC = 16, E_TS = 17;
const E_BOX = 18, E_COVK = 22, E_MAT = 23, E_LR = 24, E_VR = 27, E_IR2 = 30, E_ZMAX = 33;
const E_STRIDE = 34;
const MAX_ELLIPSOIDS = 16;

/**
 * Nominal pixels per head unit, as a fraction of the image side: eye distance ≈ 0.24·S, and
 * the face centre sits at FACE_CENTRE_Y·S, so the ArcFace crop around the landmarks (1.5 eye
 * distances above the eyes, 1.7 below, 1.6 to each side) lies inside the image at most poses.
 */
const SCALE_PER_SIZE = 0.24 / 0.84, FACE_CENTRE_Y = 0.56;

/** A rendered face: RGB bytes written into the caller's buffer, and its 5 landmarks. */
export class FaceRenderer {
  readonly size: number;
  #scene = new Float64Array(MAX_ELLIPSOIDS * E_STRIDE);
  #count = 0;
  #features = new FaceFeatures();
  // Two nearest layers per pixel: ellipsoid index (−1 none), depth and coverage.
  #id0: Int8Array;
  #id1: Int8Array;
  #z0: Float64Array;
  #z1: Float64Array;
  #c0: Float64Array;
  #c1: Float64Array;
  #alb = new Float64Array(3);
  #rgb = new Float64Array(3);
  // Per-image state the shading reads.
  #R = new Float64Array(9);
  #light = new Float64Array(3);
  #s = 1;
  #cx = 0;
  #cy = 0;
  #aw = 0.03;
  /** Lowest y any painted hair can reach on the front of the head (for a quick reject). */
  #hairFloor = 0;
  #who!: FaceIdentity;
  #view!: FaceView;

  constructor(size: number) {
    this.size = size;
    const n = size * size;
    this.#id0 = new Int8Array(n);
    this.#id1 = new Int8Array(n);
    this.#z0 = new Float64Array(n);
    this.#z1 = new Float64Array(n);
    this.#c0 = new Float64Array(n);
    this.#c1 = new Float64Array(n);
  }

  /**
   * Renders `who` seen as `view` into `out` (size·size·3 RGB bytes from `offset`) and
   * returns the landmarks x1,y1..x5,y5 (image-left eye, image-right eye, nose tip, left and
   * right mouth corner) in pixels, pixel centres at integer coordinates.
   */
  render(who: FaceIdentity, view: FaceView, out: Uint8Array, offset = 0): Float32Array {
    this.#who = who;
    this.#view = view;
    this.#setPose(who, view);
    this.#aw = view.softness / this.#s;
    this.#buildScene(who);
    this.#features.build(who, view);
    const hairEdge = this.#aw > 0.03 ? this.#aw : 0.03;
    this.#hairFloor = Math.min(who.hairline - who.fringe - 0.35, who.earY + 0.15) - hairEdge;
    this.#rasterise();
    this.#shadeAll(out, offset);
    return this.#landmarks(who, view);
  }

  // ------------------------------------------------------------------ pose and projection

  #setPose(who: FaceIdentity, view: FaceView): void {
    const cy = detCos(view.yaw), sy = detSin(view.yaw);
    const cp = detCos(view.pitch), sp = detSin(view.pitch);
    const cr = detCos(view.roll), sr = detSin(view.roll);
    // R = Rz(roll)·Rx(pitch)·Ry(yaw): head frame → camera frame (x right, y up, z to camera).
    const ry = [cy, 0, sy, 0, 1, 0, -sy, 0, cy];
    const rx = [1, 0, 0, 0, cp, -sp, 0, sp, cp];
    const rz = [cr, -sr, 0, sr, cr, 0, 0, 0, 1];
    const m = mul3(rz, mul3(rx, ry));
    this.#R.set(m);
    const S = this.size;
    this.#s = S * SCALE_PER_SIZE * view.scale;
    // Put the face centre (between eyes and mouth, on the skin) at the jittered image centre.
    const fy = (who.eyeY + who.mouthY) / 2, fz = this.#faceZ(0, fy);
    const X = m[1] * fy + m[2] * fz, Y = m[4] * fy + m[5] * fz;
    this.#cx = S / 2 - 0.5 + view.offsetX * S - this.#s * X;
    this.#cy = FACE_CENTRE_Y * S - 0.5 + view.offsetY * S + this.#s * Y;
    // The light in head coordinates (Rᵀ·L), so shading works on head-frame normals.
    const [lx, ly, lz] = view.light;
    for (let i = 0; i < 3; i++) this.#light[i] = m[i] * lx + m[3 + i] * ly + m[6 + i] * lz;
  }

  /** Pixel position of a head-frame point. */
  #project(x: number, y: number, z: number): [number, number] {
    const m = this.#R;
    return [
      this.#cx + this.#s * (m[0] * x + m[1] * y + m[2] * z),
      this.#cy - this.#s * (m[3] * x + m[4] * y + m[5] * z),
    ];
  }

  /** z of the front of the skin (cranium or jaw) at head (x, y), seen from straight ahead. */
  #faceZ(x: number, y: number): number {
    const w = this.#who;
    const cz = -0.15, jz = -0.05;
    const a = 1 - (x / w.craniumA) ** 2 - ((y - w.craniumY) / w.craniumB) ** 2;
    const b = 1 - (x / w.jawA) ** 2 - ((y - w.jawY) / w.jawB) ** 2;
    const za = a > 0 ? cz + w.craniumC * Math.sqrt(a) : -9;
    const zb = b > 0 ? jz + w.jawC * Math.sqrt(b) : -9;
    return za > zb ? za : zb;
  }

  // ------------------------------------------------------------------ scene

  #buildScene(who: FaceIdentity): void {
    this.#count = 0;
    const hair = who.hairStyle;
    const vol = who.hairVolume;
    // Front to back, so surfaces hidden behind nearer ones are skipped early (#rasterise).
    // Nose: a bridge from between the eyes down to a rounded tip, and two nostril wings.
    const tip = this.#noseTip(who);
    const tipR = 0.075, tcY = tip[1] + 0.015, tcZ = tip[2] - tipR;
    this.#ellipsoid(0, tcY, tcZ, who.noseW, 0.07, tipR, 1, 0, M_FACE);
    for (const side of [-1, 1]) {
      const ax = side * who.alarX;
      const az = this.#faceZ(ax, who.noseY);
      this.#ellipsoid(ax, who.noseY - 0.01, az - 0.01, 0.06, 0.055, 0.065, 1, 0, M_FACE);
    }
    const topY = who.eyeY - 0.06, topZ = this.#faceZ(0, topY) - 0.03;
    const dy = topY - tcY, dz = topZ - tcZ, len = Math.sqrt(dy * dy + dz * dz);
    const midY = (topY + tcY) / 2, midZ = (topZ + tcZ) / 2;
    this.#ellipsoid(
      0,
      midY,
      midZ,
      who.noseW * 0.55,
      len / 2 + 0.03,
      0.055,
      dy / len,
      -dz / len,
      M_FACE,
    );
    this.#ellipsoid(0, who.jawY, -0.05, who.jawA, who.jawB, who.jawC, 1, 0, M_JAW);
    this.#ellipsoid(
      0,
      who.craniumY,
      -0.15,
      who.craniumA,
      who.craniumB,
      who.craniumC,
      1,
      0,
      M_SCALP,
    );
    if (hair >= 2) {
      // Behind the painted hairline at the forehead; shows on top and at the sides.
      const a = who.craniumA + 0.03 + vol, b = who.craniumB + vol * 0.8, c = who.craniumC + 0.02;
      this.#ellipsoid(0, who.craniumY + 0.1 + vol, -0.35, a, b, c, 1, 0, M_HAIR);
    }
    for (const side of [-1, 1]) {
      const e = who.earSize;
      this.#ellipsoid(
        side * who.craniumA * 0.93,
        who.earY,
        -0.2,
        0.09,
        0.27 * e,
        0.17 * e,
        1,
        0,
        M_EAR,
      );
    }
    if (hair === 4) {
      this.#ellipsoid(
        0,
        who.craniumY - 0.6,
        -0.55,
        who.craniumA + 0.1 + vol,
        1.45,
        0.6,
        1,
        0,
        M_HAIR,
      );
    }
    this.#ellipsoid(0, who.jawY - 0.95, -0.3, 0.5, 0.95, 0.52, 1, 0, M_NECK);
    this.#ellipsoid(0, who.jawY - 2.1, -0.5, 1.9, 0.9, 0.85, 1, 0, M_CLOTH);
  }

  /** The nose tip (front-most point of the nose), head frame. */
  #noseTip(who: FaceIdentity): [number, number, number] {
    return [0, who.noseY, this.#faceZ(0, who.noseY) + who.noseDepth];
  }

  /**
   * Adds an ellipsoid (centre, radii, material) with its per-image constants. (tc, ts) is the
   * cosine and sine of a lean about x: the local y axis points along (0, tc, −ts).
   */
  #ellipsoid(
    x: number,
    y: number,
    z: number,
    ra: number,
    rb: number,
    rc: number,
    tc: number,
    ts: number,
    mat: number,
  ) {
    const e = this.#count++ * E_STRIDE, sc = this.#scene, m = this.#R, s = this.#s;
    // M = diag(1/r)·Qᵀ with Q a rotation about x by −tilt (the top leans back).
    const toLocal = (vx: number, vy: number, vz: number, out: number) => {
      sc[out] = vx / ra;
      sc[out + 1] = (tc * vy - ts * vz) / rb;
      sc[out + 2] = (ts * vy + tc * vz) / rc;
    };
    toLocal(m[0], m[1], m[2], e + E_U); // ∂l/∂X
    toLocal(m[3], m[4], m[5], e + E_V); // ∂l/∂Y
    toLocal(-x, -y, -z, e + E_W); // l at X = Y = Z = 0
    toLocal(m[6], m[7], m[8], e + E_D); // ∂l/∂Z
    sc[e + E_A] = sc[e + E_D] ** 2 + sc[e + E_D + 1] ** 2 + sc[e + E_D + 2] ** 2;
    sc[e + E_R] = ra;
    sc[e + E_R + 1] = rb;
    sc[e + E_R + 2] = rc;
    sc[e + E_TC] = tc;
    sc[e + E_TS] = ts;
    sc[e + E_MAT] = mat;
    // Shading constants: with n_local = l/r and n = Q·n_local, n·L = l·(QᵀL/r) and |n|² = Σ l²/r².
    const L = this.#light;
    toLocal(L[0], L[1], L[2], e + E_LR);
    toLocal(m[6], m[7], m[8], e + E_VR);
    sc[e + E_IR2] = 1 / (ra * ra);
    sc[e + E_IR2 + 1] = 1 / (rb * rb);
    sc[e + E_IR2 + 2] = 1 / (rc * rc);
    // Screen extent: X over the ellipsoid spans r0·c ± |diag(r)·Qᵀ·r0|.
    const half = (vx: number, vy: number, vz: number) => {
      const a = vx * ra, b = (tc * vy - ts * vz) * rb, c = (ts * vy + tc * vz) * rc;
      return Math.sqrt(a * a + b * b + c * c);
    };
    const hx = half(m[0], m[1], m[2]), hy = half(m[3], m[4], m[5]), hz = half(m[6], m[7], m[8]);
    sc[e + E_ZMAX] = m[6] * x + m[7] * y + m[8] * z + hz;
    const X = m[0] * x + m[1] * y + m[2] * z, Y = m[3] * x + m[4] * y + m[5] * z;
    const margin = this.#view.softness + 1;
    sc[e + E_BOX] = this.#cx + s * (X - hx) - margin;
    sc[e + E_BOX + 1] = this.#cx + s * (X + hx) + margin;
    sc[e + E_BOX + 2] = this.#cy - s * (Y + hy) - margin;
    sc[e + E_BOX + 3] = this.#cy - s * (Y - hy) + margin;
    // Coverage slope: pixels outside the silhouette ≈ R·(1 − dist²)/2 with R the smaller half-extent.
    sc[e + E_COVK] = (s * (hx < hy ? hx : hy)) / (2 * this.#view.softness);
  }

  // ------------------------------------------------------------------ visibility

  /** For every pixel, the two nearest ellipsoid surfaces and their edge coverage. */
  #rasterise(): void {
    const S = this.size, sc = this.#scene, s = this.#s, cx = this.#cx, cy = this.#cy;
    const id0 = this.#id0,
      id1 = this.#id1,
      z0 = this.#z0,
      z1 = this.#z1,
      c0 = this.#c0,
      c1 = this.#c1;
    id0.fill(-1);
    id1.fill(-1);
    c0.fill(0);
    for (let k = 0; k < this.#count; k++) {
      const e = k * E_STRIDE;
      const ux = sc[e + E_U] / s, uy = sc[e + E_U + 1] / s, uz = sc[e + E_U + 2] / s;
      const vx = sc[e + E_V], vy = sc[e + E_V + 1], vz = sc[e + E_V + 2];
      const wx = sc[e + E_W], wy = sc[e + E_W + 1], wz = sc[e + E_W + 2];
      const dx = sc[e + E_D], dy = sc[e + E_D + 1], dz = sc[e + E_D + 2];
      const A = sc[e + E_A], invA = 1 / A, covK = sc[e + E_COVK];
      // Behind an opaque nearer surface by more than the blend depth: cannot show (see #shadeAll).
      const zCut = sc[e + E_ZMAX] + BLEND_DEPTH;
      const xa = Math.max(0, Math.ceil(sc[e + E_BOX])),
        xb = Math.min(S - 1, Math.floor(sc[e + E_BOX + 1]));
      const ya = Math.max(0, Math.ceil(sc[e + E_BOX + 2])),
        yb = Math.min(S - 1, Math.floor(sc[e + E_BOX + 3]));
      for (let py = ya; py <= yb; py++) {
        const Y = (cy - py) / s, X0 = (xa - cx) / s;
        // l0 = X·u + Y·v + w, stepped along the row.
        let lx = X0 * sc[e + E_U] + Y * vx + wx;
        let ly = X0 * sc[e + E_U + 1] + Y * vy + wy;
        let lz = X0 * sc[e + E_U + 2] + Y * vz + wz;
        let p = py * S + xa;
        for (let px = xa; px <= xb; px++, p++, lx += ux, ly += uy, lz += uz) {
          if (c0[p] === 1 && z0[p] > zCut) continue;
          const B = lx * dx + ly * dy + lz * dz;
          const C = lx * lx + ly * ly + lz * lz - 1;
          const disc = B * B - A * C;
          let cov = 0.5 + disc * invA * covK;
          if (cov <= 0) continue;
          if (cov > 1) cov = 1;
          const Z = (-B + (disc > 0 ? Math.sqrt(disc) : 0)) * invA;
          if (id0[p] < 0 || Z > z0[p]) {
            id1[p] = id0[p];
            z1[p] = z0[p];
            c1[p] = c0[p];
            id0[p] = k;
            z0[p] = Z;
            c0[p] = cov;
          } else if (id1[p] < 0 || Z > z1[p]) {
            id1[p] = k;
            z1[p] = Z;
            c1[p] = cov;
          }
        }
      }
    }
  }

  // ------------------------------------------------------------------ shading

  #shadeAll(out: Uint8Array, offset: number): void {
    const S = this.size, s = this.#s, cx = this.#cx, cy = this.#cy, v = this.#view;
    const id0 = this.#id0,
      id1 = this.#id1,
      z0 = this.#z0,
      z1 = this.#z1,
      c0 = this.#c0,
      c1 = this.#c1;
    const rgb = this.#rgb;
    const [tr, tg, tb] = v.tint;
    const [bgr, bgg, bgb] = v.bg;
    const edgeX = v.bgEdge * S, edgeGain = v.bgEdgeGain, gradX = v.bgGradX, gradY = v.bgGradY;
    // Occluder in pixels.
    const occ = v.occluder,
      ox = v.occCx * S,
      oy = v.occCy * S,
      orx = v.occRx * S,
      ory = v.occRy * S;
    const soft = v.softness;
    let rng = (v.noiseSeed | 0) || 1;
    const amp = v.noise;
    // Triangular noise in [−amp, amp] levels: (u1 + u2)/65536 − 1, scaled to 0..1 units.
    const noiseK = amp / 255 / 65536, noiseC = amp / 255;
    for (let py = 0, p = 0; py < S; py++) {
      const Y = (cy - py) / s;
      for (let px = 0; px < S; px++, p++) {
        const X = (px - cx) / s;
        const k0 = id0[p];
        let r = 0, g = 0, b = 0;
        if (k0 < 0 || c0[p] < 1) {
          // Background: a tinted gradient with a soft wall edge.
          let br = 1 + gradX * (px / S - 0.5) + gradY * (py / S - 0.5);
          const e = (px - edgeX) / 3;
          br *= e <= -0.5 ? edgeGain : e >= 0.5 ? 1 : edgeGain + (1 - edgeGain) * (e + 0.5);
          r = bgr * br;
          g = bgg * br;
          b = bgb * br;
        }
        if (k0 >= 0) {
          const a0 = c0[p];
          this.#shade(k0, z0[p], X, Y);
          let fr = rgb[0], fg = rgb[1], fb = rgb[2];
          if (a0 < 1) {
            const k1 = id1[p];
            if (k1 >= 0) {
              const a1 = c1[p];
              this.#shade(k1, z1[p], X, Y);
              r = rgb[0] * a1 + r * (1 - a1);
              g = rgb[1] * a1 + g * (1 - a1);
              b = rgb[2] * a1 + b * (1 - a1);
            }
            fr = fr * a0 + r * (1 - a0);
            fg = fg * a0 + g * (1 - a0);
            fb = fb * a0 + b * (1 - a0);
          } else {
            // Cranium and jaw meet without a crease: near the seam, mix both shadings.
            const k1 = id1[p];
            if (k1 >= 0 && z0[p] - z1[p] < BLEND_DEPTH && this.#blends(k0) && this.#blends(k1)) {
              const w = 0.5 * (1 - (z0[p] - z1[p]) / BLEND_DEPTH);
              this.#shade(k1, z1[p], X, Y);
              fr += (rgb[0] - fr) * w;
              fg += (rgb[1] - fg) * w;
              fb += (rgb[2] - fb) * w;
            }
          }
          r = fr * tr;
          g = fg * tg;
          b = fb * tb;
        }
        if (occ !== 0) {
          const dx = px - ox, dy = py - oy;
          let sd: number;
          if (occ === 1) {
            const d = Math.sqrt((dx * dx) / (orx * orx) + (dy * dy) / (ory * ory));
            sd = (d - 1) * (orx < ory ? orx : ory);
          } else {
            const ax = (dx < 0 ? -dx : dx) - orx, ay = (dy < 0 ? -dy : dy) - ory;
            sd = ax > ay ? ax : ay;
          }
          const a = clamp(0.5 - sd / soft, 0, 1);
          if (a > 0) {
            const shade = 1.1 - 0.35 * clamp((dy + ory) / (2 * ory), 0, 1);
            r = r * (1 - a) + v.occColor[0] * shade * a;
            g = g * (1 - a) + v.occColor[1] * shade * a;
            b = b * (1 - a) + v.occColor[2] * shade * a;
          }
        }
        // Sensor noise: triangular, from an xorshift stream (integer ops only).
        const o = offset + p * 3;
        if (amp > 0) {
          rng ^= rng << 13;
          rng ^= rng >>> 17;
          rng ^= rng << 5;
          r += ((rng & 0xffff) + ((rng >>> 16) & 0xffff)) * noiseK - noiseC;
          rng ^= rng << 13;
          rng ^= rng >>> 17;
          rng ^= rng << 5;
          g += ((rng & 0xffff) + ((rng >>> 16) & 0xffff)) * noiseK - noiseC;
          rng ^= rng << 13;
          rng ^= rng >>> 17;
          rng ^= rng << 5;
          b += ((rng & 0xffff) + ((rng >>> 16) & 0xffff)) * noiseK - noiseC;
        }
        out[o] = toByte(r);
        out[o + 1] = toByte(g);
        out[o + 2] = toByte(b);
      }
    }
  }

  #blends(k: number): boolean {
    const mat = this.#scene[k * E_STRIDE + E_MAT];
    return mat === M_SCALP || mat === M_JAW;
  }

  /** Shaded colour of ellipsoid k hit at depth Z through pixel (X, Y), into #rgb. */
  #shade(k: number, Z: number, X: number, Y: number): void {
    const sc = this.#scene, e = k * E_STRIDE, m = this.#R, v = this.#view;
    // Local coordinates l = X·u + Y·v + Z·d + w; the normal is Q·(l / r) (see #ellipsoid).
    const lx = X * sc[e + E_U] + Y * sc[e + E_V] + Z * sc[e + E_D] + sc[e + E_W];
    const ly = X * sc[e + E_U + 1] + Y * sc[e + E_V + 1] + Z * sc[e + E_D + 1] + sc[e + E_W + 1];
    const lz = X * sc[e + E_U + 2] + Y * sc[e + E_V + 2] + Z * sc[e + E_D + 2] + sc[e + E_W + 2];
    const n2 = lx * lx * sc[e + E_IR2] + ly * ly * sc[e + E_IR2 + 1] + lz * lz * sc[e + E_IR2 + 2];
    const inv = 1 / Math.sqrt(n2 + 1e-12);
    const ndl = (lx * sc[e + E_LR] + ly * sc[e + E_LR + 1] + lz * sc[e + E_LR + 2]) * inv;
    // Facing the camera: rims darken a little.
    const facing = (lx * sc[e + E_VR] + ly * sc[e + E_VR + 1] + lz * sc[e + E_VR + 2]) * inv;
    const wrap = (ndl + 0.25) * 0.8;
    let light = v.ambient + v.diffuse * (wrap > 0 ? wrap : 0);
    light *= 0.78 + 0.22 * (facing > 0 ? facing : 0);
    const mat = sc[e + E_MAT];
    const alb = this.#alb, who = this.#who;
    if (mat === M_SCALP || mat === M_FACE || mat === M_JAW) {
      // Head-frame surface point for the painted features.
      const x = X * m[0] + Y * m[3] + Z * m[6];
      const y = X * m[1] + Y * m[4] + Z * m[7];
      const z = X * m[2] + Y * m[5] + Z * m[8];
      alb[0] = who.skin[0];
      alb[1] = who.skin[1];
      alb[2] = who.skin[2];
      // Features belong on the front of the head (the back also has these x, y).
      if (z > -0.2) this.#features.paint(x, y, alb, this.#aw, ndl, this.#light, who);
      if (mat === M_SCALP) this.#paintScalp(x, y, z);
    } else if (mat === M_HAIR) {
      const x = X * m[0] + Y * m[3] + Z * m[6];
      this.#hairColour(x);
    } else if (mat === M_EAR) {
      alb[0] = who.skin[0] * 0.93;
      alb[1] = who.skin[1] * 0.88;
      alb[2] = who.skin[2] * 0.88;
    } else if (mat === M_NECK) {
      alb[0] = who.skin[0] * 0.8;
      alb[1] = who.skin[1] * 0.78;
      alb[2] = who.skin[2] * 0.78;
    } else {
      alb[0] = v.cloth[0];
      alb[1] = v.cloth[1];
      alb[2] = v.cloth[2];
    }
    const rgb = this.#rgb;
    rgb[0] = alb[0] * light;
    rgb[1] = alb[1] * light;
    rgb[2] = alb[2] * light;
  }

  #hairColour(x: number): void {
    const who = this.#who, alb = this.#alb;
    let i = Math.floor((x + 1.5) * 21);
    i = i < 0 ? 0 : i > 63 ? 63 : i;
    const t = who.strands[i];
    alb[0] = who.hair[0] * t;
    alb[1] = who.hair[1] * t;
    alb[2] = who.hair[2] * t;
  }

  /** Hair painted on the cranium: above the hairline, on the sides and at the back. */
  #paintScalp(x: number, y: number, z: number): void {
    const who = this.#who, style = who.hairStyle, alb = this.#alb;
    // Most of the face is below every hairline: skip it cheaply.
    if (y < this.#hairFloor && z >= 0.1) return;
    const ax = (x < 0 ? -x : x) / who.craniumA;
    // Front hairline, receding at the temples, lowered in the middle by a fringe.
    let front = who.hairline + who.recession * (ax / 0.55) * (ax / 0.55);
    if (who.fringe > 0 && ax < 0.75) {
      let i = Math.floor((x + 1.5) * 21);
      i = i < 0 ? 0 : i > 63 ? 63 : i;
      front -= who.fringe * (1 - (ax / 0.75) * (ax / 0.75)) * (0.75 + 0.25 * who.strands[i]);
    }
    if (style === 0) front = 9;
    // Sides come down to just above the ear; the back is hair above the ear line.
    const t = clamp((ax - 0.68) / 0.2, 0, 1);
    const side = style === 0 ? (y < 0.45 ? who.earY + 0.15 : 9) : who.earY + 0.2;
    let line = front * (1 - t) + side * t;
    if (z < 0.1 && y > who.earY - 0.1 && (style > 0 || y < 0.45)) line = -9;
    const cov = clamp(0.5 + (y - line) / (this.#aw > 0.03 ? this.#aw : 0.03), 0, 1);
    if (cov <= 0) return;
    const r = alb[0], g = alb[1], b = alb[2];
    this.#hairColour(x);
    // Buzz cut: skin shows through.
    const a = style === 1 ? cov * 0.55 : cov;
    alb[0] = r + (alb[0] - r) * a;
    alb[1] = g + (alb[1] - g) * a;
    alb[2] = b + (alb[2] - b) * a;
  }

  // ------------------------------------------------------------------ landmarks

  #landmarks(who: FaceIdentity, view: FaceView): Float32Array {
    const { lift, halfWidth: mw } = mouthShape(who, view);
    const my = who.mouthY + lift;
    const pts: [number, number, number][] = [
      [-who.eyeX, who.eyeY, this.#faceZ(-who.eyeX, who.eyeY)],
      [who.eyeX, who.eyeY, this.#faceZ(who.eyeX, who.eyeY)],
      this.#noseTip(who),
      [-mw, my, this.#faceZ(-mw, my)],
      [mw, my, this.#faceZ(mw, my)],
    ];
    const out = new Float32Array(10);
    pts.forEach(([x, y, z], i) => {
      const [u, v] = this.#project(x, y, z);
      out[2 * i] = u;
      out[2 * i + 1] = v;
    });
    return out;
  }
}

function toByte(v: number): number {
  return v <= 0 ? 0 : v >= 1 ? 255 : (v * 255 + 0.5) | 0;
}

function mul3(a: number[], b: number[]): number[] {
  const o = new Array<number>(9);
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      o[i * 3 + j] = a[i * 3] * b[j] + a[i * 3 + 1] * b[3 + j] + a[i * 3 + 2] * b[6 + j];
    }
  }
  return o;
}
