// GPU head losses (kernels/head_loss.wgsl): from the cos (or logits) shards to the per-batch
// loss, the statistics and g = dL/dcos (divided by |W_j| for the cosine heads, ready for the
// shared backward in ./head.ts). Works for any K: chunks of 32 classes per invocation, their
// partials combined per row in a fixed order, shards of classes when one matrix would exceed
// a binding.
import { type Dispatch, type Gpu, params, type Tensor } from "../device.ts";
import { type Head, type HeadName, HEADS, STATS_SIZE } from "../../train/heads.ts";
import { expectSize, placeholder } from "./grid.ts";

/** Columns (classes) per invocation of the tiles and grad passes (CW in the kernel). */
export const HEAD_CHUNK = 32;

const HEAD_IDS: Record<HeadName, number> = {
  p2sgrad: 0,
  normface: 1,
  cosface: 2,
  arcface: 3,
  sphereface: 4,
  softmax: 5,
};

export interface HeadLossShard {
  /** First class of the shard (a multiple of 64 except for the first, 0). */
  start: number;
  count: number;
  /** N×count: raw x̂·W_j (normalised in place into cos) or the logits (softmax). */
  cos: Tensor;
  /** N×count: written by the backward. */
  g: Tensor;
  /** |W_j| of the shard's classes (cosine heads only). */
  normW?: Tensor;
}

export interface HeadLossTensors {
  /** u32 labels (N); a label ≥ K marks a row without a target. */
  labels: Tensor;
  shards: HeadLossShard[];
  /** f32[STATS_SIZE]: loss and angle statistics are written by `forward`. */
  stats: Tensor;
}

export interface HeadLossOps {
  /** tiles (per shard), rows, stats. */
  forward: Dispatch[];
  /** g per shard. */
  backward: Dispatch[];
  /** N×8 per-row values (lse, loss, cos_y, Σ non-target cos, has-target). */
  rowStats: Tensor;
}

export async function headLossOps(
  gpu: Gpu,
  head: Head,
  t: HeadLossTensors,
  s: { N: number; K: number; eps?: number },
): Promise<HeadLossOps> {
  const { N, K } = s;
  const spec = HEADS[head.name];
  expectSize("headLoss", "labels", t.labels, N);
  expectSize("headLoss", "stats", t.stats, STATS_SIZE);
  if (N > gpu.limits.maxComputeWorkgroupsPerDimension) {
    throw new Error(`headLoss: batch ${N} exceeds the grid limit`);
  }
  let covered = 0;
  for (const sh of t.shards) {
    if (sh.start !== covered) {
      throw new Error(
        `headLoss: shard at class ${sh.start} leaves a gap or overlap (expected ${covered})`,
      );
    }
    expectSize("headLoss", `cos[${sh.start}]`, sh.cos, N * sh.count);
    expectSize("headLoss", `g[${sh.start}]`, sh.g, N * sh.count);
    if (spec.normalised) {
      if (!sh.normW) throw new Error(`headLoss: head ${head.name} needs |W| for shard ${sh.start}`);
      expectSize("headLoss", `normW[${sh.start}]`, sh.normW, sh.count);
    }
    covered += sh.count;
  }
  if (covered !== K) {
    throw new Error(`headLoss: shards cover ${covered} classes, expected K = ${K}`);
  }
  const tilesOf = (count: number) => Math.ceil(count / HEAD_CHUNK);
  const T = t.shards.reduce((a, sh) => a + tilesOf(sh.count), 0);
  const partial = gpu.tensor([N, T, 8], "head.partial");
  const rowStats = gpu.tensor([N, 8], "head.rows");
  const constants = { HEAD: HEAD_IDS[head.name] };
  const m = head.m;
  const uniforms = (sh: HeadLossShard, tileBase: number) =>
    params([
      ["u32", N],
      ["u32", K],
      ["u32", sh.count],
      ["u32", sh.start],
      ["u32", tileBase],
      ["u32", T],
      ["f32", 1 / N],
      ["f32", s.eps ?? 1e-12],
      ["f32", head.s],
      ["f32", m],
      ["f32", Math.cos(m)],
      ["f32", Math.sin(m)],
      ["f32", Math.cos(Math.PI - m)],
      ["f32", Math.sin(Math.PI - m) * m],
      ["f32", head.lambda],
      ["u32", head.straightThrough ? 1 : 0],
      ["u32", spec.normalised ? 1 : 0],
      ["u32", head.name === "sphereface" ? m : 1],
    ]);
  const forward: Dispatch[] = [], backward: Dispatch[] = [];
  let tileBase = 0;
  const unused = placeholder(gpu, "read");
  for (const sh of t.shards) {
    const u = gpu.uniform(uniforms(sh, tileBase), `head.u[${sh.start}]`);
    const groups = [Math.ceil(tilesOf(sh.count) / 64), N] as const;
    forward.push(
      await gpu.dispatch("head_loss", {
        label: `head_loss.tiles[${sh.start}]`,
        uniforms: u,
        tensors: [t.labels, sh.normW ?? unused, sh.cos, partial],
        groups,
        constants,
        entry: "tiles",
      }),
    );
    backward.push(
      await gpu.dispatch("head_loss", {
        label: `head_loss.grad[${sh.start}]`,
        uniforms: u,
        tensors: [t.labels, sh.normW ?? unused, sh.cos, rowStats, sh.g],
        groups,
        constants,
        entry: "grad",
      }),
    );
    tileBase += tilesOf(sh.count);
  }
  const rowsUniform = gpu.uniform(uniforms(t.shards[0], 0), "head.u.rows");
  forward.push(
    await gpu.dispatch("head_loss", {
      label: "head_loss.rows",
      uniforms: rowsUniform,
      tensors: [partial, rowStats],
      groups: [Math.ceil(N / 64)],
      constants,
      entry: "rows",
    }),
    await gpu.dispatch("head_stats", {
      label: "head_stats.rows",
      uniforms: params([["u32", N], ["u32", K], ["u32", 0], ["u32", spec.normalised ? 1 : 0]]),
      tensors: [rowStats, t.stats],
      groups: [1],
      entry: "rows",
    }),
  );
  return { forward, backward, rowStats };
}

/** stats[3] = ‖dx‖_F (the feature-gradient norm the paper's diagnostics plot). */
export async function headGradNorm(
  gpu: Gpu,
  t: { dx: Tensor; stats: Tensor },
): Promise<Dispatch[]> {
  expectSize("headGradNorm", "stats", t.stats, STATS_SIZE);
  return [
    await gpu.dispatch("head_stats", {
      label: "head_stats.grad_norm",
      uniforms: params([["u32", 0], ["u32", 0], ["u32", t.dx.size], ["u32", 0]]),
      tensors: [t.dx, t.stats],
      groups: [1],
      entry: "grad_norm",
    }),
  ];
}
