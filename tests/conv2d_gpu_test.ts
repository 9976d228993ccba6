// The convolution kernels against the float64 reference: forward, input gradient and
// weight gradient on shapes that are not multiples of the tiles (odd channel counts, odd
// batches, ragged images, several channel blocks), strides 1, 2 and 3, padding 0/1/2/3,
// kernels 1×1, 2×3, 3×2, 3×3, 5×3, 5×5, 7×7, groups 1, 2, 3, 4 and depthwise — every kernel
// family: the packed GEMMs, the direct kernels (up to 32 input channels, 48 for the weight
// gradient; strided 1×1 layers and 1×1 layers on maps of up to 16 pixels), the
// depthwise and narrow-group kernels; accumulate; and bit-identical reruns.
import { assert, assertEquals } from "@std/assert";
import { type Dispatch, getGpu, type Gpu, type Tensor } from "../src/gpu/device.ts";
import { conv2dBackwardInput, conv2dBackwardWeight, conv2dForward } from "../src/gpu/ops/conv2d.ts";
import * as ref from "../src/ref/conv2d.ts";
import { type Conv2dShape, conv2dSizes } from "../src/ref/conv2d.ts";
import { conv2dBackwardWeightWgsl, conv2dForwardWgsl } from "../kernels/conv2d_gen.ts";
import { assertClose, hasGpu, randomArray } from "./helpers/compare.ts";
import { assertSameInBothForms } from "./helpers/operands.ts";

const ignore = !(await hasGpu());

