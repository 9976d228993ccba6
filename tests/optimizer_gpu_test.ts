// The GPU optimizer steps (SGD and AdamW) against their float64 references (src/ref/sgd.ts,
// src/ref/adamw.ts) over several groups (vec4 and scalar paths, decay ranges, a group
// outside clipping), with clipping, the per-step learning rate, and the non-finite guard's
// skip and sticky record.
import { assert, assertEquals } from "@std/assert";
import { assertClose, hasGpu, randomArray } from "./helpers/compare.ts";
import { getGpu, type Gpu } from "../src/gpu/device.ts";
import {
  buildOptimizer,
  decayMask,
  type OptimizerKind,
  type ParamGroup,
} from "../src/train/optimizer.ts";
import { sgdStep } from "../src/ref/sgd.ts";
import { adamwStep } from "../src/ref/adamw.ts";
import { inBothForms } from "./helpers/operands.ts";

const gpuMissing = !(await hasGpu());

interface Setup {
  sizes: number[];
  decay: ParamGroup["decay"][];
  clip: boolean[];
}

const SETUP: Setup = {
  sizes: [1000, 77, 64],
  decay: [[{ offset: 0, size: 300 }, { offset: 640, size: 360 }], false, true],
  clip: [true, false, true],
};

async function build(
  gpu: Gpu,
  clipNorm: number | null,
  seed: number,
  kind: OptimizerKind = "sgd",
) {
  const loss = gpu.tensor([8], "loss");
  const groups: ParamGroup[] = SETUP.sizes.map((n, i) => ({
    name: `g${i}`,
    param: gpu.tensor([n], `p${i}`, randomArray(n, seed + i)),
    grad: gpu.tensor([n], `g${i}`),
    decay: SETUP.decay[i],
    clip: SETUP.clip[i],
  }));
  const opt = await buildOptimizer(gpu, groups, {
    kind,
    momentum: 0.9,
    weightDecay: 0.01,
    clipNorm,
    loss,
  });
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
  return { groups, opt, loss, decay, clip, concat };
}

/** The reference step of `kind` on the concatenated groups, state in the GPU buffers' layout. */
function referenceStep(
  kind: OptimizerKind,
  b: Awaited<ReturnType<typeof build>>,
  param: Float64Array,
  grads: Float32Array[],
  state: Float64Array,
  step: number,
  lr: number,
  clipNorm: number | null,
) {
  const grad = grads.flatMap((g) => [...g]);
  const common = { lr: Math.fround(lr), weightDecay: 0.01, decay: b.decay, clipNorm, clip: b.clip };
  if (kind === "sgd") {
    const r = sgdStep(param, grad, state, { ...common, momentum: 0.9, loss: 1.5 });
    return { ...r, state: r.momentum };
  }
  // The GPU keeps [m; v] per group; the reference wants [m; v] over the concatenation.
  const sizes = b.groups.map((g) => g.param.size);
  const split = (s: Float64Array) => {
    const m: number[] = [], v: number[] = [];
    let at = 0;
    for (const n of sizes) {
      m.push(...s.subarray(at, at + n));
      v.push(...s.subarray(at + n, at + 2 * n));
      at += 2 * n;
    }
    return Float64Array.from([...m, ...v]);
  };
  const join = (s: Float64Array) => {
    const out: number[] = [], total = param.length;
    let at = 0;
    for (const n of sizes) {
      out.push(...s.subarray(at, at + n), ...s.subarray(total + at, total + at + n));
      at += n;
    }
    return Float64Array.from(out);
  };
  const r = adamwStep(param, grad, split(state), {
    ...common,
    beta1: 0.9,
    beta2: 0.999,
    eps: 1e-8,
    t: step + 1,
    loss: 1.5,
  });
  return { ...r, state: join(r.state) };
}

