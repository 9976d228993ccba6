// GFLOP/s of the GEMM and convolution kernels on representative shapes: square and
// tall-skinny matmuls, the layers of a small 64×64 face backbone at batch 64, iresnet
// layers at 112×112 and mobilefacenet's depthwise 3×3. Each measurement replays the op's
// dispatches many times in one submit with one await (the ~11 ms queue round trip must not
// count), repeats that, and reports the best and the median: other processes share the CPU
// that llvmpipe runs on, so single timings are noisy. It also reports the process's CPU
// time per call divided by the number of llvmpipe threads (one per core): an estimate of the
// time on an otherwise idle machine, since time spent waiting for a core is not counted.
// And it measures each op's memory ceiling: how fast a streaming kernel moves the floats the
// op must at least read and write once, as many in and as many out, timed in the same rounds
// as the op — the bound for layers with little arithmetic per value.
//
//   deno run --allow-read --allow-env tasks/bench_kernels.ts [--quick] [--json] [--filter TEXT|TEXT…]
import process from "node:process";
import { type Dispatch, getGpu, type Gpu, type Tensor } from "../src/gpu/device.ts";
import { operandForm } from "../src/gpu/operands.ts";
import { matmul, type MatmulShape } from "../src/gpu/ops/matmul.ts";
import { conv2dBackwardInput, conv2dBackwardWeight, conv2dForward } from "../src/gpu/ops/conv2d.ts";
import { conv2dOutputSize, type Conv2dShape, conv2dSizes } from "../src/ref/conv2d.ts";
import { matmulSizes } from "../src/ref/matmul.ts";
import { buildNetwork, DEFAULT_BACKBONE } from "../src/model/backbones.ts";
import { streamSum } from "../src/gpu/ops/stream.ts";
import { streamShape } from "../src/ref/stream.ts";

export interface KernelFigure {
  /** Op and direction: matmul, conv2d.forward, conv2d.backwardInput, conv2d.backwardWeight. */
  kernel: string;
  /** Which layer or product, in words. */
  shape: string;
  /** Useful floating-point operations per call (2 per multiply-add; padding not counted). */
  gflop: number;
  /** Best and median time per call, milliseconds. */
  msBest: number;
  msMedian: number;
  /** GFLOP/s at the best and median time. */
  gflopsBest: number;
  gflopsMedian: number;
  /** Least CPU time per call over all threads, milliseconds, and GFLOP/s at that CPU time ÷ threads. */
  cpuMsBest: number;
  gflopsCpu: number;
  /** Dispatches per call (packing passes included). */
  dispatches: number;
  /**
   * The memory ceiling: milliseconds the streaming probe (kernels/stream_sum.wgsl) takes to
   * read as many floats as the op must at least read once (its operands, through the same
   * texture copies) and write as many as it must write (its result), best by wall and by
   * CPU time ÷ threads, and the GFLOP/s the op would reach in those times. Layers with little
   * arithmetic per value cannot do much better, whatever the blocking.
   */
  streamMs: number;
  streamCpuMs: number;
  gflopsStream: number;
  gflopsStreamCpu: number;
}

export interface BenchOptions {
  /** Fewer shapes and repeats (a smoke run). */
  quick?: boolean;
  /** Keep only cases whose kernel or shape contains this text (or one of `a|b|…`). */
  filter?: string;
  /** Called with each figure as it is measured. */
  onFigure?: (f: KernelFigure) => void;
}

interface Case {
  kernel: string;
  shape: string;
  flop: number;
  /** Floats the op must read at least once (its operands) and write (its result). */
  reads: number;
  writes: number;
  build: (gpu: Gpu) => Promise<{ dispatches: Dispatch[]; tensors: Tensor[] }>;
}

const conv = (
  N: number,
  Cin: number,
  H: number,
  Cout: number,
  k: number,
  stride: number,
  groups = 1,
): Conv2dShape => ({
  N,
  Cin,
  H,
  W: H,
  Cout,
  kh: k,
  kw: k,
  stride,
  pad: k === 1 ? 0 : (k - 1) / 2,
  groups,
});

/** Batch of the training-speed target (≥ 100 images/s at 64×64). */
const TARGET_BATCH = 64;