const cases: [string, Conv2dShape][] = [
  // Widths divisible by 4: in the texture form the direct kernels fetch x and dy rows as vec4s,
  // with padding 0–3 putting the row's first column at each position of a quad.
  ["direct kernels, vec4 rows: 3×3/1 pad 1 16→8, 6×8", {
    N: 2,
    Cin: 16,
    H: 6,
    W: 8,
    Cout: 8,
    kh: 3,
    kw: 3,
    stride: 1,
    pad: 1,
    groups: 1,
  }],
  ["direct kernels, vec4 rows: stem 7×7/2 pad 3 3→8, 12×16", {
    N: 1,
    Cin: 3,
    H: 12,
    W: 16,
    Cout: 8,
    kh: 7,
    kw: 7,
    stride: 2,
    pad: 3,
    groups: 1,
  }],
  ["direct kernels, vec4 rows: 5×5/1 pad 2 8→6, 7×12", {
    N: 2,
    Cin: 8,
    H: 7,
    W: 12,
    Cout: 6,
    kh: 5,
    kw: 5,
    stride: 1,
    pad: 2,
    groups: 1,
  }],
  ["direct kernels, vec4 rows: 1×1/2 8→12, 8×8", {
    N: 2,
    Cin: 8,
    H: 8,
    W: 8,
    Cout: 12,
    kh: 1,
    kw: 1,
    stride: 2,
    pad: 0,
    groups: 1,
  }],
  ["stem 3→5, 3×3/2 pad 1, batch 3", {
    N: 3,
    Cin: 3,
    H: 9,
    W: 9,
    Cout: 5,
    kh: 3,
    kw: 3,
    stride: 2,
    pad: 1,
    groups: 1,
  }],
  ["7→9, 3×3/1 pad 1, 6×5 image", {
    N: 1,
    Cin: 7,
    H: 6,
    W: 5,
    Cout: 9,
    kh: 3,
    kw: 3,
    stride: 1,
    pad: 1,
    groups: 1,
  }],
  ["1×1/2 shortcut 6→10", {
    N: 2,
    Cin: 6,
    H: 7,
    W: 7,
    Cout: 10,
    kh: 1,
    kw: 1,
    stride: 2,
    pad: 0,
    groups: 1,
  }],
  ["7×7/2 pad 3", {
    N: 1,
    Cin: 3,
    H: 13,
    W: 11,
    Cout: 4,
    kh: 7,
    kw: 7,
    stride: 2,
    pad: 3,
    groups: 1,
  }],
  ["groups 2", { N: 3, Cin: 6, H: 5, W: 6, Cout: 10, kh: 3, kw: 3, stride: 1, pad: 1, groups: 2 }],
  ["depthwise 3×3/2", {
    N: 2,
    Cin: 5,
    H: 8,
    W: 8,
    Cout: 5,
    kh: 3,
    kw: 3,
    stride: 2,
    pad: 1,
    groups: 5,
  }],
  ["depthwise 3×3/1, 12×12, batch 3", {
    N: 3,
    Cin: 8,
    H: 12,
    W: 12,
    Cout: 8,
    kh: 3,
    kw: 3,
    stride: 1,
    pad: 1,
    groups: 8,
  }],
  ["depthwise 7×7 to 1×1 (GDC)", {
    N: 3,
    Cin: 6,
    H: 7,
    W: 7,
    Cout: 6,
    kh: 7,
    kw: 7,
    stride: 1,
    pad: 0,
    groups: 6,
  }],
  ["depthwise 7×7/1 pad 3, 6×12 (vec4 loads reaching a block left of the tile)", {
    N: 2,
    Cin: 3,
    H: 6,
    W: 12,
    Cout: 3,
    kh: 7,
    kw: 7,
    stride: 1,
    pad: 3,
    groups: 3,
  }],
  ["depthwise 3×3/1, 14×7, 5 channels (7 × 7 tiles)", {
    N: 2,
    Cin: 5,
    H: 14,
    W: 7,
    Cout: 5,
    kh: 3,
    kw: 3,
    stride: 1,
    pad: 1,
    groups: 5,
  }],
  ["depthwise 3×3/1, 17×8 (tall tiles of 9 rows, the last one short)", {
    N: 2,
    Cin: 4,
    H: 17,
    W: 8,
    Cout: 4,
    kh: 3,
    kw: 3,
    stride: 1,
    pad: 1,
    groups: 4,
  }],
  ["depthwise 3×3/2, 33×16 (forward in tall tiles of 9 output rows)", {
    N: 1,
    Cin: 3,
    H: 33,
    W: 16,
    Cout: 3,
    kh: 3,
    kw: 3,
    stride: 2,
    pad: 1,
    groups: 3,
  }],
  ["depthwise 3×3/2 pad 0, ragged 9×11, 7 channels", {
    N: 2,
    Cin: 7,
    H: 9,
    W: 11,
    Cout: 7,
    kh: 3,
    kw: 3,
    stride: 2,
    pad: 0,
    groups: 7,
  }],
  ["depthwise 5×3/3 pad 2, 10×13", {
    N: 1,
    Cin: 3,
    H: 10,
    W: 13,
    Cout: 3,
    kh: 5,
    kw: 3,
    stride: 3,
    pad: 2,
    groups: 3,
  }],
  ["1×1/2 shortcut 8→20, 16×12 (channel blocks, vec4 rows)", {
    N: 2,
    Cin: 8,
    H: 16,
    W: 12,
    Cout: 20,
    kh: 1,
    kw: 1,
    stride: 2,
    pad: 0,
    groups: 1,
  }],
  ["1×1/2 shortcut 40→64, 11×13 (32 channels per lane both ways, weight bound as it is)", {
    N: 2,
    Cin: 40,
    H: 11,
    W: 13,
    Cout: 64,
    kh: 1,
    kw: 1,
    stride: 2,
    pad: 0,
    groups: 1,
  }],
  ["1×1/2 shortcut 144→128, 5×6 (a weight over the uniform-buffer limit, bound as it is)", {
    N: 2,
    Cin: 144,
    H: 5,
    W: 6,
    Cout: 128,
    kh: 1,
    kw: 1,
    stride: 2,
    pad: 0,
    groups: 1,
  }],
  ["1×1/3 shortcut 12→5, 10×9", {
    N: 3,
    Cin: 12,
    H: 10,
    W: 9,
    Cout: 5,
    kh: 1,
    kw: 1,
    stride: 3,
    pad: 0,
    groups: 1,
  }],
  ["strided 3×3/2 pad 1 16→16, 9×11 (direct forward and input gradient, GEMM weight gradient)", {
    N: 2,
    Cin: 16,
    H: 9,
    W: 11,
    Cout: 16,
    kh: 3,
    kw: 3,
    stride: 2,
    pad: 1,
    groups: 1,
  }],
  ["strided 3×3/2 pad 1 6→7, 8×7 (direct forward, channels not in fours)", {
    N: 3,
    Cin: 6,
    H: 8,
    W: 7,
    Cout: 7,
    kh: 3,
    kw: 3,
    stride: 2,
    pad: 1,
    groups: 1,
  }],
  ["one-channel stem 1→18, 3×2/2 pad 1, 11×10", {
    N: 2,
    Cin: 1,
    H: 11,
    W: 10,
    Cout: 18,
    kh: 3,
    kw: 2,
    stride: 2,
    pad: 1,
    groups: 1,
  }],
  ["narrow groups 8→8 in 4 (MobileFaceNet-like), 3×3/1, 9×10", {
    N: 2,
    Cin: 8,
    H: 9,
    W: 10,
    Cout: 8,
    kh: 3,
    kw: 3,
    stride: 1,
    pad: 1,
    groups: 4,
  }],
  ["narrow groups 8→12 in 4, 3×3/2 pad 1, 10×16 (vec4 loads in all three directions)", {
    N: 2,
    Cin: 8,
    H: 10,
    W: 16,
    Cout: 12,
    kh: 3,
    kw: 3,
    stride: 2,
    pad: 1,
    groups: 4,
  }],
  ["narrow groups 6→9 in 3, 3×3/2 pad 1, 7×9", {
    N: 2,
    Cin: 6,
    H: 7,
    W: 9,
    Cout: 9,
    kh: 3,
    kw: 3,
    stride: 2,
    pad: 1,
    groups: 3,
  }],
  [
    "narrow groups 6→12 in 3, 3×3/1 pad 1, 7×9 (4 output planes per lane; 2 in the input gradient)",
    {
      N: 2,
      Cin: 6,
      H: 7,
      W: 9,
      Cout: 12,
      kh: 3,
      kw: 3,
      stride: 1,
      pad: 1,
      groups: 3,
    },
  ],
  ["2×3 kernel, pad 0", {
    N: 1,
    Cin: 4,
    H: 6,
    W: 7,
    Cout: 3,
    kh: 2,
    kw: 3,
    stride: 1,
    pad: 0,
    groups: 1,
  }],
  ["3×3/3 pad 0 10→6, 11×13 (direct input gradient, stride 3)", {
    N: 2,
    Cin: 10,
    H: 11,
    W: 13,
    Cout: 6,
    kh: 3,
    kw: 3,
    stride: 3,
    pad: 0,
    groups: 1,
  }],
  ["5×5/2 pad 2 12→9, 10×12 (direct input gradient, vec4 rows)", {
    N: 2,
    Cin: 12,
    H: 10,
    W: 12,
    Cout: 9,
    kh: 5,
    kw: 5,
    stride: 2,
    pad: 2,
    groups: 1,
  }],
  ["strided 3×3/2 pad 1 36→12, 9×10 (GEMM input gradient by phases)", {
    N: 2,
    Cin: 36,
    H: 9,
    W: 10,
    Cout: 12,
    kh: 3,
    kw: 3,
    stride: 2,
    pad: 1,
    groups: 1,
  }],
  ["1×1/1 12→20, 5×7 (direct forward and input gradient)", {
    N: 2,
    Cin: 12,
    H: 5,
    W: 7,
    Cout: 20,
    kh: 1,
    kw: 1,
    stride: 1,
    pad: 0,
    groups: 1,
  }],
  ["1×1/1 60→36 on a 3×4 map (direct kernels in all three directions)", {
    N: 3,
    Cin: 60,
    H: 3,
    W: 4,
    Cout: 36,
    kh: 1,
    kw: 1,
    stride: 1,
    pad: 0,
    groups: 1,
  }],
  ["several GEMM tiles: 52→37 at 12×12", {
    N: 2,
    Cin: 52,
    H: 12,
    W: 12,
    Cout: 37,
    kh: 3,
    kw: 3,
    stride: 1,
    pad: 1,
    groups: 1,
  }],
];

