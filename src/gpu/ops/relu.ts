// GPU ReLU: y = max(x, 0) and dx = dy·[x > 0], element-wise over any shape.
import { type Dispatch, type Gpu, params, type Tensor } from "../device.ts";
import { elementwiseGrid, expectSize, vectorWidth } from "./grid.ts";

export async function reluForward(gpu: Gpu, t: { x: Tensor; y: Tensor }): Promise<Dispatch[]> {
  const n = t.x.size;
  expectSize("reluForward", "y", t.y, n);
  const { entry, items } = vectorWidth(n);
  const { groups, gx } = elementwiseGrid(gpu, items);
  return [
    await gpu.dispatch("relu_forward", {
      uniforms: params([["u32", items], ["u32", gx]]),
      tensors: [t.x, t.y],
      groups,
      entry,
    }),
  ];
}

/** dx may not alias dy or x (WebGPU forbids a read-write binding overlapping a read one). */
export async function reluBackward(
  gpu: Gpu,
  t: { dy: Tensor; x: Tensor; dx: Tensor },
): Promise<Dispatch[]> {
  const n = t.x.size;
  expectSize("reluBackward", "dy", t.dy, n);
  expectSize("reluBackward", "dx", t.dx, n);
  const { entry, items } = vectorWidth(n);
  const { groups, gx } = elementwiseGrid(gpu, items);
  return [
    await gpu.dispatch("relu_backward", {
      uniforms: params([["u32", items], ["u32", gx]]),
      tensors: [t.dy, t.x, t.dx],
      groups,
      entry,
    }),
  ];
}
