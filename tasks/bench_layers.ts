// Layer benchmark: effective GB/s of the memory-bound layers (batchnorm, PReLU, ReLU, add,
// the SGD and AdamW steps) on face-backbone activation shapes at batch 64, and GFLOP/s plus milliseconds of one
// head step (forward + backward, batch 64, D 512) at K = 295, 10,000 and 93,431 classes.
// Prints a table; `benchLayers()` returns the figures.
//
//   deno run --allow-read --allow-env tasks/bench_layers.ts [--reps N] [--skip-head]
// Effective bandwidth counts each tensor read once and written once (the minimum traffic):
// batchnorm forward reads x three times (mean, variance, apply) but the channel's second and
// third reads come from cache. Each figure is the best of 3 runs of at least `reps` replays
// (more for fast kernels, ~300 ms a run) in one submit and one await; other work on the
// machine makes them noisy.
import { parseArgs } from "@std/cli/parse-args";
import { type Dispatch, getGpu, type Gpu, type Tensor } from "../src/gpu/device.ts";
import { batchnormBackward, batchnormForward } from "../src/gpu/ops/batchnorm.ts";
import { preluBackward, preluForward } from "../src/gpu/ops/prelu.ts";
import { reluForward } from "../src/gpu/ops/relu.ts";
import { addAccumulate } from "../src/gpu/ops/add.ts";
import { buildHead, initHeadWeights } from "../src/gpu/ops/head.ts";
import { buildOptimizer } from "../src/train/optimizer.ts";
import { resolveHead } from "../src/train/heads.ts";

export interface LayerFigure {
  name: string;
  shape: string;
  /** Milliseconds per replay (best of 3). */
  ms: number;
  /** Effective GB/s (memory-bound layers) or GFLOP/s (head), by `unit`. */
  rate: number;
  unit: "GB/s" | "GFLOP/s";
}

/** Best of 3 runs of `reps` replays (at least enough for ~300 ms, so the ~11 ms await is amortised). */
async function time(gpu: Gpu, list: Dispatch[], minReps: number): Promise<number> {
  let t0 = performance.now();
  gpu.run(list); // warm-up: pipelines compiled, buffers touched
  await gpu.sync();
  t0 = performance.now();
  gpu.run(list);
  await gpu.sync();
  const once = performance.now() - t0;
  const reps = Math.max(minReps, Math.min(200, Math.ceil(300 / Math.max(once, 0.01))));
  let best = Infinity;
  for (let r = 0; r < 3; r++) {
    const t0 = performance.now();
    gpu.run(Array.from({ length: reps }, () => list).flat());
    await gpu.sync();
    best = Math.min(best, (performance.now() - t0) / reps);
  }
  return best;
}

function filled(gpu: Gpu, n: number, label: string, value = 0.5): Tensor {
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = value * Math.sin(i * 0.37);
  return gpu.tensor([n], label, data);
}

/** [N, C, HW] activation shapes of a face backbone at batch 64 (64 px input, and 112 px's 7×7). */
const SHAPES = [
  { N: 64, C: 64, HW: 32 * 32 },
  { N: 64, C: 128, HW: 16 * 16 },
  { N: 64, C: 256, HW: 8 * 8 },
  { N: 64, C: 512, HW: 7 * 7 },
  { N: 64, C: 512, HW: 1 },
];

