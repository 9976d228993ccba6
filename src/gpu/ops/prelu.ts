// GPU PReLU with per-channel slopes over NCHW (or NC with HW = 1), as src/ref/prelu.ts. The
// backward writes dx and per-invocation slope-gradient partials in one pass, then adds the
// partials per channel in order (./channels.ts).
import { type Dispatch, type Gpu, params, type Tensor } from "../device.ts";
import type { PreluShape } from "../../ref/prelu.ts";
import { channelGeometry, elementwiseConstants } from "./channels.ts";
import { expectSize } from "./grid.ts";
import { dispatchReading } from "../operands.ts";

export async function preluForward(
  gpu: Gpu,
  t: { x: Tensor; slope: Tensor; y: Tensor },
  s: PreluShape,
): Promise<Dispatch[]> {
  const n = s.N * s.C * s.HW;
  expectSize("preluForward", "x", t.x, n);
  expectSize("preluForward", "y", t.y, n);
  expectSize("preluForward", "slope", t.slope, s.C);
  const g = channelGeometry(gpu, s);
  const element = g.entry === "main" ? "vec4" : "f32";
  return await dispatchReading(gpu, "prelu_forward", {
    uniforms: params([["u32", g.items], ["u32", g.gx]]),
    tensors: [
      { read: t.x, element, names: ["x4", "x1"] },
      { read: t.slope, element: "f32", names: ["slope"] },
      t.y,
    ],
    groups: g.groups,
    entry: g.entry,
    constants: elementwiseConstants(g),
  });
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
  const g = channelGeometry(gpu, s);
  const partial = gpu.tensor([s.C, g.parts], "prelu.partial");
  const element = g.entry === "main" ? "vec4" : "f32";
  return [
    ...await dispatchReading(gpu, "prelu_backward", {
      uniforms: params([["u32", s.N], ["u32", g.blocks]]),
      tensors: [
        { read: t.dy, element, names: ["dy4", "dy1"] },
        { read: t.x, element, names: ["x4", "x1"] },
        { read: t.slope, element: "f32", names: ["slope"] },
        t.dx,
        partial,
      ],
      groups: [g.blocks, s.C],
      entry: g.entry,
      constants: g.constants,
    }),
    await gpu.dispatch("channel_sum", {
      uniforms: params([["u32", s.C], ["u32", g.parts]]),
      tensors: [partial, t.dslope],
      groups: [Math.ceil(s.C / 64)],
    }),
  ];
}
