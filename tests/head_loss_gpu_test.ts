// The head-loss kernels against the float64 heads (src/train/heads.ts): in-place cosine
// normalisation, dL/dcos (divided by |W_j|), per-row losses and the statistics, for every
// head, on K not a multiple of the tile, K = 10,007 split into shards, N = 1, and a row
// without a valid label; plus determinism.
import { assertEquals } from "@std/assert";
import { assertClose, hasGpu, randomArray } from "./helpers/compare.ts";
import { getGpu, type Gpu, Tensor } from "../src/gpu/device.ts";
import { headGradNorm, headLossOps } from "../src/gpu/ops/head_loss.ts";
import { HEAD_NAMES, headLoss, HEADS, resolveHead, STATS, STATS_SIZE } from "../src/train/heads.ts";
import { headStats } from "../src/ref/head.ts";

const gpuMissing = !(await hasGpu());

interface Case {
  N: number;
  K: number;
  shard: number;
}

/** Shards of `shard` classes (a multiple of 64) over K. */
function shardsOf(K: number, shard: number): { start: number; count: number }[] {
  const out = [];
  for (let start = 0; start < K; start += shard) {
    out.push({ start, count: Math.min(shard, K - start) });
  }
  return out;
}

async function runHead(
  gpu: Gpu,
  name: string,
  c: Case,
  seed: number,
  opts: Parameters<typeof resolveHead>[1] = {},
) {
  const head = resolveHead(name, opts);
  const { N, K } = c;
  const cos = randomArray(N * K, seed, -0.95, 0.95);
  const labels = Uint32Array.from({ length: N }, (_, i) => (i * 7919 + seed) % K);
  if (N > 2) labels[1] = K + 3; // no target in this row
  const normW = randomArray(K, seed + 1, 0.5, 2);
  const normalised = HEADS[head.name].normalised;
  const shards = shardsOf(K, c.shard);
  const normWT = gpu.tensor([K], "normW", normW);
  const tensors = shards.map((sh) => {
    const raw = new Float32Array(N * sh.count);
    for (let i = 0; i < N; i++) {
      for (let j = 0; j < sh.count; j++) {
        const k = sh.start + j;
        raw[i * sh.count + j] = normalised ? cos[i * K + k] * normW[k] : cos[i * K + k];
      }
    }
    return {
      ...sh,
      cos: gpu.tensor([N, sh.count], "cos", raw),
      g: gpu.tensor([N, sh.count], "g"),
      normW: normalised ? new Tensor(normWT.buffer, [sh.count], sh.start * 4) : undefined,
    };
  });
  const stats = gpu.tensor([STATS_SIZE], "stats");
  const labelsT = gpu.tensor([N], "labels", labels);
  const ops = await headLossOps(gpu, head, { labels: labelsT, shards: tensors, stats }, { N, K });
  const dx = randomArray(N * 5, seed + 2);
  const dxT = gpu.tensor([N * 5], "dx", dx);
  gpu.run([...ops.forward, ...ops.backward, ...await headGradNorm(gpu, { dx: dxT, stats })]);
  const got = await gpu.read(stats, ops.rowStats, ...tensors.flatMap((t) => [t.cos, t.g]));
  const gather = (k: number) => {
    const out = new Float32Array(N * K);
    tensors.forEach((sh, s) => {
      const part = got[2 + 2 * s + k];
      for (let i = 0; i < N; i++) {
        for (let j = 0; j < sh.count; j++) out[i * K + sh.start + j] = part[i * sh.count + j];
      }
    });
    return out;
  };
  // The reference sees the GPU-normalised cosines (within 1e-6 of `cos`) so both compute the same function.
  const cosG = gather(0), gG = gather(1);
  const labelsRef = Array.from(labels, (y) => (y < K ? y : -1));
  const want = headLoss(head, cosG, labelsRef, N, K);
  const wantStats = headStats(want.loss, cosG, labelsRef, dx, N, K, normalised);
  return {
    head,
    cos,
    cosG,
    gG,
    want,
    normW,
    normalised,
    stats: got[0],
    rows: got[1],
    wantStats,
    N,
    K,
  };
}

