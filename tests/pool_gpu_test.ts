// GPU global average pooling against the reference.
import { assertClose, hasGpu, randomArray } from "./helpers/compare.ts";
import { getGpu } from "../src/gpu/device.ts";
import { poolBackward, poolForward } from "../src/gpu/ops/pool.ts";
import * as ref from "../src/ref/pool.ts";

const gpuMissing = !(await hasGpu());

for (const s of [{ N: 1, C: 3, HW: 7 }, { N: 5, C: 13, HW: 49 }, { N: 3, C: 70, HW: 1 }]) {
  Deno.test({
    name: `pool GPU = reference (N${s.N} C${s.C} HW${s.HW})`,
    ignore: gpuMissing,
    async fn() {
      const gpu = await getGpu();
      const n = s.N * s.C * s.HW, r = s.N * s.C;
      const x = randomArray(n, 1), dy = randomArray(r, 2);
      const xT = gpu.tensor([n], "x", x),
        y = gpu.tensor([r]),
        dyT = gpu.tensor([r], "dy", dy),
        dx = gpu.tensor([n]);
      gpu.run([
        ...await poolForward(gpu, { x: xT, y }, s),
        ...await poolBackward(gpu, { dy: dyT, dx }, s),
      ]);
      const [yG, dxG] = await gpu.read(y, dx);
      assertClose("y", yG, ref.poolForward(x, s), { atol: 1e-6 });
      assertClose("dx", dxG, ref.poolBackward(dy, s), { atol: 1e-7 });
    },
  });
}
