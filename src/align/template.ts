// The ArcFace 5-point template (insightface `arcface_dst`) that aligned faces are warped onto.

/** (x, y) of left eye, right eye, nose tip, left and right mouth corner in a 112×112 crop. */
export const ARCFACE_112: readonly number[] = [
  38.2946,
  51.6963,
  73.5318,
  51.5014,
  56.0252,
  71.7366,
  41.5493,
  92.3655,
  70.7299,
  92.2041,
];

/**
 * The template for an S×S crop: scaled by S/112, as DESIGN §3 says. (insightface shifts it
 * for sizes that are not multiples of 112, as for its 128-pixel crops; we do not.)
 */
export function arcfaceTemplate(size: number): Float64Array {
  const s = size / 112;
  return Float64Array.from(ARCFACE_112, (v) => v * s);
}
