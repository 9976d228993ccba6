// The classification head on the GPU: its weights (sharded by classes so no tensor exceeds
// a storage binding), forward to the loss and statistics, and ONE shared backward for every
// cosine head (DESIGN §1):
//   G_x = (g·Ŵ − rowsum(g∘cos)·x̂)/|x|,   G_W = (gᵀ·X̂ − colsum(g∘cos)·Ŵ)/|W|
// computed as two matmuls over g' = g/|W_j| (so Ŵ is never stored: g'·W = g·Ŵ) followed by
// the L2-norm backward in place: rowsum(g∘cos) = (g·Ŵ)·x̂ row by row and colsum(g∘cos) =
// (g'ᵀX̂)·Ŵ, so projecting out the x̂ (Ŵ) component is the same formula.
// The softmax head is a plain linear classifier x·Wᵀ + b with cross-entropy.
//
//   const head = await buildHead(gpu, resolveHead("p2sgrad"), { features, labels, dFeatures }, { N, D, K });
//   head.writeWeights(initHeadWeights(K, D, seed));
//   gpu.run([...model.forward, ...head.forward, ...head.backward, ...model.backward, ...sgd.dispatches]);
//   when logging: await head.readStats()
import { type Dispatch, type Gpu, Tensor } from "../device.ts";
import { type Head, HEADS, STATS, STATS_SIZE } from "../../train/heads.ts";
import { HEAD_EPS } from "../../ref/head.ts";
import { Rng } from "../../util/random.ts";
import { matmul } from "./matmul.ts";
import { l2normBackward, l2normForward } from "./l2norm.ts";
import { biasBackward, biasForward } from "./bias.ts";
import { headGradNorm, headLossOps } from "./head_loss.ts";
import { expectSize } from "./grid.ts";

export interface HeadShape {
  /** Batch rows. */
  N: number;
  /** Embedding dimension. */
  D: number;
  /** Classes. */
  K: number;
  /** Guard on |x| and |W| (default 1e-12, PyTorch F.normalize). */
  eps?: number;
  /** Cap on classes per shard (a multiple of 64); default: what fits one storage binding. */
  maxShardClasses?: number;
  /** Class weights that are never updated (`--class-weights fixed`): no class-weight gradient, no optimizer groups. */
  fixedWeights?: boolean;
}

export interface HeadTensors {
  /** N×D features (the backbone's embedding, before normalisation). */
  features: Tensor;
  /** u32 labels (N), 0..K−1; a label ≥ K marks a row without a target. */
  labels: Tensor;
  /** N×D: dL/dfeatures, written by the backward. */
  dFeatures: Tensor;
}

export interface HeadShard {
  /** First class and class count. */
  start: number;
  count: number;
  /** count×D class weights and their gradient (written by the backward). */
  weight: Tensor;
  grad: Tensor;
  /** Softmax head only: biases (count) and their gradient. */
  bias?: Tensor;
  biasGrad?: Tensor;
  /** N×count: cos θ (logits for softmax) after the forward. */
  cos: Tensor;
  /** N×count: dL/dcos / |W_j| (dL/dlogits for softmax) after the backward. */
  g: Tensor;
}

export interface HeadStats {
  loss: number;
  thetaTargetDeg: number;
  cosNonTarget: number;
  cosTarget: number;
  featureGradNorm: number;
}

export interface HeadGraph {
  head: Head;
  shape: Required<Omit<HeadShape, "maxShardClasses" | "fixedWeights">>;
  shards: HeadShard[];
  /** f32[STATS_SIZE] (indices STATS): loss, angles and the feature-gradient norm. */
  stats: Tensor;
  /** Cosine heads: x̂ (N×D), |x| (N) and |W| (K). */
  xhat?: Tensor;
  normX?: Tensor;
  normW?: Tensor;
  forward: Dispatch[];
  backward: Dispatch[];
  /** Optimizer groups: weights decay, biases do not. */
  paramGroups(): { name: string; param: Tensor; grad: Tensor; decay: boolean; clip: boolean }[];
  /** Queues an upload of the K×D weights (and K biases for softmax). */
  writeWeights(weight: Float32Array, bias?: Float32Array): void;
  readWeights(): Promise<{ weight: Float32Array; bias?: Float32Array }>;
  /** Reads `stats`, or a tensor of the same layout (e.g. its average over micro-batches). */
  readStats(from?: Tensor): Promise<HeadStats>;
}

/** Classes per shard: the most that keep the weights and the N×Ks matrices within one binding, a multiple of 64. */
export function shardClasses(gpu: Gpu, s: HeadShape): number {
  const maxFloats = Math.floor(gpu.limits.maxStorageBufferBindingSize / 4);
  let k = Math.floor(Math.min(maxFloats / s.D, maxFloats / s.N) / 64) * 64;
  if (s.maxShardClasses !== undefined) {
    if (!(s.maxShardClasses >= 64 && s.maxShardClasses % 64 === 0)) {
      throw new Error(
        `head: maxShardClasses must be a positive multiple of 64, got ${s.maxShardClasses}`,
      );
    }
    k = Math.min(k, s.maxShardClasses);
  }
  if (k < 64) throw new Error(`head: D = ${s.D} or N = ${s.N} too large for one storage binding`);
  return k;
}

