// The convolution reference: hand-worked cases, agreement with an explicit im2col·matmul,
// and both backward passes against float64 finite differences on awkward shapes.
import { assertEquals, assertThrows } from "@std/assert";
import { assertClose, numericGradient, randomArray } from "../../tests/helpers/compare.ts";
import {
  conv2dBackwardInput,
  conv2dBackwardWeight,
  conv2dForward,
  conv2dOutputSize,
  type Conv2dShape,
  conv2dSizes,
} from "./conv2d.ts";
import { matmul } from "./matmul.ts";

const shape = (s: Partial<Conv2dShape>): Conv2dShape => ({
  N: 1,
  Cin: 1,
  H: 3,
  W: 3,
  Cout: 1,
  kh: 3,
  kw: 3,
  stride: 1,
  pad: 0,
  groups: 1,
  ...s,
});

Deno.test("conv2d reference: output sizes", () => {
  assertEquals(conv2dOutputSize(shape({ H: 64, W: 64, stride: 2, pad: 1 })), { OH: 32, OW: 32 });
  assertEquals(conv2dOutputSize(shape({ H: 7, W: 5, kh: 1, kw: 1 })), { OH: 7, OW: 5 });
  assertEquals(conv2dOutputSize(shape({ H: 112, W: 112, kh: 7, kw: 7, stride: 2, pad: 3 })), {
    OH: 56,
    OW: 56,
  });
  assertThrows(() => conv2dForward([], [], shape({ Cin: 3, groups: 2 })), Error, "groups");
  assertThrows(() => conv2dForward([], [], shape({ H: 2 })), Error, "does not fit");
});

Deno.test("conv2d reference: a 3×3 box filter with padding, worked by hand", () => {
  const x = [1, 2, 3, 4, 5, 6, 7, 8, 9];
  const w = new Array(9).fill(1);
  // Each output sums its 3×3 neighbourhood inside the image.
  assertEquals([...conv2dForward(x, w, shape({ pad: 1 }))], [12, 21, 16, 27, 45, 33, 24, 39, 28]);
  // Stride 2 keeps the corners.
  assertEquals([...conv2dForward(x, w, shape({ pad: 1, stride: 2 }))], [12, 16, 24, 28]);
});

Deno.test("conv2d reference: depthwise and grouped channels see only their group", () => {
  // Two channels, depthwise 1×1 weights 2 and 3: each channel is scaled on its own.
  const x = [1, 2, 3, 4, 5, 6, 7, 8];
  const s = shape({ Cin: 2, Cout: 2, H: 2, W: 2, kh: 1, kw: 1, groups: 2 });
  assertEquals([...conv2dForward(x, [2, 3], s)], [2, 4, 6, 8, 15, 18, 21, 24]);
});

Deno.test("conv2d reference: forward equals im2col followed by a matmul", () => {
  const s = shape({ N: 2, Cin: 3, H: 6, W: 5, Cout: 4, kh: 3, kw: 2, stride: 2, pad: 1 });
  const { OH, OW } = conv2dOutputSize(s);
  const sizes = conv2dSizes(s);
  const x = randomArray(sizes.x, 1), w = randomArray(sizes.w, 2);
  const K = s.Cin * s.kh * s.kw;
  const y = conv2dForward(x, w, s);
  for (let n = 0; n < s.N; n++) {
    const col = new Float64Array(K * OH * OW); // [K, OH·OW]
    for (let ci = 0; ci < s.Cin; ci++) {
      for (let ky = 0; ky < s.kh; ky++) {
        for (let kx = 0; kx < s.kw; kx++) {
          for (let oh = 0; oh < OH; oh++) {
            for (let ow = 0; ow < OW; ow++) {
              const ih = oh * s.stride - s.pad + ky, iw = ow * s.stride - s.pad + kx;
              const inside = ih >= 0 && ih < s.H && iw >= 0 && iw < s.W;
              col[((ci * s.kh + ky) * s.kw + kx) * OH * OW + oh * OW + ow] = inside
                ? x[((n * s.Cin + ci) * s.H + ih) * s.W + iw]
                : 0;
            }
          }
        }
      }
    }
    const yn = matmul(w, col, { M: s.Cout, N: OH * OW, K });
    const at = n * s.Cout * OH * OW;
    assertClose(`batch ${n}`, y.subarray(at, at + s.Cout * OH * OW), yn, {
      atol: 1e-12,
      rtol: 1e-12,
    });
  }
});

const gradCases: [string, Partial<Conv2dShape>][] = [
  ["3×3 pad 1", { N: 2, Cin: 3, H: 5, W: 4, Cout: 2, pad: 1 }],
  ["3×3 stride 2 pad 1, odd size", { N: 1, Cin: 2, H: 7, W: 6, Cout: 3, stride: 2, pad: 1 }],
  ["1×1 stride 2", { N: 3, Cin: 3, H: 5, W: 5, Cout: 2, kh: 1, kw: 1, stride: 2 }],
  ["groups 2", { N: 1, Cin: 4, H: 4, W: 5, Cout: 6, pad: 1, groups: 2 }],
  ["depthwise stride 2", { N: 2, Cin: 3, H: 6, W: 5, Cout: 3, pad: 1, stride: 2, groups: 3 }],
  ["2×3 kernel, pad 0", { N: 1, Cin: 2, H: 5, W: 6, Cout: 2, kh: 2, kw: 3 }],
];

for (const [name, partial] of gradCases) {
  Deno.test(`conv2d reference backward matches finite differences (${name})`, () => {
    const s = shape(partial);
    const sizes = conv2dSizes(s);
    const x = Float64Array.from(randomArray(sizes.x, 3));
    const w = Float64Array.from(randomArray(sizes.w, 4));
    const dy = randomArray(sizes.y, 5);
    const loss = (xv: Float64Array, wv: Float64Array) => {
      const y = conv2dForward(xv, wv, s);
      let l = 0;
      for (let i = 0; i < y.length; i++) l += dy[i] * y[i];
      return l;
    };
    assertClose("dx", conv2dBackwardInput(dy, w, s), numericGradient((v) => loss(v, w), x), {
      atol: 1e-8,
      rtol: 1e-6,
    });
    assertClose("dw", conv2dBackwardWeight(dy, x, s), numericGradient((v) => loss(x, v), w), {
      atol: 1e-8,
      rtol: 1e-6,
    });
  });
}
