// `p2sgrad prepare synthetic` end to end: the stream it writes, its determinism, the
// train/pairs split and pairs file, errors, and whether the faces are learnable but not
// trivially so (raw-pixel verification on held-out pairs, after the real align stage).
import { assert, assertEquals, assertNotEquals, assertStringIncludes } from "@std/assert";
import { createHash } from "node:crypto";
import { lfwId, parsePairs } from "../src/data/pairs.ts";
import { openRecordStream } from "../src/format/stream.ts";
import type { FaceRecord, ImageRecord } from "../src/format/records.ts";
import { chunkedReadable, runStage } from "./stage_io.ts";

async function records<K extends "images" | "faces">(bytes: Uint8Array, kind: K) {
  const stream = await openRecordStream(chunkedReadable(bytes).stream, kind, "test");
  const rows = [];
  for await (const r of stream.records()) rows.push(r);
  return { meta: stream.meta, rows: rows as (K extends "images" ? ImageRecord : FaceRecord)[] };
}

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

Deno.test("prepare synthetic writes an images stream of PPM faces with landmarks, labels and LFW ids", async () => {
  const r = await runStage([
    "prepare",
    "synthetic",
    "--identities",
    "5",
    "--per-identity",
    "3",
    "--size",
    "64",
  ]);
  assertEquals(r.code, 0, r.stderr);
  assertStringIncludes(r.stderr, "wrote 15 images of 5 identities");
  const { meta, rows } = await records(r.stdout, "images");
  assertEquals(meta.extra?.source, "synthetic");
  assertEquals(meta.extra?.["synthetic.seed"], "1");
  assertEquals(rows.length, 15);
  assertEquals(rows[4].id, "syn_00001/syn_00001_0002.ppm");
  assertEquals([rows[4].identity, rows[4].label, rows[4].cleanLabel, rows[4].path], [
    "syn_00001",
    1,
    1,
    "",
  ]);
  for (const row of rows) {
    assertEquals(new TextDecoder().decode(row.bytes!.subarray(0, 13)), "P6\n64 64\n255\n");
    assertEquals(row.bytes!.length, 13 + 64 * 64 * 3);
    assertEquals(row.landmarks!.length, 10);
    for (const v of row.landmarks!) assert(v > 0 && v < 64, `landmark ${v} outside the image`);
  }
});

Deno.test("the same arguments give the same bytes; another seed gives other faces", async () => {
  const args = ["prepare", "synthetic", "--identities", "4", "--per-identity", "2", "--size", "48"];
  const a = await runStage(args), b = await runStage(args);
  const c = await runStage([...args, "--seed", "2"]);
  assertEquals(sha(a.stdout), sha(b.stdout));
  assertNotEquals(sha(a.stdout), sha(c.stdout));
  // Worker threads render the same bytes in the same order (more images than one chunk).
  const many = ["prepare", "synthetic", "--identities", "9", "--per-identity", "9", "--size", "24"];
  const inline = await runStage([...many, "--workers", "0"]),
    pooled = await runStage([...many, "--workers", "3"]);
  assertEquals([inline.code, pooled.code], [0, 0], pooled.stderr);
  assertEquals(sha(pooled.stdout), sha(inline.stdout));
  // Flags before `synthetic` (as prepare passes them) mean the same.
  const d = await runStage(["prepare", "--seed", "2", "synthetic", ...args.slice(2)]);
  assertEquals(sha(d.stdout), sha(c.stdout));
});

