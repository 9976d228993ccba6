import { assert, assertEquals, assertNotEquals, assertThrows } from "@std/assert";
import { createHash } from "node:crypto";
import { applyAffine, estimateSimilarity } from "../align/similarity.ts";
import { arcfaceTemplate } from "../align/template.ts";
import { decodePnm } from "../image/pnm.ts";
import { formatLfwPairs as formatPairs, lfwId, parsePairs } from "./pairs.ts";
import {
  foldIdentities,
  identityName,
  imageId,
  maxPairsPerFold,
  splitIdentities,
  type SyntheticConfig,
  syntheticItems,
  syntheticPairs,
  SyntheticRenderer,
} from "./synthetic.ts";
import { drawIdentity, siblingOf } from "./synthetic_identity.ts";
import { detCos, detSin } from "./synthetic_math.ts";
import { FaceRenderer } from "./synthetic_render.ts";
import { drawView, type FaceView } from "./synthetic_view.ts";

const cfg = (over: Partial<SyntheticConfig> = {}): SyntheticConfig => ({
  identities: 40,
  perIdentity: 6,
  size: 112,
  seed: 1,
  pairsFraction: 0.5,
  ...over,
});

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

Deno.test("detSin/detCos agree with Math.sin/cos to 1e-12 over several turns", () => {
  for (let x = -20; x <= 20; x += 0.0137) {
    if (Math.abs(detSin(x) - Math.sin(x)) > 1e-12 || Math.abs(detCos(x) - Math.cos(x)) > 1e-12) {
      throw new Error(
        `x=${x}: sin ${detSin(x)} vs ${Math.sin(x)}, cos ${detCos(x)} vs ${Math.cos(x)}`,
      );
    }
  }
});

Deno.test("same seed, same bytes: two renderers agree; other seeds and identities differ", () => {
  const a = new SyntheticRenderer(cfg()), b = new SyntheticRenderer(cfg());
  const x = a.render(3, 2), y = b.render(3, 2);
  assertEquals(sha(x.ppm), sha(y.ppm));
  assertEquals(x.landmarks, y.landmarks);
  // An identity renders the same whatever was rendered before it (no hidden state).
  b.render(7, 0);
  assertEquals(sha(b.render(3, 2).ppm), sha(x.ppm));
  assertNotEquals(sha(new SyntheticRenderer(cfg({ seed: 2 })).render(3, 2).ppm), sha(x.ppm));
  assertNotEquals(sha(a.render(4, 2).ppm), sha(x.ppm));
  assertNotEquals(sha(a.render(3, 3).ppm), sha(x.ppm));
  // The identity count does not change who an identity is.
  assertEquals(sha(new SyntheticRenderer(cfg({ identities: 9 })).render(3, 2).ppm), sha(x.ppm));
});

Deno.test("golden bytes: the generator's output is pinned (platform-independent arithmetic)", () => {
  // If this fails after a deliberate change to the face model, update the digests; if it
  // fails on another machine with the same code, some arithmetic is not deterministic.
  const r = new SyntheticRenderer(cfg({ seed: 7, size: 48 }));
  const digest = createHash("sha256");
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 2; j++) {
      const { ppm, landmarks } = r.render(i, j);
      digest.update(ppm).update(new Uint8Array(landmarks.buffer));
    }
  }
  assertEquals(digest.digest("hex"), GOLDEN);
});
const GOLDEN = "8d68e649aa4a9b1d6720fff7f7e51c0e5a9e1013918de83f49d886e41ae7d1f6";

Deno.test("images are binary PPM files the netpbm decoder reads", () => {
  const { ppm } = new SyntheticRenderer(cfg({ size: 37 })).render(0, 0);
  assertEquals(new TextDecoder().decode(ppm.subarray(0, 11)), "P6\n37 37\n25");
  const img = decodePnm(ppm);
  assertEquals([img.width, img.height, img.data.length], [37, 37, 37 * 37 * 3]);
  // Not blank: a face has a wide range of values.
  let lo = 255, hi = 0;
  for (const v of img.data) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
  assert(hi - lo > 100, `pixel range ${lo}..${hi}`);
});

