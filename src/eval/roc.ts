// ROC curves the way insightface reads them: sklearn's `roc_curve` (distinct thresholds,
// collinear points dropped, a (0, 0) start), trapezoid AUC, the equal error rate, and TAR
// at a FAR read at the nearest ROC point (eval_ijbc.py's rule).

/** An ROC curve: points in order of decreasing threshold, so fpr and tpr never decrease. */
export interface Roc {
  fpr: Float64Array;
  tpr: Float64Array;
  /** Score threshold of each point (accept when score ≥ threshold); +Infinity at (0, 0). */
  thresholds: Float64Array;
  positives: number;
  negatives: number;
}

/**
 * sklearn's `roc_curve(labels, scores)` with `drop_intermediate=True`. Higher scores mean
 * "same". Ties share one threshold. Sorting positives and negatives apart and merging keeps
 * 15 million scores to two typed-array sorts.
 */
export function rocCurve(
  scores: ArrayLike<number>,
  same: ArrayLike<boolean | number>,
  { dropIntermediate = true }: { dropIntermediate?: boolean } = {},
): Roc {
  if (scores.length !== same.length) {
    throw new RangeError(`rocCurve: ${scores.length} scores but ${same.length} labels`);
  }
  let nPos = 0;
  for (let i = 0; i < same.length; i++) if (same[i]) nPos++;
  const nNeg = same.length - nPos;
  if (nPos === 0 || nNeg === 0) {
    throw new RangeError(
      `rocCurve needs both kinds of pairs, got ${nPos} positive and ${nNeg} negative`,
    );
  }
  const pos = new Float64Array(nPos), neg = new Float64Array(nNeg);
  for (let i = 0, p = 0, n = 0; i < scores.length; i++) {
    const s = scores[i];
    if (Number.isNaN(s)) throw new RangeError(`rocCurve: score ${i} is NaN`);
    if (same[i]) pos[p++] = s;
    else neg[n++] = s;
  }
  pos.sort().reverse();
  neg.sort().reverse();
  // sklearn's _binary_clf_curve: cumulative counts at each distinct score, high to low.
  const tps: number[] = [], fps: number[] = [], thr: number[] = [];
  let i = 0, j = 0;
  while (i < nPos || j < nNeg) {
    const t = Math.max(i < nPos ? pos[i] : -Infinity, j < nNeg ? neg[j] : -Infinity);
    while (i < nPos && pos[i] === t) i++;
    while (j < nNeg && neg[j] === t) j++;
    tps.push(i);
    fps.push(j);
    thr.push(t);
  }
  let keep = tps.map((_, k) => k);
  if (dropIntermediate && tps.length > 2) {
    // np.where(np.r_[True, diff(fps, 2) | diff(tps, 2), True]): keep the corners only.
    keep = keep.filter((k) =>
      k === 0 || k === tps.length - 1 ||
      fps[k + 1] - 2 * fps[k] + fps[k - 1] !== 0 || tps[k + 1] - 2 * tps[k] + tps[k - 1] !== 0
    );
  }
  const n = keep.length + 1;
  const roc: Roc = {
    fpr: new Float64Array(n),
    tpr: new Float64Array(n),
    thresholds: new Float64Array(n),
    positives: nPos,
    negatives: nNeg,
  };
  roc.thresholds[0] = Infinity;
  keep.forEach((k, at) => {
    roc.fpr[at + 1] = fps[k] / nNeg;
    roc.tpr[at + 1] = tps[k] / nPos;
    roc.thresholds[at + 1] = thr[k];
  });
  return roc;
}

/** Area under the curve by the trapezoid rule (sklearn's `auc`). */
export function rocAuc(roc: Roc): number {
  let area = 0;
  for (let k = 1; k < roc.fpr.length; k++) {
    area += (roc.fpr[k] - roc.fpr[k - 1]) * (roc.tpr[k] + roc.tpr[k - 1]) / 2;
  }
  return area;
}

/**
 * Equal error rate: where the ROC polyline crosses FPR = 1 − TPR (false accepts equal false
 * rejects), by linear interpolation between the two points around the crossing.
 */
export function equalErrorRate(roc: Roc): number {
  const gap = (k: number) => roc.fpr[k] + roc.tpr[k] - 1;
  for (let k = 1; k < roc.fpr.length; k++) {
    const g = gap(k);
    if (g < 0) continue;
    const g0 = gap(k - 1);
    const t = g === g0 ? 0 : -g0 / (g - g0);
    return roc.fpr[k - 1] + t * (roc.fpr[k] - roc.fpr[k - 1]);
  }
  return 1; // unreachable: the last point is (1, 1)
}

/** One TAR-at-FAR read-out: the ROC point used and its threshold. */
export interface TarAtFar {
  /** The FAR asked for. */
  target: number;
  tar: number;
  /** The FAR of the point read (may lie above or below the target). */
  far: number;
  threshold: number;
}

/** The rule `tarAtFar` applies, for JSON output. */
export const TAR_READOUT =
  "TAR at the ROC point (sklearn roc_curve, drop_intermediate) whose FAR is nearest the target; " +
  "ties go to the higher FAR, then the higher TAR (insightface eval_ijbc.py)";

/**
 * insightface's IJB read-out: flip the curve (highest FAR first) and take the first point
 * with the smallest |FAR − target|, so equal FARs give the largest TAR.
 */
export function tarAtFar(roc: Roc, target: number): TarAtFar {
  let best = -1, bestDist = Infinity;
  for (let k = roc.fpr.length - 1; k >= 0; k--) {
    const d = Math.abs(roc.fpr[k] - target);
    if (d < bestDist) {
      bestDist = d;
      best = k;
    }
  }
  return { target, tar: roc.tpr[best], far: roc.fpr[best], threshold: roc.thresholds[best] };
}

/** A curve thinned to at most `maxPoints` points for plots (keeps both ends and the shape). */
export function thinCurve(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  maxPoints = 2000,
  logX = false,
): { x: number[]; y: number[] } {
  const n = x.length;
  if (n <= maxPoints) return { x: Array.from(x), y: Array.from(y) };
  // Keep a point whenever it moves far enough along either axis from the last kept one.
  const tx = (v: number) => logX ? Math.log10(Math.max(v, 1e-12)) : v;
  const spanX = Math.abs(tx(x[n - 1]) - tx(x[0])) || 1;
  const spanY = Math.abs(y[n - 1] - y[0]) || 1;
  const step = 2 / maxPoints;
  const ox = [x[0]], oy = [y[0]];
  let lx = tx(x[0]), ly = y[0];
  for (let k = 1; k < n - 1; k++) {
    if (Math.abs(tx(x[k]) - lx) / spanX + Math.abs(y[k] - ly) / spanY >= step) {
      ox.push(x[k]);
      oy.push(y[k]);
      lx = tx(x[k]);
      ly = y[k];
    }
  }
  ox.push(x[n - 1]);
  oy.push(y[n - 1]);
  return { x: ox, y: oy };
}
