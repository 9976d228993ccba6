// p2sgrad evaluate end to end, in-process, on small embeddings streams and protocol files
// the test writes: LFW pairs, IJB-C meta files, identification with distractors and noise.
import { assertAlmostEquals, assertEquals, assertStringIncludes } from "@std/assert";
import { main } from "../main.ts";
import type { Io } from "../src/cli/io.ts";
import { RecordStreamWriter } from "../src/format/stream.ts";
import type { EmbeddingRecord } from "../src/format/records.ts";
import { hasGpu, randomArray } from "./helpers/compare.ts";

const gpuMissing = !(await hasGpu());
const dir = await Deno.makeTempDir({ prefix: "p2sgrad-eval-" });
const dec = new TextDecoder();

function normalise(v: Float32Array): Float32Array {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

async function writeStream(
  path: string,
  dim: number,
  records: EmbeddingRecord[],
  extra?: Record<string, string>,
) {
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  const w = new RecordStreamWriter(file.writable, { kind: "embeddings", dim, extra }, 7);
  for (const r of records) await w.write(r);
  await w.close();
}

async function evaluate(args: string[], stdinFile?: string) {
  const out: Uint8Array[] = [], err: Uint8Array[] = [];
  const sink = (into: Uint8Array[]) =>
    new WritableStream<Uint8Array>({ write: (c) => void into.push(c.slice()) });
  const io: Io = {
    stdin: stdinFile
      ? (await Deno.open(stdinFile)).readable
      : new ReadableStream({ start: (c) => c.close() }),
    stdout: sink(out),
    stderr: sink(err),
    stderrIsTerminal: false,
  };
  const code = await main(["evaluate", ...args], io);
  const text = (parts: Uint8Array[]) => parts.map((p) => dec.decode(p)).join("");
  return { code, stdout: text(out), stderr: text(err) };
}

// ------------------------------------------------------------------ LFW

// 10 folds × (2 same + 2 different) pairs over 8 people; a person's images share one
// direction, people are orthogonal: same pairs sit at distance 0, different ones at 2.
const people = ["Ann_A", "Bob_B", "Cid_C", "Dee_D", "Eve_E", "Fay_F", "Gus_G", "Hal_H"];
const D = 8;
const lfwRecords: EmbeddingRecord[] = people.flatMap((name, k) =>
  [1, 2].map((n) => ({
    id: `${name}/${name}_000${n}.jpg`,
    identity: name,
    label: k,
    embedding: Float32Array.from({ length: D }, (_, d) => (d === k ? 1 : 0)),
    norm: 3,
  }))
);
const pairLines = ["10\t2"];
for (let f = 0; f < 10; f++) {
  for (let s = 0; s < 2; s++) pairLines.push(`${people[(f + s) % 8]}\t1\t2`);
  for (let s = 0; s < 2; s++) {
    pairLines.push(`${people[(f + s) % 8]}\t1\t${people[(f + s + 3) % 8]}\t2`);
  }
}
const pairsFile = `${dir}/pairs.txt`;
await Deno.writeTextFile(pairsFile, pairLines.join("\n") + "\n");
const lfwStream = `${dir}/lfw.arrow`;
await writeStream(lfwStream, D, lfwRecords, { flip: "sum" });

Deno.test("evaluate lfw: separable pairs give 100 %, thresholds 0.01, the flip convention, a plot", async () => {
  const svg = `${dir}/roc.svg`;
  const r = await evaluate(
    ["--protocol", "lfw", "--pairs", pairsFile, "--plot", svg, "--table"],
    lfwStream,
  );
  assertEquals(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assertEquals(j.protocol, "lfw");
  assertEquals(j.accuracy.folds, Array(10).fill(1));
  assertEquals(j.accuracy.thresholds, Array(10).fill(0.01)); // first threshold with 0 < t
  assertEquals([j.accuracy.mean, j.accuracy.std], [1, 0]);
  assertEquals([j.roc.auc, j.roc.eer], [1, 0]);
  assertEquals(j.roc.tar_at_far["1e-3"].tar, 1);
  assertEquals(j.counts, { pairs: 40, same: 20, different: 20, missing_pairs: 0, embeddings: 16 });
  assertEquals(j.conventions.flip, "sum");
  assertStringIncludes(r.stderr, "100.00 ± 0.00");
  assertStringIncludes(await Deno.readTextFile(svg), "<polyline");
});

Deno.test("evaluate lfw: missing images fail with examples, or are counted with --allow-missing", async () => {
  const partial = `${dir}/lfw_partial.arrow`;
  await writeStream(partial, D, lfwRecords.filter((r) => r.id !== "Ann_A/Ann_A_0002.jpg"));
  const r = await evaluate(["--protocol", "lfw", "--pairs", pairsFile, partial]);
  assertEquals(r.code, 1);
  assertStringIncludes(
    r.stderr,
    "1 pair image(s) missing from the stream, e.g. Ann_A/Ann_A_0002.jpg",
  );
  assertStringIncludes(r.stderr, "--allow-missing");
  const ok = await evaluate([
    "--protocol",
    "lfw",
    "--pairs",
    pairsFile,
    "--allow-missing",
    partial,
  ]);
  assertEquals(ok.code, 0, ok.stderr);
  const j = JSON.parse(ok.stdout);
  // Ann_A/…0002 is in 3 same pairs (f + s ∈ {0, 8}: f = 0, 7, 8) and 2 different pairs as
  // the partner ((f + s + 3) mod 8 = 0: f + s = 5, f = 4, 5).
  assertEquals(j.counts.missing_pairs, 5);
  assertEquals(j.missing_examples, ["Ann_A/Ann_A_0002.jpg"]);
});

Deno.test("evaluate lfw --compare: a list with names, one PNG with both curves", async () => {
  // Second model: every same pair pushed to distance ≈ 1.0 by mixing in the next person,
  // still separable (different pairs stay at ≥ 1.0…2.0): accuracy stays 1, thresholds move.
  const blurred = `${dir}/lfw_blurred.arrow`;
  await writeStream(
    blurred,
    D,
    lfwRecords.map((r) => {
      if (r.id.endsWith("0001.jpg")) return r;
      const k = people.indexOf(r.identity);
      const e = new Float32Array(D);
      e[k] = Math.cos(0.5);
      e[(k + 1) % D] = Math.sin(0.5);
      return { ...r, embedding: e };
    }),
  );
  const png = `${dir}/compare.png`;
  const r = await evaluate([
    "--protocol",
    "lfw",
    "--pairs",
    pairsFile,
    "--compare",
    "--name",
    "sharp,blurred",
    "--plot",
    png,
    lfwStream,
    blurred,
  ]);
  assertEquals(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assertEquals(j.map((x: { name: string }) => x.name), ["sharp", "blurred"]);
  // Same-pair distance 2 − 2cos(0.5) = 0.2448…: the first separating threshold is 0.25.
  assertEquals(j[1].accuracy.thresholds, Array(10).fill(0.25));
  const bytes = await Deno.readFile(png);
  assertEquals(Array.from(bytes.subarray(1, 4)), [80, 78, 71]); // "PNG"
});

Deno.test("evaluate: usage errors exit 2 with the usage text", async () => {
  const r = await evaluate(["--pairs", pairsFile]);
  assertEquals(r.code, 2);
  assertStringIncludes(r.stderr, "--protocol is required");
  assertEquals(
    (await evaluate(["--protocol", "lfw", "--plot", "x.pdf", "--pairs", pairsFile])).code,
    2,
  );
});

// ------------------------------------------------------------------ IJB-C

Deno.test("evaluate ijbc: templates pooled per media with face scores, TAR read at the nearest FAR", async () => {
  const meta = `${dir}/ijb/meta`;
  await Deno.mkdir(meta, { recursive: true });
  // 2-d features. Template 1: media 10 {(1,0) ×2}, media 11 {(0,1)}: pooled (1,1)/√2 when
  // scores are 1. Template 2: (1,0). Template 3: (0,1) with a face score of 0.5 (cosine
  // unchanged). Template 4: (-1, 0).
  const images = [
    ["a.jpg", 1, 10, [1, 0]],
    ["b.jpg", 1, 10, [1, 0]],
    ["c.jpg", 1, 11, [0, 1]],
    ["d.jpg", 2, 20, [1, 0]],
    ["e.jpg", 3, 30, [0, 1]],
    ["f.jpg", 4, 40, [-1, 0]],
  ] as const;
  await Deno.writeTextFile(
    `${meta}/ijbx_face_tid_mid.txt`,
    images.map(([n, t, m]) => `${n} ${t} ${m}`).join("\n") + "\n",
  );
  await Deno.writeTextFile(
    `${meta}/ijbx_name_5pts_score.txt`,
    images.map(([n], i) => `${n} 1 2 3 4 5 6 7 8 9 10 ${i === 4 ? 0.5 : 1}`).join("\n") + "\n",
  );
  // Pairs: (1,2) genuine cos .7071; (1,3) genuine .7071; (2,3) impostor 0; (2,4) impostor −1; (3,4) impostor 0.
  await Deno.writeTextFile(
    `${meta}/ijbx_template_pair_label.txt`,
    "1 2 1\n1 3 1\n2 3 0\n2 4 0\n3 4 0\n",
  );
  const stream = `${dir}/ijb.arrow`;
  await writeStream(
    stream,
    2,
    images.map(([id, , , f]) => ({
      id: `loose_crop/${id}`,
      identity: "?",
      label: -1,
      embedding: normalise(Float32Array.from(f)),
      norm: 2,
    })),
  );
  const r = await evaluate(["--protocol", "ijbc", "--meta", `${dir}/ijb`, stream, "--table"]);
  assertEquals(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assertEquals(j.set, "ijbx");
  assertEquals(j.counts, {
    images: 6,
    missing_images: 0,
    templates: 4,
    pairs: 5,
    genuine: 2,
    impostor: 3,
  });
  // Genuine scores beat every impostor: AUC 1; at FAR 1e-1 the nearest point is FPR 0, TPR 1.
  assertEquals(j.roc.auc, 1);
  assertEquals(j.roc.tar_at_far["1e-1"], {
    tar: 1,
    far: 0,
    threshold: j.roc.tar_at_far["1e-1"].threshold,
  });
  assertAlmostEquals(j.roc.tar_at_far["1e-1"].threshold, Math.SQRT1_2, 1e-6);
  assertEquals(j.conventions.face_scores, true);
  assertStringIncludes(r.stderr, "100.00");
});

// ------------------------------------------------------------------ identification

/** Plain-loop rank-1 with the first n distractors: genuine strictly above every distractor. */
function bruteRank1(probes: EmbeddingRecord[], distractors: EmbeddingRecord[], n: number): number {
  const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + v * b[i], 0);
  let hits = 0, trials = 0;
  for (const p of probes) {
    for (const g of probes) {
      if (g.identity !== p.identity || g.id === p.id) continue;
      trials++;
      const s = dot(p.embedding, g.embedding);
      if (distractors.slice(0, n).every((d) => dot(p.embedding, d.embedding) < s)) hits++;
    }
  }
  return hits / trials;
}

Deno.test({
  name:
    "evaluate identification: rank-1 at 10, 100, all distractors matches a brute-force count; noise lists apply",
  ignore: gpuMissing,
  async fn() {
    const dim = 12, ids = 4, per = 3;
    const probes: EmbeddingRecord[] = [];
    for (let k = 0; k < ids; k++) {
      const centre = randomArray(dim, 100 + k);
      for (let n = 0; n < per; n++) {
        const noise = randomArray(dim, 200 + k * per + n);
        probes.push({
          id: `facescrub/P${k}/P${k}_${n}.png`,
          identity: `P${k}`,
          label: k,
          embedding: normalise(centre.map((c, d) => c + 0.8 * noise[d])),
          norm: 1,
        });
      }
    }
    const distractors: EmbeddingRecord[] = Array.from({ length: 157 }, (_, i) => ({
      id: `megaface/${i % 10}/u${i}@N00/${i}_0.jpg`,
      identity: "",
      label: -1,
      embedding: normalise(randomArray(dim, 1000 + i)),
      norm: 1,
    }));
    // Distractor 3 duplicates a probe: it beats that probe's genuine matches until the
    // MegaFace noise list removes it.
    distractors[3] = { ...distractors[3], embedding: probes[0].embedding };
    const probeFile = `${dir}/probes.arrow`, distFile = `${dir}/distractors.arrow`;
    await writeStream(probeFile, dim, probes);
    await writeStream(distFile, dim, distractors);
    const r = await evaluate([
      "--protocol",
      "identification",
      probeFile,
      "--distractors",
      distFile,
      "--topk",
      "10",
      "--tile",
      "64",
      "--table",
      "--plot",
      `${dir}/cmc.svg`,
    ]);
    assertEquals(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assertEquals(j.checkpoints.map((c: { distractors: number }) => c.distractors), [10, 100, 157]);
    assertEquals(j.counts.trials, ids * per * (per - 1));
    for (const c of j.checkpoints) {
      assertEquals(
        c.rank1,
        bruteRank1(probes, distractors, c.distractors),
        `rank-1 at ${c.distractors}`,
      );
    }
    assertEquals(j.checkpoints[0].rank1 < 1, true); // the duplicate hurts
    assertEquals(j.cmc_curve.rank.length, 10);
    assertStringIncludes(r.stderr, "rank-1 %");

    const noiseFile = `${dir}/megaface_noises.txt`;
    await Deno.writeTextFile(
      noiseFile,
      `#rules\n${distractors[3].id.split("/").slice(-3).join("/")}\n`,
    );
    const clean = await evaluate([
      "--protocol",
      "identification",
      probeFile,
      "--distractors",
      distFile,
      "--megaface-noise",
      noiseFile,
      "--topk",
      "10",
    ]);
    const jc = JSON.parse(clean.stdout);
    assertEquals(jc.counts.distractor_noise_removed, 1);
    const kept = distractors.filter((_, i) => i !== 3);
    assertEquals(jc.checkpoints.at(-1).distractors, 156);
    for (const c of jc.checkpoints) assertEquals(c.rank1, bruteRank1(probes, kept, c.distractors));

    // FaceScrub noise: P1_2 becomes its identity's centre; a gallery list splits the probes.
    const fsNoise = `${dir}/facescrub_noises.txt`, galleryList = `${dir}/gallery.txt`;
    await Deno.writeTextFile(fsNoise, "#rules\nP1_2.png\n");
    await Deno.writeTextFile(
      galleryList,
      probes.filter((p) => p.id.endsWith("_0.png")).map((p) => p.id).join("\n") + "\n",
    );
    const split = await evaluate([
      "--protocol",
      "identification",
      probeFile,
      "--distractors",
      distFile,
      "--facescrub-noise",
      fsNoise,
      "--gallery-list",
      galleryList,
      "--topk",
      "10",
    ]);
    assertEquals(split.code, 0, split.stderr);
    const js = JSON.parse(split.stdout);
    assertStringIncludes(js.conventions.facescrub_noise, "1 probe/gallery features replaced");
    assertEquals([js.counts.probes, js.counts.gallery, js.counts.trials], [
      ids * (per - 1),
      ids,
      ids * (per - 1),
    ]);
  },
});

Deno.test("cleanup", async () => {
  await Deno.remove(dir, { recursive: true });
});