/** A view with no pose, framing or expression jitter and nothing in front of the face. */
function frontal(who: ReturnType<typeof drawIdentity>): FaceView {
  return {
    ...drawView(1, who, 0),
    yaw: 0,
    pitch: 0,
    roll: 0,
    offsetX: 0,
    offsetY: 0,
    scale: 1,
    smile: 0,
    mouthOpen: 0,
    eyeOpen: 1,
    gazeX: 0,
    gazeY: 0,
    occluder: 0,
    glasses: false,
  };
}

Deno.test("frontal faces: landmarks fit the ArcFace template closely after a similarity transform", () => {
  const S = 112, r = new FaceRenderer(S), img = new Uint8Array(S * S * 3), T = arcfaceTemplate(S);
  let sum = 0, worst = 0;
  const n = 40;
  for (let i = 0; i < n; i++) {
    const who = drawIdentity(1, i);
    const lm = r.render(who, frontal(who), img);
    const fit = applyAffine(estimateSimilarity(lm, T), lm);
    let se = 0;
    for (let k = 0; k < 10; k++) se += (fit[k] - T[k]) ** 2;
    const rms = Math.sqrt(se / 5);
    sum += rms;
    worst = Math.max(worst, rms);
    // Centred, upright: eyes level and left of right, the nose between, mouth below.
    assert(
      Math.abs(lm[1] - lm[3]) < 0.01 && lm[0] < lm[4] && lm[4] < lm[2],
      `identity ${i}: ${lm}`,
    );
    assert(
      lm[5] > lm[1] && lm[7] > lm[5] && Math.abs(lm[7] - lm[9]) < 0.01,
      `identity ${i}: ${lm}`,
    );
  }
  // Measured: mean 1.2 px, worst 3.0 px at 112 px (identities differ in proportions).
  assert(sum / n < 1.6, `mean residual ${sum / n} px`);
  assert(worst < 4, `worst residual ${worst} px`);
});

function luma(img: Uint8Array, S: number, x: number, y: number): number {
  const o = (Math.round(y) * S + Math.round(x)) * 3;
  return 0.299 * img[o] + 0.587 * img[o + 1] + 0.114 * img[o + 2];
}

/** Where two renders differ by more than `min` levels: the changed pixels' centroid and extent. */
function changed(a: Uint8Array, b: Uint8Array, S: number, min = 30) {
  let n = 0, sx = 0, sy = 0, x0 = S, x1 = -1;
  const pts: [number, number][] = [];
  for (let p = 0; p < S * S; p++) {
    const d = Math.abs(a[3 * p] - b[3 * p]) + Math.abs(a[3 * p + 1] - b[3 * p + 1]) +
      Math.abs(a[3 * p + 2] - b[3 * p + 2]);
    if (d <= min) continue;
    const x = p % S, y = Math.floor(p / S);
    n++;
    sx += x;
    sy += y;
    x0 = Math.min(x0, x);
    x1 = Math.max(x1, x);
    pts.push([x, y]);
  }
  return { n, cx: sx / n, cy: sy / n, x0, x1, pts };
}