/** The convolutions of the default backbone at 64×64, batch 64, as the model builds them. */
function defaultBackboneConvs(): [string, Conv2dShape][] {
  const net = buildNetwork(DEFAULT_BACKBONE, { inputSize: 64, embeddingDim: 512 });
  const out: [string, Conv2dShape][] = [];
  for (const l of net.layers) {
    if (l.op !== "conv2d") continue;
    const s = l.s;
    out.push([
      `${DEFAULT_BACKBONE} ${l.module} ${s.kh}×${s.kw}${
        s.stride > 1 ? `/${s.stride}` : ""
      } ${s.Cin}→${s.Cout} @${s.H}`,
      { N: TARGET_BATCH, ...s },
    ]);
  }
  return out;
}

/** A small backbone shape list from the task brief (64×64 input, batch 64). */
const SMALL_BACKBONE: [string, Conv2dShape][] = [
  ["stem 3→32 /2 @64", conv(64, 3, 64, 32, 3, 2)],
  ["3×3 32→32 @32", conv(64, 32, 32, 32, 3, 1)],
  ["3×3 32→64 /2 @32", conv(64, 32, 32, 64, 3, 2)],
  ["1×1 32→64 /2 shortcut @32", conv(64, 32, 32, 64, 1, 2)],
  ["3×3 64→64 @16", conv(64, 64, 16, 64, 3, 1)],
  ["3×3 64→128 /2 @16", conv(64, 64, 16, 128, 3, 2)],
  ["3×3 128→128 @8", conv(64, 128, 8, 128, 3, 1)],
  ["3×3 128→256 /2 @8", conv(64, 128, 8, 256, 3, 2)],
  ["3×3 256→256 @4", conv(64, 256, 4, 256, 3, 1)],
];

const LARGE_LAYERS: [string, Conv2dShape][] = [
  ["iresnet 3×3 64→64 @56 (batch 8)", conv(8, 64, 56, 64, 3, 1)],
  ["iresnet 3×3 512→512 @7 (batch 8)", conv(8, 512, 7, 512, 3, 1)],
  ["mobilefacenet dw 3×3 64 @56 (batch 8)", conv(8, 64, 56, 64, 3, 1, 64)],
  ["mobilefacenet dw 3×3 128 /2 @56 (batch 8)", conv(8, 128, 56, 128, 3, 2, 128)],
  ["mobilefacenet 3×3 128 in 64 groups @56 (batch 8)", conv(8, 128, 56, 128, 3, 1, 64)],
  ["mobilefacenet 1×1 128→128 @28 (batch 8)", conv(8, 128, 28, 128, 1, 1)],
  ["mobilefacenet 1×1 256→256 @14 (batch 8)", conv(8, 256, 14, 256, 1, 1)],
  ["mobilefacenet dw 3×3 256 @14 (batch 8)", conv(8, 256, 14, 256, 3, 1, 256)],
];

const MATMULS: [string, MatmulShape][] = [
  ["512³", { M: 512, N: 512, K: 512 }],
  ["1024³", { M: 1024, N: 1024, K: 1024 }],
  ["64×512 · 512×2000 (tall-skinny)", { M: 64, N: 2000, K: 512 }],
  ["FC 64×512 · (2000×512)ᵀ", { M: 64, N: 2000, K: 512, transB: true }],
  ["head dW 10000×64ᵀ·64×512", { M: 10000, N: 512, K: 64, transA: true }],
  ["head dX 64×10000 · 10000×512", { M: 64, N: 512, K: 10000 }],
  ["resnet-lite fc 64×2048 · (512×2048)ᵀ", { M: 64, N: 512, K: 2048, transB: true }],
  ["resnet-lite fc dX 64×512 · 512×2048", { M: 64, N: 2048, K: 512 }],
  ["resnet-lite fc dW 512×64ᵀ · 64×2048", { M: 512, N: 2048, K: 64, transA: true }],
];