export async function buildHead(
  gpu: Gpu,
  head: Head,
  t: HeadTensors,
  s: HeadShape,
): Promise<HeadGraph> {
  const { N, D, K } = s;
  const eps = s.eps ?? HEAD_EPS;
  for (const [k, v] of [["N", N], ["D", D], ["K", K]] as const) {
    if (!(Number.isInteger(v) && v > 0)) {
      throw new Error(`head: ${k} must be a positive integer, got ${v}`);
    }
  }
  expectSize("head", "features", t.features, N * D);
  expectSize("head", "dFeatures", t.dFeatures, N * D);
  expectSize("head", "labels", t.labels, N);
  const normalised = HEADS[head.name].normalised;
  const per = shardClasses(gpu, s);
  const shards: HeadShard[] = [];
  for (let start = 0; start < K; start += per) {
    const count = Math.min(per, K - start);
    shards.push({
      start,
      count,
      weight: gpu.tensor([count, D], `head.weight[${start}]`),
      grad: gpu.tensor([count, D], `head.weight.grad[${start}]`),
      bias: normalised ? undefined : gpu.tensor([count], `head.bias[${start}]`),
      biasGrad: normalised ? undefined : gpu.tensor([count], `head.bias.grad[${start}]`),
      cos: gpu.tensor([N, count], `head.cos[${start}]`),
      g: gpu.tensor([N, count], `head.g[${start}]`),
    });
  }
  const stats = gpu.tensor([STATS_SIZE], "head.stats");
  const forward: Dispatch[] = [], backward: Dispatch[] = [];
  let xhat: Tensor | undefined, normX: Tensor | undefined, normW: Tensor | undefined;
  const normWOf = (sh: HeadShard) =>
    new Tensor(normW!.buffer, [sh.count], sh.start * 4, `head.normW[${sh.start}]`);

  if (normalised) {
    xhat = gpu.tensor([N, D], "head.xhat");
    normX = gpu.tensor([N], "head.normX");
    normW = gpu.tensor([K], "head.normW"); // shard starts are multiples of 64: 256-byte aligned views
    forward.push(
      ...await l2normForward(gpu, { x: t.features, y: xhat, norm: normX }, { R: N, D, eps }),
    );
    for (const sh of shards) {
      forward.push(
        ...await l2normForward(gpu, { x: sh.weight, norm: normWOf(sh) }, { R: sh.count, D, eps }),
      );
      // raw x̂·W_j; the loss kernel divides by |W_j| in place.
      forward.push(
        ...await matmul(gpu, { a: xhat, b: sh.weight, c: sh.cos }, {
          M: N,
          N: sh.count,
          K: D,
          transB: true,
        }),
      );
    }
  } else {
    for (const sh of shards) {
      forward.push(
        ...await matmul(gpu, { a: t.features, b: sh.weight, c: sh.cos }, {
          M: N,
          N: sh.count,
          K: D,
          transB: true,
        }),
      );
      forward.push(...await biasForward(gpu, { b: sh.bias!, y: sh.cos }, { N, O: sh.count }));
    }
  }
  const loss = await headLossOps(gpu, head, {
    labels: t.labels,
    shards: shards.map((sh) => ({ ...sh, normW: normalised ? normWOf(sh) : undefined })),
    stats,
  }, { N, K, eps });
  forward.push(...loss.forward);
  backward.push(...loss.backward);

  // dX = Σ_shards g'·W (then projected and divided by |x|); dW = g'ᵀ·X̂ (then projected).
  for (const [i, sh] of shards.entries()) {
    backward.push(
      ...await matmul(gpu, { a: sh.g, b: sh.weight, c: t.dFeatures }, {
        M: N,
        N: D,
        K: sh.count,
        accumulate: i > 0,
      }),
    );
  }
  for (const sh of s.fixedWeights ? [] : shards) {
    backward.push(
      ...await matmul(gpu, { a: sh.g, b: normalised ? xhat! : t.features, c: sh.grad }, {
        M: sh.count,
        N: D,
        K: N,
        transA: true,
      }),
    );
    if (normalised) {
      backward.push(
        ...await l2normBackward(gpu, { x: sh.weight, norm: normWOf(sh), g: sh.grad }, {
          R: sh.count,
          D,
          eps,
          divide: false,
        }),
      );
    } else {
      backward.push(...await biasBackward(gpu, { dy: sh.g, db: sh.biasGrad! }, { N, O: sh.count }));
    }
  }
  if (normalised) {
    backward.push(
      ...await l2normBackward(gpu, { x: t.features, norm: normX!, g: t.dFeatures }, {
        R: N,
        D,
        eps,
      }),
    );
  }
  backward.push(...await headGradNorm(gpu, { dx: t.dFeatures, stats }));

  return {
    head,
    shape: { N, D, K, eps },
    shards,
    stats,
    xhat,
    normX,
    normW,
    forward,
    backward,
    // clip: false — gradient clipping covers the backbone only, as arcface_torch's
    // clip_grad_norm_(backbone.parameters(), 5) does.
    paramGroups() {
      if (s.fixedWeights) return [];
      return shards.flatMap((sh) => [
        {
          name: `head.weight[${sh.start}]`,
          param: sh.weight,
          grad: sh.grad,
          decay: true,
          clip: false,
        },
        ...(sh.bias
          ? [{
            name: `head.bias[${sh.start}]`,
            param: sh.bias,
            grad: sh.biasGrad!,
            decay: false,
            clip: false,
          }]
          : []),
      ]);
    },
    writeWeights(weight: Float32Array, bias?: Float32Array) {
      if (weight.length !== K * D) {
        throw new Error(`head: weights have ${weight.length} values, expected K·D = ${K * D}`);
      }
      if (!normalised && bias?.length !== K) {
        throw new Error(`head: the softmax head needs ${K} biases`);
      }
      for (const sh of shards) {
        gpu.write(sh.weight, weight.subarray(sh.start * D, (sh.start + sh.count) * D));
        if (sh.bias && bias) gpu.write(sh.bias, bias.subarray(sh.start, sh.start + sh.count));
      }
    },
    async readWeights() {
      const parts = await gpu.read(
        ...shards.map((sh) => sh.weight),
        ...shards.flatMap((sh) => (sh.bias ? [sh.bias] : [])),
      );
      const weight = new Float32Array(K * D);
      shards.forEach((sh, i) => weight.set(parts[i], sh.start * D));
      if (normalised) return { weight };
      const bias = new Float32Array(K);
      shards.forEach((sh, i) => bias.set(parts[shards.length + i], sh.start));
      return { weight, bias };
    },
    async readStats(from?: Tensor): Promise<HeadStats> {
      const [v] = await gpu.read(from ?? stats);
      return {
        loss: v[STATS.loss],
        thetaTargetDeg: v[STATS.thetaTargetDeg],
        cosNonTarget: v[STATS.cosNonTarget],
        cosTarget: v[STATS.cosTarget],
        featureGradNorm: v[STATS.featureGradNorm],
      };
    },
  };
}

