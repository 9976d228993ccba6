// What changes between two photos of the same synthetic person: pose, framing, light,
// expression, glasses and occluders, background, clothing, focus and sensor noise.
// Drawn from (seed, identity, image number) alone.
import type { FaceIdentity } from "./synthetic_identity.ts";
import { clamp, DEG, u01 } from "./synthetic_math.ts";

export interface FaceView {
  /** Head rotation in radians: yaw (about y), pitch (about x), roll (about the view axis). */
  yaw: number;
  pitch: number;
  roll: number;
  /** Multiplies the nominal face size (eye distance ≈ a quarter of the image). */
  scale: number;
  /** Face centre offset from the image centre, in fractions of the image side. */
  offsetX: number;
  offsetY: number;
  /** Light direction (camera frame, unit, z towards the camera), ambient and diffuse strength, tint. */
  light: Float64Array;
  ambient: number;
  diffuse: number;
  tint: Float64Array;
  // Expression: smile (corner lift, −0.3..1), mouth opening (0..1), eye openness, gaze, brow raise.
  smile: number;
  mouthOpen: number;
  eyeOpen: number;
  gazeX: number;
  gazeY: number;
  browRaise: number;
  glasses: boolean;
  /** An occluder in image fractions: 0 none, 1 ellipse, 2 rectangle; centre, half-sizes, colour. */
  occluder: number;
  occCx: number;
  occCy: number;
  occRx: number;
  occRy: number;
  occColor: Float64Array;
  /** Background: base colour, gradient per image side, a soft vertical edge (a wall corner). */
  bg: Float64Array;
  bgGradX: number;
  bgGradY: number;
  bgEdge: number;
  bgEdgeGain: number;
  cloth: Float64Array;
  /** Edge softness in pixels: 0.8 is sharp, 2.5 is out of focus. */
  softness: number;
  /** Sensor noise amplitude in 8-bit levels. */
  noise: number;
  /** Seed of the per-pixel noise stream. */
  noiseSeed: number;
}

const TAG_VIEW = 0x76696577;

/** Draws image `image` (0-based) of identity `who`. */
export function drawView(seed: number, who: FaceIdentity, image: number): FaceView {
  let k = 0;
  const key = who.index * 65536 + image;
  const u = () => u01(seed, TAG_VIEW, key, k++);
  // Triangular draws (sum of two uniforms) put most poses near frontal, as in photo sets.
  const tri = () => u() + u() - 1;
  const yaw = 25 * DEG * tri();
  const pitch = 16 * DEG * tri();
  const roll = 18 * DEG * tri();
  const scale = 0.9 + 0.2 * u();
  const offsetX = 0.04 * tri();
  const offsetY = 0.03 * tri();
  // Light from the front hemisphere: x, y across, z at least 0.35 towards the camera.
  let lx = 1.6 * tri(), ly = 0.4 + 0.9 * tri(), lz = 0.35 + 0.9 * u();
  const ln = Math.sqrt(lx * lx + ly * ly + lz * lz);
  lx /= ln;
  ly /= ln;
  lz /= ln;
  const ambient = 0.22 + 0.25 * u();
  const diffuse = 0.55 + 0.5 * u();
  const warm = 0.12 * tri();
  const tint = Float64Array.of(1 + warm, 1, 1 - warm);
  const smileU = u();
  const smile = smileU < 0.45 ? 0.15 * tri() : smileU < 0.85 ? 0.3 + 0.7 * u() : -0.3 * u();
  const mouthOpen = u() < 0.25 ? 0.2 + 0.8 * u() : 0;
  const blink = u();
  const eyeOpen = blink < 0.05 ? 0.1 * u() : clamp(0.75 + 0.4 * tri() + 0.1 * smile, 0.35, 1.15);
  const gazeX = 0.35 * tri();
  const gazeY = 0.2 * tri();
  const browRaise = u() < 0.2 ? 0.05 * u() : 0.012 * tri();
  const glasses = u() < who.glassesRate;
  const occU = u();
  const occluder = occU < 0.07 ? 1 : occU < 0.12 ? 2 : 0;
  // Occluders come in from an edge (a hand, a microphone, someone's shoulder).
  const side = u();
  const along = 0.35 + 0.3 * u();
  const occCx = side < 0.33 ? 0.12 + 0.12 * u() : side < 0.66 ? 0.88 - 0.12 * u() : along;
  const occCy = side < 0.66 ? along + 0.15 : 0.92 - 0.1 * u();
  const occRx = 0.12 + 0.12 * u();
  const occRy = 0.12 + 0.15 * u();
  const occColor = colour(u(), u(), u());
  const bg = colour(u(), u(), u());
  const bgGradX = 0.3 * tri();
  const bgGradY = 0.3 * tri();
  const bgEdge = u();
  const bgEdgeGain = u() < 0.5 ? 0.6 + 0.3 * u() : 1;
  const cloth = colour(u(), u(), u());
  const softness = 0.8 + (u() < 0.2 ? 1.7 * u() : 0.4 * u());
  const noise = u() < 0.3 ? 0 : 1 + 6 * u();
  const noiseSeed = Math.floor(u() * 4294967296);
  return {
    yaw,
    pitch,
    roll,
    scale,
    offsetX,
    offsetY,
    light: Float64Array.of(lx, ly, lz),
    ambient,
    diffuse,
    tint,
    smile,
    mouthOpen,
    eyeOpen,
    gazeX,
    gazeY,
    browRaise,
    glasses,
    occluder,
    occCx,
    occCy,
    occRx,
    occRy,
    occColor,
    bg,
    bgGradX,
    bgGradY,
    bgEdge,
    bgEdgeGain,
    cloth,
    softness,
    noise,
    noiseSeed,
  };
}

/** A muted colour from three uniforms: brightness, then a tint around it. */
function colour(a: number, b: number, c: number): Float64Array {
  const v = 0.15 + 0.7 * a;
  const sat = 0.35 * b;
  const hue = c * 3;
  const r = v * (1 + sat * (hue < 1 ? 1 - hue : hue > 2 ? hue - 2 : 0) * 2 - sat);
  const g = v * (1 + sat * (hue < 1 ? hue : hue < 2 ? 2 - hue : 0) * 2 - sat);
  const bl = v * (1 + sat * (hue > 1 && hue < 2 ? hue - 1 : hue >= 2 ? 3 - hue : 0) * 2 - sat);
  return Float64Array.of(clamp(r, 0, 1), clamp(g, 0, 1), clamp(bl, 0, 1));
}
