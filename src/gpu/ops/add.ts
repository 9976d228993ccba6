// GPU residual add y = a + b, and in-place gradient accumulation y += alpha·x (or y = alpha·x).
import { type Dispatch, type Gpu, params, type Tensor } from "../device.ts";
import { elementwiseGrid, expectSize, vectorWidth } from "./grid.ts";
import { dispatchReading } from "../operands.ts";

export async function addForward(
  gpu: Gpu,
  t: { a: Tensor; b: Tensor; y: Tensor },
): Promise<Dispatch[]> {
  const n = t.a.size;
  expectSize("addForward", "b", t.b, n);
  expectSize("addForward", "y", t.y, n);
  const { entry, items } = vectorWidth(n);
  const { groups, gx } = elementwiseGrid(gpu, items);
  const element = entry === "main" ? "vec4" : "f32";
  return await dispatchReading(gpu, "add_forward", {
    uniforms: params([["u32", items], ["u32", gx]]),
    tensors: [
      { read: t.a, element, names: ["a4", "a1"] },
      { read: t.b, element, names: ["b4", "b1"] },
      t.y,
    ],
    groups,
    entry,
  });
}

/** y += alpha·x in place, or y = alpha·x with `assign` (x and y must not overlap). */
export async function addAccumulate(
  gpu: Gpu,
  t: { x: Tensor; y: Tensor },
  alpha = 1,
  assign = false,
): Promise<Dispatch[]> {
  const n = t.y.size;
  expectSize("addAccumulate", "x", t.x, n);
  const width = vectorWidth(n), items = width.items;
  const entry = assign ? (width.entry === "main" ? "assign" : "assign_scalar") : width.entry;
  const { groups, gx } = elementwiseGrid(gpu, items);
  return await dispatchReading(gpu, "add_accumulate", {
    uniforms: params([["u32", items], ["u32", gx], ["f32", alpha]]),
    tensors: [{ read: t.x, element: width.width === 4 ? "vec4" : "f32", names: ["x4", "x1"] }, t.y],
    groups,
    entry,
  });
}