async function runOp(
  gpu: Gpu,
  build: (t: Record<string, Tensor>) => Promise<Dispatch[]>,
  inputs: Record<string, Float32Array>,
  out: string,
) {
  const t: Record<string, Tensor> = {};
  for (const [k, v] of Object.entries(inputs)) t[k] = gpu.tensor([v.length], k, v);
  gpu.run(await build(t));
  const [got] = await gpu.read(t[out]);
  for (const v of Object.values(t)) v.buffer.destroy();
  return got;
}

for (const [name, s] of cases) {
  Deno.test({
    name: `conv2d GPU = reference: ${name}`,
    ignore,
    fn: async () => {
      const gpu = await getGpu();
      const sizes = conv2dSizes(s);
      const x = randomArray(sizes.x, 1), w = randomArray(sizes.w, 2), dy = randomArray(sizes.y, 3);
      const K = (s.Cin / s.groups) * s.kh * s.kw;
      const tol = (terms: number) => ({ atol: 3e-6 * Math.sqrt(terms) * 4, rtol: 1e-4 });
      const { OH, OW } = ref.conv2dOutputSize(s);

      const y = await runOp(gpu, (t) => conv2dForward(gpu, { x: t.x, w: t.w, y: t.y }, s), {
        x,
        w,
        y: new Float32Array(sizes.y),
      }, "y");
      assertClose(`forward ${name}`, y, ref.conv2dForward(x, w, s), {
        ...tol(K),
        shape: [s.N, s.Cout, OH, OW],
      });

      const dx = await runOp(
        gpu,
        (t) => conv2dBackwardInput(gpu, { dy: t.dy, w: t.w, dx: t.dx }, s),
        {
          dy,
          w,
          dx: new Float32Array(sizes.x),
        },
        "dx",
      );
      const dxTerms = (s.Cout / s.groups) * s.kh * s.kw;
      assertClose(`input gradient ${name}`, dx, ref.conv2dBackwardInput(dy, w, s), {
        ...tol(dxTerms),
        shape: [s.N, s.Cin, s.H, s.W],
      });

      const dw = await runOp(
        gpu,
        (t) => conv2dBackwardWeight(gpu, { dy: t.dy, x: t.x, dw: t.dw }, s),
        {
          dy,
          x,
          dw: new Float32Array(sizes.w),
        },
        "dw",
      );
      assertClose(`weight gradient ${name}`, dw, ref.conv2dBackwardWeight(dy, x, s), {
        ...tol(s.N * OH * OW),
        shape: [s.Cout, s.Cin / s.groups, s.kh, s.kw],
      });
    },
  });
}

