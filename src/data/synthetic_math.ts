// Arithmetic for the synthetic-face generator whose results are the same on every machine:
// only + − × ÷, Math.sqrt (IEEE 754 requires it correctly rounded), floor and round.
// Math.sin/cos/exp are implementation-approximated in ECMAScript and may differ by an ulp
// between engines or CPUs, which would change pixel bytes; these replace them.
import { hash32 } from "../util/random.ts";

const TWO_PI = 6.283185307179586;
const HALF_PI = 1.5707963267948966;
const PI = 3.141592653589793;

/** sin(x) from range reduction and a degree-21 Taylor polynomial (error < 1e-14 for |x| < 100). */
export function detSin(x: number): number {
  let r = x - TWO_PI * Math.round(x / TWO_PI); // [−π, π]
  if (r > HALF_PI) r = PI - r;
  else if (r < -HALF_PI) r = -PI - r; // now [−π/2, π/2], sin unchanged
  const r2 = r * r;
  // Horner form of r − r³/3! + r⁵/5! − … + r²¹/21!
  const c = r2 * (1 / 355687428096000 + r2 * (-1 / 121645100408832000 + r2 / 51090942171709440000));
  return r * (1 + r2 * (-1 / 6 + r2 * (1 / 120 + r2 * (-1 / 5040 + r2 * (1 / 362880 +
                    r2 *
                      (-1 / 39916800 + r2 * (1 / 6227020800 + r2 * (-1 / 1307674368000 + c))))))));
}

export function detCos(x: number): number {
  return detSin(x + HALF_PI);
}

export const DEG = PI / 180;

/** A uniform draw in [0, 1) keyed by (seed, a, b, c): counter-based, order-independent. */
export function u01(seed: number, a: number, b: number, c: number): number {
  return hash32(seed, a, b, c) / 4294967296;
}

/**
 * An approximately standard-normal draw keyed like `u01`: the sum of four uniforms
 * (Irwin–Hall), rescaled to unit variance. Bounded by ±2√3, which keeps faces sane.
 */
export function zdraw(seed: number, a: number, b: number, c: number): number {
  const k = c * 4;
  const s = hash32(seed, a, b, k) + hash32(seed, a, b, k + 1) + hash32(seed, a, b, k + 2) +
    hash32(seed, a, b, k + 3);
  return (s / 4294967296 - 2) * 1.7320508075688772;
}

export function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

export function lerp(a: number, b: number, t: number): number {
  return a + (b - a) * t;
}
