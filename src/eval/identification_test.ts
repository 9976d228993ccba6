// Identification: genuine trials, ranks among distractors, CMC, TAR at FAR, checkpoints,
// and insightface's MegaFace noise cleaning — hand-computed cases.
import { assertAlmostEquals, assertEquals, assertThrows } from "@std/assert";
import {
  cmcAt,
  distractorCheckpoints,
  genuineTrials,
  trialRanks,
  verificationAtFar,
} from "./identification.ts";
import { cleanFacescrub, facescrubKey, megafaceKey, parseNoiseList } from "./noise.ts";

Deno.test("genuine trials: every other image of the same identity", () => {
  const set = {
    ids: ["a", "b", "c", "d"],
    identities: ["x", "x", "y", "x"],
    feats: new Float32Array([1, 0, 0, 1, 1, 0, 0.6, 0.8]),
  };
  const t = genuineTrials(set, set, 2);
  assertEquals(Array.from(t.probe), [0, 0, 1, 1, 3, 3]);
  assertEquals(Array.from(t.gallery), [1, 3, 0, 3, 0, 1]);
  assertAlmostEquals(t.score[1], 0.6, 1e-7);
});

Deno.test("ranks: distractors at or above the genuine score push it down", () => {
  // K = 3. Probe 0's best distractors 0.9, 0.5, 0.1; probe 1's 0.2, 0.1, 0.0.
  const top = new Float32Array([0.9, 0.5, 0.1, 0.2, 0.1, 0.0]);
  const trials = {
    probe: Int32Array.from([0, 0, 0, 1, 1]),
    gallery: new Int32Array(5),
    score: Float64Array.from([0.95, 0.6, 0.5, 0.05, -1]),
  };
  const ranks = trialRanks(trials, top, 3, 1000);
  assertEquals(Array.from(ranks), [1, 2, 3, 3, 4]); // 0.5 ties 0.5: counts against; 4 = "worse than 3"
  assertEquals(cmcAt(ranks, [1, 2, 3]), [0.2, 0.4, 0.8]);
  // With only 2 distractors seen, the third slot is empty and cannot outrank anything.
  assertEquals(
    Array.from(
      trialRanks(trials, new Float32Array([0.9, 0.5, -Infinity, 0.2, 0.1, -Infinity]), 3, 2),
    ),
    [1, 2, 3, 3, 3],
  );
});

Deno.test("TAR at FAR over probe × distractor impostors", () => {
  // 2 probes × 3 distractors, all kept (K = 3): impostors 0.9 0.5 0.1 | 0.2 0.1 0.0.
  const top = new Float32Array([0.9, 0.5, 0.1, 0.2, 0.1, 0.0]);
  const genuine = Float64Array.from([0.95, 0.6, 0.3, 0.05]);
  // FAR 1/6: m = 1 false accept allowed → threshold = 2nd highest impostor = 0.5.
  const v = verificationAtFar(genuine, top, 3, 2, 3, 1 / 6);
  assertAlmostEquals(v.threshold, 0.5, 1e-7);
  assertEquals([v.tar, v.far, v.impostors, v.exact], [0.5, 1 / 6, 6, true]);
  // FAR below 1/6: no false accept allowed → threshold 0.9, TAR 1/4.
  assertEquals(verificationAtFar(genuine, top, 3, 2, 3, 0.1).tar, 0.25);
  // With 10 distractors seen but 3 kept, probe 0's list is cut at 0.1: unseen impostors
  // may score up to 0.1, so a threshold of 0.1 or more is exact, a lower one is not.
  assertEquals(verificationAtFar(genuine, top, 3, 2, 10, 0.05).exact, true); // m = 1 → 0.5
  assertEquals(verificationAtFar(genuine, top, 3, 2, 10, 0.2).exact, true); // m = 4 → 0.1
  assertEquals(verificationAtFar(genuine, top, 3, 2, 10, 0.25).exact, false); // m = 5 → 0.0
});

Deno.test("distractor checkpoints: 10, 100, … then everything", () => {
  assertEquals(distractorCheckpoints(1234), [10, 100, 1000, 1234]);
  assertEquals(distractorCheckpoints(1000), [10, 100, 1000]);
  assertEquals(distractorCheckpoints(5), [5]);
  assertEquals(distractorCheckpoints(0), []);
});

Deno.test("noise lists: comments skipped, tab lines give their second field, keys match ids", () => {
  const s = parseNoiseList(
    "#rules\nAaron_Eckhart_136.png\n1\t375/37531198@N00/4174611825_0.jpg\n\n",
  );
  assertEquals([...s], ["Aaron_Eckhart_136.png", "375/37531198@N00/4174611825_0.jpg"]);
  assertEquals(
    facescrubKey("facescrub/Aaron_Eckhart/Aaron_Eckhart_136.png"),
    "Aaron_Eckhart_136.png",
  );
  assertEquals(
    megafaceKey("megaface/FlickrFinal2/375/37531198@N00/4174611825_0.jpg"),
    "375/37531198@N00/4174611825_0.jpg",
  );
});

Deno.test("FaceScrub cleaning: a noisy image becomes its identity's centre (±0.001 noise)", () => {
  const ids = ["x/x_1.png", "x/x_2.png", "x/x_3.png", "y/y_1.png"];
  const feats = new Float32Array([1, 0, 0, 1, -1, 0, 0, 1]);
  const replaced = cleanFacescrub(ids, ["x", "x", "x", "y"], feats, 2, new Set(["x_3.png"]));
  assertEquals(replaced, 1);
  // Centre of x = (1,0) + (0,1) → normalised (0.707, 0.707), within the noise.
  assertAlmostEquals(feats[4], Math.SQRT1_2, 2e-3);
  assertAlmostEquals(feats[5], Math.SQRT1_2, 2e-3);
  assertAlmostEquals(Math.hypot(feats[4], feats[5]), 1, 1e-6);
  assertEquals(Array.from(feats.subarray(0, 4)), [1, 0, 0, 1]); // clean rows untouched
  assertThrows(
    () => cleanFacescrub(["y/y_1.png"], ["y"], new Float32Array([0, 1]), 2, new Set(["y_1.png"])),
    RangeError,
    "all images of y",
  );
});
