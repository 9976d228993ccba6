// LFW's 10-fold accuracy written out with plain loops (insightface's calculate_roc:
// thresholds 0, 0.01, … 3.99; best threshold on the other folds, first of equals; accuracy
// on the held-out fold; contiguous folds), kept apart from src/eval so tests can check the
// fast path against a computation that shares none of its code.

/** Per-fold accuracies and chosen thresholds for squared distances and same-flags. */
export function plainLoopKfold(dist: Float64Array, same: Uint8Array, folds: number) {
  const n = dist.length, acc: number[] = [], best: number[] = [];
  const foldOf = (i: number) => {
    let start = 0;
    for (let f = 0; f < folds; f++) {
      const size = Math.floor(n / folds) + (f < n % folds ? 1 : 0);
      if (i < start + size) return f;
      start += size;
    }
    return -1;
  };
  const accuracy = (t: number, keep: (i: number) => boolean) => {
    let right = 0, count = 0;
    for (let i = 0; i < n; i++) {
      if (!keep(i)) continue;
      count++;
      if ((dist[i] < t) === (same[i] === 1)) right++;
    }
    return right / count;
  };
  for (let f = 0; f < folds; f++) {
    let bestT = 0, bestAcc = -1;
    for (let k = 0; k < 400; k++) {
      const a = accuracy(k * 0.01, (i) => foldOf(i) !== f);
      if (a > bestAcc) [bestAcc, bestT] = [a, k * 0.01];
    }
    best.push(bestT);
    acc.push(accuracy(bestT, (i) => foldOf(i) === f));
  }
  return { acc, best };
}
