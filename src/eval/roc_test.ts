// ROC curve, AUC, EER and the TAR-at-FAR read-out on hand-computed cases.
import { assertAlmostEquals, assertEquals, assertThrows } from "@std/assert";
import { equalErrorRate, rocAuc, rocCurve, tarAtFar, thinCurve } from "./roc.ts";

// Positives score 0.9, 0.7, 0.6; negatives 0.8, 0.5, 0.4 (order shuffled on purpose).
const scores = [0.5, 0.9, 0.4, 0.7, 0.8, 0.6];
const same = [0, 1, 0, 1, 0, 1];

Deno.test("roc_curve: distinct thresholds, collinear points dropped, (0, 0) first", () => {
  const roc = rocCurve(scores, same);
  // Counts at 0.9 0.8 0.7 0.6 0.5 0.4: tps 1 1 2 3 3 3, fps 0 1 1 1 2 3; the points at 0.7
  // and 0.5 lie on straight runs and are dropped, as sklearn does.
  assertEquals(Array.from(roc.fpr), [0, 0, 1 / 3, 1 / 3, 1]);
  assertEquals(Array.from(roc.tpr), [0, 1 / 3, 1 / 3, 1, 1]);
  assertEquals(Array.from(roc.thresholds), [Infinity, 0.9, 0.8, 0.6, 0.4]);
  const all = rocCurve(scores, same, { dropIntermediate: false });
  assertEquals(all.fpr.length, 7);
});

Deno.test("roc_curve: tied scores share one point", () => {
  const roc = rocCurve([0.5, 0.5, 0.5, 0.1], [1, 0, 1, 0], { dropIntermediate: false });
  assertEquals(Array.from(roc.fpr), [0, 0.5, 1]);
  assertEquals(Array.from(roc.tpr), [0, 1, 1]);
});

Deno.test("AUC is the trapezoid area (= the Mann-Whitney fraction 7/9 here)", () => {
  assertAlmostEquals(rocAuc(rocCurve(scores, same)), 7 / 9, 1e-15);
});

Deno.test("EER: where FPR = 1 − TPR on the polyline", () => {
  assertAlmostEquals(equalErrorRate(rocCurve(scores, same)), 1 / 3, 1e-15);
  // Perfect separation: the curve passes through (0, 1), EER 0.
  assertEquals(equalErrorRate(rocCurve([0.9, 0.8, 0.1, 0.2], [1, 1, 0, 0])), 0);
  // Diagonal with one step each: crossing at FPR 0.5 between (0, 0.5)…(1, 1)? No: points
  // (0,0) (0.5,0.5) (1,1) are collinear; the line fpr + tpr = 1 meets it at 0.5.
  assertAlmostEquals(equalErrorRate(rocCurve([0.9, 0.9, 0.1, 0.1], [1, 0, 1, 0])), 0.5, 1e-15);
});

Deno.test("TAR at FAR: the nearest point; ties to the higher FAR, then the higher TAR", () => {
  const roc = rocCurve(scores, same);
  // 0.1: FPR 0 is nearest (0.1 away); of the two points at FPR 0, the higher TPR (1/3).
  assertEquals(tarAtFar(roc, 0.1), { target: 0.1, tar: 1 / 3, far: 0, threshold: 0.9 });
  // 1/6 is equally far from FPR 0 and 1/3: the higher FAR wins, and there the higher TAR.
  assertEquals(tarAtFar(roc, 1 / 6).tar, 1);
  assertEquals(tarAtFar(roc, 0.3).far, 1 / 3);
});

Deno.test("roc_curve refuses one-sided labels and NaN scores", () => {
  assertThrows(() => rocCurve([0.1, 0.2], [1, 1]), RangeError, "both kinds");
  assertThrows(() => rocCurve([NaN, 0.2], [1, 0]), RangeError, "NaN");
});

Deno.test("thinCurve keeps both ends and bounds the point count", () => {
  const x = Array.from({ length: 10000 }, (_, i) => i / 9999);
  const y = x.map((v) => Math.sqrt(v));
  const t = thinCurve(x, y, 500);
  assertEquals(t.x[0], 0);
  assertEquals(t.x[t.x.length - 1], 1);
  assertEquals(t.x.length <= 1000 && t.x.length > 100, true, String(t.x.length));
});
