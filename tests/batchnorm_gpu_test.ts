// GPU batch normalisation (training forward, inference, backward) against the float64
// reference on awkward shapes: odd C, HW not a multiple of 4 or of the workgroup, N = 1, 1-D.
import { assertEquals } from "@std/assert";
import { assertClose, hasGpu, randomArray } from "./helpers/compare.ts";
import { getGpu } from "../src/gpu/device.ts";
import {
  batchnormBackward,
  batchnormForward,
  batchnormInference,
} from "../src/gpu/ops/batchnorm.ts";
import * as ref from "../src/ref/batchnorm.ts";
import { assertSameInBothForms } from "./helpers/operands.ts";

const gpuMissing = !(await hasGpu());
const tol = { atol: 2e-5, rtol: 2e-4 };

const shapes: ref.BatchNormShape[] = [
  { N: 3, C: 5, HW: 7 }, // scalar path, tiny channels
  { N: 2, C: 3, HW: 12 }, // vec4 path
  { N: 1, C: 3, HW: 9 }, // N = 1
  { N: 7, C: 11, HW: 1 }, // BatchNorm1d
  { N: 5, C: 3, HW: 1000 }, // several blocks per channel, HW/4 = 250
  { N: 3, C: 5, HW: 256 }, // HW/4 = 64: four items per invocation
  { N: 2, C: 3, HW: 1024 }, // HW/4 = 256: four items each, workgroups aligned to planes
  { N: 3, C: 2, HW: 25, affine: false, eps: 1e-3, momentum: 0.3 },
];

/** Forward, backward and inference of one shape on the GPU: the inputs and every output. */
async function runBatchnorm(s: ref.BatchNormShape) {
  const gpu = await getGpu();
  const n = s.N * s.C * s.HW;
  const affine = s.affine ?? true;
  const x = randomArray(n, 1, -3, 5), dy = randomArray(n, 2);
  const gamma = randomArray(s.C, 3, 0.5, 1.5), beta = randomArray(s.C, 4);
  const rm0 = randomArray(s.C, 5), rv0 = randomArray(s.C, 6, 0.5, 2);
  const T = (d: Float32Array | number, label: string) =>
    typeof d === "number" ? gpu.tensor([d], label) : gpu.tensor([d.length], label, d);
  const t = {
    x: T(x, "x"),
    y: T(n, "y"),
    gamma: affine ? T(gamma, "gamma") : undefined,
    beta: affine ? T(beta, "beta") : undefined,
    mean: T(s.C, "mean"),
    invstd: T(s.C, "invstd"),
    runningMean: T(rm0, "rm"),
    runningVar: T(rv0, "rv"),
  };
  const dyT = T(dy, "dy"),
    dx = T(n, "dx"),
    dgamma = T(s.C, "dgamma"),
    dbeta = T(s.C, "dbeta"),
    yInf = T(n, "yInf");
  const fwd = await batchnormForward(gpu, t, s);
  const bwd = await batchnormBackward(gpu, {
    dy: dyT,
    x: t.x,
    gamma: t.gamma,
    mean: t.mean,
    invstd: t.invstd,
    dx,
    dgamma: affine ? dgamma : undefined,
    dbeta: affine ? dbeta : undefined,
  }, s);
  const inf = await batchnormInference(gpu, { ...t, y: yInf }, s);
  gpu.run([...fwd, ...bwd, ...inf]);
  const [y, mean, invstd, rm, rv, dxG, dgG, dbG, yi] = await gpu.read(
    t.y,
    t.mean,
    t.invstd,
    t.runningMean,
    t.runningVar,
    dx,
    dgamma,
    dbeta,
    yInf,
  );
  return { x, dy, gamma, beta, rm0, rv0, out: [y, mean, invstd, rm, rv, dxG, dgG, dbG, yi] };
}