async function memoryBound(gpu: Gpu, reps: number): Promise<LayerFigure[]> {
  const out: LayerFigure[] = [];
  for (const s of SHAPES) {
    const n = s.N * s.C * s.HW;
    const shape = `${s.N}×${s.C}×${s.HW}`;
    const x = filled(gpu, n, "x"),
      dy = filled(gpu, n, "dy", 0.1),
      y = gpu.tensor([n], "y"),
      dx = gpu.tensor([n], "dx");
    const c = (v = 0) => gpu.tensor([s.C], "c", new Float32Array(s.C).fill(v));
    const bn = {
      x,
      y,
      gamma: c(1),
      beta: c(),
      mean: c(),
      invstd: c(),
      runningMean: c(),
      runningVar: c(1),
    };
    const rate = (bytesPerElement: number, ms: number) => (n * bytesPerElement) / ms / 1e6;
    const add = async (name: string, list: Dispatch[], bytes: number) => {
      const ms = await time(gpu, list, reps);
      out.push({ name, shape, ms, rate: rate(bytes, ms), unit: "GB/s" });
    };
    await add("batchnorm forward (train)", await batchnormForward(gpu, bn, s), 8);
    await add(
      "batchnorm backward",
      await batchnormBackward(gpu, {
        dy,
        x,
        gamma: bn.gamma,
        mean: bn.mean,
        invstd: bn.invstd,
        dx,
        dgamma: c(),
        dbeta: c(),
      }, s),
      12,
    );
    await add("prelu forward", await preluForward(gpu, { x, slope: c(0.25), y }, s), 8);
    await add(
      "prelu backward",
      await preluBackward(gpu, { dy, x, slope: c(0.25), dx, dslope: c() }, s),
      12,
    );
    if (s.HW > 1) {
      await add("relu forward", await reluForward(gpu, { x, y }), 8);
      await add("add (accumulate)", await addAccumulate(gpu, { x: dy, y: dx }), 12);
    }
    for (const t of [x, dy, y, dx]) t.buffer.destroy();
  }
  const n = 4 * 1024 * 1024;
  const param = filled(gpu, n, "p"), grad = filled(gpu, n, "g", 0.01);
  // Norm pass reads g; SGD's update reads g, p, v and writes p, v (6 floats per element);
  // AdamW's reads g, p, m, v and writes p, m, v (8).
  for (const [kind, floats] of [["sgd", 6], ["adamw", 8]] as const) {
    const opt = await buildOptimizer(gpu, [{ name: "arena", param, grad, decay: true }], {
      kind,
      momentum: 0.9,
      weightDecay: 5e-4,
      clipNorm: 5,
    });
    opt.setStep(0, 0.1);
    const ms = await time(gpu, opt.dispatches, reps);
    out.push({
      name: `${kind} step (norm, clip, update)`,
      shape: `${n} params`,
      ms,
      rate: (n * floats * 4) / ms / 1e6,
      unit: "GB/s",
    });
    for (const t of opt.state) t.buffer.destroy();
  }
  return out;
}

async function heads(gpu: Gpu): Promise<LayerFigure[]> {
  const out: LayerFigure[] = [];
  const N = 64, D = 512;
  for (const K of [295, 10000, 93431]) {
    for (const name of ["p2sgrad", "arcface"]) {
      const features = filled(gpu, N * D, "features"), dFeatures = gpu.tensor([N, D], "dFeatures");
      const labels = gpu.tensor(
        [N],
        "labels",
        Uint32Array.from({ length: N }, (_, i) => (i * 7919) % K),
      );
      const head = await buildHead(gpu, resolveHead(name), { features, labels, dFeatures }, {
        N,
        D,
        K,
      });
      head.writeWeights(initHeadWeights(K, D, 1));
      const ms = await time(gpu, [...head.forward, ...head.backward], 1);
      const flops = 3 * 2 * N * K * D; // cos = X̂Wᵀ, g·W, gᵀX̂
      out.push({
        name: `${name} head step (fwd+bwd)`,
        shape: `N${N} D${D} K${K} (${head.shards.length} shard${
          head.shards.length > 1 ? "s" : ""
        })`,
        ms,
        rate: flops / ms / 1e6,
        unit: "GFLOP/s",
      });
      for (const sh of head.shards) {
        for (const t of [sh.weight, sh.grad, sh.cos, sh.g]) t.buffer.destroy();
      }
    }
  }
  return out;
}

export async function benchLayers(
  opts: { reps?: number; skipHead?: boolean } = {},
): Promise<LayerFigure[]> {
  const gpu = await getGpu();
  const figures = await memoryBound(gpu, opts.reps ?? 3);
  if (!opts.skipHead) figures.push(...await heads(gpu));
  return figures;
}

if (import.meta.main) {
  const args = parseArgs(Deno.args, { string: ["reps"], boolean: ["skip-head"] });
  const gpu = await getGpu();
  console.log(`adapter: ${gpu.adapterName}`);
  const figures = await benchLayers({
    reps: args.reps ? Number(args.reps) : undefined,
    skipHead: args["skip-head"],
  });
  console.log(
    `${"kernel".padEnd(32)} ${"shape".padEnd(30)} ${"ms".padStart(9)} ${"rate".padStart(14)}`,
  );
  for (const f of figures) {
    console.log(
      `${f.name.padEnd(32)} ${f.shape.padEnd(30)} ${f.ms.toFixed(2).padStart(9)} ${
        (f.rate.toFixed(1) + " " + f.unit).padStart(14)
      }`,
    );
  }
}
