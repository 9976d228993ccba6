// Who a synthetic face is: head shape, feature geometry, colours, hair and marks, drawn
// from the seed and the identity's index alone. Some identities share a "family" latent,
// so they look alike and make the hard negatives real face sets have.
import { clamp, lerp, u01, zdraw } from "./synthetic_math.ts";

/** Head-frame units: the cranium's half-width is about 1; x right, y up, z towards the camera. */
export interface FaceIdentity {
  index: number;
  /** Index of the identity it was drawn alike to, or −1 when it has no lookalike. */
  sibling: number;
  // Head: cranium ellipsoid (centre y, radii) and jaw ellipsoid (centre y, radii, chin).
  craniumA: number;
  craniumB: number;
  craniumC: number;
  craniumY: number;
  jawA: number;
  jawB: number;
  jawC: number;
  jawY: number;
  // Eyes: centres at (±eyeX, eyeY); half-width, open half-height, canthal tilt (rad), iris radius.
  eyeX: number;
  eyeY: number;
  eyeW: number;
  eyeH: number;
  eyeTilt: number;
  irisR: number;
  socket: number;
  // Brows: height of the arch above the eye centre, thickness, arch, slant, inner and outer x.
  browGap: number;
  browThick: number;
  browArch: number;
  browSlant: number;
  browInner: number;
  browOuter: number;
  browDensity: number;
  // Nose: tip height, length, half-width, protrusion, tilt (rad), nostril wing spacing.
  noseY: number;
  noseLen: number;
  noseW: number;
  noseDepth: number;
  noseTilt: number;
  alarX: number;
  // Mouth: centre height, half-width, lip thicknesses, resting smile.
  mouthY: number;
  mouthW: number;
  lipUpper: number;
  lipLower: number;
  mouthRest: number;
  // Ears: height and size.
  earY: number;
  earSize: number;
  // Colours, linear 0..1 RGB albedo.
  skin: Float64Array;
  lip: Float64Array;
  hair: Float64Array;
  iris: Float64Array;
  blush: number;
  // Hair: 0 bald, 1 buzz, 2 short, 3 medium, 4 long; hairline height and recession; volume.
  hairStyle: number;
  hairline: number;
  recession: number;
  hairVolume: number;
  fringe: number;
  /** 0 none, 1 stubble, 2 moustache, 3 full beard. */
  beard: number;
  /** Moles as x, y, radius triples. */
  moles: number[];
  /** Probability that an image of this identity wears glasses; frame shape and colour. */
  glassesRate: number;
  glassesSquare: number;
  glassesColor: Float64Array;
  /** Per-identity brightness of hair strands (a 1-D texture). */
  strands: Float64Array;
}

/** How many identities in 100 have a lookalike: consecutive pairs (2k, 2k+1) share a parent. */
const SIBLING_PERCENT = 40;
const TAG_FAMILY = 0x66616d31;
const TAG_OWN = 0x6f776e31;
const TAG_MIX = 0x6d697831;

/** Which identities are drawn alike: identity i's lookalike, or −1. */
export function siblingOf(seed: number, index: number): number {
  const pair = index >> 1;
  if (hash100(seed, pair) >= SIBLING_PERCENT) return -1;
  return index ^ 1;
}

function hash100(seed: number, pair: number): number {
  return Math.floor(u01(seed, TAG_MIX, pair, 0) * 100);
}

