// GPU inverted dropout with a counter-based mask (see src/ref/dropout.ts): the step comes from
// a u32 storage word the trainer writes before each submit, so masks change every step while
// the dispatches are built once. Backward is the same kernel applied to dy.
import { type Dispatch, type Gpu, params, type Tensor } from "../device.ts";
import { type DropoutShape, dropoutThreshold } from "../../ref/dropout.ts";
import { elementwiseGrid, expectSize, vectorWidth } from "./grid.ts";

/** y = x·mask/(1 − p); `step` is a tensor whose first word is the u32 step counter. */
export async function dropoutForward(
  gpu: Gpu,
  t: { x: Tensor; y: Tensor; step: Tensor },
  s: DropoutShape,
): Promise<Dispatch[]> {
  const n = t.x.size;
  expectSize("dropout", "y", t.y, n);
  const { entry, items } = vectorWidth(n);
  const { groups, gx } = elementwiseGrid(gpu, items);
  return [
    await gpu.dispatch("dropout_forward", {
      uniforms: params([
        ["u32", items],
        ["u32", gx],
        ["u32", s.seed >>> 0],
        ["u32", (s.salt ?? 0) >>> 0],
        ["u32", dropoutThreshold(s.p)],
        ["f32", 1 / (1 - s.p)],
      ]),
      tensors: [t.step, t.x, t.y],
      groups,
      entry,
    }),
  ];
}

/** dx = dy·mask/(1 − p) with the forward's mask (same seed, salt and step word). */
export function dropoutBackward(
  gpu: Gpu,
  t: { dy: Tensor; dx: Tensor; step: Tensor },
  s: DropoutShape,
): Promise<Dispatch[]> {
  return dropoutForward(gpu, { x: t.dy, y: t.dx, step: t.step }, s);
}
