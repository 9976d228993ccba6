// The whole head on the GPU (normalisation, matmuls, loss, shared backward, statistics)
// against the float64 reference: P2SGrad's hand-built case of DESIGN §1, every head on
// awkward shapes (odd D, K not a multiple of the tile, K = 10,007 in several shards, N = 1),
// and determinism.
import { assertAlmostEquals, assertEquals } from "@std/assert";
import { assertClose, hasGpu, randomArray } from "./helpers/compare.ts";
import { getGpu, type Gpu } from "../src/gpu/device.ts";
import { buildHead, initHeadWeights } from "../src/gpu/ops/head.ts";
import { HEAD_NAMES, headLoss, HEADS, resolveHead, STATS } from "../src/train/heads.ts";
import { cosineHead, headStats } from "../src/ref/head.ts";
import * as linear from "../src/ref/linear.ts";

const gpuMissing = !(await hasGpu());

async function run(
  gpu: Gpu,
  name: string,
  s: { N: number; D: number; K: number; maxShardClasses?: number },
  x: Float32Array,
  w: Float32Array,
  labels: number[],
  bias?: Float32Array,
) {
  const head = resolveHead(name);
  const features = gpu.tensor([s.N, s.D], "x", x);
  const dFeatures = gpu.tensor([s.N, s.D], "dx");
  const labelsT = gpu.tensor(
    [s.N],
    "labels",
    Uint32Array.from(labels, (y) => (y < 0 ? 0xffffffff : y)),
  );
  const g = await buildHead(gpu, head, { features, labels: labelsT, dFeatures }, s);
  g.writeWeights(w, bias ?? (HEADS[head.name].normalised ? undefined : new Float32Array(s.K)));
  gpu.run([...g.forward, ...g.backward]);
  const [dx, stats] = await gpu.read(dFeatures, g.stats);
  const grads = await gpu.read(
    ...g.shards.map((sh) => sh.grad),
    ...g.shards.flatMap((sh) => sh.biasGrad ? [sh.biasGrad] : []),
  );
  const dw = new Float32Array(s.K * s.D), db = new Float32Array(s.K);
  g.shards.forEach((sh, i) => {
    dw.set(grads[i], sh.start * s.D);
    if (sh.biasGrad) db.set(grads[g.shards.length + i], sh.start);
  });
  return { head, graph: g, dx, dw, db, stats };
}

Deno.test({
  name: "P2SGrad head on the GPU reproduces the hand-built case of DESIGN §1",
  ignore: gpuMissing,
  async fn() {
    const gpu = await getGpu();
    // See src/ref/head_test.ts: G_x = [[0, 0], [¼, 0]], G_W = [[0, 0], [0, 0], [0, −1/6]], loss ¾.
    const r = await run(
      gpu,
      "p2sgrad",
      { N: 2, D: 2, K: 3 },
      new Float32Array([1, 0, 0, 2]),
      new Float32Array([1, 0, 0, 1, -3, 0]),
      [0, 2],
    );
    assertClose("G_x", r.dx, [0, 0, 0.25, 0], { atol: 1e-7 });
    assertClose("G_W", r.dw, [0, 0, 0, 0, 0, -1 / 6], { atol: 1e-7 });
    assertAlmostEquals(r.stats[STATS.loss], 0.75, 1e-7);
    assertAlmostEquals(r.stats[STATS.thetaTargetDeg], 45, 1e-4);
    assertAlmostEquals(r.stats[STATS.featureGradNorm], 0.25, 1e-7);
  },
});

const shapes = [
  { N: 1, D: 5, K: 7 },
  { N: 3, D: 7, K: 1031 },
  { N: 2, D: 64, K: 10007, maxShardClasses: 4096 },
  { N: 64, D: 512, K: 295 }, // the CelebA-subset training step
];

