// LFW 10-fold protocol: hand-computed cases, and a brute-force recomputation with plain
// loops (calculate_roc's structure) that must agree to the last digit.
import { assertEquals, assertThrows } from "@std/assert";
import { randomArray } from "../../tests/helpers/compare.ts";
import { plainLoopKfold } from "../../tests/helpers/lfw_plain.ts";
import { numpyMean, numpyStd } from "./stats.ts";
import {
  accuracyOf,
  confusionAt,
  kfoldAccuracy,
  kfoldRanges,
  LFW_THRESHOLDS,
  squaredDistances,
} from "./verification.ts";

Deno.test("thresholds are np.arange(0, 4, 0.01)", () => {
  assertEquals(LFW_THRESHOLDS.length, 400);
  assertEquals(LFW_THRESHOLDS[0], 0);
  assertEquals(LFW_THRESHOLDS[1], 0.01);
  assertEquals(LFW_THRESHOLDS[399], 3.99);
  assertEquals(LFW_THRESHOLDS[7], 0.07); // 7 * 0.01 rounds to 0.07, as numpy's fill does
});

Deno.test("KFold without shuffle: contiguous, the first n mod k folds one longer", () => {
  const r = kfoldRanges(23, 10);
  assertEquals(r.map((f) => f.end - f.start), [3, 3, 3, 2, 2, 2, 2, 2, 2, 2]);
  assertEquals(r[0], { start: 0, end: 3 });
  assertEquals(r[9], { start: 21, end: 23 });
  assertEquals(
    kfoldRanges(6000, 10).every((f, i) => f.start === 600 * i && f.end === 600 * (i + 1)),
    true,
  );
  assertThrows(() => kfoldRanges(5, 10), RangeError);
});

Deno.test("accuracy at a threshold: same when dist < threshold (strict)", () => {
  const dist = [0.5, 1.0, 1.5, 2.0], same = [1, 1, 0, 0];
  assertEquals(confusionAt(1.0, dist, same), { tp: 1, fp: 0, tn: 2, fn: 1 });
  assertEquals(accuracyOf(confusionAt(1.0, dist, same)), 0.75);
  assertEquals(accuracyOf(confusionAt(1.01, dist, same)), 1);
  assertEquals(accuracyOf(confusionAt(1.51, dist, same)), 0.75);
});

Deno.test("best threshold: the first of equally good thresholds, chosen on the other folds", () => {
  // Fold 0 (pairs 0-9) separates perfectly for any t in (0.5, 1.5]: first best is 0.51.
  // Fold 1 (pairs 10-19): same at 0.505 and 0.515, different at 0.6 and 3.
  const dist = [
    ...Array(5).fill(0.5),
    ...Array(5).fill(1.5),
    0.505,
    0.505,
    0.515,
    0.515,
    0.515,
    0.6,
    0.6,
    3,
    3,
    3,
  ];
  const same = [...Array(5).fill(1), ...Array(5).fill(0), 1, 1, 1, 1, 1, 0, 0, 0, 0, 0];
  const r = kfoldAccuracy(dist, same, { folds: 2 });
  // Fold 1 is tested at 0.51: 0.505 accepted (2 tp), 0.515 rejected (3 fn), 5 tn → 0.7.
  assertEquals(r.thresholds[1], 0.51);
  assertEquals(r.accuracies[1], 0.7);
  // Fold 0 is tested at the first threshold best on fold 1: 0.52 (5 tp, 5 tn there).
  assertEquals(r.thresholds[0], 0.52);
  assertEquals(r.accuracies[0], 1);
  assertEquals(r.mean, 0.85);
  assertEquals(r.std, 0.15000000000000002); // np.std([1, 0.7])
});

Deno.test("squared distances re-normalise rows in float64", () => {
  const a = new Float32Array([3, 4, 0, 0]), b = new Float32Array([0, 2, 0, 0]);
  const d = squaredDistances(a, b, 2);
  assertEquals(d[0], (0.6 - 0) ** 2 + (0.8 - 1) ** 2);
  assertEquals(d[1], 0); // zero rows stay zero, as in sklearn.preprocessing.normalize
});

Deno.test("10-fold accuracy: the fast path equals a plain-loop recomputation to the last digit", () => {
  const n = 6000, D = 16;
  const a = randomArray(n * D, 11), b = randomArray(n * D, 12);
  const same = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    same[i] = (i % 600) < 300 ? 1 : 0; // LFW layout: 300 same then 300 different per fold
    if (same[i]) { for (let d = 0; d < D; d++) b[i * D + d] = a[i * D + d] + 0.9 * b[i * D + d]; }
  }
  const dist = squaredDistances(a, b, D);
  const fast = kfoldAccuracy(dist, same);
  const slow = plainLoopKfold(dist, same, 10);
  assertEquals(fast.accuracies, slow.acc);
  assertEquals(fast.thresholds, slow.best);
  // numpy's pairwise sum of ten values, written out: ((a0+a1)+(a2+a3))+((a4+a5)+(a6+a7)), +a8, +a9.
  const s = slow.acc;
  const sum = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7])) + s[8] + s[9];
  assertEquals(fast.mean, sum / 10);
  const q = s.map((v) => (v - sum / 10) ** 2);
  const sq = ((q[0] + q[1]) + (q[2] + q[3])) + ((q[4] + q[5]) + (q[6] + q[7])) + q[8] + q[9];
  assertEquals(fast.std, Math.sqrt(sq / 10));
  // The data are not trivial: accuracies differ across folds and lie well inside (0.5, 1).
  assertEquals(
    new Set(s).size > 1 && Math.min(...s) > 0.55 && Math.max(...s) < 0.99,
    true,
    String(s),
  );
});

Deno.test("numpy mean/std: pairwise order, not sequential", () => {
  // Values whose sum depends on the order: sequential gives 0, pairwise keeps the ones.
  const v = [1e16, 1, 1, 1, -1e16, 1, 1, 1, 1, 1];
  assertEquals(numpyMean([0.1, 0.2, 0.4]), (0.1 + 0.2 + 0.4) / 3);
  assertEquals(numpyMean(v), (((1e16 + 1) + (1 + 1)) + ((-1e16 + 1) + (1 + 1)) + 1 + 1) / 10);
  assertEquals(numpyStd([1, 1, 1]), 0);
});