Deno.test("the features sit at the landmarks, in any pose: irises, mouth corners, nostrils", () => {
  const S = 112,
    r = new FaceRenderer(S),
    base = new Uint8Array(S * S * 3),
    alt = new Uint8Array(S * S * 3);
  let checked = 0;
  for (let i = 0; i < 12; i++) {
    const who = drawIdentity(5, i);
    for (let j = 0; j < 6; j++) {
      const view = drawView(5, who, j);
      // Only faces whose features are visible: eyes open, nothing in front of them.
      if (view.eyeOpen < 0.6 || view.glasses || view.occluder !== 0 || view.mouthOpen > 0) continue;
      const lm = r.render(who, view, base);
      const where = `identity ${i} image ${j}`;
      // Irises: repaint them the colour of the eye white; what changes is centred on the eye landmarks.
      r.render({ ...who, iris: Float64Array.of(0.9, 0.88, 0.84) }, view, alt);
      const iris = changed(base, alt, S);
      for (const e of [0, 2]) {
        const mine = iris.pts.filter(([x, y]) => Math.hypot(x - lm[e], y - lm[e + 1]) < 5);
        const cx = mine.reduce((s, p) => s + p[0], 0) / mine.length;
        const cy = mine.reduce((s, p) => s + p[1], 0) / mine.length;
        assert(mine.length >= 3, `${where}: iris ${e / 2} barely visible (${mine.length} px)`);
        assert(
          Math.hypot(cx - lm[e], cy - lm[e + 1]) < 1.2,
          `${where}: iris ${e / 2} at ${cx},${cy}, landmark ${lm[e]},${lm[e + 1]}`,
        );
      }
      assertEquals(
        iris.pts.filter(([x, y]) =>
          Math.min(Math.hypot(x - lm[0], y - lm[1]), Math.hypot(x - lm[2], y - lm[3])) >= 5
        ).length,
        0,
      );
      // Lips: recolour them; the changed region ends at the mouth-corner landmarks.
      r.render({ ...who, lip: Float64Array.of(0.1, 0.9, 0.1) }, view, alt);
      const lips = changed(base, alt, S);
      const left = Math.min(lm[6], lm[8]), right = Math.max(lm[6], lm[8]);
      assert(
        Math.abs(lips.x0 - left) < 2 && Math.abs(lips.x1 - right) < 2,
        `${where}: lips span ${lips.x0}..${lips.x1}, corners ${left}..${right}`,
      );
      // Just below the nose tip are the nostrils, darker than the tip.
      const eyeDist = Math.hypot(lm[2] - lm[0], lm[3] - lm[1]);
      let nostril = 255;
      for (let d = 1; d <= Math.ceil(0.2 * eyeDist); d++) {
        for (let dx = -3; dx <= 3; dx++) {
          nostril = Math.min(nostril, luma(base, S, lm[4] + dx, lm[5] + d));
        }
      }
      assert(nostril < 0.8 * luma(base, S, lm[4], lm[5]), `${where}: nostrils ${nostril} vs tip`);
      checked++;
    }
  }
  assert(checked >= 25, `only ${checked} views checked`);
});

Deno.test("views vary what a camera varies, within the stated ranges", () => {
  const who = drawIdentity(1, 0);
  const views = Array.from({ length: 400 }, (_, j) => drawView(1, who, j));
  const deg = (r: number) => (r * 180) / Math.PI;
  for (const v of views) {
    assert(
      Math.abs(deg(v.yaw)) <= 25 && Math.abs(deg(v.pitch)) <= 16 && Math.abs(deg(v.roll)) <= 18,
    );
  }
  const share = (f: (v: FaceView) => boolean) => views.filter(f).length / views.length;
  assert(share((v) => Math.abs(deg(v.yaw)) > 12) > 0.15, "yaw rarely large");
  assert(share((v) => v.occluder !== 0) > 0.04, "no occluders");
  assert(share((v) => v.smile > 0.3) > 0.2, "no smiles");
  assert(share((v) => v.noise > 0) > 0.5, "no noise");
  assert(share((v) => v.softness > 1.3) > 0.05, "never out of focus");
});

Deno.test("identities differ in many parameters; siblings are drawn alike", () => {
  const a = drawIdentity(1, 10), c = drawIdentity(1, 12);
  const numeric = (w: ReturnType<typeof drawIdentity>) =>
    Object.entries(w).filter(([k, v]) => typeof v === "number" && k !== "index" && k !== "sibling");
  const differ =
    numeric(a).filter(([k, v]) => v !== (c as unknown as Record<string, number>)[k]).length;
  assert(differ > 30, `only ${differ} parameters differ`);
  // Siblings: over many pairs, their geometry is much closer than that of strangers.
  let sib = 0, strangers = 0, ns = 0, nn = 0;
  for (let i = 0; i < 400; i += 2) {
    const x = drawIdentity(1, i), y = drawIdentity(1, i + 1), z = drawIdentity(1, (i + 50) % 400);
    const d = (p: typeof x, q: typeof x) =>
      Math.abs(p.eyeX - q.eyeX) + Math.abs(p.mouthY - q.mouthY) + Math.abs(p.jawA - q.jawA);
    if (siblingOf(1, i) === i + 1) {
      assertEquals(x.sibling, i + 1);
      sib += d(x, y);
      ns++;
    } else {
      assertEquals(x.sibling, -1);
    }
    strangers += d(x, z);
    nn++;
  }
  assert(ns > 50 && ns < 110, `${ns} sibling pairs of 200`);
  assert(sib / ns < 0.6 * (strangers / nn), `siblings ${sib / ns} vs strangers ${strangers / nn}`);
});