const cases: Case[] = [{ N: 1, K: 5, shard: 1024 }, { N: 3, K: 1031, shard: 2048 }, {
  N: 4,
  K: 10007,
  shard: 4096,
}];

for (const name of HEAD_NAMES) {
  for (const c of cases) {
    Deno.test({
      name: `${name} loss kernels = reference (N${c.N} K${c.K}, ${
        Math.ceil(c.K / c.shard)
      } shard(s))`,
      ignore: gpuMissing,
      async fn() {
        const gpu = await getGpu();
        const r = await runHead(gpu, name, c, 17);
        const shape = [r.N, r.K];
        if (r.normalised) {
          assertClose("cos normalised in place", r.cosG, r.cos, { atol: 1e-6, rtol: 1e-6, shape });
        }
        const scale = HEADS[r.head.name].softmax && r.head.name !== "softmax" ? r.head.s : 1;
        const wantG = r.want.dcos.map((v, i) => (r.normalised ? v / r.normW[i % r.K] : v));
        assertClose("g = dL/dcos / |W|", r.gG, wantG, { atol: 2e-6 * scale, rtol: 2e-4, shape });
        assertClose(
          "row losses",
          Array.from({ length: r.N }, (_, i) => r.rows[i * 8 + 1]),
          r.want.rowLoss,
          {
            atol: 1e-5 * scale,
            rtol: 1e-5,
          },
        );
        const idx = r.normalised ? [0, 1, 2, 3, 4] : [STATS.loss, STATS.featureGradNorm];
        const pick = (a: ArrayLike<number>) => idx.map((i) => a[i]);
        assertClose("stats", pick(r.stats), pick(r.wantStats), { atol: 2e-5 * scale, rtol: 1e-4 });
        if (!r.normalised) {
          for (const i of [STATS.thetaTargetDeg, STATS.cosNonTarget, STATS.cosTarget]) {
            assertEquals(r.stats[i], NaN);
          }
        }
      },
    });
  }
}

Deno.test({
  name: "arcface straight-through and sphereface variants on the GPU = reference",
  ignore: gpuMissing,
  async fn() {
    const gpu = await getGpu();
    for (
      const [name, opts] of [
        ["arcface", { straightThrough: true }],
        ["arcface", { margin: 0.2, scale: 30 }],
        ["sphereface", { margin: 1 }],
        ["sphereface", { margin: 2, lambda: 5 }],
        ["sphereface", { margin: 3 }],
      ] as const
    ) {
      const r = await runHead(gpu, name, { N: 5, K: 300, shard: 1024 }, 23, opts);
      const wantG = r.want.dcos.map((v, i) => v / r.normW[i % r.K]);
      assertClose(`${name} ${JSON.stringify(opts)} g`, r.gG, wantG, {
        atol: 2e-6 * r.head.s,
        rtol: 2e-4,
      });
      assertClose(`${name} ${JSON.stringify(opts)} loss`, [r.stats[STATS.loss]], [r.want.loss], {
        atol: 1e-5 * r.head.s,
        rtol: 1e-5,
      });
    }
  },
});

Deno.test({
  name: "head loss kernels give identical bytes run to run",
  ignore: gpuMissing,
  async fn() {
    const gpu = await getGpu();
    const a = await runHead(gpu, "cosface", { N: 4, K: 5000, shard: 2048 }, 5);
    const b = await runHead(gpu, "cosface", { N: 4, K: 5000, shard: 2048 }, 5);
    assertEquals(new Uint8Array(a.gG.buffer), new Uint8Array(b.gG.buffer));
    assertEquals(new Uint8Array(a.stats.buffer), new Uint8Array(b.stats.buffer));
  },
});
