// GPU dropout: the mask equals the reference's bit for bit (same counter hash), changes with
// the step word written before submit, and the backward reuses it.
import { assert, assertEquals } from "@std/assert";
import { assertClose, hasGpu, randomArray } from "./helpers/compare.ts";
import { getGpu } from "../src/gpu/device.ts";
import { dropoutBackward, dropoutForward } from "../src/gpu/ops/dropout.ts";
import * as ref from "../src/ref/dropout.ts";

const gpuMissing = !(await hasGpu());

for (const n of [5, 4096, 10001]) {
  Deno.test({
    name: `dropout GPU = reference for two steps (n ${n})`,
    ignore: gpuMissing,
    async fn() {
      const gpu = await getGpu();
      const s = { p: 0.3, seed: 1234, salt: 2 };
      const x = randomArray(n, 1), dy = randomArray(n, 2);
      const step = gpu.tensor([1], "step");
      const xT = gpu.tensor([n], "x", x),
        y = gpu.tensor([n]),
        dyT = gpu.tensor([n], "dy", dy),
        dx = gpu.tensor([n]);
      const list = [
        ...await dropoutForward(gpu, { x: xT, y, step }, s),
        ...await dropoutBackward(gpu, { dy: dyT, dx, step }, s),
      ];
      for (const t of [0, 77]) {
        gpu.write(step, new Uint32Array([t]));
        gpu.run(list);
        const [yG, dxG] = await gpu.read(y, dx);
        assertClose(`y step ${t}`, yG, ref.dropoutForward(x, t, s), { atol: 1e-6, rtol: 1e-6 });
        assertClose(`dx step ${t}`, dxG, ref.dropoutBackward(dy, t, s), { atol: 1e-6, rtol: 1e-6 });
      }
    },
  });
}

Deno.test({
  name: "dropout drops exactly (0 even for non-finite inputs) and p = 0 is the identity",
  ignore: gpuMissing,
  async fn() {
    const gpu = await getGpu();
    const n = 4000;
    const step = gpu.tensor([1], "step");
    const x = gpu.tensor([n], "x", new Float32Array(n).fill(Infinity)), y = gpu.tensor([n]);
    gpu.run(await dropoutForward(gpu, { x, y, step }, { p: 0.5, seed: 3 }));
    const [yG] = await gpu.read(y);
    const mask = ref.dropoutMask(n, 0, { p: 0.5, seed: 3 });
    for (let i = 0; i < n; i++) assertEquals(yG[i], mask[i] ? Infinity : 0);
    const v = randomArray(n, 9), xv = gpu.tensor([n], "x", v);
    gpu.run(await dropoutForward(gpu, { x: xv, y, step }, { p: 0, seed: 3 }));
    const [same] = await gpu.read(y);
    assertEquals(same, v);
    assert(mask.some((m) => m === 0) && mask.some((m) => m === 1));
  },
});
