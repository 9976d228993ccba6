// Mean and standard deviation summed the way numpy sums float64 arrays (pairwise, 8-way
// unrolled), so "mean ± std" of fold accuracies matches insightface's printout to the last
// digit rather than to the last-but-one.

/** numpy's `pairwise_sum` for contiguous float64 data (blocks of 128, 8 partial sums). */
export function numpySum(values: ArrayLike<number>, start = 0, n = values.length - start): number {
  if (n < 8) {
    // numpy starts from -0.0 so that a sum of negative zeros stays negative zero.
    let res = -0;
    for (let i = 0; i < n; i++) res += values[start + i];
    return res;
  }
  if (n <= 128) {
    const r = new Float64Array(8);
    for (let j = 0; j < 8; j++) r[j] = values[start + j];
    const whole = n - (n % 8);
    for (let i = 8; i < whole; i += 8) {
      for (let j = 0; j < 8; j++) r[j] += values[start + i + j];
    }
    let res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (let i = whole; i < n; i++) res += values[start + i];
    return res;
  }
  let half = Math.floor(n / 2);
  half -= half % 8;
  return numpySum(values, start, half) + numpySum(values, start + half, n - half);
}

/** `np.mean(x)`. */
export function numpyMean(values: ArrayLike<number>): number {
  return numpySum(values) / values.length;
}

/** `np.std(x)` with numpy's default ddof = 0. */
export function numpyStd(values: ArrayLike<number>): number {
  const mean = numpyMean(values);
  const sq = Float64Array.from(values, (v) => (v - mean) * (v - mean));
  return Math.sqrt(numpySum(sq) / values.length);
}