/** Draws identity `index` for `seed`; depends on nothing else (not on the identity count). */
export function drawIdentity(seed: number, index: number): FaceIdentity {
  const sibling = siblingOf(seed, index);
  // Siblings mix a shared latent with their own: correlation `close` per parameter.
  const close = sibling < 0 ? 0 : 0.78 + 0.14 * u01(seed, TAG_MIX, index >> 1, 1);
  const own = Math.sqrt(1 - close * close);
  const family = index >> 1;
  const z = (k: number) =>
    close === 0
      ? zdraw(seed, TAG_OWN, index, k)
      : close * zdraw(seed, TAG_FAMILY, family, k) + own * zdraw(seed, TAG_OWN, index, k);
  const u = (k: number) => cdf(z(k));
  let k = 0;
  const n = (mean: number, sd: number) => mean + sd * z(k++);

  const craniumA = n(1.0, 0.05);
  const craniumB = n(1.3, 0.07);
  const craniumC = n(1.2, 0.05);
  const craniumY = n(0.25, 0.05);
  const jawA = n(0.8, 0.07);
  const jawB = n(1.0, 0.07);
  const jawC = n(0.95, 0.04);
  const jawY = n(-0.55, 0.06);
  const eyeX = n(0.42, 0.025);
  const eyeY = n(0, 0.025);
  const eyeW = n(0.15, 0.015);
  const eyeH = n(0.062, 0.01);
  const eyeTilt = n(0.06, 0.06);
  const irisR = n(0.06, 0.006);
  const socket = clamp(n(0.18, 0.06), 0.02, 0.35);
  const browGap = n(0.2, 0.03);
  const browThick = clamp(n(0.045, 0.012), 0.02, 0.08);
  const browArch = n(0.035, 0.02);
  const browSlant = n(0, 0.035);
  const browInner = n(0.14, 0.025);
  const browOuter = n(0.62, 0.04);
  const browDensity = clamp(n(0.8, 0.12), 0.45, 0.97);
  const noseY = n(-0.48, 0.035);
  const noseLen = n(0.3, 0.035);
  const noseW = n(0.1, 0.015);
  const noseDepth = n(0.2, 0.035);
  const noseTilt = n(0.4, 0.08);
  const alarX = n(0.12, 0.015);
  const mouthY = n(-0.97, 0.045);
  const mouthW = n(0.35, 0.03);
  const lipUpper = clamp(n(0.045, 0.01), 0.02, 0.08);
  const lipLower = clamp(n(0.06, 0.012), 0.03, 0.1);
  const mouthRest = n(0, 0.015);
  const earY = n(-0.1, 0.05);
  const earSize = n(1, 0.12);

  // Skin from dark brown to pale, with warmth (yellow-red balance): a continuum, not a palette.
  const tone = u(k++), warm = z(k++) * 0.04;
  const skin: [number, number, number] = [
    lerp(0.36, 0.97, tone) + warm,
    lerp(0.21, 0.78, tone) - warm * 0.2,
    lerp(0.13, 0.66, tone) - warm,
  ];
  const redLip = 0.8 + 0.08 * z(k++);
  const lip: [number, number, number] = [
    skin[0] * 0.85,
    skin[1] * redLip * 0.6,
    skin[2] * redLip * 0.62,
  ];
  // Hair darkness follows skin tone loosely; a few are red or grey.
  const hairLight = clamp(0.55 * u(k++) + 0.35 * tone * u(k++), 0, 1);
  const red = u(k++), grey = u(k++);
  let hair: [number, number, number] = [
    lerp(0.05, 0.75, hairLight),
    lerp(0.04, 0.6, hairLight),
    lerp(0.03, 0.38, hairLight),
  ];
  if (red > 0.9) hair = [hair[0] * 0.6 + 0.35, hair[1] * 0.7 + 0.1, hair[2] * 0.6];
  if (grey > 0.88) {
    const g = lerp(0.5, 0.85, (grey - 0.88) / 0.12);
    hair = [g, g * 0.98, g * 0.95];
  }
  const irisKind = u(k++);
  const iris: [number, number, number] = irisKind < 0.6
    ? [0.3 * hairLight + 0.22, 0.14 + 0.1 * hairLight, 0.06]
    : irisKind < 0.82
    ? [0.3, 0.45, 0.62]
    : irisKind < 0.93
    ? [0.3, 0.42, 0.25]
    : [0.45, 0.47, 0.5];
  const blush = clamp(n(0.08, 0.05), 0, 0.2);

  const styleU = u(k++);
  const hairStyle = styleU < 0.06 ? 0 : styleU < 0.2 ? 1 : styleU < 0.55 ? 2 : styleU < 0.8 ? 3 : 4;
  const hairline = n(0.82, 0.1);
  const recession = clamp(n(0.05, 0.12), -0.1, 0.35);
  const hairVolume = hairStyle <= 1 ? 0 : clamp(n(0.07, 0.04) + 0.02 * hairStyle, 0, 0.2);
  const fringeU = u(k++), fringeLen = clamp(n(0.25, 0.1), 0.05, 0.45);
  const fringe = hairStyle >= 2 && fringeU > 0.7 ? fringeLen : 0;
  const beardU = u(k++);
  const beard = beardU < 0.62 ? 0 : beardU < 0.77 ? 1 : beardU < 0.87 ? 2 : 3;

  const moleCount = Math.floor(u(k++) * 4.2);
  const moles: number[] = [];
  for (let m = 0; m < 4; m++) {
    // Always draw all four so later parameters do not shift with the count.
    const mx = clamp(z(k++) * 0.35, -0.75, 0.75),
      my = clamp(z(k++) * 0.45 - 0.35, -1.25, 0.6),
      mr = 0.014 + 0.012 * u(k++);
    if (m < moleCount) moles.push(mx, my, mr);
  }
  const glassesU = u(k++);
  const glassesRate = glassesU < 0.7 ? 0.03 : glassesU < 0.85 ? 0.4 : 0.9;
  const glassesSquare = u(k++);
  const gc = u(k++);
  const glassesColor: [number, number, number] = gc < 0.5
    ? [0.06, 0.06, 0.07]
    : gc < 0.8
    ? [0.35, 0.22, 0.1]
    : [0.7, 0.7, 0.72];

  const strands = new Float64Array(64);
  for (let i = 0; i < 64; i++) strands[i] = 0.8 + 0.4 * u01(seed, TAG_OWN, index, 4096 + i);

  return {
    index,
    sibling,
    craniumA,
    craniumB,
    craniumC,
    craniumY,
    jawA,
    jawB,
    jawC,
    jawY,
    eyeX,
    eyeY,
    eyeW,
    eyeH,
    eyeTilt,
    irisR,
    socket,
    browGap,
    browThick,
    browArch,
    browSlant,
    browInner,
    browOuter,
    browDensity,
    noseY,
    noseLen,
    noseW,
    noseDepth,
    noseTilt,
    alarX,
    mouthY,
    mouthW,
    lipUpper,
    lipLower,
    mouthRest,
    earY,
    earSize,
    skin: clamp3(skin),
    lip: clamp3(lip),
    hair: clamp3(hair),
    iris: Float64Array.from(iris),
    blush,
    hairStyle,
    hairline,
    recession,
    hairVolume,
    fringe,
    beard,
    moles,
    glassesRate,
    glassesSquare,
    glassesColor: Float64Array.from(glassesColor),
    strands,
  };
}

/** Normal CDF approximation (logistic fit, error < 0.01) so a z-draw becomes a uniform. */
function cdf(z: number): number {
  // 1/(1+e^(−1.702 z)) without Math.exp: (1 + t/n)^n with n = 64 is within 1e-3 of e^t here.
  let e = 1 + (-1.702 * z) / 64;
  if (e < 0) e = 0;
  for (let i = 0; i < 6; i++) e *= e;
  return 1 / (1 + e);
}

/** Colours are typed arrays so the renderer's hot loops see one element kind. */
function clamp3(c: [number, number, number]): Float64Array {
  return Float64Array.of(clamp(c[0], 0, 1), clamp(c[1], 0, 1), clamp(c[2], 0, 1));
}
