// GPU row-wise L2 normalisation (as src/ref/l2norm.ts): forward with norms (or norms only),
// and the backward applied in place to the incoming gradient. Each is a few barrier-free
// passes (llvmpipe runs workgroup barriers slowly): dot products in pieces of 8 items per
// invocation, one invocation per row adding its pieces in order, then an element-wise pass.
import { type Dispatch, type Gpu, params, type Tensor } from "../device.ts";
import { L2_EPS, type L2NormShape } from "../../ref/l2norm.ts";
import { elementwiseGrid, expectSize } from "./grid.ts";

/** Items per piece of the dot-product pass (8 in kernels/l2norm_partial.wgsl). */
const PIECE = 8;

function geometry(gpu: Gpu, s: L2NormShape) {
  for (const [k, v] of [["R", s.R], ["D", s.D]] as const) {
    if (!(Number.isInteger(v) && v > 0)) {
      throw new Error(`l2norm: ${k} must be a positive integer, got ${v}`);
    }
  }
  const vec = s.D % 4 === 0;
  const di = vec ? s.D / 4 : s.D;
  const pieces = Math.ceil(di / PIECE);
  return {
    entry: vec ? "main" : "scalar",
    di,
    pieces,
    partial: elementwiseGrid(gpu, s.R * pieces),
    rows: elementwiseGrid(gpu, s.R),
    items: elementwiseGrid(gpu, s.R * di),
    constants: { DI: di, P: pieces },
    aligned: di % 64 === 0 ? 1 : 0,
  };
}

async function rowDots(
  gpu: Gpu,
  g: ReturnType<typeof geometry>,
  s: L2NormShape,
  a: Tensor,
  b: Tensor,
  partial: Tensor,
): Promise<Dispatch> {
  return await gpu.dispatch("l2norm_partial", {
    uniforms: params([["u32", s.R], ["u32", g.partial.gx]]),
    tensors: [a, b, partial],
    groups: g.partial.groups,
    entry: g.entry,
    constants: g.constants,
  });
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
  const partial = gpu.tensor([s.R, g.pieces], "l2norm.partial");
  const coef = gpu.tensor([s.R, 2], "l2norm.coef");
  const list = [
    await rowDots(gpu, g, s, t.x, t.x, partial),
    await gpu.dispatch("l2norm_rows", {
      uniforms: params([["u32", s.R], ["u32", g.rows.gx], ["f32", s.eps ?? L2_EPS], ["u32", 0]]),
      tensors: [partial, t.norm, coef],
      groups: g.rows.groups,
      constants: { P: g.pieces },
      entry: "norms",
    }),
  ];
  if (t.y) {
    list.push(
      await gpu.dispatch("l2norm_forward", {
        uniforms: params([["u32", s.R * g.di], ["u32", g.items.gx]]),
        tensors: [t.x, t.y, coef],
        groups: g.items.groups,
        entry: g.entry,
        constants: { DI: g.di, ALIGNED: g.aligned },
      }),
    );
  }
  return list;
}

/**
 * In place on `g` (dL/dy on entry, dL/dx on exit): g ← (g − (g·x̂)x̂)/|x|. With
 * `divide: false` only the projection g − (g·x̂)x̂ is applied (the caller folded 1/|x| in).
 * `norm` holds |x| from the forward.
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
  const partial = gpu.tensor([s.R, g.pieces], "l2norm.partial");
  const coef = gpu.tensor([s.R, 2], "l2norm.coef");
  return [
    await rowDots(gpu, g, s, t.g, t.x, partial),
    await gpu.dispatch("l2norm_rows", {
      uniforms: params([["u32", s.R], ["u32", g.rows.gx], ["f32", s.eps ?? L2_EPS], [
        "u32",
        (s.divide ?? true) ? 1 : 0,
      ]]),
      tensors: [partial, t.norm, coef],
      groups: g.rows.groups,
      constants: { P: g.pieces },
      entry: "backward",
    }),
    await gpu.dispatch("l2norm_backward", {
      uniforms: params([["u32", s.R * g.di], ["u32", g.items.gx]]),
      tensors: [t.x, t.g, coef],
      groups: g.items.groups,
      entry: g.entry,
      constants: { DI: g.di, ALIGNED: g.aligned },
    }),
  ];
}