for (const name of HEAD_NAMES) {
  for (const s of shapes) {
    Deno.test({
      name: `${name} head GPU = reference (N${s.N} D${s.D} K${s.K}${
        s.maxShardClasses ? `, shards of ${s.maxShardClasses}` : ""
      })`,
      ignore: gpuMissing,
      async fn() {
        const gpu = await getGpu();
        const x = randomArray(s.N * s.D, 1, -1, 1), w = randomArray(s.K * s.D, 2, -1, 1);
        const labels = Array.from({ length: s.N }, (_, i) => (i * 3301 + 5) % s.K);
        if (s.N === 3) labels[2] = -1; // a row without a target
        const normalised = HEADS[name].normalised;
        const bias = normalised ? undefined : randomArray(s.K, 3);
        const r = await run(gpu, name, s, x, w, labels, bias);
        let want: {
          dx: ArrayLike<number>;
          dw: ArrayLike<number>;
          db?: ArrayLike<number>;
          stats: ArrayLike<number>;
        };
        if (normalised) {
          want = cosineHead(r.head, x, w, labels, s);
        } else {
          const ls = { N: s.N, I: s.D, O: s.K };
          const logits = linear.linearForward(x, w, bias!, ls);
          const l = headLoss(r.head, logits, labels, s.N, s.K);
          const b = linear.linearBackward(l.dcos, x, w, ls);
          want = { ...b, stats: headStats(l.loss, logits, labels, b.dx, s.N, s.K, false) };
        }
        const scale = r.head.s || 1;
        const tol = { atol: 2e-6 * scale, rtol: 2e-3 };
        assertClose("dx", r.dx, want.dx, { ...tol, shape: [s.N, s.D] });
        assertClose("dW", r.dw, want.dw, { ...tol, shape: [s.K, s.D] });
        if (want.db) assertClose("db", r.db, want.db, tol);
        const idx = normalised ? [0, 2, 3, 4] : [STATS.loss, STATS.featureGradNorm];
        assertClose("stats", idx.map((i) => r.stats[i]), idx.map((i) => want.stats[i]), {
          atol: 1e-5 * scale,
          rtol: 1e-4,
        });
        // WGSL's acos on llvmpipe is good to ~1e-4 rad: θ_y agrees to 0.01°.
        if (normalised) {
          assertClose("θ_y°", [r.stats[STATS.thetaTargetDeg]], [want.stats[STATS.thetaTargetDeg]], {
            atol: 1e-2,
          });
        }
      },
    });
  }
}

Deno.test({
  name: "head forward/backward gives identical bytes run to run, and weights round-trip",
  ignore: gpuMissing,
  async fn() {
    const gpu = await getGpu();
    const s = { N: 4, D: 16, K: 700, maxShardClasses: 256 };
    const x = randomArray(s.N * s.D, 9),
      w = initHeadWeights(s.K, s.D, 1),
      labels = [1, 699, 256, 3];
    const a = await run(gpu, "arcface", s, x, w, labels),
      b = await run(gpu, "arcface", s, x, w, labels);
    assertEquals(new Uint8Array(a.dx.buffer), new Uint8Array(b.dx.buffer));
    assertEquals(new Uint8Array(a.dw.buffer), new Uint8Array(b.dw.buffer));
    assertEquals(new Uint8Array(a.stats.buffer), new Uint8Array(b.stats.buffer));
    assertEquals((await a.graph.readWeights()).weight, w);
  },
});

Deno.test({
  name: "head parameters decay (weights) and stay out of gradient clipping, as in arcface_torch",
  ignore: gpuMissing,
  async fn() {
    const gpu = await getGpu();
    const s = { N: 2, D: 8, K: 5 };
    for (const name of ["p2sgrad", "softmax"]) {
      const r = await run(gpu, name, s, randomArray(16, 4), randomArray(40, 5), [0, 4]);
      for (const g of r.graph.paramGroups()) {
        assertEquals(g.clip, false, `${name} ${g.name}`);
        assertEquals(g.decay, g.name.startsWith("head.weight"), `${name} ${g.name}`);
      }
    }
  },
});
