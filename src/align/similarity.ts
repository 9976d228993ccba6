// Least-squares similarity transforms between point sets (rotation, uniform scale, shift),
// the estimate skimage's SimilarityTransform (Umeyama 1991) and insightface alignment use.

/** x' = a·x + b·y + tx, y' = c·x + d·y + ty, stored as [a, b, tx, c, d, ty]. */
export type Affine = Float64Array;

/**
 * The similarity T minimising Σ |T(src_i) − dst_i|² over points given as x1,y1,x2,y2,…
 * In 2-D Umeyama's SVD solution without reflection has this closed form: with centred
 * points, scale·cos = Σ(p·q)/Σ|p|² and scale·sin = Σ(p×q)/Σ|p|².
 */
export function estimateSimilarity(src: ArrayLike<number>, dst: ArrayLike<number>): Affine {
  const n = src.length / 2;
  if (n < 2 || src.length !== dst.length || !Number.isInteger(n)) {
    throw new Error(
      `estimateSimilarity: needs two equal lists of ≥ 2 points, got ${src.length} and ${dst.length} numbers`,
    );
  }
  let sx = 0, sy = 0, dx = 0, dy = 0;
  for (let i = 0; i < n; i++) {
    sx += src[2 * i];
    sy += src[2 * i + 1];
    dx += dst[2 * i];
    dy += dst[2 * i + 1];
  }
  sx /= n;
  sy /= n;
  dx /= n;
  dy /= n;
  let dot = 0, cross = 0, norm = 0;
  for (let i = 0; i < n; i++) {
    const px = src[2 * i] - sx, py = src[2 * i + 1] - sy;
    const qx = dst[2 * i] - dx, qy = dst[2 * i + 1] - dy;
    dot += px * qx + py * qy;
    cross += px * qy - py * qx;
    norm += px * px + py * py;
  }
  if (!(norm > 0)) throw new Error("estimateSimilarity: the source points all coincide");
  const a = dot / norm, b = cross / norm;
  // [a −b; b a] is scale·rotation; the shift maps the source mean onto the target mean.
  return Float64Array.of(a, -b, dx - (a * sx - b * sy), b, a, dy - (b * sx + a * sy));
}

/** Applies T to points x1,y1,x2,y2,… */
export function applyAffine(t: Affine, points: ArrayLike<number>): Float64Array {
  const out = new Float64Array(points.length);
  for (let i = 0; i < points.length; i += 2) {
    const x = points[i], y = points[i + 1];
    out[i] = t[0] * x + t[1] * y + t[2];
    out[i + 1] = t[3] * x + t[4] * y + t[5];
  }
  return out;
}

export function invertAffine(t: Affine): Affine {
  const [a, b, tx, c, d, ty] = t;
  const det = a * d - b * c;
  if (det === 0 || !Number.isFinite(det)) {
    throw new Error("invertAffine: the transform is singular");
  }
  const ia = d / det, ib = -b / det, ic = -c / det, id = a / det;
  return Float64Array.of(ia, ib, -(ia * tx + ib * ty), ic, id, -(ic * tx + id * ty));
}

/** The transform's scale (square root of |det|): source pixels per target pixel for an inverse. */
export function affineScale(t: Affine): number {
  return Math.sqrt(Math.abs(t[0] * t[4] - t[1] * t[3]));
}
