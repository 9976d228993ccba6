// Geometry of the per-channel kernels (batchnorm, PReLU): one workgroup per channel walking
// its N planes of HW values, vec4 items when HW % 4 == 0. The walk advances a (plane, item)
// cursor by the workgroup size without dividing (dn = WG / hwi, di = WG % hwi).
import type { Gpu } from "../device.ts";
import { grid2d } from "./grid.ts";

export interface ChannelShape {
  N: number;
  C: number;
  HW: number;
}

export interface ChannelGeometry {
  entry: "main" | "scalar";
  /** Items per plane (HW/4 or HW). */
  hwi: number;
  dn: number;
  di: number;
  gx: number;
  groups: [number, number];
  /** Workgroup size: 256 for channels with many items, else 64. */
  wg: number;
}

export function channelGeometry(gpu: Gpu, s: ChannelShape): ChannelGeometry {
  for (const [k, v] of [["N", s.N], ["C", s.C], ["HW", s.HW]] as const) {
    if (!(Number.isInteger(v) && v > 0)) {
      throw new Error(`per-channel op: ${k} must be a positive integer, got ${v}`);
    }
  }
  const vec = s.HW % 4 === 0;
  const hwi = vec ? s.HW / 4 : s.HW;
  const wg = s.N * hwi >= 1024 ? 256 : 64;
  const groups = grid2d(gpu, s.C);
  return {
    entry: vec ? "main" : "scalar",
    hwi,
    dn: Math.floor(wg / hwi),
    di: wg % hwi,
    gx: groups[0],
    groups,
    wg,
  };
}