for (const s of shapes) {
  Deno.test({
    name: `batchnorm GPU = reference (N${s.N} C${s.C} HW${s.HW}${
      s.affine === false ? " no affine" : ""
    })`,
    ignore: gpuMissing,
    async fn() {
      const affine = s.affine ?? true;
      const { x, dy, gamma, beta, rm0, rv0, out } = await runBatchnorm(s);
      const [y, mean, invstd, rm, rv, dxG, dgG, dbG, yi] = out;
      const want = ref.batchnormForward(
        x,
        affine ? gamma : null,
        affine ? beta : null,
        rm0,
        rv0,
        s,
      );
      const shape = [s.N, s.C, s.HW];
      assertClose("y", y, want.y, { ...tol, shape });
      assertClose("mean", mean, want.mean, tol);
      assertClose("invstd", invstd, want.invstd, tol);
      assertClose("running mean", rm, want.runningMean, tol);
      assertClose("running var", rv, want.runningVar, tol);
      const wantB = ref.batchnormBackward(dy, x, affine ? gamma : null, want.mean, want.invstd, s);
      assertClose("dx", dxG, wantB.dx, { ...tol, shape });
      if (affine) {
        assertClose("dgamma", dgG, wantB.dgamma, { atol: 1e-4, rtol: 2e-4 });
        assertClose("dbeta", dbG, wantB.dbeta, { atol: 1e-4, rtol: 2e-4 });
      }
      // Inference ran after the update, so it sees the new running statistics.
      const wantI = ref.batchnormInference(
        x,
        affine ? gamma : null,
        affine ? beta : null,
        want.runningMean,
        want.runningVar,
        s,
      );
      assertClose("inference y", yi, wantI, { ...tol, shape });
    },
  });
}

Deno.test({
  name: "batchnorm GPU variance stays accurate for a channel far from zero (mean 1000, std 0.03)",
  ignore: gpuMissing,
  async fn() {
    const gpu = await getGpu();
    const s = { N: 16, C: 2, HW: 1000 };
    const n = s.N * s.C * s.HW;
    const x = randomArray(n, 11, 999.95, 1000.05);
    const c = (v: number) => gpu.tensor([2], "", new Float32Array(2).fill(v));
    const t = {
      x: gpu.tensor([n], "x", x),
      y: gpu.tensor([n]),
      gamma: c(1),
      beta: c(0),
      mean: c(0),
      invstd: c(0),
      runningMean: c(0),
      runningVar: c(1),
    };
    gpu.run(await batchnormForward(gpu, t, { ...s, eps: 0 }));
    const [invstd, y] = await gpu.read(t.invstd, t.y);
    const want = ref.batchnormForward(x, [1, 1], [0, 0], [0, 0], [1, 1], { ...s, eps: 0 });
    assertClose("invstd", invstd, want.invstd, { rtol: 1e-4 });
    // A float32 mean of values near 1000 is good to about an ulp (6e-5), times invstd ≈ 35.
    assertClose("y", y, want.y, { atol: 3e-3 });
  },
});

Deno.test({
  name: "batchnorm GPU is deterministic and keeps updating the running averages on replay",
  ignore: gpuMissing,
  async fn() {
    const gpu = await getGpu();
    const s = { N: 4, C: 3, HW: 300 };
    const n = s.N * s.C * s.HW;
    const x = gpu.tensor([n], "x", randomArray(n, 7, -2, 2));
    const mk = () => ({
      x,
      y: gpu.tensor([n]),
      gamma: gpu.tensor([3], "", new Float32Array([1, 2, 3])),
      beta: gpu.tensor([3]),
      mean: gpu.tensor([3]),
      invstd: gpu.tensor([3]),
      runningMean: gpu.tensor([3]),
      runningVar: gpu.tensor([3], "", new Float32Array(3).fill(1)),
    });
    const a = mk(), b = mk();
    const da = await batchnormForward(gpu, a, s), db = await batchnormForward(gpu, b, s);
    gpu.run([...da, ...da, ...db, ...db]);
    const [ya, yb, rma, rmb] = await gpu.read(a.y, b.y, a.runningMean, b.runningMean);
    assertEquals(new Uint8Array(ya.buffer), new Uint8Array(yb.buffer));
    assertEquals(rma, rmb);
    const [mean] = await gpu.read(a.mean);
    // Two updates from 0 with the same batch: 0.1·m + 0.9·0.1·m = 0.19·m.
    assertClose("running mean after 2 steps", rma, Array.from(mean, (m) => 0.19 * m), {
      atol: 1e-6,
      rtol: 1e-5,
    });
  },
});

Deno.test({
  name: "batchnorm GPU: the storage and texture operand forms give identical bytes, every shape",
  ignore: gpuMissing,
  async fn() {
    const gpu = await getGpu();
    for (const s of shapes) {
      await assertSameInBothForms(
        `batchnorm ${JSON.stringify(s)}`,
        gpu,
        async () => (await runBatchnorm(s)).out,
      );
    }
  },
});