function cases(quick: boolean): Case[] {
  const out: Case[] = [];
  for (const [shape, s] of quick ? MATMULS.slice(0, 3) : MATMULS) {
    const z = matmulSizes(s);
    out.push({
      kernel: "matmul",
      shape: `${shape}${s.transA ? " Aᵀ" : ""}${s.transB ? " Bᵀ" : ""}`,
      flop: 2 * s.M * s.N * s.K * (s.batch ?? 1),
      reads: z.a + z.b,
      writes: z.c,
      build: async (gpu) => {
        const a = gpu.tensor([z.a], "a", random(z.a)), b = gpu.tensor([z.b], "b", random(z.b));
        const c = gpu.tensor([z.c], "c");
        return { dispatches: await matmul(gpu, { a, b, c }, s), tensors: [a, b, c] };
      },
    });
  }
  const layers = quick
    ? SMALL_BACKBONE.slice(1, 3)
    : [...defaultBackboneConvs(), ...SMALL_BACKBONE, ...LARGE_LAYERS];
  for (const [shape, s] of layers) {
    const { OH, OW } = conv2dOutputSize(s);
    const flop = 2 * s.N * OH * OW * s.Cout * (s.Cin / s.groups) * s.kh * s.kw;
    const z = conv2dSizes(s);
    const tensors = (gpu: Gpu) => ({
      x: gpu.tensor([z.x], "x", random(z.x)),
      w: gpu.tensor([z.w], "w", random(z.w)),
      y: gpu.tensor([z.y], "y", random(z.y)),
    });
    out.push({
      kernel: "conv2d.forward",
      shape,
      flop,
      reads: z.x + z.w,
      writes: z.y,
      build: async (gpu) => {
        const t = tensors(gpu);
        return { dispatches: await conv2dForward(gpu, t, s), tensors: Object.values(t) };
      },
    });
    out.push({
      kernel: "conv2d.backwardInput",
      shape,
      flop,
      reads: z.y + z.w,
      writes: z.x,
      build: async (gpu) => {
        const t = tensors(gpu);
        return {
          dispatches: await conv2dBackwardInput(gpu, { dy: t.y, w: t.w, dx: t.x }, s),
          tensors: Object.values(t),
        };
      },
    });
    out.push({
      kernel: "conv2d.backwardWeight",
      shape,
      flop,
      reads: z.x + z.y,
      writes: z.w,
      build: async (gpu) => {
        const t = tensors(gpu);
        return {
          dispatches: await conv2dBackwardWeight(gpu, { dy: t.y, x: t.x, dw: t.w }, s),
          tensors: Object.values(t),
        };
      },
    });
  }
  return out;
}

/** Measures every case; returns the figures (also passed to `onFigure` as they come). */
export async function benchKernels(opts: BenchOptions = {}): Promise<KernelFigure[]> {
  const gpu = await getGpu();
  const figures: KernelFigure[] = [];
  const any = opts.filter?.toLowerCase().split("|").filter(Boolean);
  for (const c of cases(!!opts.quick)) {
    const name = `${c.kernel} ${c.shape}`.toLowerCase();
    if (any && !any.some((f) => name.includes(f))) continue;
    const { dispatches, tensors } = await c.build(gpu);
    const probe = await streamProbe(gpu, c.reads, c.writes);
    // About 0.3 s of work per submit, at least 2 calls, sized by timing (which also warms
    // up): llvmpipe's rate differs up to 16× between hosts (README, the host section), so no
    // FLOP rate is assumed. The op and its memory probe alternate round by round: this host's
    // speed drifts within minutes, and their ratio is what the summary reads.
    const reps = await repsFor(gpu, dispatches, 300, 2, 1000);
    const probeReps = await repsFor(gpu, probe.dispatches, 150, 2, 1000);
    const op = new Timing(), stream = new Timing();
    for (let r = 0; r < (opts.quick ? 3 : 7); r++) {
      await op.measure(gpu, dispatches, reps);
      await stream.measure(gpu, probe.dispatches, probeReps);
    }
    for (const t of probe.tensors) t.buffer.destroy();
    const best = op.best, median = op.median();
    const f: KernelFigure = {
      kernel: c.kernel,
      shape: c.shape,
      gflop: c.flop / 1e9,
      msBest: best,
      msMedian: median,
      gflopsBest: c.flop / best / 1e6,
      gflopsMedian: c.flop / median / 1e6,
      cpuMsBest: op.cpuBest,
      gflopsCpu: c.flop / (op.cpuBest / THREADS) / 1e6,
      dispatches: dispatches.length,
      streamMs: stream.best,
      streamCpuMs: stream.cpuBest,
      gflopsStream: c.flop / stream.best / 1e6,
      gflopsStreamCpu: c.flop / (stream.cpuBest / THREADS) / 1e6,
    };
    figures.push(f);
    opts.onFigure?.(f);
    for (const t of tensors) t.buffer.destroy();
  }
  return figures;
}

/**
 * Calls of `dispatches` per submit that take about `ms` in all. Sized in two timed submits
 * (one call, which also warms up, then the count that one suggests), because a submit's
 * ~11 ms round trip would otherwise be counted as work of a small op.
 */
