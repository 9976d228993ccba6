// GPU memory-ceiling probe of `deno task bench`: kernels/stream_sum.wgsl, as src/ref/stream.ts.
// Not a layer: it times how fast this adapter moves a layer's floats in and out.
import { type Dispatch, type Gpu, params, type Tensor } from "../device.ts";
import type { StreamShape } from "../../ref/stream.ts";
import { elementwiseGrid, expectSize } from "./grid.ts";
import { dispatchReading } from "../operands.ts";

export async function streamSum(
  gpu: Gpu,
  t: { x: Tensor; y: Tensor },
  s: StreamShape,
): Promise<Dispatch[]> {
  expectSize("streamSum", "x", t.x, 4 * s.lanes * s.reads);
  expectSize("streamSum", "y", t.y, 4 * s.lanes * s.writes);
  const { groups, gx } = elementwiseGrid(gpu, s.lanes);
  return await dispatchReading(gpu, "stream_sum", {
    uniforms: params([["u32", s.lanes], ["u32", s.reads], ["u32", s.writes], ["u32", gx]]),
    tensors: [{ read: t.x, element: "vec4", names: ["x"] }, t.y],
    groups,
  });
}