/**
 * Initial class weights N(0, 0.01²) as insightface's partial_fc (torch.normal(0, 0.01)),
 * seeded; softmax-head biases start at 0.
 */
export function initHeadWeights(K: number, D: number, seed: number): Float32Array {
  const rng = new Rng(seed, 0x4ead);
  const w = new Float32Array(K * D);
  for (let i = 0; i < w.length; i++) w[i] = 0.01 * rng.normal();
  return w;
}

/**
 * Class weights for `--class-weights fixed`: a seeded orthonormal frame with unit rows. With
 * K ≤ D the rows are orthonormal; with K > D they are the rows of a K×D matrix with orthonormal
 * columns, each scaled to unit length: nearly a tight frame, Σ_j Ŵ_j Ŵ_jᵀ ≈ (K/D)·I. On a
 * tight frame Σ_j cos²θ_ij is the same for every feature direction, so P2SGrad's non-target
 * terms Σ_j cos θ_ij ∇cos θ_ij = ½∇(x̂ᵀ M x̂) cancel and each feature is pulled towards its
 * own class's weight. Modified Gram–Schmidt in float64, O(min(K, D)²·max(K, D)).
 */
export function frameHeadWeights(K: number, D: number, seed: number): Float32Array {
  const rng = new Rng(seed, 0xf4a3e);
  const count = Math.min(K, D), len = Math.max(K, D); // orthonormalise the shorter side
  const v = new Float64Array(count * len);
  for (let i = 0; i < v.length; i++) v[i] = rng.normal();
  for (let a = 0; a < count; a++) {
    const va = v.subarray(a * len, (a + 1) * len);
    for (let b = 0; b < a; b++) {
      const vb = v.subarray(b * len, (b + 1) * len);
      let dot = 0;
      for (let i = 0; i < len; i++) dot += va[i] * vb[i];
      for (let i = 0; i < len; i++) va[i] -= dot * vb[i];
    }
    let norm = 0;
    for (let i = 0; i < len; i++) norm += va[i] * va[i];
    norm = Math.sqrt(norm);
    for (let i = 0; i < len; i++) va[i] /= norm;
  }
  // Row k of the frame: row k of v (K ≤ D) or entry k of each of v's D columns (K > D).
  const at = K <= D
    ? (k: number, d: number) => v[k * D + d]
    : (k: number, d: number) => v[d * K + k];
  const w = new Float32Array(K * D);
  for (let k = 0; k < K; k++) {
    let norm = 0;
    for (let d = 0; d < D; d++) norm += at(k, d) * at(k, d);
    norm = Math.sqrt(norm);
    for (let d = 0; d < D; d++) w[k * D + d] = at(k, d) / norm;
  }
  return w;
}