async function repsFor(
  gpu: Gpu,
  dispatches: Dispatch[],
  ms: number,
  min: number,
  max: number,
): Promise<number> {
  let reps = 1;
  for (let i = 0; i < 2; i++) {
    const perCall = await msPerCall(gpu, dispatches, reps);
    reps = Math.max(min, Math.min(max, Math.round(ms / Math.max(perCall, 1e-3))));
  }
  return reps;
}

/** Wall time per call of one submit holding `reps` calls of `dispatches`, to its completion. */
async function msPerCall(gpu: Gpu, dispatches: Dispatch[], reps: number): Promise<number> {
  const list = Array.from({ length: reps }, () => dispatches).flat();
  const t0 = performance.now();
  gpu.run(list);
  await gpu.sync();
  return (performance.now() - t0) / reps;
}

/** Best wall and CPU time per call over a series of timed submits. */
class Timing {
  best = Infinity;
  cpuBest = Infinity;
  private times: number[] = [];

  async measure(gpu: Gpu, dispatches: Dispatch[], reps: number): Promise<void> {
    const cpu0 = process.cpuUsage();
    const ms = await msPerCall(gpu, dispatches, reps);
    const cpu = process.cpuUsage(cpu0);
    this.times.push(ms);
    this.best = Math.min(this.best, ms);
    this.cpuBest = Math.min(this.cpuBest, (cpu.user + cpu.system) / 1000 / reps);
  }

  median(): number {
    const sorted = [...this.times].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)];
  }
}

/** The streaming probe that reads `reads` floats (through the operand copies) and writes `writes`. */
async function streamProbe(
  gpu: Gpu,
  reads: number,
  writes: number,
): Promise<{ dispatches: Dispatch[]; tensors: Tensor[] }> {
  const s = streamShape(reads, writes);
  const x = gpu.tensor([4 * s.lanes * s.reads], "stream.x", random(4 * s.lanes * s.reads));
  const y = gpu.tensor([4 * s.lanes * s.writes], "stream.y");
  return { dispatches: await streamSum(gpu, { x, y }, s), tensors: [x, y] };
}

export interface KernelSummary {
  /** Best matmul GFLOP/s, by wall time and by CPU time. */
  bestMatmul: { wall: number; cpu: number } | null;
  /** Convolution rows measured (a filtered run may have none). */
  convsMeasured: number;
  /**
   * Convolution rows under 60 % of the best matmul (CPU-time figures), with their ratio,
   * the memory ceiling's ratio to the matmul, and the share of the lower of the two reached
   * (all by CPU time).
   */
  slowConvs: {
    kernel: string;
    shape: string;
    ratio: number;
    ceilingRatio: number;
    ofCeiling: number;
  }[];
  /** The default backbone's convolutions per training step (batch 64): forward, input
   * gradient except the first layer's, weight gradient. */
  backboneStep: {
    wallMs: number;
    cpuMs: number;
    imagesPerSecondWall: number;
    imagesPerSecondCpu: number;
  } | null;
}

/** The target checks: conv vs best matmul, and the default backbone's conv time per step. */
export function summarize(figures: KernelFigure[]): KernelSummary {
  const mm = figures.filter((f) => f.kernel === "matmul");
  const bestMatmul = mm.length
    ? {
      wall: Math.max(...mm.map((f) => f.gflopsBest)),
      cpu: Math.max(...mm.map((f) => f.gflopsCpu)),
    }
    : null;
  const slowConvs = bestMatmul
    ? figures.filter((f) => f.kernel.startsWith("conv2d") && f.gflopsCpu < 0.6 * bestMatmul.cpu)
      .map((f) => ({
        kernel: f.kernel,
        shape: f.shape,
        ratio: f.gflopsCpu / bestMatmul.cpu,
        ceilingRatio: f.gflopsStreamCpu / bestMatmul.cpu,
        ofCeiling: f.gflopsCpu / Math.min(f.gflopsStreamCpu, bestMatmul.cpu),
      }))
    : [];
  // Its convolutions only: the matmul rows of its fc layer carry the backbone's name too.
  const backbone = figures.filter((f) =>
    f.kernel.startsWith("conv2d") && f.shape.startsWith(`${DEFAULT_BACKBONE} `)
  );
  // The first layer's input is the image: no gradient is asked of it.
  const first = backbone[0]?.shape;
  const used = backbone.filter((f) => !(f.shape === first && f.kernel === "conv2d.backwardInput"));
  const wallMs = used.reduce((a, f) => a + f.msBest, 0);
  const cpuMs = used.reduce((a, f) => a + f.cpuMsBest / THREADS, 0);
  // Only a run that measured every layer in all three directions adds up to a step.
  const backboneStep = backbone.length === 3 * defaultBackboneConvs().length
    ? {
      wallMs,
      cpuMs,
      imagesPerSecondWall: (TARGET_BATCH * 1000) / wallMs,
      imagesPerSecondCpu: (TARGET_BATCH * 1000) / cpuMs,
    }
    : null;
  const convsMeasured = figures.filter((f) => f.kernel.startsWith("conv2d")).length;
  return { bestMatmul, convsMeasured, slowConvs, backboneStep };
}

