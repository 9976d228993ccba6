// GPU bias add and bias gradient (column sums) against the references.
import { assertEquals } from "@std/assert";
import { assertClose, hasGpu, randomArray } from "./helpers/compare.ts";
import { getGpu } from "../src/gpu/device.ts";
import { biasBackward, biasForward } from "../src/gpu/ops/bias.ts";
import * as ref from "../src/ref/linear.ts";

const gpuMissing = !(await hasGpu());

for (const s of [{ N: 1, O: 1 }, { N: 3, O: 65 }, { N: 64, O: 10007 }]) {
  Deno.test({
    name: `bias GPU = reference (N${s.N} O${s.O})`,
    ignore: gpuMissing,
    async fn() {
      const gpu = await getGpu();
      const y = randomArray(s.N * s.O, 1), b = randomArray(s.O, 2);
      const yT = gpu.tensor([s.N * s.O], "y", y), bT = gpu.tensor([s.O], "b", b);
      const db = gpu.tensor([s.O]), db2 = gpu.tensor([s.O]);
      const dy = gpu.tensor([s.N * s.O], "dy", y);
      gpu.run([
        ...await biasForward(gpu, { b: bT, y: yT }, s),
        ...await biasBackward(gpu, { dy, db }, s),
        ...await biasBackward(gpu, { dy, db: db2 }, s),
      ]);
      const [yG, dbG, db2G] = await gpu.read(yT, db, db2);
      assertClose("y + b", yG, ref.biasForward(y, b, s), { atol: 1e-6 });
      assertClose("db", dbG, ref.biasBackward(y, s), { atol: 1e-5, rtol: 1e-5 });
      assertEquals(dbG, db2G);
    },
  });
}
