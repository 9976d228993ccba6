// Geometry of the per-channel kernels (batchnorm, PReLU). Two shapes of work, both free of
// loops over a channel and of workgroup barriers, which llvmpipe runs slowly:
// - element-wise passes: vec4s (HW % 4 == 0) or floats over the whole tensor, four of one
//   plane per invocation when the plane's item count allows (else one), channel =
//   (item / hwi) % C;
// - reduction passes: a (blocks × C) grid where each invocation takes 8 consecutive items
//   of one channel and writes one partial; a per-channel pass then adds the partials in order.
// Plane size and channel count are pipeline constants (one compiled pipeline per layer shape):
// an integer division by a runtime value per lane costs more than the memory traffic.
import type { Gpu } from "../device.ts";
import { elementwiseGrid } from "./grid.ts";

export interface ChannelShape {
  N: number;
  C: number;
  HW: number;
}

export interface ChannelGeometry {
  entry: "main" | "scalar";
  /** Items per plane (HW/4 or HW). */
  hwi: number;
  /** Element-wise passes: items, items per invocation (PER), grid and its x stride. */
  items: number;
  per: number;
  groups: [number, number];
  gx: number;
  /** Reduction passes: workgroups per channel (grid blocks × C) and partials per channel (blocks·64). */
  blocks: number;
  parts: number;
  /** Pipeline constants HWI and CH (per-lane divisions by them become multiply-shifts) and ALIGNED. */
  constants: { HWI: number; CH: number; ALIGNED?: number };
}

/** Items each invocation of a reduction pass takes (R in the kernels). */
const PER_INVOCATION = 8;

export function channelGeometry(gpu: Gpu, s: ChannelShape): ChannelGeometry {
  for (const [k, v] of [["N", s.N], ["C", s.C], ["HW", s.HW]] as const) {
    if (!(Number.isInteger(v) && v > 0)) {
      throw new Error(`per-channel op: ${k} must be a positive integer, got ${v}`);
    }
  }
  const vec = s.HW % 4 === 0;
  const hwi = vec ? s.HW / 4 : s.HW;
  const items = s.N * s.C * hwi;
  // Four items of a plane per invocation share one read of the channel's coefficients:
  // 0.72–0.91× the time of one item each on resnet-lite's batch-norm shapes (2026-12-03).
  const per = hwi % 4 === 0 ? 4 : 1;
  const { groups, gx } = elementwiseGrid(gpu, items / per);
  const blocks = Math.ceil((s.N * hwi) / (64 * PER_INVOCATION));
  const max = gpu.limits.maxComputeWorkgroupsPerDimension;
  if (blocks > max || s.C > max) {
    throw new Error(
      `per-channel op: N·HW = ${
        s.N * s.HW
      } per channel or C = ${s.C} exceeds the grid limit ${max}`,
    );
  }
  return {
    entry: vec ? "main" : "scalar",
    hwi,
    items,
    per,
    groups,
    gx,
    blocks,
    parts: blocks * 64,
    constants: { HWI: hwi, CH: s.C },
  };
}

/**
 * The element-wise passes' constants: PER items per invocation, and ALIGNED when a workgroup's
 * 64·PER items never straddle two planes.
 */
export function elementwiseConstants(
  g: ChannelGeometry,
): { HWI: number; CH: number; ALIGNED: number; PER: number } {
  return { ...g.constants, ALIGNED: g.hwi % (64 * g.per) === 0 ? 1 : 0, PER: g.per };
}