for (
  const s of [
    { N: 2, Cin: 5, H: 6, W: 7, Cout: 6, kh: 3, kw: 3, stride: 2, pad: 1, groups: 1 },
    { N: 2, Cin: 36, H: 7, W: 6, Cout: 6, kh: 3, kw: 3, stride: 2, pad: 1, groups: 1 },
    { N: 3, Cin: 8, H: 12, W: 12, Cout: 8, kh: 3, kw: 3, stride: 1, pad: 1, groups: 8 },
    { N: 2, Cin: 8, H: 16, W: 16, Cout: 12, kh: 1, kw: 1, stride: 2, pad: 0, groups: 1 },
    { N: 2, Cin: 8, H: 12, W: 12, Cout: 12, kh: 3, kw: 3, stride: 2, pad: 1, groups: 4 },
  ] satisfies Conv2dShape[]
) {
  Deno.test({
    name: `conv2d GPU: accumulate adds into the output and gradients (${
      s.groups === s.Cin && s.Cin === s.Cout
        ? "depthwise"
        : s.groups > 1
        ? "narrow groups"
        : s.kh === 1
        ? "strided 1×1"
        : s.Cin > 32
        ? "dense GEMM"
        : "dense direct"
    })`,
    ignore,
    fn: async () => {
      const gpu = await getGpu();
      const sizes = conv2dSizes(s);
      const x = randomArray(sizes.x, 4), w = randomArray(sizes.w, 5), dy = randomArray(sizes.y, 6);
      const y0 = randomArray(sizes.y, 7),
        dx0 = randomArray(sizes.x, 8),
        dw0 = randomArray(sizes.w, 9);
      const plus = (a: ArrayLike<number>, b: ArrayLike<number>) =>
        Float64Array.from(a, (v, i) => v + b[i]);
      const tol = { atol: 2e-4, rtol: 1e-4 };
      const y = await runOp(
        gpu,
        (t) => conv2dForward(gpu, { x: t.x, w: t.w, y: t.y }, s, { accumulate: true }),
        { x, w, y: y0 },
        "y",
      );
      assertClose("forward += ", y, plus(ref.conv2dForward(x, w, s), y0), tol);
      const dx = await runOp(
        gpu,
        (t) => conv2dBackwardInput(gpu, { dy: t.dy, w: t.w, dx: t.dx }, s, { accumulate: true }),
        { dy, w, dx: dx0 },
        "dx",
      );
      assertClose("input gradient += ", dx, plus(ref.conv2dBackwardInput(dy, w, s), dx0), tol);
      const dw = await runOp(
        gpu,
        (t) => conv2dBackwardWeight(gpu, { dy: t.dy, x: t.x, dw: t.dw }, s, { accumulate: true }),
        { dy, x, dw: dw0 },
        "dw",
      );
      assertClose("weight gradient += ", dw, plus(ref.conv2dBackwardWeight(dy, x, s), dw0), tol);
    },
  });
}

