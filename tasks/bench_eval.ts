// Evaluation benchmark: LFW 10-fold on 6,000 pairs, IJB-C-sized template scoring (15.6
// million pairs), and MegaFace-style identification of 3,530 probes against synthetic
// 512-d distractors on the WebGPU adapter. Prints a table; `benchEval()` returns the figures.
//
//   deno run --allow-read --allow-env tasks/bench_eval.ts [--distractors N] [--pairs N]
// Timings exclude making the synthetic data. Other work on the machine makes them noisy.
import { parseArgs } from "@std/cli/parse-args";
import { getGpu } from "../src/gpu/device.ts";
import { DistractorTopK } from "../src/gpu/ops/topk.ts";
import { evaluateLfw } from "../src/eval/lfw.ts";
import { identify } from "../src/eval/megaface.ts";
import { rocAuc, rocCurve, tarAtFar } from "../src/eval/roc.ts";
import { scoreTemplatePairs, templateFeatures } from "../src/eval/templates.ts";

export interface BenchFigure {
  name: string;
  seconds: number;
  /** What was measured, and how a target figure follows from it. */
  note: string;
}

/** xorshift32 uniform in [−1, 1): cheap synthetic features. */
function fill(out: Float32Array, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  for (let i = 0; i < out.length; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = s / 2147483648 - 1;
  }
  return out;
}

function normaliseRows(a: Float32Array, dim: number): Float32Array {
  for (let r = 0; r < a.length / dim; r++) {
    let n = 0;
    for (let d = 0; d < dim; d++) n += a[r * dim + d] ** 2;
    n = Math.sqrt(n);
    for (let d = 0; d < dim; d++) a[r * dim + d] /= n;
  }
  return a;
}

function benchLfw(): BenchFigure {
  const dim = 512, people = 6000;
  // 12,000 images: image 2k and 2k+1 form pair k; pairs alternate 300 same / 300 different.
  const feats = normaliseRows(fill(new Float32Array(2 * people * dim), 7), dim);
  const ids = Array.from(
    { length: 2 * people },
    (_, i) => `P${i >> 1}/P${i >> 1}_000${(i & 1) + 1}.jpg`,
  );
  const pairs = Array.from(
    { length: people },
    (_, k) => ({
      a: ids[2 * k],
      b: ids[2 * k + 1],
      same: (k % 600) < 300,
      fold: Math.floor(k / 600),
    }),
  );
  for (let k = 0; k < people; k++) {
    if (!pairs[k].same) continue;
    for (let d = 0; d < dim; d++) feats[(2 * k + 1) * dim + d] += feats[2 * k * dim + d];
  }
  normaliseRows(feats, dim);
  const table = {
    ids,
    identities: ids.map((id) => id.split("/")[0]),
    feats,
    norms: new Float32Array(2 * people).fill(1),
    dim,
    meta: {},
  };
  evaluateLfw(table, pairs); // warm up the JIT once, as a long-running stage would be
  const t0 = performance.now();
  const { result } = evaluateLfw(table, pairs);
  const seconds = (performance.now() - t0) / 1000;
  return {
    name: "LFW 6,000 pairs, 512-d",
    seconds,
    note: `after the stream is read; accuracy ${result.accuracy.mean.toFixed(4)} (target < 0.2 s)`,
  };
}

function benchTemplates(pairs: number): BenchFigure[] {
  const dim = 512, templates = 23_124, images = 46_248;
  const feats = new Float64Array(fill(new Float32Array(images * dim), 3));
  const tids = Int32Array.from({ length: images }, (_, i) => i % templates);
  const mids = Int32Array.from({ length: images }, (_, i) => i % 3);
  const t0 = performance.now();
  const tf = templateFeatures(feats, dim, tids, mids);
  const pool = (performance.now() - t0) / 1000;
  const t1 = new Int32Array(pairs), t2 = new Int32Array(pairs), label = new Uint8Array(pairs);
  const r = fill(new Float32Array(2 * pairs), 5);
  for (let i = 0; i < pairs; i++) {
    t1[i] = Math.min(templates - 1, Math.floor((r[2 * i] + 1) / 2 * templates));
    t2[i] = Math.min(templates - 1, Math.floor((r[2 * i + 1] + 1) / 2 * templates));
    label[i] = i % 150 === 0 ? 1 : 0;
  }
  const t2s = performance.now();
  const scores = scoreTemplatePairs(tf, t1, t2);
  const score = (performance.now() - t2s) / 1000;
  const t3 = performance.now();
  const roc = rocCurve(scores, label);
  const auc = rocAuc(roc);
  for (const far of [1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1]) tarAtFar(roc, far);
  const rocS = (performance.now() - t3) / 1000;
  return [
    {
      name: `IJB-C pooling: ${images} images → ${templates} templates`,
      seconds: pool,
      note: "mean per media, sum, normalise",
    },
    {
      name: `IJB-C ${pairs.toLocaleString("en")} template pairs scored`,
      seconds: score,
      note: "cosine, float64, chunks of 100,000",
    },
    {
      name: "IJB-C ROC + AUC + TAR@FAR",
      seconds: rocS,
      note: `over the same pairs (AUC ${auc.toFixed(3)}); scoring + ROC target < 60 s`,
    },
  ];
}

