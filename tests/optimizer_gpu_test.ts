// The GPU SGD step against the float64 reference (src/ref/sgd.ts) over several groups
// (vec4 and scalar paths, decay ranges, a group outside clipping), with clipping, the
// per-step learning rate, and the non-finite guard's skip and sticky record.
import { assert, assertEquals } from "@std/assert";
import { assertClose, hasGpu, randomArray } from "./helpers/compare.ts";
import { getGpu, type Gpu } from "../src/gpu/device.ts";
import { buildSgd, decayMask, type SgdGroup } from "../src/train/optimizer.ts";
import { sgdStep } from "../src/ref/sgd.ts";

const gpuMissing = !(await hasGpu());

interface Setup {
  sizes: number[];
  decay: SgdGroup["decay"][];
  clip: boolean[];
}

const SETUP: Setup = {
  sizes: [1000, 77, 64],
  decay: [[{ offset: 0, size: 300 }, { offset: 640, size: 360 }], false, true],
  clip: [true, false, true],
};

async function build(gpu: Gpu, clipNorm: number | null, seed: number) {
  const loss = gpu.tensor([8], "loss");
  const groups: SgdGroup[] = SETUP.sizes.map((n, i) => ({
    name: `g${i}`,
    param: gpu.tensor([n], `p${i}`, randomArray(n, seed + i)),
    grad: gpu.tensor([n], `g${i}`),
    decay: SETUP.decay[i],
    clip: SETUP.clip[i],
  }));
  const sgd = await buildSgd(gpu, groups, { momentum: 0.9, weightDecay: 0.01, clipNorm, loss });
  // The reference sees the groups concatenated, with per-element decay and clip flags.
  const decay: number[] = [], clip: number[] = [];
  groups.forEach((g, i) => {
    const mask = decayMask(g);
    for (let e = 0; e < g.param.size; e++) {
      decay.push((mask[e >>> 5] >>> (e & 31)) & 1);
      clip.push(SETUP.clip[i] ? 1 : 0);
    }
  });
  const concat = async (ts: { size: number }[] & Parameters<Gpu["read"]>) =>
    Float64Array.from((await gpu.read(...ts)).flatMap((a) => [...a]));
  return { groups, sgd, loss, decay, clip, concat };
}

for (const clipNorm of [null, 0.5]) {
  Deno.test({
    name: `sgd GPU = reference over 3 steps (clip ${clipNorm})`,
    ignore: gpuMissing,
    async fn() {
      const gpu = await getGpu();
      const b = await build(gpu, clipNorm, 1);
      let param = await b.concat(b.groups.map((g) => g.param));
      let mom = new Float64Array(param.length);
      for (const [step, lr] of [[0, 0.1], [1, 0.05], [2, 0.2]]) {
        const grads = b.groups.map((g, i) => randomArray(g.param.size, 100 + 10 * step + i));
        b.groups.forEach((g, i) => gpu.write(g.grad, grads[i]));
        gpu.write(b.loss, new Float32Array([1.5]));
        b.sgd.setStep(step, lr);
        gpu.run(b.sgd.dispatches);
        const want = sgdStep(param, grads.flatMap((g) => [...g]), mom, {
          lr: Math.fround(lr),
          momentum: 0.9,
          weightDecay: 0.01,
          decay: b.decay,
          clipNorm,
          clip: b.clip,
          loss: 1.5,
        });
        const got = await b.concat(b.groups.map((g) => g.param));
        const vel = await b.concat(b.sgd.velocity);
        assertClose(`params after step ${step}`, got, want.param, { atol: 1e-6, rtol: 1e-5 });
        assertClose(`velocity after step ${step}`, vel, want.momentum, { atol: 1e-5, rtol: 1e-5 });
        const st = await b.sgd.readStatus();
        assertClose("norms", [st.gradNorm, st.clipGradNorm, st.scale], [
          want.gradNorm,
          want.clipGradNorm,
          want.scale,
        ], { rtol: 1e-5 });
        assert(st.applied && st.firstBadStep === null && st.lastStep === step);
        if (clipNorm !== null) assert(st.scale < 1, "the test should exercise clipping");
        // Continue from the GPU's values so float32 rounding does not accumulate apart.
        param = got;
        mom = vel;
      }
    },
  });
}

Deno.test({
  name: "sgd skips non-finite steps, keeps the last good values and records the first bad step",
  ignore: gpuMissing,
  async fn() {
    const gpu = await getGpu();
    const b = await build(gpu, 1, 2);
    const step = (s: number, loss: number, poison: boolean) => {
      b.groups.forEach((g, i) => {
        const grad = randomArray(g.param.size, 50 + i);
        if (poison && i === 1) grad[5] = Infinity;
        gpu.write(g.grad, grad);
      });
      gpu.write(b.loss, new Float32Array([loss]));
      b.sgd.setStep(s, 0.1);
      gpu.run(b.sgd.dispatches);
    };
    step(0, 1, false);
    const good = await b.concat(b.groups.map((g) => g.param));
    const goodV = await b.concat(b.sgd.velocity);
    step(1, 1, true); // gradient not finite
    step(2, NaN, false); // loss not finite
    assertEquals(await b.concat(b.groups.map((g) => g.param)), good);
    assertEquals(await b.concat(b.sgd.velocity), goodV);
    let st = await b.sgd.readStatus();
    assertEquals([st.applied, st.firstBadStep, st.skipped], [false, 1, 2]);
    step(3, 1, false);
    st = await b.sgd.readStatus();
    assertEquals([st.applied, st.firstBadStep, st.skipped, st.lastStep], [true, 1, 2, 3]);
    assert((await b.concat(b.groups.map((g) => g.param))).some((v, i) => v !== good[i]));
    b.sgd.resetStatus();
    st = await b.sgd.readStatus();
    assertEquals([st.firstBadStep, st.skipped], [null, 0]);
  },
});

Deno.test({
  name: "sgd is bit-identical run to run",
  ignore: gpuMissing,
  async fn() {
    const gpu = await getGpu();
    const runs = [];
    for (let r = 0; r < 2; r++) {
      const b = await build(gpu, 0.3, 3);
      b.groups.forEach((g, i) => gpu.write(g.grad, randomArray(g.param.size, 7 + i)));
      b.sgd.setStep(0, 0.1);
      gpu.run([...b.sgd.dispatches, ...b.sgd.dispatches]);
      runs.push(Float32Array.from(await b.concat(b.groups.map((g) => g.param))));
    }
    assertEquals(new Uint8Array(runs[0].buffer), new Uint8Array(runs[1].buffer));
  },
});

Deno.test("decay masks cover exactly the given ranges", () => {
  const fake = { size: 70 } as unknown as SgdGroup["param"];
  const m = decayMask({
    name: "x",
    param: fake,
    grad: fake,
    decay: [{ offset: 3, size: 30 }, { offset: 64, size: 6 }],
  });
  const bits = Array.from({ length: 70 }, (_, e) => (m[e >>> 5] >>> (e & 31)) & 1);
  assertEquals(bits.reduce((a, b) => a + b, 0), 36);
  assertEquals([bits[2], bits[3], bits[32], bits[33], bits[63], bits[64], bits[69]], [
    0,
    1,
    1,
    0,
    0,
    1,
    1,
  ]);
});
