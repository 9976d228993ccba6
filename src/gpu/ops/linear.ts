// GPU fully connected layer y = x·Wᵀ + b (W [O, I], as nn.Linear) from the matmul op and
// the bias kernels; reference: src/ref/linear.ts.
import type { Dispatch, Gpu, Tensor } from "../device.ts";
import { matmul } from "./matmul.ts";
import { biasBackward, biasForward } from "./bias.ts";
import { expectSize } from "./grid.ts";

export interface LinearShape {
  N: number;
  I: number;
  O: number;
}

export async function linearForward(
  gpu: Gpu,
  t: { x: Tensor; w: Tensor; b: Tensor | null; y: Tensor },
  s: LinearShape,
): Promise<Dispatch[]> {
  expectSize("linearForward", "x", t.x, s.N * s.I);
  expectSize("linearForward", "w", t.w, s.O * s.I);
  expectSize("linearForward", "y", t.y, s.N * s.O);
  return [
    ...await matmul(gpu, { a: t.x, b: t.w, c: t.y }, { M: s.N, N: s.O, K: s.I, transB: true }),
    ...(t.b ? await biasForward(gpu, { b: t.b, y: t.y }, { N: s.N, O: s.O }) : []),
  ];
}

/** dx = dy·W (skipped when dx is null), dW = dyᵀ·x, db = column sums of dy (when db is given). All written, not accumulated. */
export async function linearBackward(
  gpu: Gpu,
  t: { dy: Tensor; x: Tensor; w: Tensor; dx: Tensor | null; dw: Tensor; db: Tensor | null },
  s: LinearShape,
): Promise<Dispatch[]> {
  expectSize("linearBackward", "dy", t.dy, s.N * s.O);
  expectSize("linearBackward", "dw", t.dw, s.O * s.I);
  return [
    ...(t.dx ? await matmul(gpu, { a: t.dy, b: t.w, c: t.dx }, { M: s.N, N: s.I, K: s.O }) : []),
    ...await matmul(gpu, { a: t.dy, b: t.x, c: t.dw }, { M: s.O, N: s.I, K: s.N, transA: true }),
    ...(t.db ? await biasBackward(gpu, { dy: t.dy, db: t.db }, { N: s.N, O: s.O }) : []),
  ];
}
