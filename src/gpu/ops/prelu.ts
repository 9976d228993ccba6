// GPU PReLU with per-channel slopes over NCHW (or NC with HW = 1), as src/ref/prelu.ts.
import { type Dispatch, type Gpu, params, type Tensor } from "../device.ts";
import type { PreluShape } from "../../ref/prelu.ts";
import { channelGeometry } from "./channels.ts";
import { expectSize } from "./grid.ts";

function uniforms(gpu: Gpu, s: PreluShape) {
  const g = channelGeometry(gpu, s);
  const u = params([["u32", s.N], ["u32", s.C], ["u32", g.hwi], ["u32", g.dn], ["u32", g.di], [
    "u32",
    g.gx,
  ]]);
  return { g, u };
}

export async function preluForward(
  gpu: Gpu,
  t: { x: Tensor; slope: Tensor; y: Tensor },
  s: PreluShape,
): Promise<Dispatch[]> {
  const n = s.N * s.C * s.HW;
  expectSize("preluForward", "x", t.x, n);
  expectSize("preluForward", "y", t.y, n);
  expectSize("preluForward", "slope", t.slope, s.C);
  const { g, u } = uniforms(gpu, s);
  return [
    await gpu.dispatch("prelu_forward", {
      uniforms: u,
      tensors: [t.x, t.slope, t.y],
      groups: g.groups,
      constants: { WG: g.wg },
      entry: g.entry,
    }),
  ];
}

/** dx (written, must not alias dy or x) and the slope gradient dslope (written, C). */
export async function preluBackward(
  gpu: Gpu,
  t: { dy: Tensor; x: Tensor; slope: Tensor; dx: Tensor; dslope: Tensor },
  s: PreluShape,
): Promise<Dispatch[]> {
  const n = s.N * s.C * s.HW;
  for (const k of ["dy", "x", "dx"] as const) expectSize("preluBackward", k, t[k], n);
  expectSize("preluBackward", "slope", t.slope, s.C);
  expectSize("preluBackward", "dslope", t.dslope, s.C);
  const { g, u } = uniforms(gpu, s);
  return [
    await gpu.dispatch("prelu_backward", {
      uniforms: u,
      tensors: [t.dy, t.x, t.slope, t.dx, t.dslope],
      groups: g.groups,
      constants: { WG: g.wg },
      entry: g.entry,
    }),
  ];
}
