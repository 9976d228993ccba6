// GPU L2 normalisation (forward, norms-only, backward in place with and without the division)
// against the reference, including a row under the eps guard.
import { assertClose, hasGpu, randomArray } from "./helpers/compare.ts";
import { getGpu } from "../src/gpu/device.ts";
import { l2normBackward, l2normForward } from "../src/gpu/ops/l2norm.ts";
import * as ref from "../src/ref/l2norm.ts";

const gpuMissing = !(await hasGpu());

for (
  const s of [{ R: 1, D: 3 }, { R: 5, D: 512 }, { R: 7, D: 97, eps: 1e-3 }, { R: 70001, D: 4 }]
) {
  Deno.test({
    name: `l2norm GPU = reference (R${s.R} D${s.D})`,
    ignore: gpuMissing,
    async fn() {
      const gpu = await getGpu();
      const n = s.R * s.D;
      const x = randomArray(n, 1), dy = randomArray(n, 2);
      if (s.eps) { for (let d = 0; d < s.D; d++) x[2 * s.D + d] *= 1e-6; // row 2 under the guard
       }
      const xT = gpu.tensor([n], "x", x),
        y = gpu.tensor([n]),
        norm = gpu.tensor([s.R]),
        norm2 = gpu.tensor([s.R]);
      const g = gpu.tensor([n], "g", dy), gProj = gpu.tensor([n], "gp", dy);
      gpu.run([
        ...await l2normForward(gpu, { x: xT, y, norm }, s),
        ...await l2normForward(gpu, { x: xT, norm: norm2 }, s),
        ...await l2normBackward(gpu, { x: xT, norm, g }, s),
        ...await l2normBackward(gpu, { x: xT, norm, g: gProj }, { ...s, divide: false }),
      ]);
      const [yG, nG, n2G, dxG, projG] = await gpu.read(y, norm, norm2, g, gProj);
      const want = ref.l2normForward(x, s);
      assertClose("y", yG, want.y, { atol: 1e-6, rtol: 1e-5, shape: [s.R, s.D] });
      assertClose("norm", nG, want.norms, { atol: 1e-7, rtol: 1e-5 });
      assertClose("norm only", n2G, want.norms, { atol: 1e-7, rtol: 1e-5 });
      const dx = ref.l2normBackward(dy, x, want.norms, s);
      assertClose("dx", dxG, dx, { atol: 1e-5, rtol: 1e-4, shape: [s.R, s.D] });
      const eps = s.eps ?? ref.L2_EPS;
      const proj = dx.map((v, i) => v * Math.max(want.norms[Math.floor(i / s.D)], eps));
      assertClose("projection", projG, proj, { atol: 1e-5, rtol: 1e-4, shape: [s.R, s.D] });
    },
  });
}