function summaryLines(s: KernelSummary): string[] {
  const out: string[] = [];
  if (s.bestMatmul) {
    out.push(
      `best matmul: ${s.bestMatmul.wall.toFixed(1)} GFLOP/s (wall), ${
        s.bestMatmul.cpu.toFixed(1)
      } (cpu)`,
    );
    out.push(
      s.convsMeasured === 0
        ? "no convolutions measured"
        : `convolutions under 60% of it (cpu): ${s.slowConvs.length} of ${s.convsMeasured}; ` +
          `columns: % of matmul, memory ceiling as % of matmul, % of min(ceiling, matmul) reached`,
    );
    const pct = (v: number) => `${(100 * v).toFixed(0).padStart(4)}%`;
    for (const c of s.slowConvs) {
      out.push(
        ` ${pct(c.ratio)} ${pct(c.ceilingRatio)} ${pct(c.ofCeiling)}  ${c.kernel} ${c.shape}`,
      );
    }
  }
  if (s.backboneStep) {
    const b = s.backboneStep;
    out.push(
      `${DEFAULT_BACKBONE} convolutions per step (batch ${TARGET_BATCH}): ${
        b.wallMs.toFixed(0)
      } ms wall ` +
        `(${b.imagesPerSecondWall.toFixed(0)} images/s), ${b.cpuMs.toFixed(0)} ms by CPU time ` +
        `(${b.imagesPerSecondCpu.toFixed(0)} images/s) — convolutions only`,
    );
  }
  return out;
}

/** llvmpipe runs one worker thread per core. */
const THREADS = navigator.hardwareConcurrency;

function random(n: number): Float32Array {
  const out = new Float32Array(n);
  let s = 12345;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    out[i] = s / 2 ** 32 - 0.5;
  }
  return out;
}

function row(f: KernelFigure): string {
  const num = (v: number, digits: number, width: number) => v.toFixed(digits).padStart(width);
  return [
    f.kernel.padEnd(22),
    f.shape.padEnd(42),
    num(f.gflop, 3, 8),
    num(f.msBest, 2, 9),
    num(f.gflopsBest, 1, 7),
    num(f.gflopsMedian, 1, 7),
    num(f.gflopsCpu, 1, 7),
    num(f.gflopsStreamCpu, 1, 7),
  ].join(" ");
}

if (import.meta.main) {
  const args = Deno.args;
  const json = args.includes("--json");
  const fi = args.indexOf("--filter");
  const filter = fi >= 0 ? args[fi + 1] : undefined;
  const gpu = await getGpu();
  if (!json) {
    console.log(`adapter: ${gpu.adapterName}; operands read as ${await operandForm(gpu)}`);
    console.log(
      `${"kernel".padEnd(22)} ${"shape".padEnd(42)} ${"GFLOP".padStart(8)} ${
        "best ms".padStart(9)
      } ` +
        `${"best".padStart(7)} ${"median".padStart(7)} ${"cpu".padStart(7)} ${
          "memory".padStart(7)
        }  (GFLOP/s; cpu: from CPU time ÷ ${THREADS} threads; ` +
        `memory: the op's floats streamed in and out, by CPU time)`,
    );
  }
  const figures = await benchKernels({
    quick: args.includes("--quick"),
    filter,
    onFigure: json ? undefined : (f) => console.log(row(f)),
  });
  const summary = summarize(figures);
  if (json) console.log(JSON.stringify({ adapter: gpu.adapterName, figures, summary }, null, 2));
  else {
    for (const line of summaryLines(summary)) console.log(line);
  }
}