Deno.test("--split train and --split pairs are identity-disjoint; the pairs file names only pairs images", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const common = [
      "--identities",
      "44",
      "--per-identity",
      "4",
      "--size",
      "32",
      "--pairs-fraction",
      "0.5",
    ];
    const train = await runStage(["prepare", "synthetic", "--split", "train", ...common]);
    const pairsOut = `${dir}/pairs.txt`;
    const held = await runStage([
      "prepare",
      "synthetic",
      "--split",
      "pairs",
      "--pairs-out",
      pairsOut,
      "--pairs-per-fold",
      "5",
      ...common,
    ]);
    assertEquals([train.code, held.code], [0, 0], train.stderr + held.stderr);
    const t = (await records(train.stdout, "images")).rows,
      p = (await records(held.stdout, "images")).rows;
    const trainIds = new Set(t.map((r) => r.identity)), pairIds = new Set(p.map((r) => r.identity));
    assertEquals([trainIds.size, pairIds.size], [22, 22]);
    assert([...pairIds].every((i) => !trainIds.has(i)), "an identity in both splits");
    // Labels are dense within each stream.
    assertEquals(Math.max(...p.map((r) => r.label)), 21);
    const list = parsePairs(await Deno.readTextFile(pairsOut), pairsOut, { idOf: lfwId("ppm") });
    assertEquals([list.folds, list.pairs.length], [10, 100]);
    const ids = new Set(p.map((r) => r.id));
    for (const pair of list.pairs) {
      assert(ids.has(pair.a) && ids.has(pair.b), `${pair.a} / ${pair.b}`);
    }
    // The pairs identities render identically in --split all.
    const all = await runStage(["prepare", "synthetic", "--split", "all", ...common]);
    const same = (await records(all.stdout, "images")).rows.find((r) => r.id === p[7].id)!;
    assertEquals(sha(same.bytes!), sha(p[7].bytes!));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("label noise and shards reuse prepare's selection", async () => {
  const base = [
    "prepare",
    "synthetic",
    "--identities",
    "6",
    "--per-identity",
    "10",
    "--size",
    "16",
  ];
  const noisy = await runStage([...base, "--label-noise", "0.3"]);
  assertEquals(noisy.code, 0, noisy.stderr);
  const rows = (await records(noisy.stdout, "images")).rows;
  assertEquals(rows.filter((r) => r.label !== r.cleanLabel).length, 18);
  const shard = await runStage([...base, "--shard", "1/4"]);
  assertEquals((await records(shard.stdout, "images")).rows.length, 15);
});

Deno.test("usage errors and impossible pairs requests say what to change", async () => {
  const bad = await runStage(["prepare", "synthetic", "--split", "val"]);
  assertEquals(bad.code, 2);
  assertStringIncludes(bad.stderr, "--split must be train, pairs or all");
  const trainPairs = await runStage([
    "prepare",
    "synthetic",
    "--split",
    "train",
    "--pairs-out",
    "/tmp/x",
  ]);
  assertEquals(trainPairs.code, 2);
  assertStringIncludes(trainPairs.stderr, "write the pairs with --split pairs");
  const few = await runStage([
    "prepare",
    "synthetic",
    "--identities",
    "10",
    "--split",
    "pairs",
    "--pairs-out",
    "/tmp/x",
  ]);
  assertEquals(few.code, 1);
  assertStringIncludes(few.stderr, "cannot make 10 identity-disjoint folds");
  const size = await runStage(["prepare", "synthetic", "--size", "8"]);
  assertEquals(size.code, 2);
  assertStringIncludes(size.stderr, "--size must be an integer in [16, 1024]");
});

/** Grey, mean-removed, unit-length pixels of an aligned face: the rawest possible descriptor. */
function descriptor(pixels: Uint8Array): Float64Array {
  const n = pixels.length / 3, g = new Float64Array(n);
  let mean = 0;
  for (let i = 0; i < n; i++) {
    g[i] = 0.299 * pixels[3 * i] + 0.587 * pixels[3 * i + 1] + 0.114 * pixels[3 * i + 2];
    mean += g[i] / n;
  }
  let norm = 0;
  for (let i = 0; i < n; i++) norm += (g[i] -= mean) ** 2;
  for (let i = 0; i < n; i++) g[i] /= Math.sqrt(norm);
  return g;
}

/** LFW protocol: per fold, the threshold that is best on the other folds, scored on this one. */
function tenFoldAccuracy(
  scores: { s: number; same: boolean; fold: number }[],
  folds: number,
): number {
  let total = 0;
  for (let f = 0; f < folds; f++) {
    const train = scores.filter((x) => x.fold !== f), test = scores.filter((x) => x.fold === f);
    const acc = (set: typeof scores, t: number) =>
      set.filter((x) => (x.s >= t) === x.same).length / set.length;
    let best = -Infinity, bestAcc = -1;
    for (const { s } of train) {
      const a = acc(train, s);
      if (a > bestAcc) [best, bestAcc] = [s, a];
    }
    total += acc(test, best);
  }
  return total / folds;
}

Deno.test("learnable, not trivial: raw-pixel cosine on held-out pairs is above chance and far from 100%", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const pairsOut = `${dir}/pairs.txt`;
    const images = await runStage([
      "prepare",
      "synthetic",
      "--identities",
      "80",
      "--per-identity",
      "6",
      "--seed",
      "11",
      "--split",
      "pairs",
      "--pairs-fraction",
      "0.5",
      "--pairs-out",
      pairsOut,
      "--pairs-per-fold",
      "30",
    ]);
    assertEquals(images.code, 0, images.stderr);
    const faces = await runStage(["align", "--size", "40"], images.stdout);
    assertEquals(faces.code, 0, faces.stderr);
    const byId = new Map<string, Float64Array>();
    for (const f of (await records(faces.stdout, "faces")).rows) {
      byId.set(f.id, descriptor(f.pixels));
    }
    const list = parsePairs(await Deno.readTextFile(pairsOut), pairsOut, { idOf: lfwId("ppm") });
    const scores = list.pairs.map((p) => {
      const a = byId.get(p.a)!, b = byId.get(p.b)!;
      let s = 0;
      for (let i = 0; i < a.length; i++) s += a[i] * b[i];
      return { s, same: p.same, fold: p.fold };
    });
    const acc = tenFoldAccuracy(scores, list.folds);
    console.log(
      `raw-pixel 10-fold verification accuracy on ${scores.length} synthetic pairs: ${
        (acc * 100).toFixed(1)
      }%`,
    );
    // Measured 61.7% (seed 11, 600 pairs; 59–59.3% with seeds 3, 5, 7): identity shows through, but pose, light, expression
    // and background dominate raw pixels, as on LFW, so a network has to learn invariances.
    assert(acc > 0.55, `accuracy ${acc}: no identity signal in raw pixels`);
    assert(acc < 0.85, `accuracy ${acc}: raw pixels nearly solve it; the task is too easy`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Within-class whitening learned from labelled faces: x ↦ L⁻¹(x − μ), Sw + λI = LLᵀ. */
function learnWhitening(faces: FaceRecord[], dim: number): (pixels: Uint8Array) => Float64Array {
  const byLabel = new Map<number, Float64Array[]>();
  for (const f of faces) {
    const list = byLabel.get(f.label) ?? [];
    list.push(Float64Array.from(f.pixels, (v) => v / 255));
    byLabel.set(f.label, list);
  }
  const mu = new Float64Array(dim), sw = new Float64Array(dim * dim);
  for (const xs of byLabel.values()) {
    const m = new Float64Array(dim);
    for (const x of xs) for (let d = 0; d < dim; d++) m[d] += x[d] / xs.length;
    for (let d = 0; d < dim; d++) mu[d] += m[d] / byLabel.size;
    for (const x of xs) {
      const c = x.map((v, d) => v - m[d]);
      for (let a = 0; a < dim; a++) for (let b = 0; b <= a; b++) sw[a * dim + b] += c[a] * c[b];
    }
  }
  let trace = 0;
  for (let d = 0; d < dim; d++) trace += sw[d * dim + d];
  for (let d = 0; d < dim; d++) sw[d * dim + d] += (0.05 * trace) / dim;
  const L = new Float64Array(dim * dim); // Cholesky of the lower triangle
  for (let i = 0; i < dim; i++) {
    for (let j = 0; j <= i; j++) {
      let s = sw[i * dim + j];
      for (let k = 0; k < j; k++) s -= L[i * dim + k] * L[j * dim + k];
      L[i * dim + j] = i === j ? Math.sqrt(s) : s / L[j * dim + j];
    }
  }
  return (pixels) => {
    const y = new Float64Array(dim);
    let norm = 0;
    for (let i = 0; i < dim; i++) {
      let s = pixels[i] / 255 - mu[i];
      for (let k = 0; k < i; k++) s -= L[i * dim + k] * y[k];
      y[i] = s / L[i * dim + i];
      norm += y[i] * y[i];
    }
    return y.map((v) => v / Math.sqrt(norm));
  };
}

Deno.test("learnable: a linear map learned on training identities verifies unseen ones far better than pixels", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const pairsOut = `${dir}/pairs.txt`;
    const common = [
      "--identities",
      "120",
      "--per-identity",
      "8",
      "--size",
      "64",
      "--seed",
      "11",
      "--pairs-fraction",
      "0.34",
    ];
    const train = await runStage(["prepare", "synthetic", ...common, "--split", "train"]);
    const held = await runStage([
      "prepare",
      "synthetic",
      ...common,
      "--split",
      "pairs",
      "--pairs-out",
      pairsOut,
      "--pairs-per-fold",
      "40",
    ]);
    const trainFaces = await runStage(["align", "--size", "12"], train.stdout);
    const heldFaces = await runStage(["align", "--size", "12"], held.stdout);
    assertEquals([trainFaces.code, heldFaces.code], [0, 0], trainFaces.stderr + heldFaces.stderr);
    const dim = 12 * 12 * 3;
    const whiten = learnWhitening((await records(trainFaces.stdout, "faces")).rows, dim);
    const faces = new Map(
      (await records(heldFaces.stdout, "faces")).rows.map((f) => [f.id, f.pixels]),
    );
    const list = parsePairs(await Deno.readTextFile(pairsOut), pairsOut, { idOf: lfwId("ppm") });
    const score = (f: (p: Uint8Array) => Float64Array) =>
      tenFoldAccuracy(
        list.pairs.map((p) => {
          const a = f(faces.get(p.a)!), b = f(faces.get(p.b)!);
          return { s: a.reduce((t, v, i) => t + v * b[i], 0), same: p.same, fold: p.fold };
        }),
        list.folds,
      );
    const raw = score(descriptor), learned = score(whiten);
    console.log(
      `${list.pairs.length} held-out pairs: raw pixels ${(raw * 100).toFixed(1)}%, learned linear ${
        (learned * 100).toFixed(1)
      }%`,
    );
    // Measured: raw 54.9%, learned 88.1% (80 training identities × 8 images, 12 px faces, seed 11).
    assert(learned > 0.75 && learned > raw + 0.1, `learned ${learned} vs raw ${raw}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