Deno.test("train and pairs identities are disjoint and cover all; ids follow LFW naming", () => {
  const c = cfg({ identities: 25, pairsFraction: 0.3 });
  const { train, pairs } = splitIdentities(c);
  assertEquals(pairs.length, 8); // round(7.5) = 8, already even
  assertEquals([...train, ...pairs], Array.from({ length: 25 }, (_, i) => i));
  assertEquals(pairs.length % 2, 0);
  assertEquals(identityName(42, 400), "syn_00042");
  assertEquals(identityName(42, 200000), "syn_000042");
  assertEquals(imageId(42, 2, cfg({ identities: 400 })), "syn_00042/syn_00042_0003.ppm");
  const items = syntheticItems(c, "pairs");
  assertEquals(items.length, 8 * 6);
  assertEquals(items[0].id, "syn_00017/syn_00017_0001.ppm");
  assertEquals(new Set(syntheticItems(c, "train").map((t) => t.identity)).size, 17);
  assertEquals(syntheticItems(c, "all").length, 25 * 6);
});

Deno.test("pairs: identity-disjoint folds, distinct pairs, ids that exist, parsed by parsePairs", () => {
  const c = cfg({ identities: 60, pairsFraction: 0.5, perIdentity: 5 });
  const folds = syntheticPairs(c, { folds: 10, perFold: 12 });
  const list = parsePairs(formatPairs(folds), "gen.txt", { idOf: lfwId("ppm") });
  assertEquals([list.folds, list.pairs.length], [10, 240]);
  const ids = new Set(syntheticItems(c, "pairs").map((t) => t.id));
  const train = new Set(syntheticItems(c, "train").map((t) => t.identity));
  const foldOf = new Map<string, number>();
  const keys = new Set<string>();
  for (const p of list.pairs) {
    assert(ids.has(p.a) && ids.has(p.b), `unknown id in ${p.a} ${p.b}`);
    const ia = p.a.split("/")[0], ib = p.b.split("/")[0];
    assert(!train.has(ia) && !train.has(ib), "a training identity in the pairs");
    assertEquals(ia === ib, p.same);
    assert(p.a !== p.b, "an image paired with itself");
    for (const who of [ia, ib]) {
      assertEquals(foldOf.get(who) ?? p.fold, p.fold, `${who} in two folds`);
      foldOf.set(who, p.fold);
    }
    const key = [p.a, p.b].sort().join(" ");
    assert(!keys.has(key), `pair ${key} twice`);
    keys.add(key);
  }
  // Same arguments, same pairs.
  assertEquals(formatPairs(syntheticPairs(c, { folds: 10, perFold: 12 })), formatPairs(folds));
  assertThrows(() => syntheticPairs(c, { folds: 10, perFold: maxPairsPerFold(c, 10) + 1 }));
});

Deno.test("folds keep lookalike siblings together and spread identities evenly", () => {
  const groups = foldIdentities([20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30], 3);
  assertEquals(groups.flat(), [20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30]);
  for (const g of groups) {
    for (const i of g) {
      if (i % 2 === 0 && i + 1 <= 30) assert(g.includes(i + 1), `${i} split from ${i + 1}`);
    }
    assert(g.length >= 2 && g.length <= 6, `group sizes ${groups.map((x) => x.length)}`);
  }
});
