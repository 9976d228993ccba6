// What the convolution ops share (conv2d.ts, conv2d_depthwise.ts, conv2d_direct.ts): the
// workgroup size and index range of their kernels, and the second pass of every weight
// gradient — the ordered sum of per-chunk partials (no atomics, so the same inputs give the
// same bits).
import { type Dispatch, type Gpu, params, type Tensor } from "../device.ts";
import { dispatchReading } from "../operands.ts";

/** Invocations per workgroup of the convolution kernels. */
export const WG = 64;
/** Pixel and element indices go through f32 division in the kernels: exact below 2^24. */
export const MAX_INDEX = 1 << 24;

export function checkLanes(lanes: number, label: string): void {
  if (lanes >= MAX_INDEX) throw new Error(`${label}: too many invocations for one dispatch`);
}

/**
 * How many chunks to split a weight gradient's `items` (pixels, tiles) into when each chunk
 * takes `lanesPerChunk` invocations: enough for 16+ workgroups in all (both CPU threads busy
 * to the end), each chunk at least `minItems` items. Every chunk adds a partial sum per
 * weight for the reduce pass to read.
 */
export function chunking(
  lanesPerChunk: number,
  items: number,
  minItems = 1,
): { splits: number; chunk: number } {
  const splits = Math.max(
    1,
    Math.min(Math.ceil((16 * WG) / lanesPerChunk), Math.floor(items / minItems)),
  );
  return { splits, chunk: Math.ceil(items / splits) };
}

/**
 * dw (+)= Σ_s part[s] in chunk order, scattering to OIHW (conv2d_backward_weight_reduce.wgsl):
 * part is [splits][G][cog][khw][Cp] with the group's Cg input channels first in each Cp.
 */
export async function reduceWeightPartials(
  gpu: Gpu,
  t: { part: Tensor; dw: Tensor },
  d: { Cg: number; cog: number; khw: number; Cp: number; splits: number; G: number },
  accumulate: boolean,
  label: string,
): Promise<Dispatch[]> {
  const max = gpu.limits.maxComputeWorkgroupsPerDimension;
  const groups: [number, number, number] = [Math.ceil((d.Cg * d.khw) / WG), d.G * d.cog, 1];
  if (groups[0] > max || groups[1] > max) {
    throw new Error(`${label}: reduce grid ${groups.join("×")} exceeds the device limit ${max}`);
  }
  return await dispatchReading(gpu, "conv2d_backward_weight_reduce", {
    label: `${label}: reduce`,
    uniforms: params([
      ["u32", d.Cg],
      ["u32", d.cog],
      ["u32", d.khw],
      ["u32", d.Cp],
      ["u32", d.splits],
      ["u32", d.G],
    ]),
    tensors: [{ read: t.part, element: "f32", names: ["part"] }, t.dw],
    groups,
    constants: { ACCUMULATE: accumulate ? 1 : 0 },
  });
}
