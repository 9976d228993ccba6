// GPU PReLU and ReLU against the float64 references on awkward shapes, in both operand
// forms, and determinism.
import { assertEquals } from "@std/assert";
import { assertClose, hasGpu, randomArray } from "./helpers/compare.ts";
import { getGpu } from "../src/gpu/device.ts";
import { preluBackward, preluForward } from "../src/gpu/ops/prelu.ts";
import { reluBackward, reluForward } from "../src/gpu/ops/relu.ts";
import * as prelu from "../src/ref/prelu.ts";
import * as relu from "../src/ref/relu.ts";
import { assertSameInBothForms } from "./helpers/operands.ts";

const gpuMissing = !(await hasGpu());

for (
  const s of [
    { N: 3, C: 5, HW: 7 },
    { N: 2, C: 3, HW: 16 },
    { N: 1, C: 1, HW: 1 },
    {
      N: 9,
      C: 7,
      HW: 1,
    },
    { N: 6, C: 3, HW: 700 },
    { N: 3, C: 5, HW: 512 },
    { N: 2, C: 3, HW: 1024 }, // four items per invocation, workgroups aligned to planes
  ]
) {
  Deno.test({
    name: `prelu GPU = reference (N${s.N} C${s.C} HW${s.HW})`,
    ignore: gpuMissing,
    async fn() {
      const gpu = await getGpu();
      const n = s.N * s.C * s.HW;
      const x = randomArray(n, 1), dy = randomArray(n, 2), a = randomArray(s.C, 3, 0, 0.5);
      if (n > 1) x[1] = 0; // the kink belongs to the negative side, as PyTorch
      const xT = gpu.tensor([n], "x", x),
        slope = gpu.tensor([s.C], "a", a),
        y = gpu.tensor([n], "y");
      const dyT = gpu.tensor([n], "dy", dy),
        dx = gpu.tensor([n], "dx"),
        dslope = gpu.tensor([s.C], "da");
      const run = async () => {
        gpu.run([
          ...await preluForward(gpu, { x: xT, slope, y }, s),
          ...await preluBackward(gpu, { dy: dyT, x: xT, slope, dx, dslope }, s),
        ]);
        return await gpu.read(y, dx, dslope);
      };
      await assertSameInBothForms(`prelu ${JSON.stringify(s)}`, gpu, run);
      const [yG, dxG, daG] = await run();
      const want = prelu.preluBackward(dy, x, a, s);
      assertClose("y", yG, prelu.preluForward(x, a, s), { atol: 1e-7, shape: [s.N, s.C, s.HW] });
      assertClose("dx", dxG, want.dx, { atol: 1e-7, shape: [s.N, s.C, s.HW] });
      assertClose("dslope", daG, want.dslope, { atol: 1e-5, rtol: 1e-5 });
    },
  });
}

for (const n of [1, 7, 64, 4099, 4100]) {
  Deno.test({
    name: `relu GPU = reference (n ${n})`,
    ignore: gpuMissing,
    async fn() {
      const gpu = await getGpu();
      const x = randomArray(n, 4), dy = randomArray(n, 5);
      x[0] = 0;
      const xT = gpu.tensor([n], "x", x),
        y = gpu.tensor([n]),
        dyT = gpu.tensor([n], "dy", dy),
        dx = gpu.tensor([n]);
      const run = async () => {
        gpu.run([
          ...await reluForward(gpu, { x: xT, y }),
          ...await reluBackward(gpu, { dy: dyT, x: xT, dx }),
        ]);
        return await gpu.read(y, dx);
      };
      await assertSameInBothForms(`relu n ${n}`, gpu, run);
      const [yG, dxG] = await run();
      assertClose("y", yG, relu.reluForward(x), { atol: 0 });
      assertClose("dx", dxG, relu.reluBackward(dy, x), { atol: 0 });
    },
  });
}

Deno.test({
  name: "prelu slope gradient is bit-identical run to run",
  ignore: gpuMissing,
  async fn() {
    const gpu = await getGpu();
    const s = { N: 8, C: 4, HW: 900 }, n = 8 * 4 * 900;
    const t = {
      dy: gpu.tensor([n], "dy", randomArray(n, 6)),
      x: gpu.tensor([n], "x", randomArray(n, 7)),
      slope: gpu.tensor([4], "a", new Float32Array([0.1, 0.2, 0.3, 0.4])),
    };
    const out = () => ({ dx: gpu.tensor([n]), dslope: gpu.tensor([4]) });
    const a = out(), b = out();
    gpu.run([
      ...await preluBackward(gpu, { ...t, ...a }, s),
      ...await preluBackward(gpu, { ...t, ...b }, s),
    ]);
    const [da, db] = await gpu.read(a.dslope, b.dslope);
    assertEquals(new Uint8Array(da.buffer), new Uint8Array(db.buffer));
  },
});
