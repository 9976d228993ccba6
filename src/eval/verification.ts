// LFW-style pair verification exactly as insightface's eval/verification.py computes it:
// squared L2 distance between L2-normalised embeddings, thresholds 0, 0.01, …, 3.99, the
// best threshold chosen on nine contiguous folds (KFold, no shuffle; first best wins) and
// the accuracy measured on the tenth.
import { numpyMean, numpyStd, numpySum } from "./stats.ts";

/** np.arange(0, 4, 0.01): numpy fills start + i·step. */
export const LFW_THRESHOLDS: Float64Array = Float64Array.from({ length: 400 }, (_, i) => i * 0.01);

/**
 * Squared L2 distance between the float64 re-normalised rows of `a` and `b` (D columns),
 * as sklearn.preprocessing.normalize then np.sum(np.square(a − b), 1) do: the row sum is
 * numpy's pairwise sum (the norms use a plain sum; sklearn's einsum order is not
 * reproducible). A zero row stays zero, as in sklearn.
 */
export function squaredDistances(
  a: Float32Array | Float64Array,
  b: Float32Array | Float64Array,
  dim: number,
) {
  const n = a.length / dim;
  if (b.length !== a.length || !Number.isInteger(n)) {
    throw new RangeError(
      `squaredDistances: ${a.length} and ${b.length} values do not make rows of ${dim}`,
    );
  }
  const out = new Float64Array(n);
  const sq = new Float64Array(dim);
  for (let r = 0; r < n; r++) {
    let na = 0, nb = 0;
    for (let d = 0; d < dim; d++) {
      na += a[r * dim + d] * a[r * dim + d];
      nb += b[r * dim + d] * b[r * dim + d];
    }
    const sa = na > 0 ? Math.sqrt(na) : 1, sb = nb > 0 ? Math.sqrt(nb) : 1;
    for (let d = 0; d < dim; d++) {
      const diff = a[r * dim + d] / sa - b[r * dim + d] / sb;
      sq[d] = diff * diff;
    }
    out[r] = numpySum(sq);
  }
  return out;
}

/**
 * The test range [start, end) of each fold of sklearn's KFold(n_splits=k, shuffle=False):
 * contiguous, the first n mod k folds one longer.
 */
export function kfoldRanges(n: number, k: number): { start: number; end: number }[] {
  if (!Number.isInteger(k) || k < 1 || k > n) {
    throw new RangeError(`cannot split ${n} pairs into ${k} folds`);
  }
  const out: { start: number; end: number }[] = [];
  let start = 0;
  for (let f = 0; f < k; f++) {
    const size = Math.floor(n / k) + (f < n % k ? 1 : 0);
    out.push({ start, end: start + size });
    start += size;
  }
  return out;
}

export interface Confusion {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

/** Counts at one threshold over pairs [start, end): a pair is called "same" when dist < t. */
export function confusionAt(
  threshold: number,
  dist: ArrayLike<number>,
  same: ArrayLike<boolean | number>,
  start = 0,
  end = dist.length,
): Confusion {
  const c = { tp: 0, fp: 0, tn: 0, fn: 0 };
  for (let i = start; i < end; i++) {
    const predicted = dist[i] < threshold;
    if (predicted && same[i]) c.tp++;
    else if (predicted) c.fp++;
    else if (same[i]) c.fn++;
    else c.tn++;
  }
  return c;
}

/** (tp + tn) / pairs, as calculate_accuracy returns it. */
export function accuracyOf(c: Confusion): number {
  return (c.tp + c.tn) / (c.tp + c.fp + c.tn + c.fn);
}

export interface KFoldResult {
  /** Accuracy on each test fold at the threshold chosen on the other folds. */
  accuracies: number[];
  /** The threshold chosen for each fold. */
  thresholds: number[];
  /** np.mean and np.std (ddof 0) of the fold accuracies. */
  mean: number;
  std: number;
  folds: { start: number; end: number }[];
}

/**
 * insightface's calculate_roc accuracy part. Exact and fast: each pair's distance is turned
 * once into the index of the first threshold it is below, so a fold's counts at every
 * threshold come from cumulative histograms instead of folds × thresholds passes.
 */
export function kfoldAccuracy(
  dist: ArrayLike<number>,
  same: ArrayLike<boolean | number>,
  { folds = 10, thresholds = LFW_THRESHOLDS }: { folds?: number; thresholds?: ArrayLike<number> } =
    {},
): KFoldResult {
  const n = dist.length;
  if (same.length !== n) {
    throw new RangeError(`kfoldAccuracy: ${n} distances but ${same.length} labels`);
  }
  const T = thresholds.length;
  for (let t = 1; t < T; t++) {
    if (!(thresholds[t] > thresholds[t - 1])) throw new RangeError("thresholds must increase");
  }
  // first[i]: smallest t with dist[i] < thresholds[t] (T when none): the pair is predicted
  // "same" exactly at thresholds t ≥ first[i]. NaN distances are never below a threshold.
  const first = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let lo = 0, hi = T;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (dist[i] < thresholds[mid]) hi = mid;
      else lo = mid + 1;
    }
    first[i] = lo;
  }
  const ranges = kfoldRanges(n, folds);
  // Per fold: how many same / different pairs start being accepted at each threshold.
  const sameAt = ranges.map(() => new Int32Array(T + 1));
  const diffAt = ranges.map(() => new Int32Array(T + 1));
  ranges.forEach(({ start, end }, f) => {
    for (let i = start; i < end; i++) (same[i] ? sameAt[f] : diffAt[f])[first[i]]++;
  });
  const accuracies: number[] = [], chosen: number[] = [];
  for (let f = 0; f < ranges.length; f++) {
    // Training folds: all others (with one fold, LFold trains and tests on the whole set).
    const train = ranges.length === 1 ? [0] : ranges.map((_, g) => g).filter((g) => g !== f);
    let tp = 0, fp = 0, nSame = 0, nDiff = 0;
    for (const g of train) {
      for (let t = 0; t <= T; t++) {
        nSame += sameAt[g][t];
        nDiff += diffAt[g][t];
      }
    }
    const size = nSame + nDiff;
    let best = -1, bestAcc = -Infinity;
    for (let t = 0; t < T; t++) {
      for (const g of train) {
        tp += sameAt[g][t];
        fp += diffAt[g][t];
      }
      const acc = (tp + (nDiff - fp)) / size;
      if (acc > bestAcc) { // strict: np.argmax keeps the first best threshold
        bestAcc = acc;
        best = t;
      }
    }
    const { start, end } = ranges[f];
    accuracies.push(accuracyOf(confusionAt(thresholds[best], dist, same, start, end)));
    chosen.push(thresholds[best]);
  }
  return {
    accuracies,
    thresholds: chosen,
    mean: numpyMean(accuracies),
    std: numpyStd(accuracies),
    folds: ranges,
  };
}