Deno.test({
  name: "conv2d GPU: the storage and texture operand forms give identical bytes, on each route",
  ignore,
  fn: async () => {
    const gpu = await getGpu();
    // One case per route and row layout (both forms compile every kernel they meet, about
    // 1 s per generated direct kernel on a cold shader cache, so not all of them).
    const routes = [
      "several GEMM tiles",
      "GEMM input gradient by phases",
      "direct kernels, vec4 rows: 3×3/1 pad 1",
      "direct kernels, vec4 rows: 1×1/2",
      "1×1/2 shortcut 144→128", // a raw weight too large for a uniform buffer: a storage array
      "7→9, 3×3/1 pad 1, 6×5 image",
      "depthwise 3×3/1, 12×12, batch 3", // vec4 rows, the input gradient by rotated taps
      "depthwise 3×3/2 pad 0, ragged 9×11", // float rows, the strided input gradient
      "narrow groups 8→12 in 4, 3×3/2 pad 1, 10×16", // several planes per lane, vec4 rows
    ];
    const picked = cases.filter(([name]) => routes.some((r) => name.includes(r)));
    assertEquals(picked.length, routes.length);
    for (const [name, s] of picked) {
      const sizes = conv2dSizes(s);
      const x = randomArray(sizes.x, 4), w = randomArray(sizes.w, 5), dy = randomArray(sizes.y, 6);
      await assertSameInBothForms(name, gpu, async () => [
        await runOp(gpu, (t) => conv2dForward(gpu, { x: t.x, w: t.w, y: t.y }, s), {
          x,
          w,
          y: new Float32Array(sizes.y),
        }, "y"),
        await runOp(gpu, (t) => conv2dBackwardInput(gpu, { dy: t.dy, w: t.w, dx: t.dx }, s), {
          dy,
          w,
          dx: new Float32Array(sizes.x),
        }, "dx"),
        await runOp(gpu, (t) => conv2dBackwardWeight(gpu, { dy: t.dy, x: t.x, dw: t.dw }, s), {
          dy,
          x,
          dw: new Float32Array(sizes.w),
        }, "dw"),
      ]);
    }
  },
});

Deno.test({
  name:
    "conv2d GPU: the same inputs twice give identical bytes (weight gradient split into chunks)",
  ignore,
  fn: async () => {
    const gpu = await getGpu();
    // Enough pixels for several chunks in the weight gradient.
    const s: Conv2dShape = {
      N: 5,
      Cin: 4,
      H: 20,
      W: 19,
      Cout: 8,
      kh: 3,
      kw: 3,
      stride: 1,
      pad: 1,
      groups: 1,
    };
    const sizes = conv2dSizes(s);
    const x = randomArray(sizes.x, 10), dy = randomArray(sizes.y, 11);
    const once = () =>
      runOp(gpu, (t) => conv2dBackwardWeight(gpu, { dy: t.dy, x: t.x, dw: t.dw }, s), {
        dy,
        x,
        dw: new Float32Array(sizes.w),
      }, "dw");
    const first = await once(), second = await once();
    assertEquals(new Uint8Array(second.buffer), new Uint8Array(first.buffer));
    assertClose("chunked weight gradient", first, ref.conv2dBackwardWeight(dy, x, s), {
      atol: 3e-4,
      rtol: 1e-4,
    });
  },
});

Deno.test("kernels/conv2d_forward.wgsl and conv2d_backward_weight.wgsl are what kernels/conv2d_gen.ts generates", () => {
  const read = (n: string) =>
    Deno.readTextFileSync(new URL(`../kernels/${n}.wgsl`, import.meta.url));
  const hint = "run `deno run --allow-write kernels/conv2d_gen.ts`";
  assert(
    read("conv2d_forward") === conv2dForwardWgsl(),
    `kernels/conv2d_forward.wgsl is stale: ${hint}`,
  );
  assert(
    read("conv2d_backward_weight") === conv2dBackwardWeightWgsl(),
    `kernels/conv2d_backward_weight.wgsl is stale: ${hint}`,
  );
});
