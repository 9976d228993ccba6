// Training throughput per backbone at batch 64: images/s of a whole step (input upload,
// backbone forward, cosine head forward/backward, backbone backward, SGD, one readback of
// the loss — what the trainer submits), and where the time goes: GPU time per kernel
// kind from timestamp queries (one timed pass per layer) and the share of the step spent
// outside kernels (JS, submission, uploads, readbacks, idle gaps).
//
//   deno run -A tasks/bench_train_step.ts [--backbones resnet-lite,mobilefacenet] [--steps N]
//     [--layers N (print the N slowest layers)] [--kernels N (the N costliest kernels, summed
//     over the step)] [--json]
import process from "node:process";
import {
  type Dispatch,
  encodeDispatches,
  Gpu,
  type KernelDispatch,
  Tensor,
} from "../src/gpu/device.ts";
import {
  buildModel,
  initParams,
  INSIGHTFACE_NORMALISATION,
  maxBatch,
  type Model,
  type ModelConfig,
} from "../src/model/mod.ts";
import { forwardMacs } from "../src/model/network.ts";
import { operandForm } from "../src/gpu/operands.ts";
import { buildHead, frameHeadWeights, initHeadWeights } from "../src/gpu/ops/head.ts";
import { HEADS, resolveHead } from "../src/train/heads.ts";
import { arenaGroups, buildOptimizer } from "../src/train/optimizer.ts";

export interface TrainStepFigures {
  backbone: string;
  inputSize: number;
  batch: number;
  /** Batch actually used when 64 does not fit the device's binding limit. */
  note?: string;
  steps: number;
  imagesPerSecond: number;
  stepMs: number;
  /** GPU time of a plain step's pass (timestamp queries around it), averaged over the timed steps. */
  kernelMs: number;
  /** (step wall time − its GPU time) / step wall time: JS, uploads, submission, readback. */
  outsideShare: number;
  /**
   * Kernel milliseconds per kind (conv2d, batchnorm, prelu, add, accumulate, linear, head,
   * sgd) from a separate step encoded as one timed pass per layer.
   */
  perKind: Record<string, number>;
  /** Achieved GFLOP/s counting 3 × forward multiply-adds × 2 per image (conv + linear only). */
  gflops: number;
  /**
   * CPU time this process (JS and llvmpipe's worker threads) spent per step, from
   * /proc/self/stat: unlike wall time it barely grows when other programs share the cores.
   */
  cpuMs: number;
  /** batch / (cpuMs / cores): the rate the step would reach with every core to itself (an estimate). */
  idleImagesPerSecond: number;
}

const CORES = navigator.hardwareConcurrency;

/** User + system CPU milliseconds of this process (Linux), NaN elsewhere. */
/** CPU time of this process, all threads, in ms (as bench_kernels.ts measures it). */
function processCpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

const PLAN: { backbone: string; inputSize: number; steps: number }[] = [
  { backbone: "resnet-lite", inputSize: 64, steps: 10 },
  { backbone: "mobilefacenet", inputSize: 112, steps: 2 },
  { backbone: "iresnet18", inputSize: 112, steps: 1 },
  { backbone: "iresnet34", inputSize: 112, steps: 1 },
  { backbone: "iresnet50", inputSize: 112, steps: 1 },
];

/** A device with timestamp queries (the process-wide one from getGpu() has no features). */
async function openTimedGpu(): Promise<{ gpu: Gpu; timestamps: boolean }> {
  const adapter = await navigator.gpu.requestAdapter({ powerPreference: "high-performance" });
  if (!adapter) throw new Error("no WebGPU adapter (see README: mesa-vulkan-drivers)");
  const timestamps = adapter.features.has("timestamp-query");
  const a = adapter.limits;
  const device = await adapter.requestDevice({
    requiredFeatures: timestamps ? ["timestamp-query"] : [],
    requiredLimits: {
      maxStorageBufferBindingSize: a.maxStorageBufferBindingSize,
      maxBufferSize: a.maxBufferSize,
      maxComputeWorkgroupStorageSize: a.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: a.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupSizeX: a.maxComputeWorkgroupSizeX,
      maxComputeWorkgroupSizeY: a.maxComputeWorkgroupSizeY,
      maxStorageBuffersPerShaderStage: a.maxStorageBuffersPerShaderStage,
    },
  });
  return { gpu: new Gpu(device, adapter.info.description || adapter.info.device), timestamps };
}

