// GPU fully connected layer (matmul + bias kernels) against the plain-loop reference.
import { assertClose, hasGpu, randomArray } from "./helpers/compare.ts";
import { getGpu } from "../src/gpu/device.ts";
import { linearBackward, linearForward } from "../src/gpu/ops/linear.ts";
import * as ref from "../src/ref/linear.ts";

const gpuMissing = !(await hasGpu());

for (const s of [{ N: 1, I: 3, O: 5 }, { N: 7, I: 33, O: 17 }, { N: 64, I: 512, O: 130 }]) {
  Deno.test({
    name: `linear GPU = reference (N${s.N} I${s.I} O${s.O})`,
    ignore: gpuMissing,
    async fn() {
      const gpu = await getGpu();
      const x = randomArray(s.N * s.I, 1), w = randomArray(s.O * s.I, 2), b = randomArray(s.O, 3);
      const dy = randomArray(s.N * s.O, 4);
      const T = (d: Float32Array) => gpu.tensor([d.length], "", d);
      const xT = T(x), wT = T(w), bT = T(b), dyT = T(dy);
      const y = gpu.tensor([s.N * s.O]),
        dx = gpu.tensor([s.N * s.I]),
        dw = gpu.tensor([s.O * s.I]),
        db = gpu.tensor([s.O]);
      gpu.run([
        ...await linearForward(gpu, { x: xT, w: wT, b: bT, y }, s),
        ...await linearBackward(gpu, { dy: dyT, x: xT, w: wT, dx, dw, db }, s),
      ]);
      const [yG, dxG, dwG, dbG] = await gpu.read(y, dx, dw, db);
      const want = ref.linearBackward(dy, x, w, s);
      const tol = { atol: 1e-5 * Math.sqrt(Math.max(s.I, s.N)), rtol: 1e-4 };
      assertClose("y", yG, ref.linearForward(x, w, b, s), { ...tol, shape: [s.N, s.O] });
      assertClose("dx", dxG, want.dx, { ...tol, shape: [s.N, s.I] });
      assertClose("dw", dwG, want.dw, { ...tol, shape: [s.O, s.I] });
      assertClose("db", dbG, want.db, tol);
    },
  });
}