async function benchIdentification(distractors: number): Promise<BenchFigure[]> {
  const gpu = await getGpu();
  const dim = 512, P = 3530, ids = 80;
  // Probes cluster around 80 identity centres, so rank-1 is neither 0 nor 1.
  const centres = fill(new Float32Array(ids * dim), 10);
  const probeFeats = fill(new Float32Array(P * dim), 11);
  for (let i = 0; i < P; i++) {
    for (let d = 0; d < dim; d++) {
      probeFeats[i * dim + d] = 0.12 * probeFeats[i * dim + d] +
        centres[(i % ids) * dim + d] * 0.05;
    }
  }
  normaliseRows(probeFeats, dim);
  const probes = {
    ids: Array.from({ length: P }, (_, i) => `fs/${i}.png`),
    identities: Array.from({ length: P }, (_, i) => `id${i % ids}`),
    feats: probeFeats,
  };
  const batch = 4096;
  const batches = Math.ceil(distractors / batch);
  // Distractors are made ahead of time (one reused buffer per batch would alias the queue).
  const pool = Array.from(
    { length: Math.min(batches, 4) },
    (_, b) => normaliseRows(fill(new Float32Array(batch * dim), 100 + b), dim),
  );
  async function* stream() {
    for (let b = 0; b < batches; b++) {
      const n = Math.min(batch, distractors - b * batch);
      yield {
        ids: Array.from({ length: n }, (_, i) => `mf/${b}/${i}.jpg`),
        feats: pool[b % pool.length].subarray(0, n * dim),
      };
    }
  }
  const t0 = performance.now();
  const result = await identify({
    probes,
    gallery: probes,
    dim,
    distractors: stream(),
    makeScorer: (feats, n) => DistractorTopK.create(gpu, feats, n, dim, { K: 32, tileRows: 4096 }),
  });
  const seconds = (performance.now() - t0) / 1000;
  const perMillion = seconds * 1e6 / distractors;
  const gflops = 2 * P * dim * distractors / seconds / 1e9;
  return [{
    name: `identification ${P} probes × ${distractors.toLocaleString("en")} distractors`,
    seconds,
    note: `${gpu.adapterName}; ${gflops.toFixed(1)} GFLOP/s incl. top-32 merge; ` +
      (distractors >= 1e6 ? "full run" : `extrapolated to 1,000,000: ${perMillion.toFixed(0)} s`) +
      `; rank-1 ${result.checkpoints.at(-1)?.rank1.toFixed(3)} (target < 600 s)`,
  }];
}

export async function benchEval(
  opts: { distractors?: number; pairs?: number } = {},
): Promise<BenchFigure[]> {
  const figures = [benchLfw(), ...benchTemplates(opts.pairs ?? 15_658_608)];
  figures.push(...await benchIdentification(opts.distractors ?? 16_384));
  return figures;
}

if (import.meta.main) {
  const args = parseArgs(Deno.args, { string: ["distractors", "pairs"] });
  const figures = await benchEval({
    distractors: args.distractors ? Number(args.distractors) : undefined,
    pairs: args.pairs ? Number(args.pairs) : undefined,
  });
  const w = Math.max(...figures.map((f) => f.name.length));
  console.log(`${"measurement".padEnd(w)}  ${"seconds".padStart(8)}  note`);
  for (const f of figures) {
    console.log(`${f.name.padEnd(w)}  ${f.seconds.toFixed(3).padStart(8)}  ${f.note}`);
  }
}