/** GPU milliseconds of each sub-list, each encoded as its own timed pass (0 for empty ones). */
async function timeKernels(gpu: Gpu, parts: { dispatches: Dispatch[] }[]): Promise<number[]> {
  const device = gpu.device;
  const used = parts.filter((p) => p.dispatches.length > 0);
  const count = used.length * 2;
  const querySet = device.createQuerySet({ type: "timestamp", count });
  const resolve = device.createBuffer({
    size: count * 8,
    usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
  });
  const staging = device.createBuffer({
    size: count * 8,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  const enc = device.createCommandEncoder();
  used.forEach((p, i) => {
    encodeDispatches(enc, p.dispatches, { querySet, begin: 2 * i, end: 2 * i + 1 });
  });
  enc.resolveQuerySet(querySet, 0, count, resolve, 0);
  enc.copyBufferToBuffer(resolve, 0, staging, 0, count * 8);
  device.queue.submit([enc.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const t = new BigUint64Array(staging.getMappedRange().slice(0));
  staging.unmap();
  [querySet, resolve, staging].forEach((b) => b.destroy());
  const ms = new Map(used.map((p, i) => [p, Number(t[2 * i + 1] - t[2 * i]) / 1e6]));
  return parts.map((p) => ms.get(p) ?? 0);
}

/** Timestamps at the start and end of one compute pass, read after the step. */
class PassTimer {
  readonly #set: GPUQuerySet;
  readonly #resolve: GPUBuffer;
  readonly #staging: GPUBuffer;
  constructor(readonly device: GPUDevice) {
    this.#set = device.createQuerySet({ type: "timestamp", count: 2 });
    this.#resolve = device.createBuffer({
      size: 16,
      usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
    });
    this.#staging = device.createBuffer({
      size: 16,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
  }
  get writes(): { querySet: GPUQuerySet; begin: number; end: number } {
    return { querySet: this.#set, begin: 0, end: 1 };
  }
  resolve(enc: GPUCommandEncoder): void {
    enc.resolveQuerySet(this.#set, 0, 2, this.#resolve, 0);
    enc.copyBufferToBuffer(this.#resolve, 0, this.#staging, 0, 16);
  }
  /** Milliseconds between the two timestamps. */
  async read(): Promise<number> {
    await this.#staging.mapAsync(GPUMapMode.READ);
    const t = new BigUint64Array(this.#staging.getMappedRange().slice(0));
    this.#staging.unmap();
    return Number(t[1] - t[0]) / 1e6;
  }
}

async function benchOne(
  showLayers: number,
  showKernels: number,
  gpu: Gpu,
  timestamps: boolean,
  plan: typeof PLAN[number],
  stepsOverride?: number,
): Promise<TrainStepFigures> {
  const config: ModelConfig = {
    backbone: plan.backbone,
    embedding_dim: 512,
    input_size: plan.inputSize,
    normalisation: INSIGHTFACE_NORMALISATION,
  };
  // Batch 64 where every activation fits one storage binding, else the largest that does
  // (iresnet at 112 px: 41 on llvmpipe's 128 MiB); halved again while a layer op's own
  // scratch buffer exceeds the limit.
  const limitMiB = (gpu.limits.maxStorageBufferBindingSize / 2 ** 20).toFixed(0);
  let batch = Math.min(64, maxBatch(gpu, config));
  let note = batch < 64
    ? `batch 64 needs activations over the ${limitMiB} MiB binding limit`
    : undefined;
  let model: Model | null = null;
  while (!model) {
    try {
      model = await buildModel(gpu, config, { batch, training: true, seed: 1 });
    } catch (err) {
      const msg = (err as Error).message;
      if (!/exceeds the device limit|binding limit/.test(msg) || batch <= 2) throw err;
      note = `at batch ${batch}: ${msg.split("\n")[0]}`;
      batch = Math.floor(batch / 2);
    }
  }

  model.loadState(initParams(model.net, 1));
  const S = plan.inputSize;
  const host = new Float32Array(model.input.size);
  for (let i = 0; i < host.length; i++) host[i] = Math.sin(i * 0.37) * 0.9;
  // A P2SGrad head over 1,000 classes and SGD as the trainer uses them by default (class
  // weights fixed or learned as HEADS says; 1,000 ≥ D rows, so no frame completion).
  const K = 1000, D = config.embedding_dim;
  const fixed = HEADS.p2sgrad.classWeights.value === "fixed";
  const labels = gpu.buffer(batch * 4, "labels");
  const head = await buildHead(
    gpu,
    resolveHead("p2sgrad"),
    {
      features: model.embedding,
      labels: new Tensor(labels, [batch]),
      dFeatures: model.dEmbedding!,
    },
    { N: batch, D, K, fixedWeights: fixed },
  );
  head.writeWeights((fixed ? frameHeadWeights : initHeadWeights)(K, D, 1));
  const sgd = await buildOptimizer(gpu, [
    ...arenaGroups("backbone", model.params, model.grads!),
    ...head.paramGroups(),
  ], {
    momentum: 0.9,
    weightDecay: 5e-4,
    clipNorm: null,
    loss: head.stats,
  });
  const labelValues = new Uint32Array(batch).map((_, i) => (i * 7919) % K);
  const list = [
    ...model.forward,
    ...head.forward,
    ...head.backward,
    ...model.backward,
    ...sgd.dispatches,
  ];
  let stepNo = 0;
  // Each plain step is one pass, as the trainer submits it; with timestamp queries the
  // pass is bracketed, so the GPU span of the very same step is known and the rest of its
  // wall time (JS, uploads, submission, the readback await) is the time outside kernels.
  const span = timestamps ? new PassTimer(gpu.device) : null;
  const once = async (): Promise<{ wallMs: number; spanMs: number }> => {
    const t0 = performance.now();
    gpu.write(model.input, host);
    gpu.write(labels, labelValues);
    sgd.setStep(stepNo++, 0.01);
    const enc = gpu.device.createCommandEncoder();
    encodeDispatches(enc, list, span?.writes);
    span?.resolve(enc);
    gpu.device.queue.submit([enc.finish()]);
    await head.readStats(); // the trainer reads the loss when it logs; here every step
    const wallMs = performance.now() - t0;
    return { wallMs, spanMs: span ? await span.read() : NaN };
  };
  // A warm-up step (first use of kernels and of freshly allocated memory costs extra), a
  // step with one timed pass per layer (the breakdown by kind), then the plain steps.
  // The big networks (one timed step) let the per-layer step be their warm-up.
  const steps = stepsOverride ?? plan.steps;
  if (steps > 1 || !timestamps) await once();
  let perKind: Record<string, number> = {};
  if (timestamps) {
    sgd.setStep(stepNo++, 0.01);
    const parts = [
      ...model.schedule.filter((e) => e.phase === "forward"),
      { kind: "head", dispatches: [...head.forward, ...head.backward] },
      ...model.schedule.filter((e) => e.phase === "backward"),
      { kind: "sgd", dispatches: sgd.dispatches },
    ];
    const times = await timeKernels(gpu, parts);
    const kinds = new Map<string, number>();
    parts.forEach((p, i) => kinds.set(p.kind, (kinds.get(p.kind) ?? 0) + times[i]));
    perKind = Object.fromEntries([...kinds].sort((a, b) => b[1] - a[1]));
    if (showKernels > 0) {
      // One timed pass per dispatch, summed by kernel: a layer op's label ends in the part of
      // the op it runs (": gemm", ": pack input"), other kernels go by their pipeline's name.
      // Texture copies run between passes, so they count in the step, not here.
      const each = parts.flatMap((p) =>
        p.dispatches.filter((d): d is KernelDispatch => !("copy" in d)).map((d) => ({
          kind: `${p.kind}: ${d.label.split(": ")[1] ?? d.pipeline.label}`,
          dispatches: [d],
        }))
      );
      const eachMs = await timeKernels(gpu, each);
      const sums = new Map<string, number>();
      each.forEach((e, i) => sums.set(e.kind, (sums.get(e.kind) ?? 0) + eachMs[i]));
      for (const [kind, ms] of [...sums].sort((a, b) => b[1] - a[1]).slice(0, showKernels)) {
        console.error(`    ${ms.toFixed(1).padStart(8)} ms  ${kind}`);
      }
    }
    if (showLayers > 0) {
      const rows = parts.map((p, i) => ({ ...p, ms: times[i] })).sort((a, b) => b.ms - a.ms);
      for (const r of rows.slice(0, showLayers)) {
        const where = "layer" in r ? `${r.phase} ${r.layer}` : "";
        console.error(`    ${r.ms.toFixed(1).padStart(8)} ms  ${r.kind.padEnd(10)} ${where}`);
      }
    }
  }
  let wall = 0, spanSum = 0;
  const cpu0 = processCpuMs();
  for (let i = 0; i < steps; i++) {
    const r = await once();
    wall += r.wallMs;
    spanSum += r.spanMs;
  }
  const stepMs = wall / steps, kernelMs = spanSum / steps;
  const cpuMs = (processCpuMs() - cpu0) / steps;
  const macs = forwardMacs(model.net);
  const figures: TrainStepFigures = {
    backbone: plan.backbone,
    inputSize: S,
    batch,
    note,
    steps,
    imagesPerSecond: (batch * 1000) / stepMs,
    stepMs,
    kernelMs,
    outsideShare: Math.max(0, (stepMs - kernelMs) / stepMs),
    perKind,
    gflops: (3 * 2 * macs * batch) / (stepMs * 1e6),
    cpuMs,
    idleImagesPerSecond: (batch * 1000 * CORES) / cpuMs,
  };
  model.destroy();
  return figures;
}

/** Runs the plan (or the named backbones) and returns one figure set per backbone. */
export async function benchTrainStep(
  opts: {
    backbones?: string[];
    steps?: number; /** Print the slowest N layers. */
    layers?: number; /** Print the N costliest kernels. */
    kernels?: number;
  } = {},
): Promise<TrainStepFigures[]> {
  const { gpu, timestamps } = await openTimedGpu();
  console.error(`operands read as ${await operandForm(gpu)} (src/gpu/operands.ts)`);
  const plan = opts.backbones ? PLAN.filter((p) => opts.backbones!.includes(p.backbone)) : PLAN;
  const out: TrainStepFigures[] = [];
  for (const p of plan) {
    out.push(await benchOne(opts.layers ?? 0, opts.kernels ?? 0, gpu, timestamps, p, opts.steps));
    printRow(out[out.length - 1]);
  }
  return out;
}

/** Two significant digits below 10, whole numbers above. */
function rate(x: number): string {
  return x >= 10 ? x.toFixed(0) : x.toPrecision(2);
}

function printRow(f: TrainStepFigures): void {
  const kinds = Object.entries(f.perKind).map(([k, ms]) => `${k} ${ms.toFixed(1)}`).join(", ");
  console.error(
    `${f.backbone.padEnd(14)} ${String(f.inputSize).padStart(3)} px  batch ${
      String(f.batch).padStart(2)
    }  ` +
      `${rate(f.imagesPerSecond).padStart(7)} img/s  step ${f.stepMs.toFixed(0).padStart(6)} ms  ` +
      `kernels ${f.kernelMs.toFixed(0).padStart(6)} ms  outside ${
        (100 * f.outsideShare).toFixed(1)
      }%  ` +
      `${f.gflops.toFixed(1)} GFLOP/s  cpu ${f.cpuMs.toFixed(0)} ms/step → ~${
        f.idleImagesPerSecond.toFixed(0)
      } img/s on idle cores` +
      `${f.note ? `  (${f.note})` : ""}\n    per kind (ms): ${kinds}`,
  );
}

if (import.meta.main) {
  const args = Deno.args;
  const arg = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const figures = await benchTrainStep({
    backbones: arg("--backbones")?.split(","),
    steps: arg("--steps") ? Number(arg("--steps")) : undefined,
    layers: arg("--layers") ? Number(arg("--layers")) : undefined,
    kernels: arg("--kernels") ? Number(arg("--kernels")) : undefined,
  });
  if (args.includes("--json")) console.log(JSON.stringify(figures, null, 2));
}
