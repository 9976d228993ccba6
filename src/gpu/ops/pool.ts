// GPU global average pooling NCHW → NC and its backward, as src/ref/pool.ts. Flatten needs
// no kernel: the pooled [N, C] tensor is read as it is.
import { type Dispatch, type Gpu, params, type Tensor } from "../device.ts";
import type { PoolShape } from "../../ref/pool.ts";
import { elementwiseGrid, expectSize } from "./grid.ts";

function setup(gpu: Gpu, s: PoolShape) {
  const R = s.N * s.C;
  const { groups, gx } = elementwiseGrid(gpu, R);
  return { groups, uniforms: params([["u32", R], ["u32", s.HW], ["u32", gx], ["f32", 1 / s.HW]]) };
}

export async function poolForward(
  gpu: Gpu,
  t: { x: Tensor; y: Tensor },
  s: PoolShape,
): Promise<Dispatch[]> {
  expectSize("poolForward", "x", t.x, s.N * s.C * s.HW);
  expectSize("poolForward", "y", t.y, s.N * s.C);
  return [await gpu.dispatch("pool_forward", { ...setup(gpu, s), tensors: [t.x, t.y] })];
}

export async function poolBackward(
  gpu: Gpu,
  t: { dy: Tensor; dx: Tensor },
  s: PoolShape,
): Promise<Dispatch[]> {
  expectSize("poolBackward", "dy", t.dy, s.N * s.C);
  expectSize("poolBackward", "dx", t.dx, s.N * s.C * s.HW);
  return [await gpu.dispatch("pool_backward", { ...setup(gpu, s), tensors: [t.dy, t.dx] })];
}
