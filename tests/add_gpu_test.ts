// GPU residual add, gradient accumulation and its assigning start against the references
// (vec4 and scalar paths), in both operand forms.
import { assertClose, hasGpu, randomArray } from "./helpers/compare.ts";
import { getGpu } from "../src/gpu/device.ts";
import { addAccumulate, addForward } from "../src/gpu/ops/add.ts";
import * as ref from "../src/ref/add.ts";
import { assertSameInBothForms } from "./helpers/operands.ts";

const gpuMissing = !(await hasGpu());

for (const n of [1, 3, 256, 1001, 70000]) {
  Deno.test({
    name: `add and accumulate GPU = reference (n ${n})`,
    ignore: gpuMissing,
    async fn() {
      const gpu = await getGpu();
      const a = randomArray(n, 1), b = randomArray(n, 2);
      const aT = gpu.tensor([n], "a", a), bT = gpu.tensor([n], "b", b), y = gpu.tensor([n], "y");
      const run = async () => {
        const acc = gpu.tensor([n], "acc", a), set = gpu.tensor([n], "set", a);
        gpu.run([
          ...await addForward(gpu, { a: aT, b: bT, y }),
          ...await addAccumulate(gpu, { x: bT, y: acc }, -0.5),
          ...await addAccumulate(gpu, { x: bT, y: set }, 0.25, true),
        ]);
        return await gpu.read(y, acc, set);
      };
      await assertSameInBothForms(`add n ${n}`, gpu, run);
      const [yG, accG, setG] = await run();
      assertClose("a + b", yG, ref.addForward(a, b), { atol: 1e-7 });
      assertClose("a − 0.5·b", accG, ref.addAccumulate(a, b, -0.5), { atol: 1e-7 });
      assertClose("0.25·b (assign)", setG, ref.addAccumulate(new Float64Array(n), b, 0.25), {
        atol: 1e-7,
      });
    },
  });
}
