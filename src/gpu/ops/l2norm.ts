// GPU row-wise L2 normalisation (as src/ref/l2norm.ts): forward with norms (or norms only),
// and the backward applied in place to the incoming gradient.
import { type Dispatch, type Gpu, params, type Tensor } from "../device.ts";
import { L2_EPS, type L2NormShape } from "../../ref/l2norm.ts";
import { expectSize, grid2d, placeholder } from "./grid.ts";

function geometry(gpu: Gpu, s: L2NormShape) {
  const vec = s.D % 4 === 0;
  const groups = grid2d(gpu, s.R);
  return { entry: vec ? "main" : "scalar", items: vec ? s.D / 4 : s.D, groups, gx: groups[0] };
}

/** y = x / max(|x|, eps) per row and norm = |x|; with `y` omitted only the norms are computed. */
export async function l2normForward(
  gpu: Gpu,
  t: { x: Tensor; y?: Tensor; norm: Tensor },
  s: L2NormShape,
): Promise<Dispatch[]> {
  expectSize("l2normForward", "x", t.x, s.R * s.D);
  if (t.y) expectSize("l2normForward", "y", t.y, s.R * s.D);
  expectSize("l2normForward", "norm", t.norm, s.R);
  const g = geometry(gpu, s);
  return [
    await gpu.dispatch("l2norm_forward", {
      uniforms: params([["u32", s.R], ["u32", g.items], ["u32", g.gx], ["f32", s.eps ?? L2_EPS], [
        "u32",
        t.y ? 1 : 0,
      ]]),
      tensors: [t.x, t.y ?? placeholder(gpu, "write"), t.norm],
      groups: g.groups,
      entry: g.entry,
    }),
  ];
}

/**
 * In place on `g` (dL/dy on entry, dL/dx on exit): g ← (g − (g·x̂)x̂)/|x|. With
 * `divide: false` only the projection g − (g·x̂)x̂ is applied (the caller folded 1/|x| in).
 */
export async function l2normBackward(
  gpu: Gpu,
  t: { x: Tensor; norm: Tensor; g: Tensor },
  s: L2NormShape & { divide?: boolean },
): Promise<Dispatch[]> {
  expectSize("l2normBackward", "x", t.x, s.R * s.D);
  expectSize("l2normBackward", "g", t.g, s.R * s.D);
  expectSize("l2normBackward", "norm", t.norm, s.R);
  const g = geometry(gpu, s);
  return [
    await gpu.dispatch("l2norm_backward", {
      uniforms: params([
        ["u32", s.R],
        ["u32", g.items],
        ["u32", g.gx],
        ["f32", s.eps ?? L2_EPS],
        ["u32", (s.divide ?? true) ? 1 : 0],
      ]),
      tensors: [t.x, t.norm, t.g],
      groups: g.groups,
      entry: g.entry,
    }),
  ];
}