for (const kind of ["sgd", "adamw"] as const) {
  for (const clipNorm of [null, 0.5]) {
    Deno.test({
      name: `${kind} GPU = reference over 3 steps (clip ${clipNorm})`,
      ignore: gpuMissing,
      async fn() {
        const gpu = await getGpu();
        const b = await build(gpu, clipNorm, 1, kind);
        let param = await b.concat(b.groups.map((g) => g.param));
        let state = new Float64Array((kind === "adamw" ? 2 : 1) * param.length);
        for (const [step, lr] of [[0, 0.1], [1, 0.05], [2, 0.2]]) {
          const grads = b.groups.map((g, i) => randomArray(g.param.size, 100 + 10 * step + i));
          b.groups.forEach((g, i) => gpu.write(g.grad, grads[i]));
          gpu.write(b.loss, new Float32Array([1.5]));
          b.opt.setStep(step, lr);
          gpu.run(b.opt.dispatches);
          const want = referenceStep(kind, b, param, grads, state, step, lr, clipNorm);
          const got = await b.concat(b.groups.map((g) => g.param));
          const gotState = await b.concat(b.opt.state);
          assertClose(`params after step ${step}`, got, want.param, { atol: 1e-6, rtol: 1e-5 });
          assertClose(`state after step ${step}`, gotState, want.state, {
            atol: 1e-5,
            rtol: 1e-5,
          });
          const st = await b.opt.readStatus();
          assertClose("norms", [st.gradNorm, st.clipGradNorm, st.scale], [
            want.gradNorm,
            want.clipGradNorm,
            want.scale,
          ], { rtol: 1e-5 });
          assert(st.applied && st.firstBadStep === null && st.lastStep === step);
          if (clipNorm !== null) assert(st.scale < 1, "the test should exercise clipping");
          // Continue from the GPU's values so float32 rounding does not accumulate apart.
          param = got;
          state = gotState;
        }
      },
    });
  }
}

for (const kind of ["sgd", "adamw"] as const) {
  Deno.test({
    name:
      `${kind} skips non-finite steps, keeps the last good values and records the first bad step`,
    ignore: gpuMissing,
    async fn() {
      const gpu = await getGpu();
      const b = await build(gpu, 1, 2, kind);
      const step = (s: number, loss: number, poison: boolean) => {
        b.groups.forEach((g, i) => {
          const grad = randomArray(g.param.size, 50 + i);
          if (poison && i === 1) grad[5] = Infinity;
          gpu.write(g.grad, grad);
        });
        gpu.write(b.loss, new Float32Array([loss]));
        b.opt.setStep(s, 0.1);
        gpu.run(b.opt.dispatches);
      };
      step(0, 1, false);
      const good = await b.concat(b.groups.map((g) => g.param));
      const goodV = await b.concat(b.opt.state);
      step(1, 1, true); // gradient not finite
      step(2, NaN, false); // loss not finite
      assertEquals(await b.concat(b.groups.map((g) => g.param)), good);
      assertEquals(await b.concat(b.opt.state), goodV);
      let st = await b.opt.readStatus();
      assertEquals([st.applied, st.firstBadStep, st.skipped], [false, 1, 2]);
      step(3, 1, false);
      st = await b.opt.readStatus();
      assertEquals([st.applied, st.firstBadStep, st.skipped, st.lastStep], [true, 1, 2, 3]);
      assert((await b.concat(b.groups.map((g) => g.param))).some((v, i) => v !== good[i]));
      b.opt.resetStatus();
      st = await b.opt.readStatus();
      assertEquals([st.firstBadStep, st.skipped], [null, 0]);
    },
  });

  Deno.test({
    name: `${kind} is bit-identical run to run and in both operand forms`,
    ignore: gpuMissing,
    async fn() {
      const gpu = await getGpu();
      const once = async () => {
        const b = await build(gpu, 0.3, 3, kind);
        b.groups.forEach((g, i) => gpu.write(g.grad, randomArray(g.param.size, 7 + i)));
        b.opt.setStep(0, 0.1);
        gpu.run([...b.opt.dispatches, ...b.opt.dispatches]);
        return Float32Array.from(await b.concat(b.groups.map((g) => g.param)));
      };
      const runs = [...await inBothForms(gpu, once), await once()];
      for (const r of runs.slice(1)) {
        assertEquals(new Uint8Array(r.buffer), new Uint8Array(runs[0].buffer));
      }
    },
  });
}

Deno.test("decay masks cover exactly the given ranges", () => {
  const fake = { size: 70 } as unknown as ParamGroup["param"];
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
