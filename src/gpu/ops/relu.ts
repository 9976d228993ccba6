// GPU ReLU: y = max(x, 0) and dx = dy·[x > 0], element-wise over any shape.
import { type Dispatch, type Gpu, params, type Tensor } from "../device.ts";
import { elementwiseGrid, expectSize, vectorWidth } from "./grid.ts";
import { dispatchReading } from "../operands.ts";

export async function reluForward(gpu: Gpu, t: { x: Tensor; y: Tensor }): Promise<Dispatch[]> {
  const n = t.x.size;
  expectSize("reluForward", "y", t.y, n);
  const { entry, items } = vectorWidth(n);
  const { groups, gx } = elementwiseGrid(gpu, items);
  const element = entry === "main" ? "vec4" : "f32";
  return await dispatchReading(gpu, "relu_forward", {
    uniforms: params([["u32", items], ["u32", gx]]),
    tensors: [{ read: t.x, element, names: ["x4", "x1"] }, t.y],
    groups,
    entry,
  });
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
  const element = entry === "main" ? "vec4" : "f32";
  return await dispatchReading(gpu, "relu_backward", {
    uniforms: params([["u32", items], ["u32", gx]]),
    tensors: [
      { read: t.dy, element, names: ["dy4", "dy1"] },
      { read: t.x, element, names: ["x4", "x1"] },
      t.dx,
    ],
    groups,
    entry,
  });
}
