// The bench's memory-ceiling probe against its reference, in both operand forms, on lane
// counts that are not multiples of the workgroup size.
import { assertEquals } from "@std/assert";
import { assertClose, hasGpu, randomArray } from "./helpers/compare.ts";
import { getGpu } from "../src/gpu/device.ts";
import { streamSum } from "../src/gpu/ops/stream.ts";
import * as ref from "../src/ref/stream.ts";
import { assertSameInBothForms } from "./helpers/operands.ts";

const gpuMissing = !(await hasGpu());

Deno.test("stream probe shape covers both sides with at least 4,096 lanes", () => {
  assertEquals(ref.streamShape(100_000, 256), { lanes: 4096, reads: 6, writes: 1 });
  assertEquals(ref.streamShape(1_000_000, 256), { lanes: 15_625, reads: 16, writes: 1 });
  assertEquals(ref.streamShape(40_000, 160_000), { lanes: 10_000, reads: 1, writes: 4 });
});

for (
  const s of [{ lanes: 1, reads: 1, writes: 1 }, { lanes: 100, reads: 3, writes: 2 }, {
    lanes: 4097,
    reads: 1,
    writes: 5,
  }]
) {
  Deno.test({
    name: `stream probe GPU = reference (${s.lanes} lanes, ${s.reads} in, ${s.writes} out)`,
    ignore: gpuMissing,
    async fn() {
      const gpu = await getGpu();
      const x = randomArray(4 * s.lanes * s.reads, 3);
      const xT = gpu.tensor([x.length], "x", x), y = gpu.tensor([4 * s.lanes * s.writes], "y");
      const run = async () => {
        gpu.run(await streamSum(gpu, { x: xT, y }, s));
        return await gpu.read(y);
      };
      await assertSameInBothForms(`stream ${JSON.stringify(s)}`, gpu, run);
      const [yG] = await run();
      assertClose("stream sum", yG, ref.streamSum(x, s), { atol: 1e-5, rtol: 1e-6 });
    },
  });
}
