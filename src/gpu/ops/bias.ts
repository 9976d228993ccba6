// GPU bias kernels of the fully connected layer and the softmax head: y += b after the
// matmul, and db = column sums of dy.
import { type Dispatch, type Gpu, params, type Tensor } from "../device.ts";
import { elementwiseGrid, expectSize } from "./grid.ts";

/** y[n, o] += b[o] in place (y is N×O row-major). */
export async function biasForward(
  gpu: Gpu,
  t: { b: Tensor; y: Tensor },
  s: { N: number; O: number },
): Promise<Dispatch[]> {
  expectSize("biasForward", "b", t.b, s.O);
  expectSize("biasForward", "y", t.y, s.N * s.O);
  if (s.N > gpu.limits.maxComputeWorkgroupsPerDimension) {
    throw new Error(`biasForward: N = ${s.N} rows exceeds the grid limit`);
  }
  return [
    await gpu.dispatch("bias_forward", {
      uniforms: params([["u32", s.N], ["u32", s.O]]),
      tensors: [t.b, t.y],
      groups: [Math.ceil(s.O / 64), s.N],
    }),
  ];
}

/** db[o] = Σ_n dy[n, o] (written, not accumulated). */
export async function biasBackward(
  gpu: Gpu,
  t: { dy: Tensor; db: Tensor },
  s: { N: number; O: number },
): Promise<Dispatch[]> {
  expectSize("biasBackward", "dy", t.dy, s.N * s.O);
  expectSize("biasBackward", "db", t.db, s.O);
  const { groups, gx } = elementwiseGrid(gpu, s.O);
  return [
    await gpu.dispatch("bias_backward", {
      uniforms: params([["u32", s.N], ["u32", s.O], ["u32", gx]]),
      tensors: [t.dy, t.db],
      groups,
    }),
  ];
}
